"""DCGAN (Radford et al. 2015): all-convolutional G and D.

DCGAN rules: no pooling (strided convs down, transposed convs up), BatchNorm in both nets
(not on G's output or D's input), ReLU in G, LeakyReLU(0.2) in D, Tanh on G's output.

32x32 RGB (CIFAR-10), the seed design, ``channels=(512, 256, 128, 64)``:
    z (B, 128) -> Linear -> (B, 2048) -> reshape (B, 512, 2, 2)
    -> up (B, 256, 4, 4) -> up (B, 128, 8, 8) -> up (B, 64, 16, 16) -> up (B, 3, 32, 32) Tanh
    D mirrors it: (B, 3, 32, 32) -> (B, 64, 16, 16) -> (B, 128, 8, 8) -> (B, 256, 4, 4)
    -> (B, 512, 2, 2) -> flatten 2048 -> 1 logit.

28x28 grayscale (MNIST, Fashion-MNIST), ``channels=(128, 64)``:
    z (B, 100) -> Linear -> reshape (B, 128, 7, 7) -> up (B, 64, 14, 14) -> up (B, 1, 28, 28)
    D: (B, 1, 28, 28) -> (B, 64, 14, 14) -> (B, 128, 7, 7) -> flatten 6272 -> 1 logit.

With ``latent_code=K`` (InfoGAN, Chen et al. 2016): z's first K numbers choose one of K
categories (their argmax, see blocks.categorical_code); G's first layer sees z and that
one-hot, (B, 100 + K), and D gets a second head Q, (B, 6272) -> (B, K) category logits. Both
players add ``info_weight`` x cross-entropy(Q(G(z)), code) to their losses (trainers/engine.py),
which makes G draw the categories differently enough for Q to tell them apart. Nobody gives
the categories a meaning; on MNIST they come out mostly as digits. Why it helps: z is one
connected cloud, so a G that is smooth in z must pass through hybrids (a 4 half a 9) between
two digits; the code is a jump, so G can draw a clean 4 on one side and a clean 9 on the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trainers.models import shared_options as shared
from trainers.models.blocks import (
    MinibatchStdDev,
    UpsampleMode,
    categorical_code,
    init_dcgan_weights,
    maybe_spectral_norm,
    upsample_conv,
)
from trainers.options import option


@dataclass
class DCGANConfig:
    """Shapes of the DCGAN.

    Args:
        image_shape: (C, H, W); H == W, and H / 2**len(channels) must be a whole number.
        latent_dim: size of z.
        channels: G's channel widths from the first (reshaped) feature map down; D uses them
            reversed unless ``d_channels`` says otherwise. One upsampling per entry.
        d_channels: D's widths from its first layer up (one halving each, as many as
            ``channels``); empty = G's reversed. A wider D is a stronger critic.
        upsample: "convtranspose" (default) or "resize-conv" (nearest upsample + conv).
        spectral_norm: spectral normalisation on D's layers (then D uses no BatchNorm).
        minibatch_std: append the minibatch std-dev feature map before D's last layer.
        num_classes: 0 (unconditional); kept for the common interface.
    """

    image_shape: tuple[int, int, int] = (1, 28, 28)
    latent_dim: int = shared.latent_dim()
    channels: tuple[int, ...] = option(
        (128, 64),
        "G's channel widths, one upsampling each; D mirrors them (default depends on the image size)",
        group="model",
        ui=False,
    )
    d_channels: tuple[int, ...] = option(
        (),
        "D's channel widths from its first layer up, one halving each (empty: G's, reversed); "
        "a wider D than G is a stronger critic",
        group="model",
        ui=False,
    )
    upsample: UpsampleMode = shared.upsample()
    spectral_norm: bool = shared.spectral_norm()
    minibatch_std: bool = shared.minibatch_std()
    latent_code: int = option(
        0,
        "InfoGAN categorical code: z's first K numbers pick one of K categories (their argmax), "
        "G sees it as a one-hot, D's Q head must guess it (0: off; Chen et al. 2016)",
        group="model",
        minimum=0,
        maximum=64,
        step=1,
        ui=False,
    )
    info_weight: float = option(
        1.0,
        "InfoGAN: weight of the code's cross-entropy in D's and G's losses",
        group="model",
        minimum=0.0,
        maximum=10.0,
        ui=False,
    )
    num_classes: int = 0

    @property
    def base_size(self) -> int:
        """Side of G's first feature map: H / 2**len(channels)."""
        return self.image_shape[1] // 2 ** len(self.channels)

    def __post_init__(self) -> None:
        self.image_shape = tuple(self.image_shape)  # type: ignore[assignment]
        self.channels = tuple(self.channels)
        self.d_channels = tuple(self.d_channels or ())
        if self.d_channels and len(self.d_channels) != len(self.channels):
            raise ValueError(
                f"d_channels needs one width per halving, as many as channels "
                f"({len(self.channels)}); got {self.d_channels}"
            )
        if self.latent_code == 1 or not 0 <= self.latent_code <= self.latent_dim:
            raise ValueError(
                f"latent_code is the number of categories read from z's first numbers: 0 (off) "
                f"or 2..latent_dim ({self.latent_dim}); got {self.latent_code}"
            )
        c, h, w = self.image_shape
        if h != w or h % 2 ** len(self.channels) or self.base_size < 1:
            raise ValueError(
                f"DCGAN needs square images whose side is divisible by 2**{len(self.channels)} "
                f"(one halving per channel entry); got {self.image_shape} with channels {self.channels}"
            )


def dcgan_config_for(image_shape: tuple[int, int, int], **overrides) -> DCGANConfig:
    """The default DCGAN for an image shape: the 28x28 and 32x32 designs above, else 64..512 wide."""
    side = image_shape[1]
    if side == 28:
        defaults = {"latent_dim": 100, "channels": (128, 64)}
    elif side == 32:
        defaults = {"latent_dim": 128, "channels": (512, 256, 128, 64)}
    else:
        ups = max(1, (side // 2).bit_length() - 1)  # halve down to 2x2 (or the odd remainder)
        defaults = {
            "latent_dim": 128,
            "channels": tuple(min(512, 64 * 2**i) for i in reversed(range(ups))),
        }
    return DCGANConfig(image_shape=tuple(image_shape), **{**defaults, **overrides})


class DCGANGenerator(nn.Module):
    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        ch, base = config.channels, config.base_size
        self.project = nn.Sequential(  # (B, latent [+ K]) -> (B, ch[0] * base * base)
            nn.Linear(config.latent_dim + config.latent_code, ch[0] * base * base, bias=False),
            nn.BatchNorm1d(ch[0] * base * base),
            nn.ReLU(True),
        )
        blocks: list[nn.Module] = []
        for c_in, c_out in zip(ch[:-1], ch[1:], strict=True):  # each block doubles H and W
            blocks += [
                upsample_conv(c_in, c_out, config.upsample),
                nn.BatchNorm2d(c_out),
                nn.ReLU(True),
            ]
        blocks += [
            upsample_conv(ch[-1], config.image_shape[0], config.upsample, bias=True),
            nn.Tanh(),
        ]
        self.blocks = nn.Sequential(*blocks)
        self.apply(init_dcgan_weights)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        base, k = self.config.base_size, self.config.latent_code
        if k:  # InfoGAN: z and its categorical code, (B, latent + K)
            z = torch.cat([z, categorical_code(z, k)[0]], dim=1)
        x = self.project(z).view(
            z.shape[0], self.config.channels[0], base, base
        )  # (B, ch0, base, base)
        return self.blocks(x)  # (B, C, H, W) in [-1, 1]


class DCGANDiscriminator(nn.Module):
    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        sn = config.spectral_norm
        mirror = config.d_channels or tuple(reversed(config.channels))
        widths = [config.image_shape[0], *mirror]  # e.g. 3, 64, 128, 256, 512
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(
            zip(widths[:-1], widths[1:], strict=True)
        ):  # each halves H, W
            layers.append(maybe_spectral_norm(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), sn))
            if i > 0 and not sn:  # no BatchNorm on D's input layer (DCGAN), none with spectral norm
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        if config.minibatch_std:
            layers.append(MinibatchStdDev())
            widths[-1] += 1
        self.features = nn.Sequential(*layers)
        flat = widths[-1] * config.base_size**2
        self.head = maybe_spectral_norm(nn.Linear(flat, 1), sn)  # e.g. 2048 -> 1
        if config.latent_code:  # InfoGAN's Q: which category was G asked for?
            self.code_head = maybe_spectral_norm(nn.Linear(flat, config.latent_code), sn)
        self.apply(init_dcgan_weights)

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None, return_classes: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor | None]:
        """Realness logits (B,); ``return_classes=True`` also gives Q's category logits (B, K)
        (None without a code)."""
        h = self.features(x).flatten(1)  # (B, ch0 * base * base)
        logits = self.head(h).squeeze(1)  # (B,)
        if not return_classes:
            return logits
        return logits, (self.code_head(h) if self.config.latent_code else None)
