"""CycleGAN (Zhu, Park, Isola & Efros 2017): two generators and two discriminators, no pairs.

    G_AB: A -> B  (horse -> zebra)        D_B: is this a real B?
    G_BA: B -> A  (zebra -> horse)        D_A: is this a real A?

The generator is Johnson et al.'s (2016) ResNet, in the paper's notation

    c7s1-k, d2k, d4k, R4k x n, u2k, uk, c7s1-3

- ``c7s1-k``: ReflectionPad(3), 7x7 Conv stride 1 with k filters, InstanceNorm, ReLU
- ``dk``: 3x3 Conv stride 2 (halves H and W), InstanceNorm, ReLU
- ``Rk``: a residual block, x + [Pad, Conv3x3, IN, ReLU, Pad, Conv3x3, IN](x)
- ``uk``: an upsampling layer (transposed conv, or nearest-resize + conv), InstanceNorm, ReLU
- last ``c7s1-3`` ends in tanh so pixels land in [-1, 1].

The discriminator is the 70x70 PatchGAN (Isola et al. 2017): C64-C128-C256-C512 of 4x4 convs
with LeakyReLU(0.2), then a 1-channel conv. It outputs a grid of logits, one per overlapping
70x70 patch, so it judges texture ("is this patch zebra-striped?") rather than the whole image.

Instance norm (not batch norm) normalises each image on its own, which suits batch size 1 and
style-like transfers. Reflection padding avoids the dark borders zero padding draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trainers.models.blocks import UPSAMPLE_MODES, upsample_conv
from trainers.options import option

DIRECTIONS: tuple[str, ...] = ("a2b", "b2a")


@dataclass
class CycleGANConfig:
    """The shape of a CycleGAN.

    Args:
        image_size: side of the square training crops (the nets are fully convolutional, so
            they also run on other sizes that are multiples of 4).
        in_channels / out_channels: 3 for RGB.
        ngf: generator width k in c7s1-k (paper: 64).
        ndf: discriminator width of its first layer C64 (paper: 64).
        n_residual_blocks: residual blocks at the bottleneck (paper: 9 at 256 px, 6 at 128 px).
        n_d_layers: stride-2 layers of the PatchGAN; 3 gives the 70x70 receptive field.
        upsample: "convtranspose" (paper) or "resize-conv" (no checkerboards; Odena et al. 2016).
        norm: "instance" (the only one used here; kept so the checkpoint records it).
    """

    image_size: int = option(
        64, "side of the training crops (paper 256)", group="data", minimum=16, step=4
    )
    in_channels: int = 3
    out_channels: int = 3
    ngf: int = option(32, "generator width (paper 64)", group="model", minimum=1, step=1)
    ndf: int = option(64, "discriminator width (paper 64)", group="model", minimum=1, step=1)
    n_residual_blocks: int = option(
        6,
        "residual blocks (paper 9 at 256 px, 6 at 128 px)",
        flag="--n-blocks",
        group="model",
        minimum=1,
        step=1,
    )
    n_d_layers: int = option(
        3, "stride-2 layers of the PatchGAN D (3: 70x70 patches)", group="model", minimum=1
    )
    upsample: str = option(
        "convtranspose",
        "G's upsampling: transposed convolutions (paper) or resize-conv",
        choices=UPSAMPLE_MODES,
        group="model",
    )
    norm: str = "instance"

    def __post_init__(self) -> None:
        if self.upsample not in UPSAMPLE_MODES:
            raise ValueError(
                f"unknown upsample mode {self.upsample!r}; choose one of {UPSAMPLE_MODES}"
            )
        if self.norm != "instance":
            raise ValueError("CycleGAN here uses instance norm only (norm='instance')")
        if self.image_size % 4 or self.image_size < 16:
            raise ValueError(
                "image_size must be a multiple of 4 and at least 16 (two stride-2 steps)"
            )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the training crops, as the other families report it."""
        return (self.in_channels, self.image_size, self.image_size)


def _norm(channels: int) -> nn.Module:
    # affine=False, track_running_stats=False: the paper's (and pix2pix code's) instance norm;
    # train and eval behave the same, each image normalised by its own mean and std.
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResidualBlock(nn.Module):
    """Rk: y = x + F(x), F = Pad-Conv3x3-IN-ReLU-Pad-Conv3x3-IN. (B, k, H, W) -> (B, k, H, W)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, kernel_size=3, bias=True),
            _norm(channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, kernel_size=3, bias=True),
            _norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """One direction's generator. (B, 3, H, W) in [-1, 1] -> (B, 3, H, W) in [-1, 1].

    With k = ngf and input (B, 3, H, W):
        c7s1-k   -> (B, k,  H,   W)
        d2k      -> (B, 2k, H/2, W/2)
        d4k      -> (B, 4k, H/4, W/4)
        R4k x n  -> (B, 4k, H/4, W/4)
        u2k      -> (B, 2k, H/2, W/2)
        uk       -> (B, k,  H,   W)
        c7s1-3   -> (B, 3,  H,   W), tanh
    H and W must be multiples of 4 so the two halvings and doublings meet.
    """

    def __init__(self, config: CycleGANConfig) -> None:
        super().__init__()
        k = config.ngf
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(config.in_channels, k, kernel_size=7, bias=True),  # c7s1-k
            _norm(k),
            nn.ReLU(inplace=True),
        ]
        for mult in (1, 2):  # d2k, d4k: 3x3 stride 2, padding 1 -> H/2
            layers += [
                nn.Conv2d(k * mult, k * mult * 2, kernel_size=3, stride=2, padding=1, bias=True),
                _norm(k * mult * 2),
                nn.ReLU(inplace=True),
            ]
        layers += [ResidualBlock(4 * k) for _ in range(config.n_residual_blocks)]  # R4k x n
        for mult in (4, 2):  # u2k, uk: double H and W
            layers += [
                upsample_conv(k * mult, k * mult // 2, config.upsample, bias=True),  # type: ignore[arg-type]
                _norm(k * mult // 2),
                nn.ReLU(inplace=True),
            ]
        layers += [
            nn.ReflectionPad2d(3),
            nn.Conv2d(k, config.out_channels, kernel_size=7),  # c7s1-3
            nn.Tanh(),
        ]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PatchDiscriminator(nn.Module):
    """70x70 PatchGAN. (B, 3, H, W) -> logits (B, 1, H/8 - 2, W/8 - 2).

    C64 (no norm) -> C128 -> C256 (all 4x4 stride 2) -> C512 (4x4 stride 1) -> 1-channel 4x4 conv.
    At 256 px the output is (B, 1, 30, 30); at 64 px (B, 1, 6, 6). Each logit sees a 70x70 patch;
    walking back from one output pixel, receptive field r -> (r - 1) * stride + kernel:
        1 -> 4 (last conv) -> 7 (C512, s1) -> 16 (C256, s2) -> 34 (C128, s2) -> 70 (C64, s2).
    """

    def __init__(self, config: CycleGANConfig) -> None:
        super().__init__()
        nf = config.ndf
        layers: list[nn.Module] = [
            nn.Conv2d(config.out_channels, nf, kernel_size=4, stride=2, padding=1),  # C64: H -> H/2
            nn.LeakyReLU(0.2, inplace=True),
        ]
        mult = 1
        for i in range(1, config.n_d_layers):  # C128, C256: H/2 -> H/4 -> H/8
            prev, mult = mult, min(2**i, 8)
            layers += [
                nn.Conv2d(nf * prev, nf * mult, kernel_size=4, stride=2, padding=1, bias=True),
                _norm(nf * mult),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        prev, mult = mult, min(2**config.n_d_layers, 8)
        layers += [  # C512, stride 1: H/8 -> H/8 - 1
            nn.Conv2d(nf * prev, nf * mult, kernel_size=4, stride=1, padding=1, bias=True),
            _norm(nf * mult),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(
                nf * mult, 1, kernel_size=4, stride=1, padding=1
            ),  # H/8 - 1 -> H/8 - 2 logits
        ]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class CycleGANGenerators(nn.Module):
    """Both generators in one module, so the generic loader stores them as ``G.a2b.*``/``G.b2a.*``.

    ``forward(x, direction)``: direction "a2b" runs G_AB, "b2a" runs G_BA; (B, 3, H, W) -> same.
    """

    def __init__(self, config: CycleGANConfig) -> None:
        super().__init__()
        self.config = config
        self.a2b = ResnetGenerator(config)
        self.b2a = ResnetGenerator(config)

    def forward(self, x: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        if direction == "a2b":
            return self.a2b(x)
        if direction == "b2a":
            return self.b2a(x)
        raise ValueError(f"unknown direction {direction!r}; choose one of {DIRECTIONS}")


class CycleGANDiscriminators(nn.Module):
    """Both PatchGANs: ``.a`` judges domain A images, ``.b`` judges domain B images.

    ``forward(x, domain)``: domain "a" or "b"; (B, 3, H, W) -> (B, 1, H/8 - 2, W/8 - 2) logits.
    """

    def __init__(self, config: CycleGANConfig) -> None:
        super().__init__()
        self.a = PatchDiscriminator(config)
        self.b = PatchDiscriminator(config)

    def forward(self, x: torch.Tensor, domain: str = "b") -> torch.Tensor:
        if domain == "a":
            return self.a(x)
        if domain == "b":
            return self.b(x)
        raise ValueError(f"unknown domain {domain!r}; choose 'a' or 'b'")


def init_cyclegan_weights(module: nn.Module, std: float = 0.02) -> None:
    """The paper's initialisation: conv weights ~ N(0, 0.02), biases 0."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def cyclegan_config_for(
    image_shape: tuple[int, int, int] = (3, 64, 64), **overrides
) -> CycleGANConfig:
    """The registry's default config for an image shape (C, H, W): channels and size from it."""
    c, h, _ = image_shape
    values = {"image_size": h, "in_channels": c, "out_channels": c} | overrides
    return CycleGANConfig(**values)
