"""Conditional GAN (Mirza & Osindero 2014) for 28x28 images: both players see the class label.

G (every conditioning):
   z (B, 100) -> Linear -> (B, 128, 7, 7)
   label (B,) -> Embedding(10, 50) -> Linear -> (B, 49) -> (B, 1, 7, 7)
   concatenate -> (B, 129, 7, 7) -> up (B, 64, 14, 14) -> up (B, 1, 28, 28) Tanh

D, ``conditioning="concat"`` (the seed design; the default, so older checkpoints load as they are):
   label -> Embedding(10, 50) -> Linear -> (B, 784) -> (B, 1, 28, 28)
   stacked with the image -> (B, 2, 28, 28) -> conv s2 (B, 64, 14, 14) -> conv s2 (B, 128, 7, 7)
   -> flatten h (B, 6272) -> 1 logit

D, ``conditioning="projection"`` (Miyato & Koyama 2018, "cGANs with Projection Discriminator"):
   image (B, 1, 28, 28) -> the same two convs -> h (B, 6272)
   logit = linear(h) + <embed(y), h>         embed: Embedding(10, 6272)
   The label enters as an inner product with D's last features: D asks "is this a real image?"
   and "does it look like class y?" in one number, which pushes G harder to draw the class.

D, ``conditioning="acgan"`` (Odena, Olah & Shlens 2017, "Conditional Image Synthesis with
Auxiliary Classifier GANs"):
   image -> the same two convs -> h (B, 6272) -> realness logit linear(h) (B,)
                                              -> class logits class_head(h) (B, 10)
   D does not see the label; its loss adds cross-entropy of the class head on real images
   (their labels) and on fakes (the labels G was asked for); G's loss adds the cross-entropy
   on its fakes, weighted by ``acgan_weight`` (the engine adds these: trainers/engine.py).

The class names (e.g. "T-shirt/top") are stored in the checkpoint, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from trainers.models import shared_options as shared
from trainers.models.blocks import (
    MinibatchStdDev,
    UpsampleMode,
    init_dcgan_weights,
    maybe_spectral_norm,
    upsample_conv,
)
from trainers.options import option

Conditioning = Literal["concat", "projection", "acgan"]
CONDITIONINGS: tuple[str, ...] = ("concat", "projection", "acgan")


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
        conditioning: how D uses the label: "concat" (a label plane stacked with the image,
            the seed design), "projection" (Miyato & Koyama 2018) or "acgan" (an auxiliary
            class head, Odena et al. 2017).
        acgan_weight: AC-GAN only: the weight of the class cross-entropy in both losses.
    """

    image_shape: tuple[int, int, int] = (1, 28, 28)
    latent_dim: int = shared.latent_dim()
    num_classes: int = 10
    embed_dim: int = option(
        50, "size of the class-label embedding", group="model", minimum=1, maximum=512, step=1
    )
    channels: tuple[int, int] = option(
        (128, 64),
        "channels of the 7x7 map from z and after the first upsampling",
        group="model",
        ui=False,
    )
    upsample: UpsampleMode = shared.upsample()
    spectral_norm: bool = shared.spectral_norm()
    minibatch_std: bool = shared.minibatch_std()
    conditioning: Conditioning = option(
        "concat",
        "how D sees the label: concat (label plane beside the image, the seed design), "
        "projection (Miyato & Koyama 2018) or acgan (auxiliary class head, Odena et al. 2017)",
        group="model",
        ui_label="D's conditioning",
    )
    acgan_weight: float = option(
        1.0,
        "AC-GAN: weight of the class cross-entropy added to D's and G's losses",
        group="model",
        minimum=0.0,
        maximum=10.0,
        ui_label="AC-GAN class-loss weight",
    )

    def __post_init__(self) -> None:
        self.image_shape = tuple(self.image_shape)  # type: ignore[assignment]
        self.channels = tuple(self.channels)  # type: ignore[assignment]
        if self.image_shape[1] != self.image_shape[2] or self.image_shape[1] % 4:
            raise ValueError(
                f"cGAN needs square images with a side divisible by 4; got {self.image_shape}"
            )
        if self.num_classes < 2:
            raise ValueError(f"cGAN needs at least 2 classes; got num_classes={self.num_classes}")
        if self.conditioning not in CONDITIONINGS:
            raise ValueError(
                f"unknown conditioning {self.conditioning!r}; choose one of {', '.join(CONDITIONINGS)}"
            )
        if self.acgan_weight < 0:
            raise ValueError(f"acgan_weight must be >= 0, got {self.acgan_weight}")

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
    """D(x, y) -> realness logits (B,); ``return_classes=True`` also gives the AC-GAN class
    logits (B, K) (None for the other conditionings)."""

    def __init__(self, config: CGANConfig) -> None:
        super().__init__()
        self.config = config
        sn = config.spectral_norm
        c, h, w = config.image_shape
        c0, c1 = config.channels
        in_channels = c
        if config.conditioning == "concat":  # the label as one more input plane
            self.label_embedding = nn.Embedding(config.num_classes, config.embed_dim)
            self.project_label = nn.Linear(config.embed_dim, h * w)  # 50 -> 784
            in_channels = c + 1
        layers: list[nn.Module] = [
            maybe_spectral_norm(
                nn.Conv2d(in_channels, c1, 4, 2, 1), sn
            ),  # (B, 2, 28, 28) -> (B, 64, 14, 14) (1 input plane without concat)
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
        flat = flat_channels * config.base_size**2  # 6272 (6321 with minibatch std)
        self.head = maybe_spectral_norm(nn.Linear(flat, 1), sn)
        self.apply(init_dcgan_weights)
        if config.conditioning == "projection":  # embed(y): one (6272,) direction per class
            self.class_embedding = maybe_spectral_norm(nn.Embedding(config.num_classes, flat), sn)
            nn.init.normal_(self._embedding_weight(), 0.0, 0.02)
        elif config.conditioning == "acgan":  # the auxiliary classifier beside the head
            self.class_head = maybe_spectral_norm(nn.Linear(flat, config.num_classes), sn)
            init_dcgan_weights(self.class_head)

    def _embedding_weight(self) -> torch.Tensor:
        parametrized = getattr(self.class_embedding, "parametrizations", None)
        return parametrized.weight.original if parametrized else self.class_embedding.weight

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None, return_classes: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor | None]:
        conditioning = self.config.conditioning
        if labels is None and conditioning != "acgan":
            raise ValueError("cGAN discriminator needs class labels")
        if conditioning == "concat":
            _, h, w = self.config.image_shape
            label_plane = self.project_label(self.label_embedding(labels)).view(
                -1, 1, h, w
            )  # (B, 1, 28, 28)
            x = torch.cat([x, label_plane.to(x.dtype)], dim=1)  # (B, 2, 28, 28)
        features = self.features(x).flatten(1)  # (B, 6272)
        logits = self.head(features).squeeze(1)  # (B,)
        class_logits = None
        if conditioning == "projection":  # + <embed(y), h>
            projection = (self.class_embedding(labels).to(features.dtype) * features).sum(1)
            logits = logits + projection  # (B,)
        elif conditioning == "acgan":
            class_logits = self.class_head(features)  # (B, K)
        return (logits, class_logits) if return_classes else logits
