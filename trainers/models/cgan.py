"""Conditional GAN (Mirza & Osindero 2014) for 28x28 images: both players see the class label.

G: z (B, 100) -> Linear -> (B, 128, 7, 7)
   label (B,) -> Embedding(10, 50) -> Linear -> (B, 49) -> (B, 1, 7, 7)
   concatenate -> (B, 129, 7, 7) -> up (B, 64, 14, 14) -> up (B, 1, 28, 28) Tanh
D: label -> Embedding(10, 50) -> Linear -> (B, 784) -> (B, 1, 28, 28)
   stacked with the image -> (B, 2, 28, 28) -> conv s2 (B, 64, 14, 14) -> conv s2 (B, 128, 7, 7)
   -> flatten 6272 -> 1 logit
The class names (e.g. "T-shirt/top") are stored in the checkpoint, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trainers.models.blocks import (
    MinibatchStdDev,
    UpsampleMode,
    init_dcgan_weights,
    maybe_spectral_norm,
    upsample_conv,
)


@dataclass
class CGANConfig:
    """Shapes of the conditional GAN.

    Args:
        image_shape: (C, H, W) with H == W divisible by 4, e.g. (1, 28, 28).
        latent_dim: size of z.
        num_classes: number of class labels.
        embed_dim: size of the label embedding (50 in the seed design).
        channels: (channels of the 7x7 map from z, channels after the first upsampling).
        upsample: "convtranspose" (default) or "resize-conv".
        spectral_norm: spectral normalisation on D's layers.
        minibatch_std: append the minibatch std-dev feature map before D's last layer.
    """

    image_shape: tuple[int, int, int] = (1, 28, 28)
    latent_dim: int = 100
    num_classes: int = 10
    embed_dim: int = 50
    channels: tuple[int, int] = (128, 64)
    upsample: UpsampleMode = "convtranspose"
    spectral_norm: bool = False
    minibatch_std: bool = False

    def __post_init__(self) -> None:
        self.image_shape = tuple(self.image_shape)  # type: ignore[assignment]
        self.channels = tuple(self.channels)  # type: ignore[assignment]
        if self.image_shape[1] != self.image_shape[2] or self.image_shape[1] % 4:
            raise ValueError(
                f"cGAN needs square images with a side divisible by 4; got {self.image_shape}"
            )
        if self.num_classes < 2:
            raise ValueError(f"cGAN needs at least 2 classes; got num_classes={self.num_classes}")

    @property
    def base_size(self) -> int:
        return self.image_shape[1] // 4  # 28 -> 7


class CGANGenerator(nn.Module):
    def __init__(self, config: CGANConfig) -> None:
        super().__init__()
        self.config = config
        base, (c0, c1) = config.base_size, config.channels
        self.project_z = nn.Sequential(
            nn.Linear(config.latent_dim, c0 * base * base, bias=False),
            nn.BatchNorm1d(c0 * base * base),
            nn.ReLU(True),
        )
        self.label_embedding = nn.Embedding(config.num_classes, config.embed_dim)
        self.project_label = nn.Linear(config.embed_dim, base * base)  # 50 -> 49
        self.blocks = nn.Sequential(
            upsample_conv(c0 + 1, c1, config.upsample),  # (B, 129, 7, 7) -> (B, 64, 14, 14)
            nn.BatchNorm2d(c1),
            nn.ReLU(True),
            upsample_conv(
                c1, config.image_shape[0], config.upsample, bias=True
            ),  # -> (B, 1, 28, 28)
            nn.Tanh(),
        )
        self.apply(init_dcgan_weights)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is None:
            raise ValueError("cGAN generator needs class labels")
        base, c0 = self.config.base_size, self.config.channels[0]
        hz = self.project_z(z).view(-1, c0, base, base)  # (B, 128, 7, 7)
        hy = self.project_label(self.label_embedding(labels)).view(
            -1, 1, base, base
        )  # (B, 1, 7, 7)
        return self.blocks(torch.cat([hz, hy], dim=1))  # (B, 129, 7, 7) -> (B, 1, 28, 28)


class CGANDiscriminator(nn.Module):
    def __init__(self, config: CGANConfig) -> None:
        super().__init__()
        self.config = config
        sn = config.spectral_norm
        c, h, w = config.image_shape
        c0, c1 = config.channels
        self.label_embedding = nn.Embedding(config.num_classes, config.embed_dim)
        self.project_label = nn.Linear(config.embed_dim, h * w)  # 50 -> 784
        layers: list[nn.Module] = [
            maybe_spectral_norm(
                nn.Conv2d(c + 1, c1, 4, 2, 1), sn
            ),  # (B, 2, 28, 28) -> (B, 64, 14, 14)
            nn.LeakyReLU(0.2, inplace=True),
            maybe_spectral_norm(nn.Conv2d(c1, c0, 4, 2, 1, bias=False), sn),  # -> (B, 128, 7, 7)
        ]
        if not sn:
            layers.append(nn.BatchNorm2d(c0))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        flat_channels = c0
        if config.minibatch_std:
            layers.append(MinibatchStdDev())
            flat_channels += 1
        self.features = nn.Sequential(*layers)
        self.head = maybe_spectral_norm(nn.Linear(flat_channels * config.base_size**2, 1), sn)
        self.apply(init_dcgan_weights)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is None:
            raise ValueError("cGAN discriminator needs class labels")
        _, h, w = self.config.image_shape
        label_plane = self.project_label(self.label_embedding(labels)).view(
            -1, 1, h, w
        )  # (B, 1, 28, 28)
        h_ = self.features(torch.cat([x, label_plane.to(x.dtype)], dim=1))  # (B, 128, 7, 7)
        return self.head(h_.flatten(1)).squeeze(1)  # (B,)
