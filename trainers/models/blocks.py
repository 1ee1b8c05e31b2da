"""Small pieces shared by the generator and discriminator families.

The upsampling switch lives here so every convolutional generator can swap a transposed
convolution for "nearest-neighbour upsample, then an ordinary convolution" (Odena et al. 2016,
"Deconvolution and Checkerboard Artifacts"): the explorer shows the two side by side.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

UpsampleMode = Literal["convtranspose", "resize-conv"]
UPSAMPLE_MODES: tuple[str, ...] = ("convtranspose", "resize-conv")


def upsample_conv(
    in_channels: int, out_channels: int, mode: UpsampleMode, bias: bool = False
) -> nn.Module:
    """A layer that doubles height and width: (B, in, H, W) -> (B, out, 2H, 2W).

    - ``convtranspose``: ConvTranspose2d(k=4, s=2, p=1). Output size (H-1)*2 - 2*1 + 4 = 2H.
      Kernel 4 is divisible by stride 2, so overlaps are even, but learned weights can still
      paint checkerboards.
    - ``resize-conv``: nearest upsample x2, then Conv2d(k=3, p=1). Every output pixel gets the
      same number of kernel taps, so no checkerboard from uneven overlap.
    """
    if mode == "convtranspose":
        return nn.ConvTranspose2d(
            in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=bias
        )
    if mode == "resize-conv":
        return nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=bias),
        )
    raise ValueError(f"unknown upsample mode {mode!r}; choose one of {UPSAMPLE_MODES}")


def maybe_spectral_norm(module: nn.Module, enabled: bool) -> nn.Module:
    """Wrap a Linear/Conv layer in spectral normalisation (Miyato et al. 2018) when ``enabled``.

    Spectral norm divides the weight by its largest singular value, keeping D 1-Lipschitz-ish,
    which stabilises training.
    """
    return nn.utils.parametrizations.spectral_norm(module) if enabled else module


class MinibatchStdDev(nn.Module):
    """Minibatch discrimination, the cheap form (Karras et al. 2018, after Salimans et al. 2016).

    Appends one feature: the standard deviation of each feature across the batch, averaged.
    A collapsed generator makes a batch with tiny spread, which D can then spot.
    (B, F) -> (B, F + 1), or (B, C, H, W) -> (B, C + 1, H, W).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        std = x.float().std(dim=0, unbiased=False).mean().to(x.dtype)  # scalar
        extra = std.expand(x.shape[0], 1, *x.shape[2:])
        return torch.cat([x, extra], dim=1)


def init_dcgan_weights(module: nn.Module) -> None:
    """Radford et al. 2015: conv weights ~ N(0, 0.02), BatchNorm gamma ~ N(1, 0.02), beta = 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def categorical_code(z: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """InfoGAN's categorical code (Chen et al. 2016), read off z itself: the index of the
    largest of z's first ``k`` numbers picks one of ``k`` categories, each with chance 1/k.

    Returns (one_hot (B, k) in z's dtype, index (B,)). Because the code is a function of z,
    every sampler (CLI, explorer, ONNX in the browser, the Hub's pipeline) draws z alone and
    gets the same images; the one-hot is written as "equals the row's maximum" so that it
    exports to ONNX as ReduceMax + Equal.
    """
    first = z[:, :k]  # (B, k)
    one_hot = (first == first.amax(dim=1, keepdim=True)).to(z.dtype)  # (B, k), one 1 per row
    return one_hot, first.argmax(dim=1)  # (B, k), (B,)
