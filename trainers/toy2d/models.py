"""G and D of the 2-D playground: small MLPs (noise -> point, point -> logit)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trainers.losses import check_loss
from trainers.models.blocks import MinibatchStdDev, maybe_spectral_norm
from trainers.toy2d.data import TOY_DATASETS


@dataclass
class Toy2DConfig:
    """Everything that defines one 2-D GAN experiment.

    Args:
        dataset: one of ``TOY_DATASETS``.
        latent_dim: size of z.
        width / depth: hidden units per layer and hidden layers, for both G and D.
        loss: "minimax", "non-saturating", "lsgan", "hinge" or "wgan-gp" (trainers.losses).
        d_steps / g_steps: updates per side in one round of "Step both" (k_D, k_G).
        lr_d / lr_g: Adam learning rates; beta1 / beta2: Adam betas.
        batch_size: real points (and fake points) per update.
        spectral_norm: spectral normalisation on D's layers (Miyato et al. 2018).
        minibatch_std: minibatch discrimination in D: the batch's spread as an extra feature.
        gp_weight: lambda of WGAN-GP's gradient penalty.
        seed: seeds the weights, the noise and the real samples.
    """

    dataset: str = "ring"
    latent_dim: int = 2
    width: int = 64
    depth: int = 2
    loss: str = "non-saturating"
    d_steps: int = 1
    g_steps: int = 1
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 256
    spectral_norm: bool = False
    minibatch_std: bool = False
    gp_weight: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        check_loss(self.loss)
        if self.dataset not in TOY_DATASETS:
            raise ValueError(
                f"unknown toy data set {self.dataset!r}; choose one of {', '.join(TOY_DATASETS)}"
            )
        if self.width < 1 or self.depth < 1 or self.latent_dim < 1 or self.batch_size < 2:
            raise ValueError("width, depth and latent_dim must be >= 1 and batch_size >= 2")
        if self.d_steps < 1 or self.g_steps < 1:
            raise ValueError("d_steps and g_steps must be >= 1")


class Toy2DGenerator(nn.Module):
    """z (B, latent_dim) -> [Linear -> ReLU] x depth -> Linear -> x (B, 2). No tanh: R^2 is unbounded."""

    def __init__(self, config: Toy2DConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = config.latent_dim
        for _ in range(config.depth):
            layers += [nn.Linear(width, config.width), nn.ReLU()]
            width = config.width
        layers.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z)  # (B, latent_dim) -> (B, 2)


class Toy2DDiscriminator(nn.Module):
    """x (B, 2) -> [Linear -> LeakyReLU(0.2)] x depth -> (minibatch std) -> Linear -> logit (B,).

    With ``minibatch_std`` the last layer also sees s = mean over features of the std across
    the batch (``trainers.models.blocks.MinibatchStdDev``): a collapsed G makes a batch with a
    tiny s, which D can learn to call fake.
    """

    def __init__(self, config: Toy2DConfig) -> None:
        super().__init__()
        sn = config.spectral_norm
        layers: list[nn.Module] = []
        width = 2
        for _ in range(config.depth):
            layers += [maybe_spectral_norm(nn.Linear(width, config.width), sn), nn.LeakyReLU(0.2)]
            width = config.width
        self.body = nn.Sequential(*layers)
        self.minibatch_std = MinibatchStdDev() if config.minibatch_std else None
        self.head = maybe_spectral_norm(
            nn.Linear(width + (1 if config.minibatch_std else 0), 1), sn
        )

    def forward(
        self,
        x: torch.Tensor,
        labels: torch.Tensor | None = None,
        batch_std: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits (B,). ``batch_std`` replaces the minibatch-std feature (to judge single points
        "as if they came in that batch", e.g. for the heatmap)."""
        h = self.body(x)  # (B, width)
        if self.minibatch_std is not None:
            if batch_std is None:
                h = self.minibatch_std(h)  # (B, width + 1)
            else:
                h = torch.cat([h, batch_std.reshape(1, 1).expand(h.shape[0], 1).to(h.dtype)], dim=1)
        return self.head(h).squeeze(1)

    @torch.no_grad()
    def batch_std_of(self, x: torch.Tensor) -> torch.Tensor | None:
        """The minibatch-std feature D computes for batch x (a scalar), or None without it."""
        if self.minibatch_std is None:
            return None
        h = self.body(x)
        return h.float().std(dim=0, unbiased=False).mean()
