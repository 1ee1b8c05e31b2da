"""One training process per run folder: a lock file holding the owner's PID.

Two ``gan-train --out runs/x`` at once would interleave their checkpoints and logs. The first
creates ``runs/x/.lock`` (atomically, ``O_CREAT | O_EXCL``) with its PID, host and start time;
the second finds it and refuses with :class:`RunLockedError`. A lock left by a process that no
longer runs (``kill -9``, a power cut) is stale: the next run takes it over and says so.
On POSIX the file also carries an OS lock (``flock``), released by the kernel when the process
dies, so "alive" never depends on guessing from a PID that may have been reused.

    with RunLock(out_dir) as lock:      # raises RunLockedError if another process trains there
        if lock.note:
            print(lock.note)            # "took over a stale lock of PID 123 (no longer running)"
        trainer.run(...)

Under a multi-process launcher (``torchrun``, ``accelerate launch``) only rank 0 takes the lock:
the ranks of one run share its folder.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

try:
    import fcntl  # POSIX: the OS drops the lock when the process dies, however it dies
except ImportError:  # Windows: the PID in the file decides
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".lock"


class RunLockedError(ValueError):
    """Another live process trains in this run folder. The message says which and what to do.
    (A ValueError, as ``CheckpointError``: a command line prints it as one line, exit status 2.)"""


def _pid_alive(pid: int) -> bool:
    """True if a process with this PID runs on this machine (signal 0 only checks)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists but belongs to someone else
        return True
    except OSError:
        return False
    return True


def _rank() -> int:
    """This process's rank under a launcher (0 without one)."""
    for name in ("RANK", "LOCAL_RANK"):
        value = os.environ.get(name)
        if value and value.strip().isdigit():
            return int(value)
    return 0


class RunLock:
    """The lock of one run folder (see the module docstring).

    Args:
        run_dir: the run folder (created if missing).
        what: the command named in the other process's error message.
    Attributes:
        note: after :meth:`acquire`, a sentence when a stale lock was taken over, else "".
    """

    def __init__(self, run_dir: str | os.PathLike, what: str = "gan-train") -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self.what = what
        self.note = ""
        self._fd: int | None = None

    def _record(self) -> dict:
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": self.what,
        }

    def _read(self) -> dict:
        try:
            record = json.loads(self.path.read_text())
            return record if isinstance(record, dict) else {}
        except (OSError, ValueError):
            return {}  # half-written by a process killed at that instant: stale

    def acquire(self) -> RunLock:
        """Take the lock, or raise :class:`RunLockedError` if a live process holds it."""
        if _rank() != 0:
            return self
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(5):  # the file was replaced meanwhile: try again on the new one
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if not self._lock_fd(fd):
                    self._refuse(self._read())
                if os.fstat(fd).st_ino != os.stat(self.path).st_ino:
                    raise FileNotFoundError  # released and unlinked by its owner: a new file
            except FileNotFoundError:
                os.close(fd)
                continue
            except BaseException:
                os.close(fd)
                raise
            previous = self._read()
            pid = previous.get("pid")
            if os.fstat(fd).st_size and pid != os.getpid():  # left by a process that died
                if fcntl is None and isinstance(pid, int) and _pid_alive(pid):  # no OS locks
                    os.close(fd)
                    self._refuse(previous)
                self.note = (
                    f"took over a stale lock in {self.run_dir} (PID {pid or '?'} no longer runs)"
                )
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(self._record()).encode(), 0)
            os.fsync(fd)
            self._fd = fd
            return self
        raise RunLockedError(f"{self.run_dir}: could not take the run lock; try again")

    @staticmethod
    def _lock_fd(fd: int) -> bool:
        """An exclusive OS lock on the open file (gone when the process dies); False if held."""
        if fcntl is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _refuse(self, other: dict) -> None:
        raise RunLockedError(
            f"{self.run_dir} is in use by {other.get('command') or 'another run'} "
            f"(PID {other.get('pid', '?')} on {other.get('host') or 'this machine'}, since "
            f"{other.get('started') or '?'}); wait for it to finish, stop it, or choose "
            "another --out"
        )

    def release(self) -> None:
        """Remove the lock file and let go of it (only if this process holds it)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.unlink(self.path)  # before letting go, so nobody locks a file about to vanish
        except FileNotFoundError:
            pass
        os.close(fd)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


_HELD: list[RunLock] = []


def hold_run_lock(run_dir: str | os.PathLike, what: str = "gan-train") -> str:
    """Take ``run_dir``'s lock until :func:`release_run_locks` (a command line's ``finally``).

    Returns the note to print ("" or "took over a stale lock ..."); raises RunLockedError.
    """
    lock = RunLock(run_dir, what).acquire()
    _HELD.append(lock)
    return lock.note


def release_run_locks() -> None:
    """Release every lock :func:`hold_run_lock` took in this process."""
    while _HELD:
        _HELD.pop().release()
