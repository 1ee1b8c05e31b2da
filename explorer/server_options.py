"""The options every page of either edition reads: where checkpoints are, torch threads, hosted
mode, the model and tab a visit starts on. ``gan-explorer`` takes them (:mod:`explorer.launcher`)
and hands them on to the Streamlit script, which reads them again with the same declarations.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from explorer import links


def add_page_arguments(parser: argparse.ArgumentParser) -> None:
    """--checkpoint-dir, --threads, --public, --model, --tab (defaults from
    ``GAN_EXPLORER_THREADS``, ``GAN_EXPLORER_MODEL``, ``GAN_EXPLORER_TAB``)."""
    parser.add_argument(
        "--checkpoint-dir",
        type=Path,
        action="append",
        default=[],
        help="extra folder with checkpoints or training runs, e.g. runs/ (repeatable)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("GAN_EXPLORER_THREADS", 1)),
        help="torch threads per request (default 1: requests run side by side instead)",
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="hosted mode for strangers (also on for a --host other machines can reach, and on "
        "Spaces): no server paths, visitor limits, training data built in or uploaded",
    )
    parser.add_argument(
        "--model",
        default=os.environ.get("GAN_EXPLORER_MODEL") or None,
        metavar="NAME",
        help="the checkpoint a visit starts on, e.g. cgan-mnist (default: the best showcase "
        "found, see explorer/context.py SHOWCASE); a link's ?model= still wins",
    )
    parser.add_argument(
        "--tab",
        type=links.normalise_tab,
        choices=links.TABS,
        default=os.environ.get("GAN_EXPLORER_TAB") or links.DEFAULT_TAB,
        metavar="TAB",
        help=f"the tab a visit starts on: {', '.join(links.TABS)} (default {links.DEFAULT_TAB}); "
        "a link's ?tab= still wins",
    )
