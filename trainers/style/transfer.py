"""The optimisation: the pixels of one image are optimised (L-BFGS or Adam) to match the content
features of one picture and the Gram matrices of another.

Coarse-to-fine (``StyleConfig.schedule``): most steps run on a 64 px image (1/16 of the pixels of
256 px, so about 1/16 of the cost per step), the result is upsampled to 128 px and refined, then
to 256 px and refined with the last few steps. Large-scale structure is settled cheaply on the
small image; the full-size steps only add the fine texture. The loss of the result is measured
at the output size, so it can be compared with a single-scale run (benchmarks/style_speed.py).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from trainers.events import Callback, Finished, Samples, Step
from trainers.style import pictures
from trainers.style.config import (
    COARSE_MIN_SIDE,
    COARSE_TO_FINE_SCALES,
    COARSE_TO_FINE_SHARES,
    MIN_SIZE,
    StyleConfig,
)
from trainers.style.features import FeatureNet, load_feature_net
from trainers.style.losses import content_loss, gram_matrix, style_loss, total_variation_loss


def use_bf16(precision: str) -> bool:
    """Should the convolutions run in bfloat16? ``"auto"``: when the CPU has fast bf16 support."""
    if precision == "bf16":
        return True
    if precision == "fp32":
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


class StyleObjective:
    """The total loss as a function of the image, with targets computed once up front.

    Args:
        net: a feature network (``forward(image, layers) -> {layer: activations}``).
        content: ``(1, 3, H, W)`` content image in [0, 1].
        style: ``(1, 3, H', W')`` style image in [0, 1] (any size).
        config: weights and layer choices.
    """

    def __init__(
        self, net: FeatureNet, content: torch.Tensor, style: torch.Tensor, config: StyleConfig
    ) -> None:
        self.net = net
        self.config = config
        self.content_layer = config.content_layer or net.default_content_layer
        self.style_layers = dict(config.style_layers or net.default_style_layers)
        for name in [self.content_layer, *self.style_layers]:
            if name not in net.layer_names:
                raise ValueError(f"layer {name!r} is not in {net.description}: {net.layer_names}")
        self.layers = list(dict.fromkeys([self.content_layer, *self.style_layers]))
        self.bf16 = use_bf16(config.precision)
        with torch.no_grad():
            self.content_target = self._features(content)[self.content_layer].float()
            style_features = self._features(style)
            self.style_targets = {  # (1, C_l, C_l) per style layer, computed once
                name: gram_matrix(style_features[name])
                for name in self.style_layers
                if name in style_features  # a pyramid level a small picture does not reach
            }

    def _features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            return self.net(image, self.layers)

    def __call__(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """All loss terms for ``image`` (1, 3, H, W): content, style, tv and the weighted total."""
        feats = self._features(image)  # one forward pass for every layer
        l_content = content_loss(feats[self.content_layer], self.content_target)
        l_style = sum(
            (
                weight * style_loss(gram_matrix(feats[name]), self.style_targets[name])
                for name, weight in self.style_layers.items()
                if name in feats and name in self.style_targets
            ),
            torch.zeros(()),
        )
        l_tv = total_variation_loss(image)
        c = self.config
        total = c.content_weight * l_content + c.style_weight * l_style + c.tv_weight * l_tv
        return {"content": l_content, "style": l_style, "tv": l_tv, "total": total}


class _StopOptimisation(Exception):
    """Raised inside the L-BFGS closure to leave ``optimizer.step`` early."""


@dataclass
class StyleResult:
    """What :func:`stylise_result` returns: the image and how it was made."""

    image: np.ndarray  # uint8 (H, W, 3)
    features_in_use: str
    steps: int
    reason: str  # "done" or "stopped"
    losses: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    stages: list[tuple[int, int]] = field(default_factory=list)  # (long side, steps) each


def stylise(
    content: pictures.ImageInput,
    style: pictures.ImageInput,
    config: StyleConfig | None = None,
    **options: Any,
) -> np.ndarray:
    """Paint ``content`` in the style of ``style``; returns the uint8 ``(H, W, 3)`` result.

    ``options`` are :func:`stylise_result`'s ``callback``, ``stop`` and ``preview_every``; that
    function runs the same optimisation and returns the image with its metadata.
    """
    return stylise_result(content, style, config, **options).image


def stage_plan(
    config: StyleConfig, content_shape: tuple[int, ...] | None = None
) -> list[tuple[int, int]]:
    """(long side in px, steps) of each stage, coarsest first; the steps add up to ``config.steps``.

    ``single``: one stage at ``size``. ``coarse-to-fine``: the sides ``COARSE_TO_FINE_SCALES``
    times ``size``, the steps split by ``COARSE_TO_FINE_SHARES`` (200 steps at 256 px: 133 at
    64 px, 50 at 128 px, 17 at 256 px). A coarse stage is planned only where it can run: its
    long side at least ``COARSE_MIN_SIDE`` and, for a content picture of ``content_shape``
    ((H, W, ...)), its shorter side at least ``MIN_SIZE``; otherwise its steps go to the next
    stage (64 px: one stage; 128 px: 64 -> 128 px). Equal sides merge; the last stage always
    gets a step, a coarse stage left with none is skipped. Never an error: the output size
    itself is checked when the picture is resized.
    """
    if config.schedule == "single":
        return [(config.size, config.steps)]
    height, width = (content_shape[0], content_shape[1]) if content_shape else (1, 1)
    sides: list[int] = []
    shares: list[float] = []
    carried = 0.0  # the share of coarse stages left out
    for scale, share in zip(COARSE_TO_FINE_SCALES, COARSE_TO_FINE_SHARES, strict=True):
        side = min(config.size, round(config.size * scale))
        usable = side == config.size or (
            side >= COARSE_MIN_SIDE and pictures.fits(height, width, side)
        )
        if not usable:
            carried += share
            continue
        share, carried = share + carried, 0.0
        if sides and side == sides[-1]:
            shares[-1] += share
        else:
            sides.append(side)
            shares.append(share)
    total, cumulative, ends = sum(shares), 0.0, []
    for share in shares:
        cumulative += share
        ends.append(round(config.steps * cumulative / total))
    counts = [end - start for start, end in zip([0, *ends[:-1]], ends, strict=True)]
    if counts[-1] == 0:  # fewer steps than stages: the output size must get one
        counts[counts.index(max(counts))] -= 1
        counts[-1] = 1
    return [(side, n) for side, n in zip(sides, counts, strict=True) if n > 0 or side == sides[-1]]


def _optimise(
    objective: StyleObjective,
    x: torch.Tensor,
    config: StyleConfig,
    steps: int,
    should_stop: Callable[[], bool],
    on_step: Callable[[dict[str, float], torch.Tensor], None],
) -> tuple[torch.Tensor, dict[str, float]]:
    """Optimise the pixels of ``x`` (1, 3, H, W) for ``steps`` steps (closure evaluations) or
    until ``should_stop()``; ``on_step(losses, x)`` after each. Returns the best image seen and
    its losses (line searches try points that can be worse)."""
    best_total, best_image, best_losses = math.inf, x.detach().clone(), {}
    done = 0

    def evaluate() -> torch.Tensor:
        """One step: loss and gradient at the current image."""
        nonlocal done, best_total, best_image, best_losses
        if done >= steps or should_stop():
            raise _StopOptimisation
        with torch.no_grad():
            # Keep pixels in [0, 1]. The optimisers know nothing about this box; clamping
            # the point being evaluated is a simple heuristic (the PyTorch tutorial's too).
            x.clamp_(0.0, 1.0)
        losses = objective(x)
        if x.grad is not None:
            x.grad = None
        losses["total"].backward()
        x.grad = x.grad.contiguous()  # L-BFGS flattens it with .view(-1)
        done += 1
        values = {name: float(value.detach()) for name, value in losses.items()}
        if values["total"] < best_total:
            best_total, best_image, best_losses = values["total"], x.detach().clone(), values
        on_step(values, x)
        return losses["total"]

    try:
        if config.optimizer == "lbfgs":
            optimizer = torch.optim.LBFGS(
                [x], lr=1.0, max_iter=20, history_size=50, line_search_fn="strong_wolfe"
            )
            while True:  # each .step() runs up to 20 iterations; the closure counts steps
                optimizer.step(evaluate)
        else:
            optimizer = torch.optim.Adam([x], lr=config.lr)
            while True:
                evaluate()
                optimizer.step()
    except _StopOptimisation:
        pass
    return best_image, best_losses


def stylise_result(
    content: pictures.ImageInput,
    style: pictures.ImageInput,
    config: StyleConfig | None = None,
    callback: Callback | None = None,
    stop: threading.Event | None = None,
    preview_every: int = 10,
) -> StyleResult:
    """Paint ``content`` in the style of ``style``; returns a :class:`StyleResult`.

    With ``schedule="coarse-to-fine"`` the stages of :func:`stage_plan` run in turn, each from
    the previous result upsampled (bicubic) to its size; the losses returned are the last
    stage's, at the output size. Emits ``Step`` after every step (numbered across stages),
    ``Samples`` (the current image, at the stage's size) every ``preview_every`` steps and at
    the end, and ``Finished`` ("done", "stopped" when ``stop`` was set, or "error").
    """
    config = config or StyleConfig()
    config.validate()
    if preview_every < 1:
        raise ValueError(f"preview_every must be >= 1, got {preview_every}")
    emit = callback or (lambda event: None)
    start = time.perf_counter()
    step = 0
    try:
        content_source = pictures.load_image(content, "content image")
        content_full = pictures.resize_long_side(content_source, config.size, "content")
        style_source = pictures.load_image(style, "style image")
        net = load_feature_net(
            config.features, config.pooling, config.weights_path, config.allow_download
        )

        def finish_image(image: torch.Tensor, content_rgb: np.ndarray) -> np.ndarray:
            rgb = pictures.to_uint8(image)
            return pictures.preserve_colors(rgb, content_rgb) if config.preserve_color else rgb

        def should_stop() -> bool:
            return stop is not None and stop.is_set()

        best_image: torch.Tensor | None = None
        best_losses: dict[str, float] = {}
        stages = stage_plan(config, content_source.shape)
        style_min_side = pictures.smallest_long_side(*style_source.shape[:2])
        for side, stage_steps in stages:
            content_rgb = (
                content_full
                if side == config.size
                else pictures.resize_long_side(content_source, side, "content")
            )
            # a coarse stage's style picture keeps a usable shorter side (a thin style image)
            style_side = max(MIN_SIZE, round(side * config.style_scale), style_min_side)
            style_rgb = pictures.resize_long_side(style_source, style_side, "style image")
            c = pictures.to_tensor(content_rgb)  # (1, 3, h, w)
            objective = StyleObjective(net, c, pictures.to_tensor(style_rgb), config)

            # The image itself is the only thing we optimise.
            if best_image is None:  # the first stage starts from the photo or from noise
                if config.init == "content":
                    x = c.clone()
                else:
                    generator = torch.Generator().manual_seed(config.seed)
                    x = torch.rand(c.shape, generator=generator)
                emit(Samples(0, finish_image(x, content_rgb)))
            else:  # a finer stage starts from the coarser result, upsampled
                x = upsample(best_image, c.shape[-2:])
            x.requires_grad_(True)

            def on_step(values: dict[str, float], image: torch.Tensor) -> None:
                nonlocal step
                step += 1
                emit(Step(step, 0.0, values, wall_time=time.perf_counter() - start))
                if step % preview_every == 0 and step < config.steps:
                    emit(Samples(step, finish_image(image, content_rgb)))  # noqa: B023

            best_image, best_losses = _optimise(
                objective, x, config, stage_steps, should_stop, on_step
            )
            if should_stop():
                break
        assert best_image is not None
        if best_image.shape[-2:] != pictures.to_tensor(content_full).shape[-2:]:
            best_image = upsample(best_image, content_full.shape[:2])  # stopped early
        reason = "done" if step >= config.steps else "stopped"
        image = finish_image(best_image, content_full)
        emit(Samples(step, image))
        emit(Finished(step, reason, f"features: {net.description}"))
        return StyleResult(
            image=image,
            features_in_use=net.description,
            steps=step,
            reason=reason,
            losses=best_losses,
            seconds=time.perf_counter() - start,
            stages=stages,
        )
    except Exception as exc:
        emit(Finished(step, "error", str(exc)))
        raise


def upsample(image: torch.Tensor, size: tuple[int, int] | torch.Size) -> torch.Tensor:
    """(1, 3, h, w) in [0, 1] -> (1, 3, H, W) in [0, 1], bicubic (the next stage's start)."""
    resized = F.interpolate(image, size=tuple(size), mode="bicubic", align_corners=False)
    return resized.clamp(0.0, 1.0).contiguous()
