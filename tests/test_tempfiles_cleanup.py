"""Temporary files the explorer made are gone when it stops (explorer/scratch.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from explorer import scratch

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and flock")

#: A server in miniature: install, write what the explorer writes, serve until stopped.
SERVER = textwrap.dedent(
    """
    import sys, tempfile, time
    import numpy as np
    from explorer import latents, scratch, stylise
    root = scratch.install()
    import gradio as gr
    from gradio.utils import get_upload_folder
    latents.save_png(np.zeros((8, 8, 3), np.uint8))           # a Generate picture
    stylise.save_result(np.zeros((8, 8, 3), np.uint8))        # a Stylise result
    stylise.example_files()                                   # the Stylise examples
    tempfile.NamedTemporaryFile(delete=False).write(b"x")     # anything else on tempfile
    folder = get_upload_folder()
    with gr.Blocks() as demo:
        gr.Image(np.zeros((8, 8, 3), np.uint8))               # Gradio's cache
    print(root, folder, flush=True)
    if sys.argv[1] == "serve":
        demo.launch(server_name="127.0.0.1", server_port=int(sys.argv[2]), quiet=True)
    else:
        sys.stdin.readline()  # then a normal exit
    """
)


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path, Path]:
    env = {**os.environ, "TMPDIR": str(tmp_path), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("GRADIO_TEMP_DIR", None)
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    line = process.stdout.readline().split()
    assert len(line) == 2, "the server did not start"
    root, gradio_folder = Path(line[0]), Path(line[1])
    return process, root, gradio_folder


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("stop", ["exit", "SIGTERM", "SIGINT"])
def test_everything_goes_when_the_server_stops(tmp_path: Path, stop: str) -> None:
    args = ["exit"] if stop == "exit" else ["serve", str(free_port())]
    process, root, gradio_folder = start(tmp_path, *args)
    assert root.parent == tmp_path and gradio_folder.parent == root
    written = files_under(root)
    names = {p.suffix for p in written}
    assert len(written) >= 8 and {".png", ".lock"} <= names  # pictures, examples, cache, lock
    assert not [p for p in files_under(tmp_path) if root not in p.parents]  # all inside root
    if stop == "exit":
        process.stdin.write("\n")
        process.stdin.flush()
    else:
        time.sleep(3)  # serving
        process.send_signal(getattr(signal, stop))
    assert process.wait(60) == 0
    assert not root.exists() and files_under(tmp_path) == []


def test_a_killed_server_s_folder_goes_at_the_next_start(tmp_path: Path) -> None:
    process, root, _ = start(tmp_path, "serve", str(free_port()))
    other = tmp_path / "gan-explorer-unrelated"  # not ours: no lock file, new
    other.mkdir()
    try:
        assert not scratch.is_stale(root)  # its process holds the lock
        process.kill()  # SIGKILL: no clean-up possible
        process.wait(30)
        assert root.exists() and scratch.is_stale(root)
        # a restart (here: the next server) removes it, and keeps folders of live ones
        process2, root2, _ = start(tmp_path, "serve", str(free_port()))
        try:
            assert not root.exists() and root2.exists() and other.exists()
            assert scratch.remove_stale(tmp_path) == 0  # root2 is alive
        finally:
            process2.send_signal(signal.SIGTERM)
            process2.wait(60)
        assert not root2.exists()
    finally:
        if process.poll() is None:
            process.kill()
