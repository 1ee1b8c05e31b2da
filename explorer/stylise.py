"""The Stylise page, written once for both editions (no front end here, so it is easy to test).

* :func:`example_files` – the content examples (scikit-image's samples) and the style examples:
  four public-domain paintings (``explorer/web/styles/``, credited in assets/STYLE_CREDITS.md)
  and one texture.
* :func:`make_config` – slider values → :class:`trainers.style.StyleConfig`.
* :class:`StyliseJob` – :func:`trainers.style.stylise_result` as a
  :class:`~explorer.jobs.BackgroundJob` (a page polls it: preview, losses, status);
  :func:`start_stylise` checks the inputs and starts one.
* :func:`run_stylise` – the same job as a stream: yields ``(preview, status, result_path)``
  about once a second until it is done or stopped.
* :class:`StyliseParams` (:data:`SPECS`), :func:`config_from`, :func:`picture` and
  :func:`start_one` – the page: its settings within a visitor's limits, its pictures, and
  one job per machine.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from explorer import scratch
from explorer.jobs import BackgroundJob, JobBusyError, JobSlot
from explorer.params import page_specs
from trainers.events import Event, Step
from trainers.images import ImageSource, load_image
from trainers.options import OptionSpec, option
from trainers.style import (
    StyleConfig,
    StyleResult,
    describe_features,
    stage_plan,
    stylise_result,
)

#: Content examples: scikit-image sample images (they ship with the package, no download).
CONTENT_EXAMPLES = ("astronaut", "coffee", "chelsea")
#: Public-domain paintings that ship with the explorer (sources and licences:
#: assets/STYLE_CREDITS.md), by example name: the file in ``explorer/web/styles/``.
PAINTINGS = {
    "starry_night": "starry-night.jpg",  # Van Gogh, The Starry Night, 1889
    "great_wave": "great-wave.jpg",  # Hokusai, The Great Wave off Kanagawa, c. 1831
    "the_scream": "the-scream.jpg",  # Munch, The Scream, 1893
    "shipwreck": "shipwreck.jpg",  # Turner, The Shipwreck, 1805
}
PAINTINGS_DIR = Path(__file__).resolve().parent / "web" / "styles"
#: Style examples: the paintings, and one texture (scikit-image's brick wall) to show that the
#: style loss matches texture statistics, whatever made the texture.
STYLE_EXAMPLES = (*PAINTINGS, "brick")
#: What a page calls each example.
EXAMPLE_TITLES = {
    "astronaut": "astronaut (Eileen Collins)",
    "coffee": "a cup of coffee",
    "chelsea": "Chelsea the cat",
    "starry_night": "Van Gogh: The Starry Night",
    "great_wave": "Hokusai: The Great Wave",
    "the_scream": "Munch: The Scream",
    "shipwreck": "Turner: The Shipwreck",
    "brick": "a brick wall (a texture)",
}

#: Features the UI offers, with what they mean.
FEATURE_LABELS = {
    "auto": "auto (VGG19 ImageNet if available, else random VGG19)",
    "vgg19": "VGG19 ImageNet weights (needs the weights or internet)",
    "random": "random VGG19 (offline fallback)",
    "random-multiscale": "random multi-scale shallow filters",
}


def example_image(name: str, max_side: int = 512) -> np.ndarray:
    """One example (a painting or a scikit-image sample) as RGB uint8 ``(H, W, 3)``, long side
    at most ``max_side``."""
    from skimage import data

    if name not in CONTENT_EXAMPLES + STYLE_EXAMPLES:
        raise ValueError(f"unknown example {name!r}")
    source = PAINTINGS_DIR / PAINTINGS[name] if name in PAINTINGS else getattr(data, name)()
    image = np.asarray(load_image(source, name=name))  # a grey texture -> RGB
    h, w = image.shape[:2]
    if max(h, w) > max_side:
        scale = max_side / max(h, w)
        size = (round(w * scale), round(h * scale))
        image = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))
    return image


def example_files(folder: str | Path | None = None) -> dict[str, list[str]]:
    """Write the examples as PNG files (once) and return ``{"content": [...], "style": [...]}``.

    Gradio's ``gr.Examples`` wants file paths; they go to the process's temporary folder by
    default (:func:`explorer.scratch.folder`, removed when the server stops).
    """
    folder = Path(folder or scratch.folder("style-examples"))
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
    schedule: str = "coarse-to-fine",
) -> StyleConfig:
    """Slider values → a validated :class:`StyleConfig`.

    Style and TV weights span several orders of magnitude, so their sliders are in log10 units:
    ``style_weight = 10 ** style_weight_log10``. ``schedule``: "coarse-to-fine" (the pages'
    default: most steps on a small image, a result in about a minute on a CPU) or "single"
    (every step at the output size: the original method, several times slower).
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
        schedule=schedule,
    )
    config.validate()
    return config


SCHEDULE_CHOICES = (
    ("coarse-to-fine (fast)", "coarse-to-fine"),
    ("single scale (the original, slow)", "single"),
)


def schedule_summary(steps: int, size: int, schedule: str) -> str:
    """Where the steps go, from the same :func:`trainers.style.stage_plan` the optimiser runs,
    e.g. "133 steps at 64 px → 50 at 128 px → 17 at 256 px"."""
    steps, size = int(steps or 10), int(size or 64)  # a box being typed in may be empty
    plan = stage_plan(StyleConfig(steps=steps, size=size, schedule=schedule))
    parts = [
        f"{n} steps at {side} px" if i == 0 else f"{n} at {side} px"
        for i, (side, n) in enumerate(plan)
    ]
    return " → ".join(parts)


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


class StyliseJob(BackgroundJob):
    """One style transfer in a worker thread (uint8 (H, W, 3) content and style images).

    The snapshot's ``image`` is the latest preview, its ``history`` the four relative losses
    per step (``content``, ``style``, ``tv``, ``total``); ``result`` is the
    :class:`~trainers.style.StyleResult` once it has finished.
    """

    def __init__(
        self,
        content: np.ndarray,
        style: np.ndarray,
        config: StyleConfig,
        stop: threading.Event | None = None,
    ) -> None:
        super().__init__(name="stylise", target=config.steps, stop_event=stop)
        self.content, self.style, self.config = content, style, config
        self.features = describe_features(
            config.features, config.pooling, config.weights_path, config.allow_download
        )
        self.losses: dict[str, float] = {}
        self.wall_time = 0.0
        self.result: StyleResult | None = None

    def work(self) -> StyleResult:
        return stylise_result(
            self.content,
            self.style,
            self.config,
            callback=self.emit,
            stop=self.stop_event,
            preview_every=5,
        )

    def emit(self, event: Event) -> None:
        if isinstance(event, Step):
            self.losses, self.wall_time = dict(event.losses), event.wall_time
            self.should_stop()  # nobody has polled for a long time: stop
        super().emit(event)

    def status_text(self) -> str:
        if self.state == "finished" and self.result is not None:
            result = self.result
            return format_status(
                result.steps,
                self.config.steps,
                result.losses,
                result.seconds,
                self.features,
                result.reason,
            )
        state = {"starting": "starting", "running": "running", "finished": "finished"}[self.state]
        if self.stop_event.is_set() and self.state != "finished":
            state = "stopping"
        return format_status(
            self.step, self.config.steps, self.losses, self.wall_time, self.features, state
        )


def start_stylise(
    content: ImageSource | None,
    style: ImageSource | None,
    config: StyleConfig,
    stop: threading.Event | None = None,
) -> StyliseJob:
    """Check the inputs (in the caller's thread, so a bad picture fails at once) and start.

    Raises ``ValueError`` (``ImageInputError``) for a missing or unreadable image or a bad
    setting, before any work.
    """
    if content is None or style is None:
        raise ValueError("Please choose both a content image and a style image.")
    content_rgb = np.asarray(load_image(content, name="content image"))  # (H, W, 3) uint8
    style_rgb = np.asarray(load_image(style, name="style image"))
    config.validate()
    return StyliseJob(content_rgb, style_rgb, config, stop).start()


#: Where results go by default (``scratch.folder(RESULTS_FOLDER)``); files older than
#: RESULT_MAX_AGE_S there are deleted, and the whole folder when the server stops
#: (:mod:`explorer.scratch`).
RESULTS_FOLDER = "stylise"
RESULT_MAX_AGE_S = 600.0  # Gradio has copied a result into its own cache long before


def _sweep(folder: Path, max_age_s: float) -> None:
    """Delete result PNGs older than ``max_age_s`` (a shared server never fills its disk)."""
    cutoff = time.time() - max_age_s
    for old in folder.glob("stylised-*.png"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            continue


def save_result(image: np.ndarray, out_dir: str | Path | None = None) -> Path:
    """Write the result as a PNG in ``out_dir`` (default the process's ``stylise`` temporary
    folder, where results older than ten minutes are deleted: Gradio serves its own copy)."""
    folder = Path(out_dir) if out_dir is not None else scratch.folder(RESULTS_FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    if out_dir is None:
        _sweep(folder, RESULT_MAX_AGE_S)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"stylised-{stamp}-{uuid.uuid4().hex[:8]}.png"
    Image.fromarray(image).save(path)
    return path


def run_stylise(
    content: ImageSource | None,
    style: ImageSource | None,
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
    job = start_one(content, style, config, stop)
    try:
        yield None, format_status(0, config.steps, {}, 0.0, job.features, "starting"), None
        for view in job.follow(interval, heartbeat=interval):
            if not view.finished:
                yield view.image, view.status, None
        if job.error is not None:
            raise job.error
        assert job.result is not None
        path = save_result(job.result.image, out_dir)
        yield job.result.image, job.status_text(), str(path)
    finally:
        stop.set()  # the run is over, or nobody is listening any more: let the worker end


# ---------------------------------------------------------------------------------------------
# The page: its parameters, words and the one-job rule (both editions; no front end here)
# ---------------------------------------------------------------------------------------------


@dataclass
class StyliseParams:
    """The Stylise page's settings, named as :func:`make_config` takes them. ``steps`` and
    ``size`` are capped further by the visitor's limits (:func:`limited`)."""

    steps: int = option(200, "", minimum=10, maximum=1000, step=10, ui_label="Steps")
    size: int = option(
        256, "", minimum=64, maximum=512, step=32, ui_label="Output size (long side, px)"
    )
    schedule: str = option(
        "coarse-to-fine",
        "",
        choices=[v for _, v in SCHEDULE_CHOICES],
        ui_label="Schedule",
        widget="radio",
    )
    content_weight: float = option(
        1.0, "", minimum=0.0, maximum=10.0, step=0.1, ui_label="Content weight"
    )
    style_weight_log10: float = option(
        1.0,
        "1 means 10, 3 means 1000",
        minimum=-1.0,
        maximum=4.0,
        step=0.1,
        ui_label="Style weight (log₁₀)",
    )
    tv_weight_log10: float = option(
        0.0,
        "0 means 1",
        minimum=-3.0,
        maximum=2.0,
        step=0.1,
        ui_label="Smoothness (TV) weight (log₁₀)",
    )
    init: str = option(
        "content", "", choices=["content", "noise"], ui_label="Start from", widget="radio"
    )
    optimizer: str = option(
        "lbfgs", "", choices=["lbfgs", "adam"], ui_label="Optimizer", widget="radio"
    )
    preserve_color: bool = option(False, "", ui_label="Keep the content's colours")
    features: str = option("auto", "", choices=list(FEATURE_LABELS), ui_label="Feature network")
    seed: int = option(0, "", minimum=0, ui_label="Seed (noise start)", widget="integer")


SPECS = page_specs(StyliseParams)
SCHEDULE_LABELS = {value: label for label, value in SCHEDULE_CHOICES}
TITLE = "Neural style transfer (Gatys et al. 2016)"
INTRO_MD = """
We optimise the **pixels** of an image so that its CNN features match the *content* photo at a
deep layer, its Gram matrices (which features fire together) match the *style* image at several
layers, and neighbouring pixels stay similar (total variation). Watch the image change step by
step; the losses are relative errors (1 ≈ as far from the target as zero is). The style
examples are public-domain paintings (Van Gogh, Hokusai, Munch, Turner) and one brick wall:
Gram matrices only see texture statistics, so a wall restyles a photo as a painting does.
"""
READY = "Choose a content and a style image, then press **Start**."
DOWNLOAD_LABEL = "Download the result (PNG)"
#: One style transfer at a time on this machine (it uses every CPU core), for every visitor of
#: either edition.
SLOT = JobSlot("style transfer")
#: How long a Start waits for another visitor's style transfer to end before it is refused.
WAIT_FOR_SLOT_S = 300.0
BUSY = (
    "A style transfer is still running on this machine (it uses every core) after waiting "
    f"{WAIT_FOR_SLOT_S:.0f} s for it; try again when it has finished."
)


#: The settings as the page lays them out, row by row; then those under :data:`MORE_TITLE`.
ROWS = (
    ("steps", "size"),
    ("schedule",),
    ("content_weight", "style_weight_log10", "tv_weight_log10"),
)
MORE_TITLE = "More settings"
MORE_ROWS = (("init", "optimizer", "preserve_color"), ("features", "seed"))
#: The example pictures each input offers (the first is a page's start).
EXAMPLES = {"content": CONTENT_EXAMPLES, "style": STYLE_EXAMPLES}


#: What a visitor's Start may be refused with (bad settings or pictures, another's job).
REFUSALS = (ValueError, TypeError, FileNotFoundError, OverflowError, JobBusyError)


def limited(limits: Any) -> dict[str, OptionSpec]:
    """The specs with ``steps`` and ``size`` capped by a visitor's limits
    (:class:`explorer.context.VisitorLimits`), their defaults inside the caps."""
    specs = dict(SPECS)
    for name, most in (("steps", limits.stylise_steps), ("size", limits.stylise_size)):
        spec = specs[name]
        specs[name] = replace(spec, maximum=most, default=min(spec.default, most))
    return specs


def check_limits(steps: Any, size: Any, limits: Any) -> None:
    """Refuse more steps or a larger output than a visitor may ask for, in one sentence."""
    if float(steps or 0) > limits.stylise_steps:
        raise ValueError(f"Stylise runs at most {limits.stylise_steps} steps here.")
    if float(size or 0) > limits.stylise_size:
        raise ValueError(f"Stylise makes images of at most {limits.stylise_size} px here.")


def config_from(values: dict[str, Any], limits: Any) -> StyleConfig:
    """The page's values ({name of :class:`StyliseParams`: value}) within a visitor's limits,
    as a validated config; ValueError (or TypeError) in one sentence otherwise."""
    check_limits(values["steps"], values["size"], limits)
    whole = {name: int(values[name] or 0) for name in ("steps", "size", "seed")}
    return make_config(**{**values, **whole})


def picture(data: bytes | None, name: str, example: str | None) -> tuple[Any, str]:
    """The picture a visitor chose: an upload (``data``, checked at once: ImageInputError, a
    ValueError, for a bad file), else one of :data:`EXAMPLES`; (None, "") for neither."""
    if data is not None:
        return np.asarray(load_image(data, name=name)), name
    if example in CONTENT_EXAMPLES + STYLE_EXAMPLES:
        return example_image(example), example
    return None, ""


def new_stop_event(old: threading.Event | None) -> threading.Event:
    """A fresh Stop flag for a visitor's next run (a previous run of theirs should end)."""
    if old is not None:
        old.set()
    return threading.Event()


def request_stop(stop_event: threading.Event | None) -> None:
    """Stop: raise a visitor's Stop flag."""
    if stop_event is not None:
        stop_event.set()


def restart(
    old: StyliseJob | None, content: ImageSource | None, style: ImageSource | None, config: Any
) -> StyliseJob:
    """A visitor's Start: stop their previous job if it still runs, then :func:`start_one`."""
    if old is not None and old.is_alive:
        old.request_stop()  # start_one gives it a few seconds to end
    return start_one(content, style, config)


def start_one(
    content: ImageSource | None,
    style: ImageSource | None,
    config: StyleConfig,
    stop: threading.Event | None = None,
    wait_s: float | None = None,
) -> StyliseJob:
    """:func:`start_stylise` under the one-job rule, in both editions: while another visitor's
    job runs, wait for it to end (as a queue would, up to ``wait_s``, default
    :data:`WAIT_FOR_SLOT_S`), then start; :class:`~explorer.jobs.JobBusyError` when it still
    runs then."""
    deadline = time.monotonic() + (WAIT_FOR_SLOT_S if wait_s is None else wait_s)
    while True:
        running = SLOT.current()
        if running is not None:
            running.join(max(0.0, deadline - time.monotonic()))
            if running.is_alive:
                raise JobBusyError(BUSY)
            continue
        job = start_stylise(content, style, config, stop)
        try:
            SLOT.claim(job)
        except JobBusyError:  # another visitor started one at the same moment: wait for it
            job.stop()
            continue
        return job
