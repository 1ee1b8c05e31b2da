"""The GAN objectives, written out so the maths is visible.

D outputs a logit ``l``; D(x) = sigmoid(l) is its probability that x is real.
Goodfellow et al. 2014 play the minimax game

    min_G max_D V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]

Every loss here is something to *minimise*: ``d_loss`` for D, ``g_loss`` for G.
Identities used: log sigmoid(l) = -softplus(-l) and log(1 - sigmoid(l)) = -softplus(l), which
are numerically safe where the naive forms overflow.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES: tuple[str, ...] = ("minimax", "non-saturating", "lsgan", "hinge", "wgan-gp")

# Formulas the explorer shows next to the numbers (same names as the code paths below).
FORMULAS: dict[str, dict[str, str]] = {
    "minimax": {
        "d": "L_D = -E[log D(x)] - E[log(1 - D(G(z)))]",
        "g": "L_G = E[log(1 - D(G(z)))]   (saturates: flat gradient when D rejects fakes)",
    },
    "non-saturating": {
        "d": "L_D = -E[log D(x)] - E[log(1 - D(G(z)))]",
        "g": "L_G = -E[log D(G(z))]   (same fixed point, strong gradient early on)",
    },
    "lsgan": {"d": "L_D = ½E[(D(x) - 1)²] + ½E[D(G(z))²]", "g": "L_G = ½E[(D(G(z)) - 1)²]"},
    "hinge": {"d": "L_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]", "g": "L_G = -E[D(G(z))]"},
    "wgan-gp": {
        "d": "L_D = E[D(G(z))] - E[D(x)] + λ E[(‖∇D(x̂)‖ - 1)²]",
        "g": "L_G = -E[D(G(z))]",
    },
}


def check_loss(name: str) -> str:
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return name


def value_function(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))], the quantity D maximises and G minimises."""
    return (-F.softplus(-real_logits)).mean() + (-F.softplus(fake_logits)).mean()


def d_loss(name: str, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """D's loss for real logits (B,) and fake logits (B,). (WGAN-GP's penalty is added by the caller.)"""
    if name in ("minimax", "non-saturating"):
        return -value_function(real_logits, fake_logits)  # = BCE(real, 1) + BCE(fake, 0)
    if name == "lsgan":
        return 0.5 * ((real_logits - 1) ** 2).mean() + 0.5 * (fake_logits**2).mean()
    if name == "hinge":
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
    if name == "wgan-gp":
        return fake_logits.mean() - real_logits.mean()
    raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")


def g_loss(name: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """G's loss for D's logits on fresh fakes (B,)."""
    if name == "minimax":
        return (-F.softplus(fake_logits)).mean()  # E[log(1 - D(G(z)))]
    if name == "non-saturating":
        return F.softplus(-fake_logits).mean()  # -E[log D(G(z))]
    if name == "lsgan":
        return 0.5 * ((fake_logits - 1) ** 2).mean()
    if name in ("hinge", "wgan-gp"):
        return -fake_logits.mean()
    raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")


def gradient_penalty(
    discriminator: torch.nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    alpha: torch.Tensor | None = None,
) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): E[(‖∇_x̂ D(x̂)‖₂ - 1)²] on random mixes x̂ of real and fake.

    ``generator`` (a CPU torch.Generator) makes the mixing weights reproducible, e.g. on resume;
    or pass them as ``alpha`` (B, 1, 1, 1) (several processes draw them for the global batch).
    """
    shape = (real.shape[0], *([1] * (real.dim() - 1)))
    if alpha is None:
        alpha = torch.rand(shape, generator=generator)
    alpha = alpha.to(real.device, real.dtype)  # (B, 1, 1, 1)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)  # (B, C, H, W)
    scores = discriminator(mixed, labels)
    (grads,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return ((grads.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def realness(name: str, logits: torch.Tensor) -> float:
    """What the UI calls D(x): a probability for the log-loss family, the raw score otherwise."""
    if name in ("minimax", "non-saturating"):
        return torch.sigmoid(logits.float()).mean().item()
    return logits.float().mean().item()


def g_loss_report(logits: torch.Tensor) -> dict[str, dict[str, float]]:
    """Both log-loss G objectives of :func:`g_loss` on these fakes' logits (B,), and how hard
    each pushes.

    For "minimax" and "non-saturating": ``loss`` (the batch mean) and ``grad``: the mean
    |dℓ/dlogit| per sample, found by autograd through the very same ``g_loss`` code. When D
    rejects the fakes (small D(G(z))) the minimax gradient is near 0 (it saturates) while the
    non-saturating one is near 1: that is why GANs train G with the non-saturating loss.
    """
    report: dict[str, dict[str, float]] = {}
    values = logits.detach().float().flatten().cpu()
    for name in ("minimax", "non-saturating"):
        leaf = values.clone().requires_grad_(True)  # (B,) a fresh leaf for autograd
        loss = g_loss(name, leaf)
        (grad,) = torch.autograd.grad(loss, leaf)
        report[name] = {"loss": loss.item(), "grad": (grad.abs() * len(values)).mean().item()}
    return report


def class_loss(class_logits: torch.Tensor | None, labels: torch.Tensor | None) -> torch.Tensor:
    """AC-GAN's auxiliary loss (Odena et al. 2017): cross-entropy of D's class head (B, K)
    against the labels (B,), in float32. 0 when there is no class head (other conditionings)."""
    if class_logits is None or labels is None:
        return torch.zeros(())
    return F.cross_entropy(class_logits.float(), labels)
