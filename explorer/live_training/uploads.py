"""Training on a visitor's own pictures: an upload, never a typed server path.

A hosted page offers "your images (upload)" instead of "an image folder". The uploaded files
are each checked by :func:`trainers.images.load_image` (the one loader: not an image, too
many pixels, too thin...), shrunk, and written as PNGs into a folder of their own under
``uploads_root()``; the run trains on :func:`load_upload`'s :class:`~trainers.data.ImageData`.
Folders older than ``KEEP_S`` are deleted when the next upload arrives, so uploads never pile up.
"""

from __future__ import annotations

import io
import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from explorer.live_training.form import UPLOAD_NAME
from explorer.live_training.places import UPLOADS_FOLDER, default_runs_dir
from trainers.data import ImageData, load_image_folder
from trainers.images import ImageInputError, load_image

MIN_IMAGES = 8  # fewer than this is no data set
STORE_SIDE = 128  # uploads are kept at most this large (runs train at 16-64 px)
KEEP_S = 3600.0  # upload folders older than this are deleted


def uploads_root() -> Path:
    """Where uploaded training images are kept: ``<live runs>/uploads``."""
    return default_runs_dir() / UPLOADS_FOLDER


def _clean_old(root: Path, keep_s: float = KEEP_S) -> None:
    if not root.is_dir():
        return
    cutoff = time.time() - keep_s
    for folder in root.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def _opened(upload: Any) -> Any:
    """An uploaded file to read: a path (Gradio's temporary copy), bytes, or an object with
    ``getvalue()`` (Streamlit's ``UploadedFile``)."""
    if isinstance(upload, str | Path):
        return open(upload, "rb")
    return io.BytesIO(upload if isinstance(upload, bytes) else upload.getvalue())


def save_upload(
    files: Sequence[Any] | None, max_images: int, root: str | Path | None = None
) -> Path:
    """Check and store uploaded pictures; returns their new folder.

    Args:
        files: the uploaded files: paths (Gradio's temporary copies), bytes, or Streamlit's
            ``UploadedFile`` objects.
        max_images: the most pictures one visitor may upload.
        root: where upload folders go (default :func:`uploads_root`).
    Raises:
        ImageInputError (a ValueError): too few or too many pictures, or one that is not usable
        (the message names it by its number, never by a server path).
    """
    files = [f for f in (files or []) if f]
    if len(files) < MIN_IMAGES:
        raise ImageInputError(
            f"Upload at least {MIN_IMAGES} pictures to train on (got {len(files)})."
        )
    if len(files) > max_images:
        raise ImageInputError(f"Upload at most {max_images} pictures here (got {len(files)}).")
    root = Path(root) if root is not None else uploads_root()
    _clean_old(root)
    folder = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    try:
        for index, upload in enumerate(files, start=1):
            try:
                with _opened(upload) as handle:
                    image = load_image(handle, name=f"picture {index}", max_side=STORE_SIDE)
            except OSError:
                raise ImageInputError(
                    f"Picture {index} could not be read; upload it again."
                ) from None
            image.save(folder / f"{index:05d}.png")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def load_upload(folder: str | Path, image_size: int) -> ImageData:
    """The stored pictures as a data set named "your images" (one class)."""
    return load_image_folder(Path(folder), image_size=image_size, name=UPLOAD_NAME)
