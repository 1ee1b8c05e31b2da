"""Neural style transfer (Gatys, Ecker & Bethge, 2016): paint a photo in the style of another image.

The idea
--------
A convolutional network turns an image into *feature maps*. Two summaries of those maps matter:

* **content** – the feature map ``F`` itself at one deeper layer (where, roughly, "what is where"
  lives): two images with similar ``F`` show the same objects in the same places.
* **style** – the Gram matrix ``G = F Fᵀ / (H·W)`` at several layers: how often channel ``i`` and
  channel ``j`` fire *together*, averaged over all positions. Positions are summed away, so ``G``
  keeps colours, textures and brush strokes but forgets the layout.

We do not train a network. We optimise the *pixels* of an image ``x`` (starting from the content
photo or from noise) to minimise::

    L(x) = content_weight · L_content + style_weight · L_style + tv_weight · L_tv

    L_content = ‖F_l(x) − F_l(c)‖² / ‖F_l(c)‖²                        (one layer l, content c)
    L_style   = Σ_l w_l · ‖G_l(x) − G_l(s)‖² / ‖G_l(s)‖²               (style layers, style s)
    L_tv      = mean((x[i+1, j] − x[i, j])²) + mean((x[i, j+1] − x[i, j])²)   (smoothness)

Gatys et al. write the same squared errors with constants ``1/2`` and ``1/(4 N² M²)``; we divide by
the squared size of the target instead, so every term is a *relative* error (≈ 1 means "as far away
as the target is from zero"). That makes the weights mean the same thing for every layer and every
feature network below, which is what the explorer's sliders need.

Speed (and how we compare with the PyTorch tutorial)
----------------------------------------------------
The tutorial builds an ``nn.Sequential`` with loss modules inserted after the chosen layers.
Here a :class:`FeatureExtractor` returns all wanted activations from **one** forward pass that
stops at the deepest wanted layer; content targets and style Gram matrices are computed **once**
before the loop; activations use the ``channels_last`` memory layout; and on CPUs with bfloat16
support (``precision="auto"``) the convolutions and the Gram products run in bfloat16 under
``torch.autocast`` while the losses are summed in float32. That last part is where the speed-up
comes from: measured with ``benchmarks/style_speed.py --threads 1`` at 256 px on a busy 2-core
EPYC, 1.55 vs 0.84 steps/s (1.8×) against the tutorial's structure; in float32 our structure
alone is as fast as the tutorial's (0.97×), because the convolutions dominate both. bfloat16
costs little accuracy: activations within 0.7 %, Gram matrices within 0.2 %, and after 40 steps
at 128 px the total loss (re-evaluated in float32) was 0.393 against 0.384 for a float32 run
that took 2.6× longer.

Which features? (the offline fallback)
--------------------------------------
``features="vgg19"`` is VGG19 with ImageNet weights, as in the paper. They are read from the torch
hub cache (``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``, the file torchvision itself
downloads) with ``torch.load(weights_only=True)``, or downloaded there when the machine is online.

Without those weights and without internet there must still be a real result. Two weight-free
networks from the literature were tried side by side with the same losses and default weights
(192 px, 120 L-BFGS steps) on three skimage pairs: astronaut × gravel, coffee × hubble_deep_field
and chelsea × brick:

* ``"random-multiscale"`` – Ustyuzhaninov et al. 2016 ("Texture synthesis using shallow
  convolutional networks with random filters"): one layer of random filters at several scales.
  We get the scales cheaply from an image pyramid (7×7 random filters on the image at 1, 1/2,
  1/4, 1/8 and 1/16 resolution), ReLU, a Gram matrix per scale; content on the 1/4 level.
* ``"random-vgg19"`` – He, Wang & Hopcroft 2016 ("A powerful generative model using random weights
  for the deep image representation"): the VGG19 architecture with fixed random (He-normal) weights.

Both are built from a fixed seed, so a given input always gives the same result.
**``"random"`` means ``"random-vgg19"``** – our choice, after looking at the grid
(``compare_features()`` writes it to ``/tmp/style_compare.png``). Random VGG19 kept the content
recognisable in all three pairs while clearly taking on the style (the cat with brick joints
drawn through it, the cup with a ring of star-like speckles), and it uses the same layer names
(``relu4_2`` …) as the real VGG19, so nothing else changes when the weights appear. The shallow
multi-scale net was as good on gravel, but on the other two it either kept a blurry, darkened
copy of the photo with no stars at all, or let the bricks wipe out the cat. Random VGG19's
weakness is colourful pixel-level speckle (its first-layer Gram matrices like high frequencies);
a larger ``tv_weight`` calms it. ``features="auto"`` uses real VGG19 when it can and this
fallback otherwise; :func:`describe_features` says which one a run will use.
"""

from __future__ import annotations

import argparse
import functools
import io
import math
import os
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError
from torch import nn

from trainers.events import Callback, Finished, Samples, Step

# ----------------------------------------------------------------------------------------------
# Constants
# ----------------------------------------------------------------------------------------------

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

#: Images bigger than this are refused outright (a 50 MP photo is already 150 MB as RGB bytes).
MAX_INPUT_PIXELS = 50_000_000
MIN_SIZE, MAX_SIZE = 16, 2048

FEATURE_CHOICES = ("auto", "vgg19", "random", "random-vgg19", "random-multiscale")
#: The offline fallback ``"random"`` stands for (see the module docstring for why).
RANDOM_FALLBACK = "random-vgg19"


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


# ----------------------------------------------------------------------------------------------
# The losses (pure functions; shapes in the comments)
# ----------------------------------------------------------------------------------------------


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Channel co-activation matrix ``G = F Fᵀ / (H·W)`` of a feature map.

    ``G[b, i, j]`` is the average over all positions of ``feature_i · feature_j``. Dividing by the
    number of positions makes Gram matrices of differently sized images comparable.

    The product runs in the features' own dtype: with bfloat16 activations it is a bfloat16
    matrix product (accumulated in float32 by the CPU kernels, about 0.2 % relative error) that
    costs almost nothing, where a float32 one would add ~20 % to every step at 256 px.

    Args:
        features: ``(B, C, H, W)`` activations.

    Returns:
        ``(B, C, C)`` Gram matrices, float32.
    """
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)  # (B, C, M) with M = H·W positions
    return torch.bmm(flat, flat.transpose(1, 2)).float() / (h * w)  # (B, C, C)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Relative squared error ``‖F − P‖² / ‖P‖²`` between two ``(B, C, H, W)`` feature maps."""
    features, target = features.float(), target.float()
    return (features - target).pow(2).sum() / target.pow(2).sum().clamp_min(1e-8)


def style_loss(gram: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Relative squared error ``‖G − A‖² / ‖A‖²`` between two ``(B, C, C)`` Gram matrices."""
    return (gram - target_gram).pow(2).sum() / target_gram.pow(2).sum().clamp_min(1e-12)


def total_variation_loss(image: torch.Tensor) -> torch.Tensor:
    """Smoothness penalty: the mean squared difference between neighbouring pixels.

    ``L_tv = mean((x[.., i+1, j] − x[.., i, j])²) + mean((x[.., i, j+1] − x[.., i, j])²)``

    Args:
        image: ``(B, C, H, W)`` image (here in [0, 1]).
    """
    dy = image[:, :, 1:, :] - image[:, :, :-1, :]  # (B, C, H-1, W) vertical neighbours
    dx = image[:, :, :, 1:] - image[:, :, :, :-1]  # (B, C, H, W-1) horizontal neighbours
    return dy.pow(2).mean() + dx.pow(2).mean()


# ----------------------------------------------------------------------------------------------
# Feature networks
# ----------------------------------------------------------------------------------------------


class FeatureExtractor(nn.Module):
    """A chain of layers that returns the named activations you ask for from ONE forward pass.

    The chain stops right after the deepest requested layer, so nothing below it is computed.
    Inputs are RGB images in [0, 1]; ImageNet mean/std normalisation happens inside.

    Args:
        layers: ``(name, module)`` pairs in order, e.g. ``("conv1_1", Conv2d), ("relu1_1", ReLU)``.
        description: one human-readable line, shown in the UI.
        content_layer, style_layers: this network's default layers.
    """

    def __init__(
        self,
        layers: Sequence[tuple[str, nn.Module]],
        description: str,
        content_layer: str,
        style_layers: dict[str, float],
    ) -> None:
        super().__init__()
        self.names = [name for name, _ in layers]
        self.body = nn.ModuleList(module for _, module in layers)
        self.description = description
        self.default_content_layer = content_layer
        self.default_style_layers = dict(style_layers)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    @property
    def layer_names(self) -> list[str]:
        """Every layer name this network can return."""
        return list(self.names)

    def forward(self, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Run ``image`` (B, 3, H, W) in [0, 1] and return ``{name: (B, C_l, H_l, W_l)}``."""
        wanted = set(layers)
        unknown = wanted.difference(self.names)
        if unknown:
            raise ValueError(f"unknown layer(s) {sorted(unknown)}; this network has {self.names}")
        deepest = max(self.names.index(name) for name in wanted)
        x = (image - self.mean) / self.std  # (B, 3, H, W) normalised like ImageNet training
        x = x.contiguous(memory_format=torch.channels_last)
        out: dict[str, torch.Tensor] = {}
        for name, module in zip(self.names[: deepest + 1], self.body, strict=False):
            x = module(x)
            if name in wanted:
                out[name] = x
        return out


def _vgg19_layers(pooling: str) -> list[tuple[str, nn.Module]]:
    """VGG19's feature layers with the usual names: conv1_1, relu1_1, …, pool1, conv2_1, …

    ReLUs are not in-place, so a captured ``convX_Y`` output is never overwritten.
    """
    layers: list[tuple[str, nn.Module]] = []
    block, index, channels = 1, 1, 3
    for item in VGG19_CFG:
        if item == "M":
            pool = nn.AvgPool2d(2, 2) if pooling == "avg" else nn.MaxPool2d(2, 2)
            layers.append((f"pool{block}", pool))
            block, index = block + 1, 1
        else:
            layers.append((f"conv{block}_{index}", nn.Conv2d(channels, int(item), 3, padding=1)))
            layers.append((f"relu{block}_{index}", nn.ReLU()))
            channels, index = int(item), index + 1
    return layers


VGG_CONTENT_LAYER = "relu4_2"
VGG_STYLE_LAYERS = {f"relu{b}_1": 0.2 for b in range(1, 6)}


def _torchvision_index(layers: list[tuple[str, nn.Module]]) -> dict[int, nn.Conv2d]:
    """Map torchvision's ``features.<i>`` indices to our convolutions (same order, same count)."""
    return {i: m for i, (_, m) in enumerate(layers) if isinstance(m, nn.Conv2d)}


def vgg19_from_state_dict(
    state_dict: dict[str, torch.Tensor], pooling: str = "avg", description: str = ""
) -> FeatureExtractor:
    """Build the VGG19 feature extractor from a torchvision-format state dict.

    Only the ``features.<i>.weight/bias`` entries are used (the classifier is not needed).
    Raises ``ValueError`` if an entry is missing or has the wrong shape.
    """
    layers = _vgg19_layers(pooling)
    prefix = "features." if any(k.startswith("features.") for k in state_dict) else ""
    for i, conv in _torchvision_index(layers).items():
        for part in ("weight", "bias"):
            key = f"{prefix}{i}.{part}"
            if key not in state_dict:
                raise ValueError(f"VGG19 weights lack {key!r}: not a torchvision VGG19 state dict")
            tensor = state_dict[key]
            param = getattr(conv, part)
            if tuple(tensor.shape) != tuple(param.shape):
                raise ValueError(
                    f"VGG19 weights: {key} has shape {tuple(tensor.shape)}, "
                    f"expected {tuple(param.shape)}"
                )
            with torch.no_grad():
                param.copy_(tensor.float())
    net = FeatureExtractor(
        layers,
        description or "VGG19 with ImageNet weights (Gatys et al. 2016)",
        VGG_CONTENT_LAYER,
        VGG_STYLE_LAYERS,
    )
    return _freeze(net)


def random_vgg19(pooling: str = "avg", seed: int = 0) -> FeatureExtractor:
    """VGG19 with fixed random weights (He, Wang & Hopcroft 2016): He-normal filters, zero biases.

    He-normal weights ``N(0, 2 / fan_in)`` keep the activations' scale roughly constant through
    the ReLU layers, so deep layers neither vanish nor explode.
    """
    generator = torch.Generator().manual_seed(seed)
    layers = _vgg19_layers(pooling)
    with torch.no_grad():
        for _, module in layers:
            if isinstance(module, nn.Conv2d):
                fan_in = module.in_channels * 9
                module.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=generator)
                module.bias.zero_()
    net = FeatureExtractor(
        layers,
        "VGG19 with fixed random weights (offline fallback, He et al. 2016)",
        VGG_CONTENT_LAYER,
        VGG_STYLE_LAYERS,
    )
    return _freeze(net)


class MultiScaleRandomFeatures(nn.Module):
    """One layer of random filters seen at several scales (Ustyuzhaninov et al. 2016).

    The paper uses filters of sizes 3…55 on the full image. We get the same receptive fields far
    more cheaply from an (antialiased, bilinear) image pyramid: the same-sized random 7×7 filters
    on the image at 1, 1/2, 1/4, 1/8 and 1/16 resolution "see" 7, 14, 28, 56 and 112 pixels. Layers are named ``scale1``,
    ``scale2``, … ``scale16``; each is ``ReLU(conv(pyramid level))`` with 128 channels.
    """

    def __init__(self, seed: int = 0, channels: int = 128, kernel: int = 7, levels: int = 5):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.names = [f"scale{2**k}" for k in range(levels)]
        self.convs = nn.ModuleList()
        with torch.no_grad():
            for _ in range(levels):
                conv = nn.Conv2d(3, channels, kernel, padding=kernel // 2, padding_mode="reflect")
                conv.weight.normal_(
                    0.0, math.sqrt(2.0 / (3 * kernel * kernel)), generator=generator
                )
                conv.bias.zero_()
                self.convs.append(conv)
        self.description = "multi-scale random shallow filters (offline, Ustyuzhaninov et al. 2016)"
        self.default_content_layer = "scale4"
        self.default_style_layers = {name: 1.0 / levels for name in self.names}
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    @property
    def layer_names(self) -> list[str]:
        """Every layer name this network can return."""
        return list(self.names)

    def forward(self, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Run ``image`` (B, 3, H, W) in [0, 1] and return ``{name: (B, 128, H/k, W/k)}``."""
        wanted = set(layers)
        unknown = wanted.difference(self.names)
        if unknown:
            raise ValueError(f"unknown layer(s) {sorted(unknown)}; this network has {self.names}")
        x = (image - self.mean) / self.std  # (B, 3, H, W)
        out: dict[str, torch.Tensor] = {}
        for k, (name, conv) in enumerate(zip(self.names, self.convs, strict=True)):
            if k > 0:
                if min(x.shape[-2:]) < 2:
                    break  # image too small for this pyramid level
                # (B, 3, H/2^k, W/2^k): the next pyramid level, smoothly downsampled
                # (plain 2x2 average pooling leaves blocky gradients that show in the image)
                x = F.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True)
            if name in wanted:
                out[name] = F.relu(conv(x.contiguous(memory_format=torch.channels_last)))
        return out


FeatureNet = FeatureExtractor | MultiScaleRandomFeatures


def _freeze(net: nn.Module) -> nn.Module:
    """Eval mode, no parameter gradients, channels_last weights."""
    net.eval().requires_grad_(False)
    return net.to(memory_format=torch.channels_last)


# ---- finding / downloading the real VGG19 weights --------------------------------------------


def vgg19_cache_path() -> Path:
    """Where torchvision keeps the ImageNet VGG19 file: ``$TORCH_HOME/hub/checkpoints/…``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILENAME


def load_vgg19_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a VGG19 state dict safely: safetensors, or ``torch.load(weights_only=True)``.

    ``weights_only=True`` refuses to unpickle arbitrary Python objects, so a tampered ``.pth``
    file cannot run code.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"{path} does not hold a state dict")
    return state


_download_failed: str | None = None  # remember a failed download for this process


def _try_download_vgg19(dest: Path) -> str | None:
    """Download torchvision's VGG19 file to ``dest``. Returns ``None`` on success, else why not."""
    global _download_failed
    if _download_failed is not None:
        return _download_failed
    try:  # a quick reachability check, so an offline machine fails in seconds, not minutes
        socket.create_connection(("download.pytorch.org", 443), timeout=3).close()
        dest.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(VGG19_URL, str(dest), hash_prefix=VGG19_HASH_PREFIX)
        return None
    except Exception as exc:  # no network, DNS failure, bad hash, read-only disk, ...
        _download_failed = f"could not download {VGG19_URL}: {exc}"
        return _download_failed


def find_vgg19_weights(weights_path: str | None = None, allow_download: bool = False) -> Path:
    """Locate the ImageNet VGG19 weights, downloading them if allowed and needed.

    Raises ``FileNotFoundError`` explaining where it looked when there are none.
    """
    if weights_path:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"VGG19 weights file {path} does not exist")
        return path
    path = vgg19_cache_path()
    if path.is_file():
        return path
    why = "downloads are switched off"
    if allow_download:
        why = _try_download_vgg19(path) or ""
        if path.is_file():
            return path
    raise FileNotFoundError(f"no VGG19 ImageNet weights at {path} ({why})")


@functools.lru_cache(maxsize=4)
def _cached_network(kind: str, pooling: str, path: str, mtime: float) -> FeatureNet:
    """Build (once per process) the network for ``kind``; ``path``/``mtime`` key real weights."""
    if kind == "vgg19":
        state = load_vgg19_state_dict(path)
        return vgg19_from_state_dict(state, pooling, f"VGG19 with ImageNet weights ({path})")
    if kind == "random-vgg19":
        return random_vgg19(pooling)
    if kind == "random-multiscale":
        return _freeze(MultiScaleRandomFeatures())
    raise ValueError(f"unknown feature network {kind!r}")


def load_feature_net(
    features: str = "auto",
    pooling: str = "avg",
    weights_path: str | None = None,
    allow_download: bool = True,
) -> FeatureNet:
    """Return the feature network for a ``StyleConfig.features`` choice (cached per process).

    ``"vgg19"`` raises ``FileNotFoundError`` when the ImageNet weights cannot be found or
    downloaded; ``"auto"`` falls back to :data:`RANDOM_FALLBACK` instead.
    """
    if features not in FEATURE_CHOICES:
        raise ValueError(f"features must be one of {FEATURE_CHOICES}, got {features!r}")
    if features in ("auto", "vgg19"):
        try:
            path = find_vgg19_weights(weights_path, allow_download)
            return _cached_network("vgg19", pooling, str(path), path.stat().st_mtime)
        except (FileNotFoundError, ValueError, RuntimeError, OSError):
            if features == "vgg19":
                raise
        features = RANDOM_FALLBACK
    if features == "random":
        features = RANDOM_FALLBACK
    return _cached_network(features, pooling, "", 0.0)


def describe_features(
    features: str = "auto",
    pooling: str = "avg",
    weights_path: str | None = None,
    allow_download: bool = True,
) -> str:
    """One line saying which feature network ``features`` resolves to (for the UI and the CLI)."""
    return load_feature_net(features, pooling, weights_path, allow_download).description


# ----------------------------------------------------------------------------------------------
# Images in and out
# ----------------------------------------------------------------------------------------------

ImageInput = Image.Image | np.ndarray | str | os.PathLike | bytes


def load_image(source: ImageInput, what: str = "image") -> np.ndarray:
    """Turn a path, bytes, PIL image or array into an RGB ``uint8`` array ``(H, W, 3)``.

    Grey images are repeated to three channels and alpha is dropped. Raises ``ValueError`` with
    a clear message for files that are not images and for images over 50 megapixels.
    """
    if isinstance(source, str | os.PathLike | bytes):
        name = "uploaded bytes" if isinstance(source, bytes) else str(source)
        try:
            opened = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        except FileNotFoundError:
            raise ValueError(f"{what}: file {name} does not exist") from None
        except (UnidentifiedImageError, OSError) as exc:
            raise ValueError(f"{what}: {name} is not an image file PIL can read ({exc})") from None
        except Image.DecompressionBombError:
            raise ValueError(f"{what}: {name} is absurdly large; refusing to decode it") from None
        with opened:
            _check_pixels(opened.width, opened.height, what)
            try:
                source = opened.convert("RGB")
            except (OSError, Image.DecompressionBombError) as exc:
                raise ValueError(f"{what}: {name} could not be decoded ({exc})") from None
    if isinstance(source, Image.Image):
        _check_pixels(source.width, source.height, what)
        return np.asarray(source.convert("RGB"), dtype=np.uint8).copy()
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source, what)
    raise ValueError(f"{what}: expected an image (path, PIL image or array), got {type(source)}")


def _check_pixels(width: int, height: int, what: str) -> None:
    if width < 1 or height < 1:
        raise ValueError(f"{what} is empty ({width}x{height})")
    if width * height > MAX_INPUT_PIXELS:
        raise ValueError(
            f"{what} is {width}x{height} = {width * height / 1e6:.0f} megapixels; the limit is "
            f"{MAX_INPUT_PIXELS / 1e6:.0f} MP. Please downscale it first."
        )


def _array_to_rgb(array: np.ndarray, what: str) -> np.ndarray:
    """(H, W), (H, W, 1|3|4) arrays, uint8 or float in [0, 1] → uint8 (H, W, 3)."""
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ValueError(f"{what}: expected an (H, W) or (H, W, 1|3|4) array, got {array.shape}")
    _check_pixels(array.shape[1], array.shape[0], what)
    if array.dtype == np.uint8:
        rgb = array
    elif np.issubdtype(array.dtype, np.floating) or array.dtype == bool:
        values = array.astype(np.float32)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{what}: array contains NaN or infinity")
        rgb = (np.clip(values, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    else:
        raise ValueError(f"{what}: unsupported array dtype {array.dtype}")
    rgb = rgb[:, :, :3]
    if rgb.shape[2] == 1:
        rgb = np.repeat(rgb, 3, axis=2)
    return np.ascontiguousarray(rgb)


def resize_long_side(image: np.ndarray, long_side: int, what: str = "image") -> np.ndarray:
    """Resize a uint8 ``(H, W, 3)`` image so its longer side is ``long_side`` (Lanczos)."""
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    if min(new_w, new_h) < MIN_SIZE:
        raise ValueError(
            f"{what} is too thin: {w}x{h} becomes {new_w}x{new_h}, shorter side < {MIN_SIZE} px"
        )
    if (new_w, new_h) == (w, h):
        return image
    return np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.Resampling.LANCZOS))


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` → float ``(1, 3, H, W)`` in [0, 1]."""
    chw = torch.from_numpy(np.array(image)).permute(2, 0, 1)  # (3, H, W), a strided view
    return chw.unsqueeze(0).float().div(255.0).contiguous()  # (1, 3, H, W)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """float ``(1, 3, H, W)`` in [0, 1] → uint8 ``(H, W, 3)``."""
    array = image.detach()[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0)
    return np.ascontiguousarray(array.numpy())


def preserve_colors(stylised: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Keep the content's colours: luminance Y from ``stylised``, chroma Cb/Cr from ``content``.

    Uses the JPEG (BT.601) YCbCr transform; both inputs are uint8 ``(H, W, 3)`` of the same size.
    """
    y = np.asarray(Image.fromarray(stylised).convert("YCbCr"))[:, :, 0]
    ycbcr = np.asarray(Image.fromarray(content).convert("YCbCr")).copy()
    ycbcr[:, :, 0] = y
    return np.asarray(Image.fromarray(ycbcr, mode="YCbCr").convert("RGB"))


# ----------------------------------------------------------------------------------------------
# The optimisation
# ----------------------------------------------------------------------------------------------


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
    content: ImageInput,
    style: ImageInput,
    config: StyleConfig | None = None,
    callback: Callback | None = None,
    stop: threading.Event | None = None,
    preview_every: int = 10,
) -> np.ndarray:
    """Paint ``content`` in the style of ``style``; returns the uint8 ``(H, W, 3)`` result.

    Emits ``Step`` after every step, ``Samples`` (the current image) every ``preview_every``
    steps and at the end, and ``Finished`` ("done", "stopped" when ``stop`` was set, or "error").
    See :func:`stylise_result` for the same run with its metadata.
    """
    return stylise_result(content, style, config, callback, stop, preview_every).image


def stylise_result(
    content: ImageInput,
    style: ImageInput,
    config: StyleConfig | None = None,
    callback: Callback | None = None,
    stop: threading.Event | None = None,
    preview_every: int = 10,
) -> StyleResult:
    """Like :func:`stylise` but returns a :class:`StyleResult` (image, features in use, losses)."""
    config = config or StyleConfig()
    config.validate()
    if preview_every < 1:
        raise ValueError(f"preview_every must be >= 1, got {preview_every}")
    emit = callback or (lambda event: None)
    start = time.perf_counter()
    step = 0
    try:
        content_rgb = resize_long_side(load_image(content, "content image"), config.size, "content")
        style_rgb = load_image(style, "style image")
        style_side = max(MIN_SIZE, round(config.size * config.style_scale))
        style_rgb = resize_long_side(style_rgb, style_side, "style image")
        net = load_feature_net(
            config.features, config.pooling, config.weights_path, config.allow_download
        )
        objective = StyleObjective(net, to_tensor(content_rgb), to_tensor(style_rgb), config)

        # The image itself is the only thing we optimise.
        c = to_tensor(content_rgb)  # (1, 3, H, W)
        if config.init == "content":
            x = c.clone()
        else:
            generator = torch.Generator().manual_seed(config.seed)
            x = torch.rand(c.shape, generator=generator)
        x.requires_grad_(True)

        def finish_image(image: torch.Tensor) -> np.ndarray:
            rgb = to_uint8(image)
            return preserve_colors(rgb, content_rgb) if config.preserve_color else rgb

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


# ----------------------------------------------------------------------------------------------
# Command line: gan-train style --content IMG --style IMG --out IMG [...]
# ----------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``style`` subcommand's options to ``parser``."""
    d = StyleConfig()
    parser.add_argument("--content", required=True, help="content photo (any PIL-readable file)")
    parser.add_argument("--style", required=True, help="style image (painting, texture, ...)")
    parser.add_argument("--out", required=True, help="where to write the result (.png, .jpg)")
    parser.add_argument("--steps", type=int, default=d.steps, help="optimisation steps")
    parser.add_argument("--size", type=int, default=d.size, help="output long side in pixels")
    parser.add_argument("--content-weight", type=float, default=d.content_weight)
    parser.add_argument("--style-weight", type=float, default=d.style_weight)
    parser.add_argument("--tv-weight", type=float, default=d.tv_weight)
    parser.add_argument("--style-scale", type=float, default=d.style_scale)
    parser.add_argument("--init", choices=("content", "noise"), default=d.init)
    parser.add_argument("--optimizer", choices=("lbfgs", "adam"), default=d.optimizer)
    parser.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate")
    parser.add_argument("--preserve-color", action="store_true", help="keep the content colours")
    parser.add_argument("--features", choices=FEATURE_CHOICES, default=d.features)
    parser.add_argument("--pooling", choices=("avg", "max"), default=d.pooling)
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default=d.precision)
    parser.add_argument("--weights", default=None, help="explicit VGG19 weights file")
    parser.add_argument("--offline", action="store_true", help="never try to download weights")
    parser.add_argument("--seed", type=int, default=d.seed)


def config_from_args(args: argparse.Namespace) -> StyleConfig:
    """Build a :class:`StyleConfig` from parsed ``add_arguments`` options."""
    return StyleConfig(
        content_weight=args.content_weight,
        style_weight=args.style_weight,
        tv_weight=args.tv_weight,
        init=args.init,
        optimizer=args.optimizer,
        steps=args.steps,
        lr=args.lr,
        size=args.size,
        style_scale=args.style_scale,
        preserve_color=args.preserve_color,
        seed=args.seed,
        features=args.features,
        pooling=args.pooling,
        precision=args.precision,
        weights_path=args.weights,
        allow_download=not args.offline,
    )


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``gan-train style``: stylise with a tqdm bar and write ``--out``. Returns 0 or 2."""
    import sys

    from tqdm import tqdm

    try:
        config = config_from_args(args)
        config.validate()
        out = Path(args.out)
        if out.suffix.lower() not in Image.registered_extensions():
            raise ValueError(f"--out {out}: unknown image extension {out.suffix!r}")
        content = load_image(args.content, "content image")  # bad files fail here, early
        style = load_image(args.style, "style image")
        features = describe_features(
            config.features, config.pooling, config.weights_path, config.allow_download
        )
        print(f"features: {features}")
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    bar = tqdm(total=config.steps, unit="step", desc="style")

    def on_event(event: object) -> None:
        if isinstance(event, Step):
            bar.update(event.step - bar.n)
            bar.set_postfix({k: f"{v:.3g}" for k, v in event.losses.items()})

    try:
        image = stylise(content, style, config, callback=on_event)
    except (ValueError, FileNotFoundError) as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bar.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(out)
    print(f"wrote {out} ({image.shape[1]}x{image.shape[0]})")
    return 0


def compare_features(
    out: str | os.PathLike = "/tmp/style_compare.png",
    kinds: Sequence[str] = ("random-vgg19", "random-multiscale"),
    pairs: Sequence[tuple[str, str]] = (
        ("astronaut", "gravel"),
        ("coffee", "hubble_deep_field"),
        ("chelsea", "brick"),
    ),
    size: int = 256,
    steps: int = 200,
) -> Path:
    """Run the offline feature networks side by side and save a labelled grid PNG.

    Rows are (content, style) pairs from ``skimage.data``; columns are the content, the style
    and one result per feature network, all with the default weights. This is how
    :data:`RANDOM_FALLBACK` was chosen (``python -c "from trainers.style import compare_features;
    compare_features()"``; it takes a few minutes on a CPU).
    """
    from PIL import ImageDraw
    from skimage import data

    rows = []
    for content_name, style_name in pairs:
        content_rgb = resize_long_side(load_image(getattr(data, content_name)()), size)
        style_rgb = load_image(getattr(data, style_name)())
        cells = [(content_name, content_rgb), (style_name, resize_long_side(style_rgb, size))]
        for kind in kinds:
            config = StyleConfig(features=kind, size=size, steps=steps, allow_download=False)
            result = stylise_result(content_rgb, style_rgb, config)
            print(f"{content_name} x {style_name}, {kind}: {result.losses} {result.seconds:.0f} s")
            cells.append((kind, result.image))
        row = []
        for label, image in cells:
            tile = Image.new("RGB", (size, size + 14), "white")
            tile.paste(Image.fromarray(image), (0, 14))
            ImageDraw.Draw(tile).text((2, 1), label, fill="black")
            row.append(np.asarray(tile))
        rows.append(np.concatenate(row, axis=1))
    out = Path(out)
    Image.fromarray(np.concatenate(rows, axis=0)).save(out)
    return out


if __name__ == "__main__":  # python -m trainers.style --content a.png --style b.png --out c.png
    _parser = argparse.ArgumentParser(prog="python -m trainers.style", description=__doc__)
    add_arguments(_parser)
    raise SystemExit(run_from_args(_parser.parse_args()))
