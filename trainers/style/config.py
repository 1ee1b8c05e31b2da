"""Style transfer's settings: the constants and :class:`StyleConfig`."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: ImageNet statistics torchvision's VGG19 was trained with (RGB order, images in [0, 1]).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: torchvision's file for ``VGG19_Weights.IMAGENET1K_V1`` (the name includes a hash prefix).
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
VGG19_FILENAME = "vgg19-dcbb9e9d.pth"
VGG19_HASH_PREFIX = "dcbb9e9d"

#: VGG19's convolution widths; "M" is a 2×2 pooling layer (torchvision's configuration "E").
VGG19_CFG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
    512, 512, 512, 512, "M", 512, 512, 512, 512, "M",
)  # fmt: skip

#: Output sizes (long side, pixels); inputs are checked by trainers.images.load_image.
MIN_SIZE, MAX_SIZE = 16, 2048

FEATURE_CHOICES = ("auto", "vgg19", "random", "random-vgg19", "random-multiscale")
#: The offline fallback ``"random"`` stands for (see the module docstring for why).
RANDOM_FALLBACK = "random-vgg19"

#: ``single``: every step at the output size (the paper's way, slow at 256 px on a CPU);
#: ``coarse-to-fine``: the same total steps spread over 1/4, 1/2 and full size, each stage
#: starting from the upsampled result of the one before (see trainers/style/transfer.py).
SCHEDULES = ("single", "coarse-to-fine")
#: coarse-to-fine: each stage's side as a fraction of ``size`` (64 -> 128 -> 256 px for 256) ...
COARSE_TO_FINE_SCALES: tuple[float, ...] = (0.25, 0.5, 1.0)
#: ... and its share of ``steps``: 8 : 3 : 1 (a step at half the side costs about a quarter, so
#: 200 steps cost about 38 full-size steps). Measured with benchmarks/style_speed.py (astronaut x
#: hubble, random VGG19, 1 thread on a busy 2-core CPU): final loss at 256 px 0.308 against 0.340
#: for 200 single-scale steps; 4 : 2 : 1 gave the same loss (0.308) in 110 s against 370 s.
COARSE_TO_FINE_SHARES: tuple[float, ...] = (8.0, 3.0, 1.0)
#: A coarse stage's smallest long side. VGG19's deepest style layer (relu5_1) sees the image at
#: 1/16 of its side: at 64 px a 4x4 grid of positions, below that hardly a texture to match. A
#: coarse stage that would be smaller (or whose picture's shorter side would fall under
#: ``MIN_SIZE``) is left out and its steps go to the next stage: 64 px output -> one stage.
COARSE_MIN_SIDE = 64


# ----------------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------------


@dataclass
class StyleConfig:
    """Everything that defines one style-transfer run.

    Args:
        content_layer: layer whose activations must match the content image. ``None``: the feature
            network's default (``relu4_2`` for VGG19, as in Gatys et al.).
        style_layers: ``{layer: weight}`` for the Gram-matrix losses. ``None``: the network's
            default (``relu1_1 … relu5_1``, each weighted 1/5).
        content_weight, style_weight, tv_weight: the multipliers in the total loss.
        init: start from the ``"content"`` photo or from uniform ``"noise"``.
        optimizer: ``"lbfgs"`` (the paper's choice, few steps) or ``"adam"``.
        steps: optimisation steps; one step = one forward and backward pass.
        lr: learning rate (Adam only; L-BFGS uses step size 1 and its own curvature estimate).
        size: long side of the output image in pixels.
        style_scale: the style image is resized to ``style_scale · size`` on its long side;
            smaller values give smaller brush strokes.
        preserve_color: keep the content photo's colours, take only the luminance from the
            result (the "original colors" trick of Gatys et al. 2016b).
        seed: seeds the noise initialisation.
        features: ``"auto"``, ``"vgg19"`` (ImageNet weights, required), ``"random"`` (the offline
            fallback), or one of the two random networks by name.
        pooling: ``"avg"`` (Gatys et al. found it gives smoother images) or ``"max"``.
        precision: ``"auto"`` (bfloat16 convolutions when the CPU supports them), ``"fp32"``,
            ``"bf16"``. Losses are always computed in float32.
        weights_path: explicit VGG19 weights file (``.pth`` state dict or ``.safetensors``).
        allow_download: may ``features="vgg19"/"auto"`` download the weights when they are missing.
        schedule: ``"single"`` (all steps at ``size``) or ``"coarse-to-fine"`` (``steps`` in
            all, spread over ``size``/4, ``size``/2 and ``size``; several times faster).
    """

    content_layer: str | None = None
    style_layers: dict[str, float] | None = None
    content_weight: float = 1.0
    style_weight: float = 10.0
    tv_weight: float = 1.0
    init: str = "content"
    optimizer: str = "lbfgs"
    steps: int = 200
    lr: float = 0.02
    size: int = 256
    style_scale: float = 1.0
    preserve_color: bool = False
    seed: int = 0
    features: str = "auto"
    pooling: str = "avg"
    precision: str = "auto"
    weights_path: str | None = None
    allow_download: bool = True
    schedule: str = "single"

    def validate(self) -> None:
        """Raise ``ValueError`` with a readable message for any out-of-range field."""
        problems: list[str] = []
        for name in ("content_weight", "style_weight", "tv_weight"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                problems.append(f"{name} must be a finite number >= 0, got {value!r}")
        if self.content_weight == 0 and self.style_weight == 0:
            problems.append("content_weight and style_weight cannot both be 0")
        if self.init not in ("content", "noise"):
            problems.append(f"init must be 'content' or 'noise', got {self.init!r}")
        if self.optimizer not in ("lbfgs", "adam"):
            problems.append(f"optimizer must be 'lbfgs' or 'adam', got {self.optimizer!r}")
        if not (isinstance(self.steps, int) and 1 <= self.steps <= 100_000):
            problems.append(f"steps must be an integer in 1..100000, got {self.steps!r}")
        if not (isinstance(self.lr, int | float) and 0 < self.lr <= 10):
            problems.append(f"lr must be in (0, 10], got {self.lr!r}")
        if not (isinstance(self.size, int) and MIN_SIZE <= self.size <= MAX_SIZE):
            problems.append(f"size must be an integer in {MIN_SIZE}..{MAX_SIZE}, got {self.size!r}")
        if not (isinstance(self.style_scale, int | float) and 0.1 <= self.style_scale <= 4):
            problems.append(f"style_scale must be in 0.1..4, got {self.style_scale!r}")
        if self.features not in FEATURE_CHOICES:
            problems.append(f"features must be one of {FEATURE_CHOICES}, got {self.features!r}")
        if self.pooling not in ("avg", "max"):
            problems.append(f"pooling must be 'avg' or 'max', got {self.pooling!r}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.precision not in ("auto", "fp32", "bf16"):
            problems.append(f"precision must be 'auto', 'fp32' or 'bf16', got {self.precision!r}")
        if self.style_layers is not None:
            if not self.style_layers:
                problems.append("style_layers must name at least one layer")
            for layer, weight in self.style_layers.items():
                if not (isinstance(weight, int | float) and math.isfinite(weight) and weight >= 0):
                    problems.append(f"style layer {layer!r} has a bad weight {weight!r}")
        if problems:
            raise ValueError("bad style config: " + "; ".join(problems))
