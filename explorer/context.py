"""What every tab of the explorer shares, and whether training is allowed here.

The tabs import this module, never :mod:`explorer.gradio_ui.app`, so the app can import the tabs without
a cycle. Nothing here imports a front end: a Streamlit page uses the same context.

**Hosted mode** (:func:`hosted_mode`: on a Hugging Face Space, on a non-loopback ``--host``, or
with ``--public``) is for strangers on a shared machine: no server path is shown
(:func:`public_text` scrubs messages), training data come only from the built-in data sets or an
upload, and every visitor works within :class:`VisitorLimits`, which the page states.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from explorer.checkpoints import Catalog

#: The variable that turns training on in a hosted Space.
ENABLE_ENV = "GAN_EXPLORER_ENABLE_TRAINING"
#: ``GAN_EXPLORER_PUBLIC=1`` turns hosted mode on, as ``--public`` does.
PUBLIC_ENV = "GAN_EXPLORER_PUBLIC"


def is_loopback(host: str | None) -> bool:
    """True for an address only this machine can reach: 127.0.0.0/8, ::1, "localhost" (and
    None or "": Gradio's default, 127.0.0.1). "0.0.0.0" and every other address are not."""
    if not host:
        return True
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: other machines may reach it


def hosted_mode(
    host: str | None = None, public: bool = False, environ: Mapping[str, str] | None = None
) -> bool:
    """Whether the explorer serves strangers: on a Hugging Face Space (``SPACE_ID`` set), when
    it listens on an address other machines can reach (``--host 0.0.0.0``), or when asked to
    (``--public`` / ``GAN_EXPLORER_PUBLIC=1``)."""
    environ = os.environ if environ is None else environ
    return (
        bool(public)
        or bool(environ.get("SPACE_ID"))
        or environ.get(PUBLIC_ENV, "") == "1"
        or not is_loopback(host)
    )


@dataclass(frozen=True)
class VisitorLimits:
    """What one visitor may ask of the machine; a hosted page states them (:func:`limits_markdown`).

    Attributes:
        concurrency: requests computed at once, machine-wide (the rest wait in the queue).
        queue_size: requests waiting before new ones are turned away.
        upload_mb: the largest upload Gradio accepts.
        image_side / image_megapixels: longer uploads are shrunk to ``image_side``; more pixels
            than ``image_megapixels`` are refused (:mod:`trainers.images`).
        stylise_steps / stylise_size: style transfer's most steps and longest output side.
        interpolate_frames: frames of an interpolation filmstrip and GIF.
        train_steps / train_seconds / train_batch: one live training run's most G updates,
            seconds and batch size (when training is on at all).
        train_upload_images: images a visitor may upload to train on.
        gif_frames: frames of a training run's GIF.
    """

    concurrency: int = 2
    queue_size: int = 64
    upload_mb: int = 16
    image_side: int = 4096
    image_megapixels: int = 16
    stylise_steps: int = 1000
    stylise_size: int = 512
    interpolate_frames: int = 24
    train_steps: int = 10_000_000
    train_seconds: float = 0.0  # 0 = no limit
    train_batch: int = 4096
    train_upload_images: int = 2000
    gif_frames: int = 120

    def training_maxima(self) -> dict[str, float]:
        """The most a visitor may set on each limited training option, by option name."""
        most = {"steps": self.train_steps, "batch_size": self.train_batch}
        return most | ({"max_seconds": self.train_seconds} if self.train_seconds else {})

    def training_start(self, name: str, value: Any) -> Any:
        """A training option's start value within these limits: steps and batch at most the
        limit; no time budget (0), or a longer one, becomes the visitor's budget."""
        most = self.training_maxima().get(name)
        if most is None:
            return value
        if name == "max_seconds" and not value:  # no budget -> the visitor's budget
            return most
        return min(value, most) if value else value


#: Limits on one's own computer (the widgets' full ranges).
LOCAL_LIMITS = VisitorLimits()
#: Limits for strangers on a shared machine.
HOSTED_LIMITS = VisitorLimits(
    upload_mb=16,
    stylise_steps=300,
    stylise_size=384,
    train_steps=5000,
    train_seconds=600.0,
    train_batch=128,
    train_upload_images=500,
)


def limits_for(hosted: bool) -> VisitorLimits:
    return HOSTED_LIMITS if hosted else LOCAL_LIMITS


def limits_markdown(limits: VisitorLimits, enable_training: bool) -> str:
    """The limits as one Markdown paragraph for the top of a hosted page."""
    training = (
        f"training runs one job at a time, up to {limits.train_steps:,} steps, "
        f"{limits.train_seconds / 60:g} minutes and batch {limits.train_batch}, on built-in data "
        f"or up to {limits.train_upload_images} uploaded images"
        if enable_training
        else "training is off"
    )
    return (
        "ℹ️ **Shared explorer.** "
        f"At most {limits.concurrency} requests are computed at once (others wait in a queue "
        f"of {limits.queue_size}); uploads up to {limits.upload_mb} MB and "
        f"{limits.image_megapixels} megapixels (longer sides are shrunk to {limits.image_side} px); "
        f"Stylise up to {limits.stylise_steps} steps at {limits.stylise_size} px; "
        f"Interpolate up to {limits.interpolate_frames} frames; {training}. "
        "Your uploads and results are deleted after an hour; you can stop or export only your "
        "own training job."
    )


# Absolute paths (POSIX, Windows, file: URLs); the Gradio file route's prefix stays.
_PATH = re.compile(
    r"(?<![\w./])(?:[A-Za-z]:\\|/)(?:[^\s/\\'\"`<>|,;()]+[/\\])+([^\s/\\'\"`<>|,;()]*)"
)


def public_text(text: str) -> str:
    """``text`` with every absolute path cut to its last part (``/srv/app/runs/x`` -> ``…/x``):
    what a hosted page may show of an error message or a status line."""
    return _PATH.sub(lambda m: "…/" + m.group(1) if m.group(1) else "…/", str(text))


def training_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Training features are on locally; on a hosted Space (``SPACE_ID`` set) only with
    ``GAN_EXPLORER_ENABLE_TRAINING=1``: training would take the shared machine."""
    environ = os.environ if environ is None else environ
    if environ.get("SPACE_ID"):
        return environ.get(ENABLE_ENV, "") == "1"
    return True


def training_disabled_reason(environ: Mapping[str, str] | None = None) -> str:
    """Why training is off here ("" when it is on), in one sentence for the page."""
    if training_enabled(environ):
        return ""
    return (
        "Training is switched off on this hosted Space (it would take the shared machine). "
        f"Run GAN Explorer on your own computer, or set {ENABLE_ENV}=1 in the Space's settings."
    )


@dataclass
class ExplorerContext:
    """What every page needs from the app, whichever edition shows it.

    Attributes:
        catalog: the checkpoints found at start-up (read-only after that).
        default_key: the key selected at start, or None when there are no checkpoints.
        enable_training: whether training features may be shown (see :func:`training_enabled`).
        empty_message: what to show instead of an image when there is no checkpoint.
        hosted: strangers use this explorer (:func:`hosted_mode`): no server paths, visitor
            limits, training data only built in or uploaded.
        limits: what one visitor may ask (:data:`HOSTED_LIMITS` when hosted).
    """

    catalog: Catalog
    default_key: str | None = None
    enable_training: bool = True
    empty_message: str = ""
    hosted: bool = False
    limits: VisitorLimits = field(default_factory=VisitorLimits)

    #: ``ExplorerContext.hosted_mode(host, public, environ)``: the one decision, for every front end.
    hosted_mode = staticmethod(hosted_mode)

    def public(self, text: str) -> str:
        """A message as this page may show it (paths scrubbed when hosted)."""
        return public_text(text) if self.hosted else str(text)


def empty_message(catalog: Catalog, hosted: bool = False) -> str:
    """The notice shown when no checkpoint could be found (the app still works otherwise)."""
    if hosted:  # strangers need no advice about this server's folders
        return (
            "⚠️ **No checkpoints found** on this server. "
            "The Transposed convolution tab and the 2-D playground work without any."
        )
    roots = ", ".join(f"`{r}`" for r in catalog.roots) or "none"
    text = (
        "⚠️ **No checkpoints found.** Looked in: " + roots + ". Train one, e.g. "
        "`gan-train dcgan --dataset mnist --out runs/dcgan-mnist`, then start "
        "`gan-explorer --checkpoint-dir runs/`; or put a checkpoint folder "
        "(`meta.json` + `model.safetensors`) into `pretrained/`. "
        "The Transposed convolution tab works without any checkpoint."
    )
    return text + problems_message(catalog)


def problems_message(catalog: Catalog, hosted: bool = False) -> str:
    """The checkpoints that were found but could not be used, as one Markdown paragraph
    (a hosted page only counts them: the reasons name server paths)."""
    if not catalog.problems:
        return ""
    if hosted:
        return f"\n\n{len(catalog.problems)} checkpoint(s) on this server could not be used."
    return "\n\nSkipped (not usable): " + "; ".join(f"`{p}`" for p in catalog.problems)


#: The checkpoints a first visit opens on, best first (the first one the catalog holds wins).
#: ``cgan-mnist``: the projection cGAN draws a clear digit 96% of the time (real digits: 99%),
#: the digit it is asked for 98% of the time and every digit equally often: the clearest
#: picture of what a GAN can do, and, being conditional, every tab works with it (Generate by
#: class, Classes, Interpolate between two classes). 28x28 pictures are also the quickest.
SHOWCASE = ("cgan-mnist", "cgan-fashion-mnist", "dcgan-mnist", "mlp-gan-mnist")


def showcase_key(catalog: Catalog, preferred: str | None = None) -> str | None:
    """The checkpoint to start on: ``preferred`` (``--model``) when the catalog has it, else
    the first of :data:`SHOWCASE` it has, else its first checkpoint (None when empty).

    Raises:
        ValueError: ``preferred`` is not in the catalog (names what is).
    """
    keys = catalog.keys()
    if preferred:
        if preferred not in keys:
            known = ", ".join(keys) or "none"
            raise ValueError(f"no checkpoint named {preferred[:60]!r}; available: {known}")
        return preferred
    return next((key for key in SHOWCASE if key in keys), catalog.default_key())


def make_context(
    catalog: Catalog, enable_training: bool, hosted: bool = False, model: str | None = None
) -> ExplorerContext:
    """The context for a catalog; ``model`` is the
    checkpoint to start on (``--model``; default :func:`showcase_key`'s choice)."""
    return ExplorerContext(
        catalog,
        default_key=showcase_key(catalog, model),
        enable_training=enable_training,
        empty_message=empty_message(catalog, hosted),
        hosted=hosted,
        limits=limits_for(hosted),
    )
