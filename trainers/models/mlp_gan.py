"""MLP-GAN after Goodfellow et al. 2014: both players are plain multilayer perceptrons.

G: z (100) -> 256 -> 512 -> 1024 -> 784, BatchNorm + LeakyReLU(0.2), Tanh out.
D: 784 -> 512 -> 256 -> 1 logit, LeakyReLU(0.2).
The "classroom" preset is G 100 -> 128 -> 784, D 784 -> 128 -> 1: small enough to train live.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from trainers.models import shared_options as shared
from trainers.models.blocks import MinibatchStdDev, maybe_spectral_norm
from trainers.options import option


@dataclass
class MLPGANConfig:
    """Shapes of the MLP-GAN.

    Args:
        image_shape: (C, H, W) of the images, e.g. (1, 28, 28).
        latent_dim: size of z.
        g_hidden: widths of G's hidden layers.
        d_hidden: widths of D's hidden layers.
        batchnorm: BatchNorm1d after each hidden G layer.
        spectral_norm: spectral normalisation on D's layers.
        minibatch_std: append the minibatch std-dev feature before D's last layer.
        num_classes: 0 (unconditional); kept for the common interface.
    """

    image_shape: tuple[int, int, int] = (1, 28, 28)
    latent_dim: int = shared.latent_dim()
    g_hidden: tuple[int, ...] = option(
        (256, 512, 1024), "widths of G's hidden layers", group="model", ui=False
    )
    d_hidden: tuple[int, ...] = option(
        (512, 256), "widths of D's hidden layers", group="model", ui=False
    )
    batchnorm: bool = option(True, "BatchNorm1d after each hidden G layer", group="model")
    spectral_norm: bool = shared.spectral_norm()
    minibatch_std: bool = shared.minibatch_std()
    num_classes: int = 0


class MLPGenerator(nn.Module):
    def __init__(self, config: MLPGANConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width = config.latent_dim
        for hidden in config.g_hidden:
            layers.append(nn.Linear(width, hidden))
            if config.batchnorm:
                layers.append(nn.BatchNorm1d(hidden))
            layers.append(nn.LeakyReLU(0.2))
            width = hidden
        layers += [nn.Linear(width, math.prod(config.image_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        # z: (B, latent_dim) -> (B, C*H*W) -> (B, C, H, W), values in [-1, 1]
        return self.net(z).view(z.shape[0], *self.config.image_shape)


class MLPDiscriminator(nn.Module):
    def __init__(self, config: MLPGANConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(config.image_shape)
        for hidden in config.d_hidden:
            layers += [
                maybe_spectral_norm(nn.Linear(width, hidden), config.spectral_norm),
                nn.LeakyReLU(0.2),
            ]
            width = hidden
        if config.minibatch_std:
            layers.append(MinibatchStdDev())
            width += 1
        layers.append(maybe_spectral_norm(nn.Linear(width, 1), config.spectral_norm))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        # x: (B, C, H, W) -> logits (B,)
        return self.net(x).squeeze(1)
