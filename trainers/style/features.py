"""The feature networks: VGG19 with ImageNet weights (found in the torch hub cache or
downloaded) and the two weight-free offline fallbacks (random VGG19, multi-scale random filters)."""

from __future__ import annotations

import functools
import math
import os
import socket
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from trainers.style.config import (
    FEATURE_CHOICES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    RANDOM_FALLBACK,
    VGG19_CFG,
    VGG19_FILENAME,
    VGG19_HASH_PREFIX,
    VGG19_URL,
)


class FeatureNet(nn.Module):
    """What every feature network here shares: named layers, default layer choices, and the
    ImageNet mean/std normalisation of RGB inputs in [0, 1].

    Args:
        names: the layer names ``forward`` can return, in order.
        description: one human-readable line, shown in the UI.
        content_layer, style_layers: this network's default layers.
    """

    def __init__(
        self,
        names: Sequence[str],
        description: str,
        content_layer: str,
        style_layers: dict[str, float],
    ) -> None:
        super().__init__()
        self.names = list(names)
        self.description = description
        self.default_content_layer = content_layer
        self.default_style_layers = dict(style_layers)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    @property
    def layer_names(self) -> list[str]:
        """Every layer name this network can return."""
        return list(self.names)

    def _start(self, image: torch.Tensor, layers: Sequence[str]) -> tuple[set[str], torch.Tensor]:
        """The wanted layer names (checked) and the normalised image (B, 3, H, W)."""
        wanted = set(layers)
        unknown = wanted.difference(self.names)
        if unknown:
            raise ValueError(f"unknown layer(s) {sorted(unknown)}; this network has {self.names}")
        return wanted, (image - self.mean) / self.std  # normalised like ImageNet training


class FeatureExtractor(FeatureNet):
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
        super().__init__([name for name, _ in layers], description, content_layer, style_layers)
        self.body = nn.ModuleList(module for _, module in layers)

    def forward(self, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Run ``image`` (B, 3, H, W) in [0, 1] and return ``{name: (B, C_l, H_l, W_l)}``."""
        wanted, x = self._start(image, layers)  # x: (B, 3, H, W)
        deepest = max(self.names.index(name) for name in wanted)
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


class MultiScaleRandomFeatures(FeatureNet):
    """One layer of random filters seen at several scales (Ustyuzhaninov et al. 2016).

    The paper uses filters of sizes 3…55 on the full image. We get the same receptive fields far
    more cheaply from an (antialiased, bilinear) image pyramid: the same-sized random 7×7 filters
    on the image at 1, 1/2, 1/4, 1/8 and 1/16 resolution "see" 7, 14, 28, 56 and 112 pixels. Layers are named ``scale1``,
    ``scale2``, … ``scale16``; each is ``ReLU(conv(pyramid level))`` with 128 channels.
    """

    def __init__(self, seed: int = 0, channels: int = 128, kernel: int = 7, levels: int = 5):
        names = [f"scale{2**k}" for k in range(levels)]
        super().__init__(
            names,
            "multi-scale random shallow filters (offline, Ustyuzhaninov et al. 2016)",
            content_layer="scale4",
            style_layers={name: 1.0 / levels for name in names},
        )
        generator = torch.Generator().manual_seed(seed)
        self.convs = nn.ModuleList()
        with torch.no_grad():
            for _ in range(levels):
                conv = nn.Conv2d(3, channels, kernel, padding=kernel // 2, padding_mode="reflect")
                conv.weight.normal_(
                    0.0, math.sqrt(2.0 / (3 * kernel * kernel)), generator=generator
                )
                conv.bias.zero_()
                self.convs.append(conv)

    def forward(self, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Run ``image`` (B, 3, H, W) in [0, 1] and return ``{name: (B, 128, H/k, W/k)}``."""
        wanted, x = self._start(image, layers)  # x: (B, 3, H, W)
        out: dict[str, torch.Tensor] = {}
        for k, (name, conv) in enumerate(zip(self.names, self.convs, strict=True)):
            if k > 0:
                if min(x.shape[-2:]) // 2 <= conv.padding[0]:
                    break  # too small for this level (reflect padding needs more pixels)
                # (B, 3, H/2^k, W/2^k): the next pyramid level, smoothly downsampled
                # (plain 2x2 average pooling leaves blocky gradients that show in the image)
                x = F.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True)
            if name in wanted:
                out[name] = F.relu(conv(x.contiguous(memory_format=torch.channels_last)))
        return out


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
