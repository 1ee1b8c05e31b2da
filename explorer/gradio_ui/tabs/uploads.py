"""Upload widgets whose files reach the app only through :func:`trainers.images.load_image`.

``gr.Image`` decodes an upload with PIL *before* a handler sees it, so random bytes, a
decompression bomb or a 9000x50 strip would end in PIL's or PyTorch's words, not ours.
:func:`CheckedImage` makes a ``gr.Image`` (the same widget in the browser) whose preprocessing
is our loader: every refusal is one sentence from :class:`trainers.images.ImageInputError`,
shown as a ``gr.Error``, and no message names a server path.

(A factory, not a subclass: Gradio writes a ``.pyi`` stub next to the module of every
``Component`` subclass, which an installed, read-only package cannot have.)
"""

from __future__ import annotations

import types
from typing import Any

import gradio as gr
import numpy as np

from trainers.images import ImageInputError, load_image


def CheckedImage(*args: Any, upload_name: str = "uploaded image", **kwargs: Any) -> gr.Image:  # noqa: N802
    """A ``gr.Image`` whose uploads are opened by :func:`trainers.images.load_image`.

    Only ``type="numpy"`` (uint8 (H, W, 3) RGB, or (H, W) for ``image_mode="L"``) and
    ``type="filepath"`` (the checked file's path) are supported; ``upload_name`` names the
    picture in messages ("content image").
    """
    image = gr.Image(*args, **kwargs)
    if image.type not in ("numpy", "filepath"):
        raise ValueError("CheckedImage supports type='numpy' or 'filepath'")
    image.upload_name = upload_name  # type: ignore[attr-defined]
    image.gradio_preprocess = image.preprocess  # type: ignore[attr-defined]
    image.preprocess = types.MethodType(checked_preprocess, image)  # type: ignore[method-assign]
    return image


def checked_preprocess(self: gr.Image, payload: Any) -> np.ndarray | str | None:
    """``gr.Image.preprocess`` through our loader (bound to a :func:`CheckedImage`)."""
    if payload is None:
        return None
    name = self.upload_name
    path = getattr(payload, "path", None)
    url = getattr(payload, "url", None) or ""
    mode = "L" if self.image_mode == "L" else "RGB"
    try:
        if path is None or url.startswith("data:"):  # a pasted data: URL: Gradio decodes it
            path = _gradio_decode(self, payload)
            image = load_image(path, mode=mode, name=name)
        else:
            with open(path, "rb") as handle:  # a file object: messages name no server path
                image = load_image(handle, mode=mode, name=name)
    except ImageInputError as error:
        raise gr.Error(str(error), print_exception=False) from None
    except OSError:
        raise gr.Error(f"The {name} could not be read; please upload it again.") from None
    if self.type == "filepath":
        return path
    return np.asarray(image)


def _gradio_decode(image: gr.Image, payload: Any) -> Any:
    try:
        return image.gradio_preprocess(payload)
    except Exception:  # noqa: BLE001 - Gradio's decoder says it in its own words
        raise gr.Error(
            f"The {image.upload_name} is not an image this app can read.", print_exception=False
        ) from None
