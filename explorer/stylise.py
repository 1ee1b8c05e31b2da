"""Plain helpers behind the explorer's Stylise tab (no Gradio here, so they are easy to test).

* :func:`example_files` – content and style example images that ship with scikit-image.
* :func:`make_config` – slider values → :class:`trainers.style.StyleConfig`.
* :func:`run_stylise` – runs :func:`trainers.style.stylise` in a worker thread and yields
  ``(preview, status, result_path)`` about once a second until it is done or stopped.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from trainers.events import Event, Finished, Samples, Step
from trainers.style import (
    ImageInput,
    StyleConfig,
    StyleResult,
    describe_features,
    load_image,
    stylise_result,
)

#: scikit-image sample images (all ship with the package, no download needed).
CONTENT_EXAMPLES = ("astronaut", "coffee", "chelsea")
STYLE_EXAMPLES = ("gravel", "grass", "brick", "hubble_deep_field")

#: Features the UI offers, with what they mean.
FEATURE_LABELS = {
    "auto": "auto (VGG19 ImageNet if available, else random VGG19)",
    "vgg19": "VGG19 ImageNet weights (needs the weights or internet)",
    "random": "random VGG19 (offline fallback)",
    "random-multiscale": "random multi-scale shallow filters",
}


def example_image(name: str, max_side: int = 512) -> np.ndarray:
    """One scikit-image sample as RGB uint8 ``(H, W, 3)``, long side at most ``max_side``."""
    from skimage import data

    if name not in CONTENT_EXAMPLES + STYLE_EXAMPLES:
        raise ValueError(f"unknown example {name!r}")
    image = load_image(getattr(data, name)(), name)  # grey textures become 3-channel
    h, w = image.shape[:2]
    if max(h, w) > max_side:
        scale = max_side / max(h, w)
        size = (round(w * scale), round(h * scale))
        image = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))
    return image


def example_files(folder: str | Path | None = None) -> dict[str, list[str]]:
    """Write the examples as PNG files (once) and return ``{"content": [...], "style": [...]}``.

    Gradio's ``gr.Examples`` wants file paths; they go to a temp folder by default.
    """
    folder = Path(folder or Path(tempfile.gettempdir()) / "gan-explorer-style-examples")
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, list[str]] = {"content": [], "style": []}
    for kind, names in (("content", CONTENT_EXAMPLES), ("style", STYLE_EXAMPLES)):
        for name in names:
            path = folder / f"{name}.png"
            if not path.exists():
                tmp = path.with_suffix(".tmp.png")
                Image.fromarray(example_image(name)).save(tmp)
                tmp.replace(path)  # atomic: a half-written file is never visible
            paths[kind].append(str(path))
    return paths


def make_config(
    steps: int = 200,
    size: int = 256,
    content_weight: float = 1.0,
    style_weight_log10: float = 1.0,
    tv_weight_log10: float = 0.0,
    init: str = "content",
    optimizer: str = "lbfgs",
    preserve_color: bool = False,
    features: str = "auto",
    seed: int = 0,
) -> StyleConfig:
    """Slider values → a validated :class:`StyleConfig`.

    Style and TV weights span several orders of magnitude, so their sliders are in log10 units:
    ``style_weight = 10 ** style_weight_log10``.
    """
    config = StyleConfig(
        steps=int(steps),
        size=int(size),
        content_weight=float(content_weight),
        style_weight=float(10.0**style_weight_log10),
        tv_weight=float(10.0**tv_weight_log10),
        init=init,
        optimizer=optimizer,
        preserve_color=bool(preserve_color),
        features=features,
        seed=int(seed),
    )
    config.validate()
    return config


@dataclass
class _Progress:
    """What the worker thread has reported so far (guarded by ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    step: int = 0
    losses: dict[str, float] = field(default_factory=dict)
    wall_time: float = 0.0
    preview: np.ndarray | None = None
    finished: Finished | None = None

    def __call__(self, event: Event) -> None:  # the Callback the engine calls
        with self.lock:
            if isinstance(event, Step):
                self.step, self.losses, self.wall_time = event.step, event.losses, event.wall_time
            elif isinstance(event, Samples):
                self.preview = event.image
            elif isinstance(event, Finished):
                self.finished = event


def format_status(
    step: int,
    steps: int,
    losses: dict[str, float],
    wall_time: float,
    features: str,
    state: str = "running",
) -> str:
    """One Markdown status line: progress, the four losses, speed and the features in use."""
    parts = [f"**{state}** · step {step}/{steps}"]
    if losses:
        parts.append(
            " · ".join(f"{k} {losses[k]:.4g}" for k in ("total", "content", "style", "tv"))
        )
    if step and wall_time > 0:
        parts.append(f"{step / wall_time:.2f} steps/s · {wall_time:.0f} s")
    return " · ".join(parts) + f"  \nfeatures: {features}"


def run_stylise(
    content: ImageInput | None,
    style: ImageInput | None,
    config: StyleConfig,
    stop: threading.Event,
    interval: float = 1.0,
    out_dir: str | Path | None = None,
) -> Iterator[tuple[np.ndarray | None, str, str | None]]:
    """Run style transfer in a worker thread; yield ``(preview, status, result_path)`` updates.

    Yields about every ``interval`` seconds while running (``result_path`` is ``None``), then
    once more with the final image and the path of a PNG written to ``out_dir`` (a temp folder by
    default). Setting ``stop`` ends the run early and still yields the best image so far.
    Closing the generator (the browser went away) also sets ``stop``.

    Raises ``ValueError`` for a missing or unreadable image or a bad setting, before any work.
    """
    if content is None or style is None:
        raise ValueError("Please choose both a content image and a style image.")
    content_rgb = load_image(content, "content image")  # fail fast, in the caller's thread
    style_rgb = load_image(style, "style image")
    config.validate()
    features = describe_features(
        config.features, config.pooling, config.weights_path, config.allow_download
    )

    progress = _Progress()
    result: StyleResult | None = None
    error: Exception | None = None

    def work() -> None:
        nonlocal result, error
        try:
            result = stylise_result(
                content_rgb, style_rgb, config, callback=progress, stop=stop, preview_every=5
            )
        except Exception as exc:  # handed to the generator below
            error = exc

    worker = threading.Thread(target=work, name="stylise", daemon=True)
    worker.start()
    try:
        yield None, format_status(0, config.steps, {}, 0.0, features, "starting"), None
        while worker.is_alive():
            worker.join(timeout=interval)
            with progress.lock:
                preview, step = progress.preview, progress.step
                losses, wall = dict(progress.losses), progress.wall_time
            state = "stopping" if stop.is_set() else "running"
            if worker.is_alive():
                yield (
                    preview,
                    format_status(step, config.steps, losses, wall, features, state),
                    None,
                )
        if error is not None:
            raise error
        assert result is not None
        folder = Path(out_dir or tempfile.mkdtemp(prefix="gan-explorer-stylise-"))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"stylised-{time.strftime('%Y%m%d-%H%M%S')}.png"
        Image.fromarray(result.image).save(path)
        status = format_status(
            result.steps, config.steps, result.losses, result.seconds, features, result.reason
        )
        yield result.image, status, str(path)
    finally:
        stop.set()  # the run is over, or nobody is listening any more: let the worker end
