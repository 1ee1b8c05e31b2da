"""``gan-explorer``, the console script: one command for both front ends.

    gan-explorer [--host 127.0.0.1] [--port 7860] [--checkpoint-dir runs/] [--public]
    gan-explorer --ui streamlit [--host 127.0.0.1] [--port 8501] [--checkpoint-dir runs/]
    gan-explorer deploy-space OWNER/NAME ...        # explorer/deploy.py
    python -m explorer ...                          # the same

``--ui gradio`` (the default) parses the options here and hands them to
:func:`explorer.gradio_ui.app.serve`.
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

from explorer import links, server_options

UIS = ("gradio", "streamlit")
#: Largest upload the server accepts, in MB: ``explorer.context.VisitorLimits.upload_mb`` (the
#: same locally and hosted), written out so that starting the server does not import torch.
MAX_UPLOAD_MB = 16


#: glibc malloc arenas for the server's threads (``GAN_EXPLORER_MALLOC_ARENAS``; 0 = glibc's
#: default of 8 per core). With the default, benchmarks/soak.py saw the RSS of 10 users creep
#: up and down by ~10 % (1.55 -> 1.80 -> 1.72 GB: memory freed in one thread's arena is not
#: reused by another); with 2 it stayed flat (1.56 -> 1.50 GB).
MALLOC_ARENAS = 2


def limit_malloc_arenas(environ=os.environ) -> bool:
    """``mallopt(M_ARENA_MAX, MALLOC_ARENAS)`` on Linux/glibc, before the server's threads
    start (``MALLOC_ARENA_MAX`` in the environment wins). True when it was applied."""
    if "MALLOC_ARENA_MAX" in environ or not sys.platform.startswith("linux"):
        return False
    try:
        arenas = int(environ.get("GAN_EXPLORER_MALLOC_ARENAS", MALLOC_ARENAS))
    except ValueError:
        arenas = MALLOC_ARENAS
    if arenas <= 0:
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-8, arenas))  # M_ARENA_MAX is -8 in glibc's malloc.h
    except (OSError, AttributeError):
        return False  # not glibc (musl, ...): nothing to tune


def add_server_arguments(
    parser: argparse.ArgumentParser, *, env_prefix: str, host_env: str, port: int
) -> None:
    """The options both editions take: --host, --port and the ones the pages read
    (:func:`explorer.server_options.add_page_arguments`).

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
    server_options.add_page_arguments(parser)


def gradio_parser() -> argparse.ArgumentParser:
    """The arguments of ``gan-explorer`` (``--ui gradio``, the default)."""
    parser = argparse.ArgumentParser(
        prog="gan-explorer",
        description="Serve the GAN Explorer (a Gradio app) on this machine, offline.",
    )
    add_server_arguments(parser, env_prefix="GRADIO_SERVER", host_env="NAME", port=7860)
    parser.add_argument(
        "--ui",
        choices=UIS,
        default="gradio",
        help="front end: gradio (default) or streamlit (see gan-explorer --ui streamlit --help)",
    )
    return parser


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
    """The ``gan-explorer`` console script: dispatch on ``deploy-space`` and ``--ui``; returns
    the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["deploy-space"]:
        from explorer import deploy

        return deploy.main(argv[1:])
    limit_malloc_arenas()  # before the server's worker threads exist
    chooser = argparse.ArgumentParser(add_help=False)
    chooser.add_argument("--ui", choices=UIS, default="gradio")
    known, _ = chooser.parse_known_args(argv)
    if known.ui == "streamlit":
        return run_streamlit(argv)
    args = gradio_parser().parse_args(argv)
    from explorer.gradio_ui import app

    app.serve(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
