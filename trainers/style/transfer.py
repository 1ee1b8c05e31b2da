"""The optimisation: the pixels of one image are optimised (L-BFGS or Adam) to match the content
features of one picture and the Gram matrices of another."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from trainers.events import Callback, Finished, Samples, Step
from trainers.style import pictures
from trainers.style.config import MIN_SIZE, StyleConfig
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
                name: gram_matrix(style_features[name]) for name in self.style_layers
            }

    def _features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            return self.net(image, self.layers)

    def __call__(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """All loss terms for ``image`` (1, 3, H, W): content, style, tv and the weighted total."""
        feats = self._features(image)  # one forward pass for every layer
        l_content = content_loss(feats[self.content_layer], self.content_target)
        l_style = sum(
            weight * style_loss(gram_matrix(feats[name]), self.style_targets[name])
            for name, weight in self.style_layers.items()
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


def stylise_result(
    content: pictures.ImageInput,
    style: pictures.ImageInput,
    config: StyleConfig | None = None,
    callback: Callback | None = None,
    stop: threading.Event | None = None,
    preview_every: int = 10,
) -> StyleResult:
    """Paint ``content`` in the style of ``style``; returns a :class:`StyleResult`.

    Emits ``Step`` after every step, ``Samples`` (the current image) every ``preview_every``
    steps and at the end, and ``Finished`` ("done", "stopped" when ``stop`` was set, or "error").
    """
    config = config or StyleConfig()
    config.validate()
    if preview_every < 1:
        raise ValueError(f"preview_every must be >= 1, got {preview_every}")
    emit = callback or (lambda event: None)
    start = time.perf_counter()
    step = 0
    try:
        content_rgb = pictures.resize_long_side(
            pictures.load_image(content, "content image"), config.size, "content"
        )
        style_rgb = pictures.load_image(style, "style image")
        style_side = max(MIN_SIZE, round(config.size * config.style_scale))
        style_rgb = pictures.resize_long_side(style_rgb, style_side, "style image")
        net = load_feature_net(
            config.features, config.pooling, config.weights_path, config.allow_download
        )
        objective = StyleObjective(
            net, pictures.to_tensor(content_rgb), pictures.to_tensor(style_rgb), config
        )

        # The image itself is the only thing we optimise.
        c = pictures.to_tensor(content_rgb)  # (1, 3, H, W)
        if config.init == "content":
            x = c.clone()
        else:
            generator = torch.Generator().manual_seed(config.seed)
            x = torch.rand(c.shape, generator=generator)
        x.requires_grad_(True)

        def finish_image(image: torch.Tensor) -> np.ndarray:
            rgb = pictures.to_uint8(image)
            return pictures.preserve_colors(rgb, content_rgb) if config.preserve_color else rgb

        # Line searches try points that can be worse, so we keep the best image seen.
        best_total, best_image, best_losses = math.inf, x.detach().clone(), {}

        def evaluate() -> torch.Tensor:
            """One step: loss and gradient at the current image, plus the events."""
            nonlocal step, best_total, best_image, best_losses
            if step >= config.steps or (stop is not None and stop.is_set()):
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
            step += 1
            values = {name: float(value.detach()) for name, value in losses.items()}
            if values["total"] < best_total:
                best_total, best_image, best_losses = values["total"], x.detach().clone(), values
            emit(Step(step, 0.0, values, wall_time=time.perf_counter() - start))
            if step % preview_every == 0 and step < config.steps:
                emit(Samples(step, finish_image(x)))
            return losses["total"]

        emit(Samples(0, finish_image(x)))
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
        reason = "done" if step >= config.steps else "stopped"
        image = finish_image(best_image)
        emit(Samples(step, image))
        emit(Finished(step, reason, f"features: {net.description}"))
        return StyleResult(
            image=image,
            features_in_use=net.description,
            steps=step,
            reason=reason,
            losses=best_losses,
            seconds=time.perf_counter() - start,
        )
    except Exception as exc:
        emit(Finished(step, "error", str(exc)))
        raise
