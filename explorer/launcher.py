"""``gan-explorer --ui gradio|streamlit``: one command for both front ends.

    gan-explorer                                    # the Gradio app (explorer.app), as always
    gan-explorer --ui streamlit [--host 127.0.0.1] [--port 8501] [--checkpoint-dir runs/]

``--ui gradio`` (the default) hands every other argument to :func:`explorer.app.main`.
``--ui streamlit`` runs, in this process, what this command line would run::

    streamlit run explorer/streamlit_ui/app.py --server.port 8501 --server.address 127.0.0.1 \\
        --server.headless true --server.maxUploadSize 16 --browser.gatherUsageStats false \\
        --runner.postScriptGC false -- --checkpoint-dir runs/

Streamlit only runs the app script when the first browser connects, so once the server
listens a thread imports torch and the explorer's core while the browser loads the page.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from explorer import links

UIS = ("gradio", "streamlit")
#: Largest upload the server accepts, in MB: ``explorer.context.VisitorLimits.upload_mb`` (the
#: same locally and hosted), written out so that starting the server does not import torch.
MAX_UPLOAD_MB = 16


def has_ui_flag(argv: Sequence[str]) -> bool:
    """Whether the command line chooses a front end (``--ui X`` or ``--ui=X``)."""
    return any(a == "--ui" or a.startswith("--ui=") for a in argv)


def add_server_arguments(
    parser: argparse.ArgumentParser, *, env_prefix: str, host_env: str, port: int
) -> None:
    """The options both editions take: --host, --port, --checkpoint-dir, --threads, --public,
    --model, --tab.

    Defaults of --host and --port come from the front end's own variables
    (``GRADIO_SERVER_NAME``/``_PORT``, ``STREAMLIT_SERVER_ADDRESS``/``_PORT``).
    """
    parser.add_argument(
        "--host",
        default=os.environ.get(f"{env_prefix}_{host_env}", "127.0.0.1"),
        help="address to listen on (default 127.0.0.1; 0.0.0.0 to share on a network)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get(f"{env_prefix}_PORT", port)),
        help=f"port (default {port})",
    )
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


def streamlit_parser() -> argparse.ArgumentParser:
    """The arguments of ``gan-explorer --ui streamlit``."""
    parser = argparse.ArgumentParser(
        prog="gan-explorer --ui streamlit",
        description="Serve the GAN Explorer's Streamlit edition on this machine, offline.",
    )
    parser.add_argument("--ui", choices=UIS, default="streamlit", help=argparse.SUPPRESS)
    add_server_arguments(parser, env_prefix="STREAMLIT_SERVER", host_env="ADDRESS", port=8501)
    return parser


def streamlit_command(args: argparse.Namespace) -> list[str]:
    """The ``streamlit run ...`` arguments (without the leading ``streamlit``)."""
    from explorer.streamlit_ui import APP_FILE  # (no torch: the package's __init__ is light)

    script_args = ["--threads", str(args.threads)] + (["--public"] if args.public else [])
    script_args += ["--model", args.model] if args.model else []
    script_args += ["--tab", args.tab] if args.tab != links.DEFAULT_TAB else []
    for folder in args.checkpoint_dir:
        script_args += ["--checkpoint-dir", str(folder)]
    return [
        "run",
        str(APP_FILE),
        "--server.port",
        str(args.port),
        "--server.address",
        args.host,
        "--server.headless",
        "true",
        "--server.maxUploadSize",  # uploads are also checked for their pixels
        str(MAX_UPLOAD_MB),
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",  # no "Deploy" button: this is the app, not a dev server
        "minimal",
        "--runner.postScriptGC",  # a full gc.collect() after every rerun costs ~0.15 s once
        "false",  # torch is imported: ~4x the CPU of the rerun itself
        "--",
        *script_args,
    ]


def _warm_up(host: str, port: int, timeout: float = 120.0) -> None:
    """Once the server listens, import torch and the core (the first page needs them).

    Not before: two threads importing at once fight over the GIL and both take far longer.
    """
    address = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address, port), timeout=1.0).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        import explorer.streamlit_ui.shared  # noqa: F401  (torch, trainers, explorer core)
    except Exception:  # noqa: BLE001 - the page imports it again and shows what went wrong
        pass


def run_streamlit(argv: Sequence[str]) -> int:
    """``gan-explorer --ui streamlit ...``: serve the Streamlit edition (blocks)."""
    args = streamlit_parser().parse_args(list(argv))
    command = streamlit_command(args)
    warm_up = threading.Thread(
        target=_warm_up, args=(args.host, args.port), name="gan-explorer-warm-up", daemon=True
    )
    warm_up.start()
    from streamlit.web import cli

    print("streamlit " + " ".join(command), flush=True)
    try:
        cli.main(command, prog_name="streamlit", standalone_mode=False)
    except KeyboardInterrupt:
        return 0
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch on ``--ui``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    chooser = argparse.ArgumentParser(add_help=False)
    chooser.add_argument("--ui", choices=UIS, default="gradio")
    known, rest = chooser.parse_known_args(argv)
    if known.ui == "streamlit":
        return run_streamlit(argv)
    from explorer import app

    app.main(rest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
