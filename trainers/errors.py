"""The error every checkpoint reader raises, in a module of its own.

:class:`CheckpointError` lives here (and is importable from :mod:`trainers.checkpoint`, its
natural home) so that :mod:`trainers.hub_pull`, which turns ``hf://`` paths into local folders
for the checkpoint reader, can subclass it without importing the reader back.
"""

from __future__ import annotations


class CheckpointError(ValueError):
    """A file that is not a usable GAN Explorer checkpoint. The message names the file and why."""
