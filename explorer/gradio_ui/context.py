"""The Gradio app's context: the core's :class:`~explorer.context.ExplorerContext` plus the
one widget several tabs share."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from explorer.context import ExplorerContext


@dataclass
class GradioContext(ExplorerContext):
    """What the tabs need from the Gradio app.

    Attributes:
        checkpoint: the app-wide "Model" ``gr.Dropdown`` that the Generate, Interpolate and
            Inside tabs follow (set by :func:`explorer.gradio_ui.app.build_app`).
    """

    checkpoint: Any = None

    @classmethod
    def of(cls, core: ExplorerContext) -> GradioContext:
        """The Gradio context for a core context (same catalog, limits and settings)."""
        return cls(**{f.name: getattr(core, f.name) for f in dataclasses.fields(core)})
