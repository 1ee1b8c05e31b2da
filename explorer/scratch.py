"""This server process's own temporary folder, for both editions.

**One folder per server process, gone when it stops.** :func:`install` (called by both
editions before they write anything) makes ``gan-explorer-<pid>-<token>/`` in the temporary
folder (inside ``$GRADIO_TEMP_DIR`` when that is set), points Gradio's cache
(``GRADIO_TEMP_DIR``), Python's :mod:`tempfile` and the explorer's own result folders
(:func:`folder`) into it, and removes it when the process ends: a normal exit, Ctrl-C or
SIGTERM (a Space being stopped or restarted). A process killed outright (SIGKILL, a crash)
cannot clean up; its folder is removed by the next start, which deletes every sibling whose
owner is gone (each folder holds a lock file its process keeps locked while it lives), so a
Space's disk does not grow across restarts.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

#: The name of every process folder starts with this (``gan-explorer-<pid>-<token>``).
PROCESS_PREFIX = "gan-explorer-"
#: The file in a process folder that its process keeps locked (POSIX ``flock``) while it lives.
LOCK_FILE = ".owner.lock"
#: The explorer's own folders that other modules computed at import time, redirected by
#: :func:`install` (module, attribute, sub-folder).
_IMPORTED_FOLDERS = (
    ("explorer.latents", "_PNG_DIR", "png"),
    ("explorer.latents", "_GIF_DIR", "gifs"),
)
_ROOT: list[Path] = []
_SYSTEM_TEMP: list[str] = []  # the temporary folder before install() (Gradio may serve it)
_LOCK_HANDLE: list = []


def process_root() -> Path | None:
    """This process's temporary folder (None before :func:`install`)."""
    return _ROOT[0] if _ROOT else None


def folder(name: str) -> Path:
    """``<temp dir>/gan-explorer-<name>``, not created here. After :func:`install` the temp
    dir is ``<process folder>/tmp``: inside the process folder, and where Gradio serves files
    from (it allows the temp dir, not any folder)."""
    return Path(tempfile.gettempdir()) / f"gan-explorer-{name}"


def system_tempdir() -> str:
    """The temporary folder as it was before :func:`install` (Gradio's ``allowed_paths`` keep
    it, for files a module placed there at import time)."""
    return _SYSTEM_TEMP[0] if _SYSTEM_TEMP else tempfile.gettempdir()


def _lock(path: Path):
    """Open ``path`` and hold an exclusive lock on it; the open file (None without flock)."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; stale folders are then judged by their pid
        return None
    handle = open(path, "a+")  # noqa: SIM115 - held open for the life of the process
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise
    return handle


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def is_stale(path: Path) -> bool:
    """Whether a process folder's owner is gone: its lock file can be locked (the kernel lets
    go of a dead process's locks), or, without flock, no process has its pid."""
    lock = path / LOCK_FILE
    if not lock.exists():  # made by something else, or half made: judge by age (an hour)
        try:
            return time.time() - path.stat().st_mtime > 3600
        except OSError:
            return False
    try:
        handle = _lock(lock)
    except OSError:
        return False  # locked: its process lives
    if handle is None:  # no flock: by pid
        try:
            pid = int(path.name.removeprefix(PROCESS_PREFIX).split("-")[0])
        except ValueError:
            return False
        return pid != os.getpid() and not _pid_alive(pid)
    handle.close()
    return True


def remove_stale(base: Path) -> int:
    """Delete the process folders under ``base`` whose owner is gone; returns how many."""
    removed = 0
    try:
        candidates = [p for p in base.iterdir() if p.name.startswith(PROCESS_PREFIX)]
    except OSError:
        return 0
    for path in candidates:
        if path.is_dir() and path != process_root() and is_stale(path):
            shutil.rmtree(path, ignore_errors=True)
            removed += not path.exists()
    return removed


def cleanup() -> None:
    """Remove this process's folder now (atexit and SIGTERM call it; safe to call twice)."""
    root = process_root()
    if root is None:
        return
    for handle in _LOCK_HANDLE:
        try:
            handle.close()
        except OSError:
            pass
    _LOCK_HANDLE.clear()
    shutil.rmtree(root, ignore_errors=True)


def _on_sigterm(signum, frame) -> None:  # noqa: ARG001 - the signal handler's signature
    """SIGTERM: stop as Ctrl-C does (Gradio closes its server), then atexit cleans up."""
    raise KeyboardInterrupt


def install(base: str | Path | None = None, *, gradio: bool = True, signals: bool = True) -> Path:
    """Give this process its own temporary folder, removed when the process ends (see the
    module docstring); once per process, later calls return the same folder.

    Args:
        base: where to make it; default ``$GRADIO_TEMP_DIR`` when set (and ``gradio``), else
            the system's temporary folder.
        gradio: also point ``GRADIO_TEMP_DIR`` into it (call before building the Blocks).
        signals: turn SIGTERM into Ctrl-C when nobody else handles it (the main thread only;
            Streamlit handles SIGTERM itself and then exits normally).
    """
    if _ROOT:
        return _ROOT[0]
    _SYSTEM_TEMP.append(tempfile.gettempdir())
    if base is None:
        env = os.environ.get("GRADIO_TEMP_DIR") if gradio else None
        base = env or tempfile.gettempdir()
    base = Path(base).resolve()
    base.mkdir(parents=True, exist_ok=True)
    remove_stale(base)
    root = base / f"{PROCESS_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    (root / "tmp").mkdir(parents=True)
    handle = _lock(root / LOCK_FILE)
    if handle is not None:
        _LOCK_HANDLE.append(handle)
    _ROOT.append(root)
    atexit.register(cleanup)
    tempfile.tempdir = str(root / "tmp")  # Python's tempfile (uploads spooled to disk, ...)
    if gradio:
        os.environ["GRADIO_TEMP_DIR"] = str(root / "gradio")
    for module_name, attribute, name in _IMPORTED_FOLDERS:
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, attribute):
            setattr(module, attribute, folder(name))
    if (
        signals
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)
    ):
        signal.signal(signal.SIGTERM, _on_sigterm)
    return root
