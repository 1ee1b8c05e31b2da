"""Gradio's temporary folder under a class's load: never a half-written picture, never a full disk.

**Atomic cache writes.** Gradio stores a returned picture under the hash of its bytes and
*rewrites* that file in place each time the same picture is returned again. When two users get
the same picture at once (the same example translated, the same seed), one user's download
can read the file while the other's request truncates it: benchmarks/soak.py saw "peer closed
connection without sending complete message body (received 0 bytes, expected 6028)" for 3 of
1892 calls with 30 users. :func:`patch_gradio_cache_writes` makes the write atomic (a temporary
name, then ``os.replace``: a reader keeps the old file) and skips it when the same bytes are
already there (the hash says they are), touching the file instead.

``gr.Blocks(delete_cache=(every, age))`` deletes only the files Gradio *tracked*. Under a
class's load (benchmarks/soak.py, 3 users, 45 s) 99 of 115 pictures older than ``age`` were not
tracked (outputs of components a handler had updated, which live in per-session copies), so
they would have stayed until the disk was full. :func:`start_sweeper` runs one daemon thread
per process that, every ``every`` seconds, deletes files older than ``age`` in Gradio's
temporary folder, except the components' start values (``keep_in_cache``) and the explorer's
own static files. Empty folders go too.

The process's own folder (one per server, gone when it stops) is :mod:`explorer.scratch`,
which both editions use.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
import weakref
from pathlib import Path

#: Gradio's temporary files (uploads, results) are deleted every hour once an hour old;
#: ``GAN_EXPLORER_DELETE_CACHE=EVERY_S,AGE_S`` changes it (benchmarks/soak.py uses minutes).
DELETE_CACHE = (3600, 3600)


def delete_cache_setting(environ=os.environ) -> tuple[int, int]:
    """(how often, how old) for ``gr.Blocks(delete_cache=...)``, in seconds."""
    text = environ.get("GAN_EXPLORER_DELETE_CACHE", "")
    try:
        every, age = (int(part) for part in text.split(","))
    except ValueError:
        return DELETE_CACHE
    return (every, age) if every > 0 and age > 0 else DELETE_CACHE


_DEMOS: weakref.WeakSet = weakref.WeakSet()
_LOCK = threading.Lock()
_THREAD: list[threading.Thread] = []


def kept_files(demos) -> set[str]:
    """The files Gradio must keep: every component's start values."""
    keep: set[str] = set()
    for demo in list(demos):
        for block in list(getattr(demo, "blocks", {}).values()):
            keep.update(str(p) for p in getattr(block, "keep_in_cache", ()) or ())
    return keep


def sweep(folder: str | Path, age_s: float, keep: set[str] = frozenset()) -> int:
    """Delete files under ``folder`` last changed more than ``age_s`` ago (not in ``keep``)
    and the folders left empty. Returns how many files went."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    cutoff = time.time() - age_s
    removed = 0
    for root, _dirs, files in os.walk(folder, topdown=False):
        for name in files:
            path = os.path.join(root, name)
            try:
                if (
                    path not in keep
                    and max(os.path.getmtime(path), os.path.getctime(path)) < cutoff
                ):
                    os.unlink(path)
                    removed += 1
            except OSError:
                continue  # gone already, or in use on a platform that minds
        if Path(root) != folder and not os.listdir(root):
            try:
                os.rmdir(root)
            except OSError:
                pass
    return removed


def start_sweeper(demo, every_s: float, age_s: float) -> None:
    """Sweep Gradio's temporary folder for ``demo`` (and any other explorer in this process)
    every ``every_s`` seconds, deleting files older than ``age_s``."""
    with _LOCK:
        _DEMOS.add(demo)
        if _THREAD and _THREAD[0].is_alive():
            return

        def loop() -> None:
            while True:
                time.sleep(every_s)
                try:
                    from gradio.utils import get_upload_folder

                    sweep(get_upload_folder(), age_s, kept_files(_DEMOS))
                except Exception:  # noqa: BLE001 - a sweep is never worth the server
                    continue

        thread = threading.Thread(target=loop, name="gan-explorer-temp-sweeper", daemon=True)
        thread.start()
        _THREAD[:] = [thread]


def _save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """``gradio.processing_utils.save_pil_to_cache``, written atomically (see the module
    docstring); the same name, folder and bytes as Gradio's own."""
    from gradio import processing_utils

    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    target = (folder / f"{name}.{format}").resolve()
    try:
        if target.is_file() and target.stat().st_size == len(data):
            os.utime(target)  # the same bytes (same hash): in use again now
            return str(target)
    except OSError:
        pass
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
    partial.write_bytes(data)
    os.replace(partial, target)
    return str(target)


def patch_gradio_cache_writes() -> None:
    """Route Gradio's picture cache writes through :func:`_save_pil_to_cache` (once)."""
    from gradio import processing_utils

    if processing_utils.save_pil_to_cache is not _save_pil_to_cache:
        processing_utils.save_pil_to_cache = _save_pil_to_cache


# --- one folder per process ---------------------------------------------------------------------
