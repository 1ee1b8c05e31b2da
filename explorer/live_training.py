"""Train an image GAN from the browser: a worker thread, an event queue, and a stream of updates.

How the pieces talk (see /DESIGN.md "One event stream")::

    Start ─► start_job() ──► TrainingJob ── worker thread: GANTrainer.run(callback, stop_event)
                                  │                         │ Step / Samples / Checkpointed / Finished
                                  │                         ▼
    page ◄── stream(job) ◄──── queue.Queue ◄────────── callback (also: log.jsonl, sample PNGs,
           (≤ 2 updates/s)                                        quality probe, save requests)
    Stop ──► job.stop() sets a threading.Event; the engine checks it between steps.

Rules this module keeps:

- **One job per machine.** A module-level registry holds the running job (training uses the
  whole CPU/GPU, so this *is* machine-wide state). A second Start gets :class:`JobBusyError`
  saying whose job runs and how far it is.
- **No thread left behind.** Closing the stream (the browser tab went away, Gradio closes the
  generator) stops and joins the worker. As a backstop, the worker stops itself when nobody has
  read the stream for ``orphan_timeout`` seconds.
- **Resume continues the run.** Stop writes the run's checkpoint; Resume rebuilds the trainer
  from it (``GANTrainer.resume``) and reloads the curves from ``log.jsonl``, so the step count
  and the curves go on with no gap.
- **Training is off on a hosted Space** (``SPACE_ID`` set) unless ``GAN_EXPLORER_ENABLE_TRAINING=1``.

Everything here is plain Python (no Gradio), so it is tested without a browser.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import threading
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from trainers import checkpoint as ckpt
from trainers.data import ImageData, load_dataset, parse_dataset_name
from trainers.device import pick_device
from trainers.engine import GANTrainer, JsonlLogger, TrainConfig
from trainers.events import Checkpointed, Event, Finished, Samples, Step
from trainers.losses import LOSSES, check_loss
from trainers.registry import MODELS, get_spec

ENABLE_ENV = "GAN_EXPLORER_ENABLE_TRAINING"
CHECKPOINTS_ENV = "GAN_EXPLORER_CHECKPOINTS"
RUNS_ENV = "GAN_EXPLORER_LIVE_RUNS"
FAMILIES: tuple[str, ...] = tuple(MODELS)  # "mlp-gan", "dcgan", "cgan"
IMAGE_DATASETS: tuple[str, ...] = ("mnist", "fashion-mnist", "cifar10")

GRID_EVERY_S = 1.0  # a new fixed-noise grid for the page at most once a second
GIF_FRAME_EVERY_S = 2.0  # a grid is kept as a GIF frame at most every 2 s (plus the first and last)
QUALITY_EVERY_S = 20.0  # the classifier figures cost ~0.3 s on a CPU: every 20 s ...
QUALITY_FIRST_S = 5.0  # ... and once after the first 5 s
ORPHAN_TIMEOUT_S = 60.0  # nobody read the stream for this long: the job stops itself


# ---------------------------------------------------------------------------------------------
# Switches and places
# ---------------------------------------------------------------------------------------------


def training_enabled(environ: Mapping[str, str] | None = None) -> tuple[bool, str]:
    """(allowed, why not). Off on a hosted Space (``SPACE_ID`` set) unless
    ``GAN_EXPLORER_ENABLE_TRAINING=1``: training would take the shared machine."""
    environ = os.environ if environ is None else environ
    if environ.get("SPACE_ID") and environ.get(ENABLE_ENV, "") != "1":
        return False, (
            "Training is switched off on this hosted Space (it would take the shared machine). "
            f"Run GAN Explorer on your own computer, or set {ENABLE_ENV}=1 in the Space's settings."
        )
    return True, ""


def default_checkpoint_dir() -> Path:
    """Where "Save checkpoint" writes: ``$GAN_EXPLORER_CHECKPOINTS`` or ~/.cache/gan-explorer/checkpoints.
    Pass it to the explorer as ``--checkpoint-dir`` so the Generate tab lists what you saved."""
    return Path(
        os.environ.get(CHECKPOINTS_ENV) or Path.home() / ".cache" / "gan-explorer" / "checkpoints"
    )


def default_runs_dir() -> Path:
    """Where live runs keep their log, sample grids and resumable checkpoint:
    ``$GAN_EXPLORER_LIVE_RUNS`` or ~/.cache/gan-explorer/live-runs."""
    return Path(os.environ.get(RUNS_ENV) or Path.home() / ".cache" / "gan-explorer" / "live-runs")


def describe_device(device: torch.device) -> str:
    """ "cuda (NVIDIA H100 80GB HBM3)", "Apple MPS" or "CPU (2 threads)"."""
    if device.type == "cuda":
        return f"CUDA GPU ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple MPS GPU"
    return f"CPU ({torch.get_num_threads()} threads)"


# ---------------------------------------------------------------------------------------------
# What to train
# ---------------------------------------------------------------------------------------------


@dataclass
class JobOptions:
    """Everything the Train tab asks for.

    Args:
        model: "mlp-gan", "dcgan" or "cgan".
        dataset: "mnist", "fashion-mnist", "cifar10" or "folder:PATH".
        data_dir: where the data sets live (None: $GAN_EXPLORER_DATA or ~/.cache/gan-explorer/data).
        image_size: side for folder images (default 32 here: small enough to train live).
        preset: a named model variant of the family (e.g. mlp-gan's "classroom").
        loss, d_steps, lr_d, lr_g: the game (see trainers/losses.py); d_steps is Goodfellow's k.
        spectral_norm, minibatch_std: D options.
        batch_size, steps, seed: the run.
        device: "auto" (CUDA, then MPS, then CPU), "cpu", "cuda" or "mps".
    """

    model: str = "dcgan"
    dataset: str = "mnist"
    data_dir: str | None = None
    image_size: int | None = None
    preset: str | None = None
    loss: str = "non-saturating"
    d_steps: int = 1
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    spectral_norm: bool = False
    minibatch_std: bool = False
    batch_size: int = 64
    steps: int = 2000
    seed: int = 0
    device: str = "auto"

    def check(self, dataset: bool = True) -> None:
        """Raise ValueError with a readable message for a bad option (``dataset``: check its name too)."""
        get_spec(self.model)
        if dataset:
            parse_dataset_name(self.dataset)
        check_loss(self.loss)
        if self.preset and self.preset not in MODELS[self.model].presets:
            raise ValueError(
                f"{self.model} has no preset {self.preset!r}; presets: {sorted(MODELS[self.model].presets)}"
            )
        if not 1 <= self.d_steps <= 20:
            raise ValueError(f"k (D steps per G step) must be between 1 and 20, got {self.d_steps}")
        if not (0 < self.lr_d < 1 and 0 < self.lr_g < 1):
            raise ValueError(f"learning rates must be in (0, 1); got D {self.lr_d}, G {self.lr_g}")
        if not 2 <= self.batch_size <= 4096:
            raise ValueError(f"batch size must be between 2 and 4096, got {self.batch_size}")
        if not 1 <= self.steps <= 10_000_000:
            raise ValueError(f"steps must be at least 1, got {self.steps}")


class JobBusyError(RuntimeError):
    """Another training job is running on this machine. The message says whose and how far."""


class TrainingDisabledError(RuntimeError):
    """Training is switched off here (a hosted Space without the opt-in variable)."""


# ---------------------------------------------------------------------------------------------
# Curves and pictures
# ---------------------------------------------------------------------------------------------


@dataclass
class Curves:
    """Per-step history of the four numbers the page plots (lists of equal length)."""

    step: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)

    def append(
        self, step: int, d: float, g: float, d_real: float | None, d_fake: float | None
    ) -> None:
        self.step.append(int(step))
        self.d_loss.append(float(d))
        self.g_loss.append(float(g))
        self.d_real.append(float("nan") if d_real is None else float(d_real))
        self.d_fake.append(float("nan") if d_fake is None else float(d_fake))

    def add_event(self, event: Step) -> None:
        self.append(event.step, event.losses["d"], event.losses["g"], event.d_real, event.d_fake)

    def copy(self) -> Curves:
        return Curves(
            *(
                list(getattr(self, name))
                for name in ("step", "d_loss", "g_loss", "d_real", "d_fake")
            )
        )

    def __len__(self) -> int:
        return len(self.step)

    @classmethod
    def from_log(cls, path: Path) -> Curves:
        """The curves of an earlier session of the run, from its ``log.jsonl``."""
        curves = cls()
        if path.is_file():
            for line in path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    break
                curves.append(
                    record["step"],
                    record["d"],
                    record["g"],
                    record.get("d_real"),
                    record.get("d_fake"),
                )
        return curves


_FONT_CACHE: dict[int, Any] = {}


def font(size: int = 12) -> Any:
    """Pillow's built-in scalable font (no system fonts needed)."""
    if size not in _FONT_CACHE:
        try:
            _FONT_CACHE[size] = ImageFont.load_default(size=size)
        except TypeError:  # Pillow < 10.1: the fixed-size bitmap font
            _FONT_CACHE[size] = ImageFont.load_default()
    return _FONT_CACHE[size]


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """About ``count`` round numbers (1, 2, 5 x 10^n steps) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), default=raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _format_tick(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:.3g}"


def _downsample(xs: np.ndarray, ys: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of consecutive buckets so a long run still draws as a smooth line of ``max_points``
    (NaNs are skipped; a bucket of only NaNs stays NaN, a gap in the line)."""
    if len(xs) <= max_points:
        return xs, ys
    starts = np.unique(np.linspace(0, len(xs), max_points + 1).astype(int)[:-1])  # bucket starts
    finite = np.isfinite(ys)
    counts = np.add.reduceat(finite.astype(np.float64), starts)
    sums = np.add.reduceat(np.where(finite, ys, 0.0), starts)
    bucket_x = np.add.reduceat(xs, starts) / np.diff(np.append(starts, len(xs)))
    with np.errstate(invalid="ignore", divide="ignore"):
        bucket_y = np.where(counts > 0, sums / counts, np.nan)
    return bucket_x, bucket_y


def line_chart(
    series: Sequence[tuple[str, Sequence[float], Sequence[float], tuple[int, int, int]]],
    width: int = 420,
    height: int = 240,
    title: str = "",
    y_range: tuple[float, float] | None = None,
    x_label: str = "step",
) -> np.ndarray:
    """A small line chart drawn with Pillow: uint8 (height, width, 3).

    Args:
        series: (name, xs, ys, rgb colour) per line; NaNs leave gaps.
        y_range: fixed (low, high), else from the data (1st to 99th percentile, so one spike
            does not flatten everything else).
    """
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = 46, 10, 24 if title else 8, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    prepared = []
    for name, xs, ys, colour in series:
        xs_a, ys_a = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        if len(xs_a):
            xs_a, ys_a = _downsample(xs_a, ys_a, max(plot_w, 2))
        prepared.append((name, xs_a, ys_a, colour))
    all_x = np.concatenate([p[1] for p in prepared]) if prepared else np.zeros(0)
    all_y = np.concatenate([p[2] for p in prepared]) if prepared else np.zeros(0)
    finite_y = all_y[np.isfinite(all_y)]
    if y_range is not None:
        y_low, y_high = y_range
    elif len(finite_y):
        y_low, y_high = (
            np.percentile(finite_y, [1, 99])
            if len(finite_y) > 50
            else (finite_y.min(), finite_y.max())
        )
        pad = 0.08 * max(y_high - y_low, 1e-3)
        y_low, y_high = y_low - pad, y_high + pad
    else:
        y_low, y_high = 0.0, 1.0
    x_low, x_high = (float(all_x.min()), float(all_x.max())) if len(all_x) else (0.0, 1.0)
    if x_high <= x_low:
        x_high = x_low + 1

    def to_px(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        px = left + (x - x_low) / (x_high - x_low) * plot_w
        py = top + (1 - (np.clip(y, y_low, y_high) - y_low) / (y_high - y_low)) * plot_h
        return px, py

    small = font(11)
    legend_x = left
    if title:
        draw.text((left, 4), title, fill=(30, 30, 30), font=font(12))
        legend_x += int(draw.textlength(title, font=font(12))) + 14
    for tick in nice_ticks(y_low, y_high, 5):
        _, py = to_px(np.array([x_low]), np.array([tick]))
        draw.line([(left, py[0]), (left + plot_w, py[0])], fill=(232, 232, 232))
        draw.text((left - 4, py[0]), _format_tick(tick), fill=(90, 90, 90), font=small, anchor="rm")
    for tick in nice_ticks(x_low, x_high):
        px, _ = to_px(np.array([tick]), np.array([y_low]))
        draw.line([(px[0], top + plot_h), (px[0], top + plot_h + 3)], fill=(120, 120, 120))
        draw.text(
            (px[0], top + plot_h + 5),
            _format_tick(tick),
            fill=(90, 90, 90),
            font=small,
            anchor="mt",
        )
    draw.text((left + plot_w, height - 2), x_label, fill=(90, 90, 90), font=small, anchor="rb")
    draw.rectangle([left, top, left + plot_w, top + plot_h], outline=(160, 160, 160))
    for _, xs_a, ys_a, colour in prepared:
        if len(xs_a) == 0:
            continue
        px, py = to_px(xs_a, ys_a)
        segment: list[tuple[float, float]] = []
        for x, y, ok in zip(px, py, np.isfinite(ys_a), strict=True):
            if ok:
                segment.append((float(x), float(y)))
            else:
                _draw_polyline(draw, segment, colour)
                segment = []
        _draw_polyline(draw, segment, colour)
    legend_y = 11 if title else top + 9  # beside the title, else inside the plot's top-left
    for name, _, _, colour in prepared:
        draw.line([(legend_x, legend_y), (legend_x + 14, legend_y)], fill=colour, width=3)
        draw.text((legend_x + 18, legend_y), name, fill=(40, 40, 40), font=small, anchor="lm")
        legend_x += 24 + int(draw.textlength(name, font=small)) + 10
    return np.asarray(image)


def _draw_polyline(
    draw: ImageDraw.ImageDraw, points: list[tuple[float, float]], colour: tuple[int, int, int]
) -> None:
    if len(points) == 1:
        x, y = points[0]
        draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=colour)
    elif len(points) > 1:
        draw.line(points, fill=colour, width=2, joint="curve")


D_COLOUR, G_COLOUR = (31, 119, 180), (214, 39, 40)  # blue D, red G
REAL_COLOUR, FAKE_COLOUR = (44, 160, 44), (148, 103, 189)  # green real, purple fake


def render_curves(
    curves: Curves, loss: str = "non-saturating", width: int = 420, height: int = 240
) -> np.ndarray:
    """Two charts side by side: the losses, and what D says of real and fake images.

    For minimax / non-saturating losses D(x) is a probability (sigmoid of the logit); for the
    other losses it is D's raw score (see trainers.losses.realness).
    """
    steps = curves.step
    losses = line_chart(
        [("L_D", steps, curves.d_loss, D_COLOUR), ("L_G", steps, curves.g_loss, G_COLOUR)],
        width,
        height,
        title="losses",
    )
    probability = loss in ("minimax", "non-saturating")
    scores = line_chart(
        [
            ("D(x) real", steps, curves.d_real, REAL_COLOUR),
            ("D(G(z)) fake", steps, curves.d_fake, FAKE_COLOUR),
        ],
        width,
        height,
        title="D's output (probability)" if probability else "D's output (score)",
        y_range=(-0.02, 1.02) if probability else None,
    )
    return np.concatenate([losses, np.full((height, 8, 3), 255, np.uint8), scores], axis=1)


def enlarge(image: np.ndarray, min_side: int = 320) -> np.ndarray:
    """Nearest-neighbour upscale of a small uint8 (H, W, C) picture so pixels stay crisp."""
    factor = max(1, math.ceil(min_side / max(1, min(image.shape[:2]))))
    if factor == 1:
        return image
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 1) or (H, W) -> (H, W, 3)."""
    if image.ndim == 2:
        image = image[..., None]
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image


# ---------------------------------------------------------------------------------------------
# The quality figure (only when a reference classifier exists)
# ---------------------------------------------------------------------------------------------


class QualityProbe:
    """classifier-FID (and, for a cGAN, label fidelity) of the generator, measured live.

    classifier-FID = ‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2 (Σ_r Σ_g)^½) on the reference classifier's
    128 penultimate features of ``n`` real and ``n`` generated images. With n = 500 it reads
    higher than a 10,000-sample figure: compare it along the run, not with the tables.
    Label fidelity (cGAN): the share of generated images the classifier labels as the class
    G was asked for.

    Args:
        classifier: a ``trainers.evaluate.ReferenceClassifier``.
        reference: real images to compare with (the test split when available).
        n: images per side.
    """

    def __init__(
        self, classifier: torch.nn.Module, reference: ImageData, n: int = 500, seed: int = 0
    ) -> None:
        self.classifier = classifier.eval()
        self.n = n
        gen = torch.Generator().manual_seed(seed)
        self.reference_index = torch.randperm(len(reference), generator=gen)[:n]
        self.reference = reference
        self.real_features: np.ndarray | None = None

    @torch.no_grad()
    def measure(self, trainer: GANTrainer) -> dict[str, float]:
        from trainers.evaluate import _batched, frechet_distance

        if self.real_features is None:
            x, _ = self.reference.batch(self.reference_index)
            self.real_features = _batched(self.classifier.features, x).numpy().astype(np.float64)
        net = trainer.generator_ema if trainer.generator_ema is not None else trainer.generator
        was_training = net.training
        net.eval()
        try:
            gen = torch.Generator().manual_seed(1234)
            z = torch.randn(self.n, trainer.model_config.latent_dim, generator=gen).to(
                trainer.device
            )
            labels = None
            if trainer.spec.conditional:
                labels = (torch.arange(self.n) % trainer.model_config.num_classes).to(
                    trainer.device
                )
            fake = torch.cat(
                [
                    net(z[i : i + 250], None if labels is None else labels[i : i + 250])
                    .float()
                    .cpu()
                    for i in range(0, self.n, 250)
                ]
            )
        finally:
            net.train(was_training)
        fake_features = _batched(self.classifier.features, fake).numpy().astype(np.float64)
        # 500 samples of 128 features: scipy may warn that the product is singular
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = {"classifier_fid": frechet_distance(self.real_features, fake_features)}
        predicted = _batched(self.classifier, fake).argmax(1)
        if labels is not None:
            result["label_fidelity"] = (predicted == labels.cpu()).float().mean().item()
        else:
            shares = (
                torch.bincount(predicted, minlength=self.classifier.config.num_classes).float()
                / self.n
            )
            result["smallest_class_share"] = shares.min().item()
            result["even_share"] = 1.0 / self.classifier.config.num_classes
        return result


def make_quality_probe(
    dataset: str, data: ImageData, data_dir: str | None, classifier_dir: str | Path | None = None
) -> QualityProbe | None:
    """A probe when ``pretrained/classifiers/<dataset>/`` (or ``classifier_dir``) holds a
    reference classifier for images of this shape; None otherwise (the page skips the figure)."""
    from trainers.checkpoint import CheckpointError
    from trainers.evaluate import classifier_dir_for, load_classifier

    directory = Path(classifier_dir) if classifier_dir is not None else classifier_dir_for(dataset)
    if not (directory / "meta.json").is_file():
        return None
    try:
        classifier, _ = load_classifier(directory)
    except (CheckpointError, RuntimeError, OSError, KeyError, TypeError):
        return None
    if tuple(classifier.config.image_shape) != tuple(data.image_shape):
        return None
    reference = data
    if dataset in IMAGE_DATASETS:
        try:
            reference = load_dataset(dataset, data_dir, train=False, download=False)
        except Exception:  # noqa: BLE001 - the train split is a fine stand-in
            reference = data
    return QualityProbe(classifier, reference)


def quality_markdown(figures: dict[str, float] | None, step: int | None = None) -> str:
    if not figures:
        return ""
    parts = [
        f"**classifier-FID** {figures['classifier_fid']:.2f} (500 vs 500 images; lower is better)"
    ]
    if "label_fidelity" in figures:
        parts.append(
            f"**label fidelity** {100 * figures['label_fidelity']:.1f} % (classifier agrees with the asked class)"
        )
    if "smallest_class_share" in figures:
        parts.append(
            f"**rarest class** {100 * figures['smallest_class_share']:.1f} % of samples "
            f"({100 * figures.get('even_share', 0.1):.0f} % = even)"
        )
    where = f" at step {step}" if step is not None else ""
    return f"Quality{where}: " + " · ".join(parts)


# ---------------------------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------------------------

_REGISTRY_LOCK = threading.Lock()
_RUNNING: TrainingJob | None = None  # the one job that holds this machine (starting or training)
_JOBS: dict[str, TrainingJob] = {}  # recent jobs by id, so a page can find its own again
_MAX_REMEMBERED = 8  # only the newest finished job keeps its trainer in memory (see start_job)


def current_job() -> TrainingJob | None:
    """The job that holds the machine now, or None."""
    with _REGISTRY_LOCK:
        return _RUNNING


def get_job(job_id: str | None) -> TrainingJob | None:
    """A recent job by id (running or finished), or None."""
    with _REGISTRY_LOCK:
        return _JOBS.get(job_id or "")


@dataclass
class Update:
    """One refresh of the page.

    Args:
        step / target: steps done and the run's target.
        status: one line: state, device, step, images per second.
        curves: uint8 (H, W, 3) chart of the losses and of D(x), D(G(z)).
        grid: uint8 (H, W, 3) fixed-noise samples (None before the first one).
        quality: markdown of the classifier figures ("" without a reference classifier).
        finished: the run ended; ``reason`` is "done", "stopped" or "error".
        history: the curves' numbers (for tests and plot components).
    """

    step: int
    target: int
    status: str
    curves: np.ndarray
    grid: np.ndarray | None
    quality: str
    finished: bool = False
    reason: str = ""
    message: str = ""
    history: Curves | None = None


class TrainingJob:
    """One training run in a worker thread.

    Use :func:`start_job` to make one (it enforces one job per machine). The worker calls
    ``GANTrainer.run(self._callback, self.stop_event)``; the callback puts every event on
    ``self.events`` (a ``queue.Queue``) for :func:`stream`, appends to ``log.jsonl``, keeps the
    curves, makes a fixed-noise grid about once a second, measures quality now and then, and
    serves "save checkpoint" requests between steps (the only safe moment to read the weights).
    """

    def __init__(self, options: JobOptions, owner: str, run_dir: Path) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.options = options
        self.owner = owner or "someone"
        self.run_dir = Path(run_dir)
        self.started_at = time.time()
        self.state = "starting"  # starting -> running -> finished
        self.stop_event = threading.Event()
        self.events: queue.Queue[Event] = queue.Queue(maxsize=20_000)
        self.curves = Curves()
        self.curves_lock = threading.Lock()
        self.trainer: GANTrainer | None = None
        self.device: torch.device | None = None
        self.quality_probe: QualityProbe | None = None
        self.quality: dict[str, float] | None = None
        self.quality_step: int | None = None
        self.latest_grid: np.ndarray | None = None
        self.step = 0
        self.target = options.steps
        self.images_per_s = 0.0
        self.finished: Finished | None = None
        self.orphan_timeout = ORPHAN_TIMEOUT_S
        self.last_seen = time.monotonic()
        self._thread: threading.Thread | None = None
        self._last_grid_time = -math.inf
        self._last_frame_time = -math.inf
        self._last_quality_time = time.monotonic() - QUALITY_EVERY_S + QUALITY_FIRST_S
        self._save_requests: queue.Queue[tuple[Path, str, threading.Event, dict]] = queue.Queue()
        self._logger = JsonlLogger(self.run_dir / "log.jsonl", every=1)

    # --- describing -----------------------------------------------------------------------------

    def describe(self) -> str:
        """ "session 3f2a9c's dcgan on mnist (step 120 of 2000, started 14:02:11)"."""
        started = time.strftime("%H:%M:%S", time.localtime(self.started_at))
        return (
            f"{self.owner}'s {self.options.model} on {self.options.dataset} "
            f"(step {self.step} of {self.target}, started {started})"
        )

    def status_line(self) -> str:
        state = {"starting": "starting", "running": "training", "finished": "finished"}[self.state]
        if self.finished is not None:
            state = {"done": "done", "stopped": "stopped", "error": "stopped by an error"}.get(
                self.finished.reason, self.finished.reason
            )
        device = describe_device(self.device) if self.device is not None else "?"
        trainer = self.trainer
        precision = f", {trainer.precision}" if trainer is not None else ""
        speed = (
            f" · {self.images_per_s:,.0f} img/s"
            if self.images_per_s and self.state == "running"
            else ""
        )
        return f"**{state}** · {self.options.model} on {self.options.dataset} · device: {device}{precision} · step {self.step} / {self.target}{speed}"

    @property
    def is_alive(self) -> bool:
        """Starting, or its worker thread is still running."""
        return self.state == "starting" or (self._thread is not None and self._thread.is_alive())

    # --- control --------------------------------------------------------------------------------

    def touch(self) -> None:
        """The page is still reading the stream (keeps the orphan watchdog quiet)."""
        self.last_seen = time.monotonic()

    def stop(self, timeout: float | None = 120.0) -> bool:
        """Ask the loop to stop (it checks between steps) and wait for the thread. True if it ended."""
        self.stop_event.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def release(self) -> None:
        """Drop the trainer, data and probe of an ended job (its run folder keeps everything)."""
        if not self.is_alive:
            self.trainer = None
            self.quality_probe = None

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    # --- the worker -----------------------------------------------------------------------------

    def _start_thread(self) -> None:
        self.state = "running"
        self._thread = threading.Thread(
            target=self._work, name=f"gan-explorer-training-{self.id}", daemon=True
        )
        self._thread.start()

    def _put(self, event: Event) -> None:
        try:
            self.events.put_nowait(event)
        except queue.Full:  # nobody is draining: drop step events, keep the rest
            if not isinstance(event, Step):
                try:
                    self.events.put(event, timeout=1.0)
                except queue.Full:
                    pass

    def _work(self) -> None:
        global _RUNNING
        trainer = self.trainer
        assert trainer is not None
        try:
            finished = trainer.run(self._callback, self.stop_event)
            self.finished = finished
        except Exception as error:  # noqa: BLE001 - the page shows it; the thread must end cleanly
            self.finished = Finished(trainer.step, "error", f"{type(error).__name__}: {error}")
            self._put(self.finished)
        finally:
            self._serve_save_requests()
            self.state = "finished"
            with _REGISTRY_LOCK:
                if _RUNNING is self:
                    _RUNNING = None

    def _callback(self, event: Event) -> None:
        """Runs in the worker thread, between training steps."""
        trainer = self.trainer
        assert trainer is not None
        if isinstance(event, Step):
            self.step = event.step
            self.images_per_s = (
                event.images_per_s
                if not self.images_per_s
                else 0.9 * self.images_per_s + 0.1 * event.images_per_s
            )
            self._logger(event)
            with self.curves_lock:
                self.curves.add_event(event)
            self._put(event)
            now = time.monotonic()
            if event.step == 1 or now - self._last_grid_time >= GRID_EVERY_S:
                self._last_grid_time = now
                self._on_samples(Samples(event.step, trainer.sample_grid()))
            if self.quality_probe is not None and now - self._last_quality_time >= QUALITY_EVERY_S:
                self._measure_quality()
            self._serve_save_requests()
            if (
                now - self.last_seen > self.orphan_timeout
            ):  # the page is gone: stop, keep the checkpoint
                self.stop_event.set()
        elif isinstance(event, Samples):  # the engine's own final grid
            self._on_samples(event, keep_frame=True)
        elif isinstance(event, Checkpointed):
            self._put(event)
        elif isinstance(event, Finished):
            self.finished = event
            if self.quality_probe is not None and event.step > 0:
                self._measure_quality()
            self._put(event)

    def _on_samples(self, event: Samples, keep_frame: bool = False) -> None:
        self.latest_grid = event.image
        self._put(event)
        now = time.monotonic()
        if keep_frame or event.step == 1 or now - self._last_frame_time >= GIF_FRAME_EVERY_S:
            self._last_frame_time = now
            folder = self.run_dir / "samples"
            folder.mkdir(parents=True, exist_ok=True)
            image = event.image[..., 0] if event.image.shape[-1] == 1 else event.image
            Image.fromarray(image).save(folder / f"step_{event.step:06d}.png")

    def _measure_quality(self) -> None:
        try:
            self.quality = self.quality_probe.measure(self.trainer)
            self.quality_step = self.trainer.step
        except Exception:  # noqa: BLE001 - a figure is never worth stopping the run
            self.quality_probe = None
        self._last_quality_time = time.monotonic()

    def _serve_save_requests(self) -> None:
        while True:
            try:
                destination, name, done, result = self._save_requests.get_nowait()
            except queue.Empty:
                return
            try:
                result["path"] = write_inference_checkpoint(self.trainer, destination, name)
            except Exception as error:  # noqa: BLE001
                result["error"] = error
            done.set()

    def request_save(self, destination: Path, name: str, timeout: float = 120.0) -> Path:
        """Save between two steps (from the worker thread) and wait for it."""
        done, result = threading.Event(), {}
        self._save_requests.put((destination, name, done, result))
        deadline = time.monotonic() + timeout
        while not done.wait(0.1):
            if not self.is_alive:  # the run ended meanwhile: nobody else will serve it
                self._serve_save_requests()
            elif time.monotonic() > deadline:
                raise TimeoutError(
                    f"the training step did not finish within {timeout:.0f} s; try again"
                )
        if "error" in result:
            raise result["error"]
        return result["path"]


def start_job(
    options: JobOptions,
    owner: str,
    *,
    resume_dir: str | Path | None = None,
    runs_dir: str | Path | None = None,
    data: ImageData | None = None,
    device: torch.device | str | None = None,
    classifier_dir: str | Path | None = None,
    model_overrides: dict[str, Any] | None = None,
) -> TrainingJob:
    """Claim the machine, build the trainer (new, or resumed from ``resume_dir``) and start it.

    Args:
        options: what to train. For a resume, only ``steps`` (the new target) and ``device``
            are used: everything else comes from the run's checkpoint.
        owner: who is asking (shown to anyone else who presses Start meanwhile).
        resume_dir: a live run folder to continue.
        runs_dir: where new runs go (default :func:`default_runs_dir`).
        data: images to train on instead of loading ``options.dataset`` (tests).
        device: overrides ``options.device``.
        classifier_dir: reference classifier (default ``pretrained/classifiers/<dataset>``).
        model_overrides: extra model-config fields (tests use tiny models).
    Raises:
        TrainingDisabledError, JobBusyError, ValueError, DataUnavailableError, CheckpointError.
    """
    global _RUNNING
    enabled, why = training_enabled()
    if not enabled:
        raise TrainingDisabledError(why)
    options.check(dataset=data is None and resume_dir is None)
    run_dir = Path(resume_dir) if resume_dir is not None else _new_run_dir(options, runs_dir)
    job = TrainingJob(options, owner, run_dir)
    with _REGISTRY_LOCK:
        if _RUNNING is not None and _RUNNING.is_alive:
            raise JobBusyError(
                f"A training job is already running on this machine: {_RUNNING.describe()}. "
                "One job at a time; wait for it to finish or ask its owner to stop it."
            )
        _RUNNING = job
        for old in _JOBS.values():  # free the models and data of ended runs (their folder remains)
            old.release()
        _JOBS[job.id] = job
        for old in list(_JOBS)[:-_MAX_REMEMBERED]:
            _JOBS.pop(old, None)
    try:
        _prepare(job, resume_dir is not None, data, device, classifier_dir, model_overrides or {})
    except BaseException:
        job.state = "finished"
        with _REGISTRY_LOCK:
            if _RUNNING is job:
                _RUNNING = None
        raise
    job._start_thread()
    return job


def _new_run_dir(options: JobOptions, runs_dir: str | Path | None) -> Path:
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    name = f"{options.model}-{_slug(options.dataset)}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"
    return root / name


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60] or "run"


def _prepare(
    job: TrainingJob,
    resume: bool,
    data: ImageData | None,
    device: torch.device | str | None,
    classifier_dir: str | Path | None,
    model_overrides: dict[str, Any],
) -> None:
    """Load the data, build or resume the trainer, reload the curves (runs in the caller's thread)."""
    options = job.options
    job.device = torch.device(device) if device is not None else pick_device(options.device)
    if resume:
        meta = ckpt.read_meta(job.run_dir / "checkpoint")
        dataset = meta["dataset"]
        if data is None:
            data = load_dataset(
                dataset, options.data_dir, download=False, image_size=meta["image_shape"][1]
            )
        done = int(meta["step"])
        target = options.steps if options.steps > done else done + options.steps
        trainer = GANTrainer.resume(
            job.run_dir,
            data,
            job.device,
            steps=target,
            command=meta.get("command", "explorer live training"),
        )
        job.options = JobOptions(
            **{
                **asdict(options),
                "model": meta["model"],
                "dataset": dataset,
                "steps": target,
                "loss": trainer.config.loss,
                "batch_size": trainer.config.batch_size,
            }
        )
        _drop_frames_after(job.run_dir / "samples", done)
        job.curves = Curves.from_log(
            job.run_dir / "log.jsonl"
        )  # already cut back to `done` by resume()
    else:
        dataset = options.dataset
        if data is None:
            data = load_dataset(
                dataset,
                options.data_dir,
                download=True,
                image_size=options.image_size or (32 if dataset.startswith("folder:") else None),
            )
        spec = get_spec(options.model)
        overrides = {
            "spectral_norm": options.spectral_norm,
            "minibatch_std": options.minibatch_std,
            **model_overrides,
        }
        model_config = spec.make_config(
            data.image_shape, len(data.class_names), preset=options.preset, **overrides
        )
        config = TrainConfig(
            model=options.model,
            dataset=data.name,
            steps=options.steps,
            batch_size=options.batch_size,
            loss=options.loss,
            d_steps=options.d_steps,
            lr_g=options.lr_g,
            lr_d=options.lr_d,
            seed=options.seed,
            sample_every=0,
            checkpoint_every=0,
            log_every=1,  # grids are made by time, not by step
        )
        job.run_dir.mkdir(parents=True, exist_ok=True)
        trainer = GANTrainer(
            spec,
            model_config,
            config,
            data,
            job.device,
            job.run_dir,
            command=f"explorer live training: {json.dumps(asdict(options))}",
        )
        (job.run_dir / "options.json").write_text(
            json.dumps({"owner": job.owner, **asdict(options)}, indent=2) + "\n"
        )
    job.trainer = trainer
    job.step = trainer.step
    job.target = trainer.config.steps
    job.quality_probe = make_quality_probe(
        trainer.data.name, trainer.data, options.data_dir, classifier_dir
    )


def _drop_frames_after(folder: Path, step: int) -> None:
    """GIF frames newer than the checkpoint belong to a session that died before saving it."""
    if folder.is_dir():
        for path in folder.glob("step_*.png"):
            match = re.fullmatch(r"step_(\d+)\.png", path.name)
            if match and int(match.group(1)) > step:
                path.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# The stream the page reads
# ---------------------------------------------------------------------------------------------


def stream(
    job: TrainingJob,
    min_interval: float = 0.5,
    heartbeat: float = 1.0,
    chart_size: tuple[int, int] = (420, 240),
) -> Iterator[Update]:
    """Drain the job's event queue and yield an :class:`Update` at most every ``min_interval``
    seconds (and at least every ``heartbeat`` seconds, so a closed page is noticed quickly).

    The last update has ``finished=True``. Closing the generator early (``GeneratorExit``:
    the browser tab went away) stops the job and joins its thread before returning.
    """
    finished: Finished | None = None
    last_yield = -math.inf
    changed = True
    try:
        while True:
            job.touch()
            try:
                event = job.events.get(timeout=0.05)
            except queue.Empty:
                event = None
            while event is not None:
                changed = True
                if isinstance(event, Finished):
                    finished = event
                try:
                    event = job.events.get_nowait()
                except queue.Empty:
                    event = None
            if finished is None and job.state == "finished" and job.events.empty():
                finished = job.finished or Finished(job.step, "error", "the training thread ended")
            now = time.monotonic()
            if (
                finished is not None
                or (changed and now - last_yield >= min_interval)
                or now - last_yield >= heartbeat
            ):
                if finished is not None:
                    job.join()
                yield _snapshot(job, finished, chart_size)
                last_yield, changed = now, False
                if finished is not None:
                    return
    finally:
        if finished is None:  # closed early, or an error: never leave the thread behind
            job.stop()


def _snapshot(job: TrainingJob, finished: Finished | None, chart_size: tuple[int, int]) -> Update:
    with job.curves_lock:
        curves = job.curves.copy()
    grid = enlarge(as_rgb(job.latest_grid), 256) if job.latest_grid is not None else None
    status = job.status_line()
    message = ""
    if finished is not None:
        message = finished.message
        if finished.reason == "error":
            status += f"  \n⚠️ {finished.message}"
    return Update(
        step=curves.step[-1] if len(curves) else job.step,
        target=job.target,
        status=status,
        curves=render_curves(curves, job.options.loss, *chart_size),
        grid=grid,
        quality=quality_markdown(job.quality, job.quality_step),
        finished=finished is not None,
        reason=finished.reason if finished is not None else "",
        message=message,
        history=curves,
    )


# ---------------------------------------------------------------------------------------------
# Saving, GIFs
# ---------------------------------------------------------------------------------------------


def write_inference_checkpoint(trainer: GANTrainer, destination: Path, name: str) -> Path:
    """A checkpoint folder the Generate tab can open: G (and D, and the EMA G), meta.json, no
    optimiser state. Written atomically, then loaded once to be sure it opens."""
    weights = trainer.weights()  # G, D and the EMA G
    meta = trainer.meta()
    meta.pop("optimizer_param_groups", None)
    meta["name"] = name
    meta["source"] = "explorer live training"
    path = ckpt.save_checkpoint(destination, meta, weights)
    ckpt.load_checkpoint(path)
    return path


def _export_run_checkpoint(run_dir: Path, destination: Path, name: str) -> Path:
    """Copy a finished run's checkpoint without its optimiser state (the training thread is gone)."""
    from safetensors.torch import load_file

    source = ckpt.resolve_checkpoint_dir(run_dir / "checkpoint")
    meta = ckpt.read_meta(source)
    weights = load_file(str(source / ckpt.WEIGHTS_FILE))
    meta = {k: v for k, v in meta.items() if k not in ("format", "kind", "optimizer_param_groups")}
    meta["name"] = name
    meta["source"] = "explorer live training"
    path = ckpt.save_checkpoint(destination, meta, weights)
    ckpt.load_checkpoint(path)
    return path


def save_checkpoint(
    job: TrainingJob | None,
    run_dir: str | Path | None = None,
    root: str | Path | None = None,
    name: str | None = None,
) -> Path:
    """Write a checkpoint of the job (running: between two steps; ended: from its run folder)
    into ``root`` (default :func:`default_checkpoint_dir`). Returns the new folder."""
    root = Path(root) if root is not None else default_checkpoint_dir()
    if job is not None:
        run_dir = job.run_dir
    if run_dir is None:
        raise ValueError("nothing to save yet: start a training run first")
    run_dir = Path(run_dir)
    step = job.step if job is not None else int(ckpt.read_meta(run_dir / "checkpoint")["step"])
    name = name or f"live-{run_dir.name}-step{step:06d}"
    destination = root / _slug(name)
    root.mkdir(parents=True, exist_ok=True)
    trainer = job.trainer if job is not None else None
    if job is not None and job.is_alive and trainer is not None:
        return job.request_save(destination, name)  # between two steps, in the worker thread
    if job is not None and trainer is not None and job.state == "finished":
        return write_inference_checkpoint(trainer, destination, name)
    if not (run_dir / "checkpoint" / ckpt.META_FILE).is_file():
        raise ValueError(f"{run_dir} has no checkpoint yet: train at least one step")
    return _export_run_checkpoint(run_dir, destination, name)


def make_gif(
    run_dir: str | Path,
    out: str | Path | None = None,
    max_frames: int = 120,
    frame_ms: int = 120,
    min_side: int = 256,
) -> Path:
    """An animated GIF of the fixed-noise grids across the whole run (all sessions of it).

    Frames are ``run_dir/samples/step_*.png``, thinned evenly to ``max_frames`` (the first and the
    last are always kept), enlarged to at least ``min_side`` pixels and captioned with the step.
    """
    run_dir = Path(run_dir)
    frames = sorted(
        (int(m.group(1)), p)
        for p in (run_dir / "samples").glob("step_*.png")
        if (m := re.fullmatch(r"step_(\d+)\.png", p.name))
    )
    if not frames:
        raise ValueError(f"{run_dir} has no sample grids yet: train for a few seconds first")
    if len(frames) > max_frames:
        keep = np.unique(np.linspace(0, len(frames) - 1, max_frames).round().astype(int))
        frames = [frames[i] for i in keep]
    pictures = []
    for step, path in frames:
        with Image.open(path) as img:
            grid = enlarge(as_rgb(np.asarray(img.convert("RGB"))), min_side)
        canvas = Image.new("RGB", (grid.shape[1], grid.shape[0] + 22), (255, 255, 255))
        canvas.paste(Image.fromarray(grid), (0, 22))
        ImageDraw.Draw(canvas).text((6, 4), f"step {step}", fill=(20, 20, 20), font=font(13))
        pictures.append(canvas.convert("P", palette=Image.Palette.ADAPTIVE, colors=255))
    out = Path(out) if out is not None else run_dir / "samples.gif"
    durations = [frame_ms] * (len(pictures) - 1) + [1500]
    pictures[0].save(
        out, save_all=True, append_images=pictures[1:], duration=durations, loop=0, optimize=False
    )
    return out


__all__ = [
    "FAMILIES",
    "IMAGE_DATASETS",
    "LOSSES",
    "Curves",
    "JobBusyError",
    "JobOptions",
    "TrainingDisabledError",
    "TrainingJob",
    "Update",
    "current_job",
    "default_checkpoint_dir",
    "default_runs_dir",
    "describe_device",
    "get_job",
    "line_chart",
    "make_gif",
    "render_curves",
    "save_checkpoint",
    "start_job",
    "stream",
    "training_enabled",
]
