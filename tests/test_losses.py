"""The GAN objectives against the formulas, computed by hand on known logits."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainers.engine import TrainConfig
from trainers.losses import (
    FORMULAS,
    LOSSES,
    check_loss,
    d_loss,
    g_loss,
    gradient_penalty,
    realness,
    value_function,
)

REAL = torch.tensor([2.0, -1.0, 0.5, 3.0], dtype=torch.float64)  # D's logits on real images
FAKE = torch.tensor([-3.0, 0.0, 1.5, -0.5], dtype=torch.float64)  # D's logits on G(z)


def by_hand_v(real: torch.Tensor, fake: torch.Tensor) -> float:
    """V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))] with D = sigmoid(logit), written out naively."""
    d_x = [1 / (1 + math.exp(-float(r))) for r in real]
    d_gz = [1 / (1 + math.exp(-float(f))) for f in fake]
    return sum(math.log(p) for p in d_x) / len(d_x) + sum(math.log(1 - p) for p in d_gz) / len(d_gz)


def test_value_function_matches_goodfellow():
    expected = by_hand_v(REAL, FAKE)
    assert value_function(REAL, FAKE).item() == pytest.approx(expected, rel=1e-12)
    naive = torch.log(torch.sigmoid(REAL)).mean() + torch.log(1 - torch.sigmoid(FAKE)).mean()
    assert value_function(REAL, FAKE).item() == pytest.approx(naive.item(), rel=1e-12)


@pytest.mark.parametrize("name", ["minimax", "non-saturating"])
def test_d_loss_is_minus_value_function(name):
    assert d_loss(name, REAL, FAKE).item() == pytest.approx(-by_hand_v(REAL, FAKE), rel=1e-12)


@pytest.mark.parametrize("name", ["minimax", "non-saturating"])
def test_d_loss_equals_bce_form(name):
    bce = F.binary_cross_entropy_with_logits(
        REAL, torch.ones_like(REAL)
    ) + F.binary_cross_entropy_with_logits(FAKE, torch.zeros_like(FAKE))
    assert d_loss(name, REAL, FAKE).item() == pytest.approx(bce.item(), rel=1e-12)
    # and the probability-space BCELoss that tutorials use
    bce_probs = nn.BCELoss()(torch.sigmoid(REAL), torch.ones_like(REAL)) + nn.BCELoss()(
        torch.sigmoid(FAKE), torch.zeros_like(FAKE)
    )
    assert d_loss(name, REAL, FAKE).item() == pytest.approx(bce_probs.item(), rel=1e-9)


def test_g_minimax_is_log_one_minus_d_of_fake():
    expected = sum(math.log(1 - 1 / (1 + math.exp(-float(f)))) for f in FAKE) / len(FAKE)
    assert g_loss("minimax", FAKE).item() == pytest.approx(expected, rel=1e-12)
    # G minimises exactly the fake half of V(D, G): the real half does not depend on G
    real_half = sum(math.log(1 / (1 + math.exp(-float(r)))) for r in REAL) / len(REAL)
    assert g_loss("minimax", FAKE).item() == pytest.approx(
        by_hand_v(REAL, FAKE) - real_half, rel=1e-12
    )


def test_g_non_saturating_is_minus_log_d_of_fake():
    expected = -sum(math.log(1 / (1 + math.exp(-float(f)))) for f in FAKE) / len(FAKE)
    assert g_loss("non-saturating", FAKE).item() == pytest.approx(expected, rel=1e-12)
    bce = F.binary_cross_entropy_with_logits(FAKE, torch.ones_like(FAKE))
    assert g_loss("non-saturating", FAKE).item() == pytest.approx(bce.item(), rel=1e-12)


def test_minimax_saturates_where_non_saturating_does_not():
    """When D confidently rejects a fake (logit -10), minimax gives G almost no gradient."""
    grads = {}
    for name in ("minimax", "non-saturating"):
        logit = torch.tensor([-10.0], requires_grad=True)
        g_loss(name, logit).backward()
        grads[name] = logit.grad.item()
    assert abs(grads["minimax"]) < 1e-4
    assert grads["non-saturating"] == pytest.approx(-1.0, abs=1e-4)


def test_log_losses_are_stable_at_extreme_logits():
    real, fake = torch.tensor([-100.0]), torch.tensor([100.0])  # D completely wrong
    assert d_loss("minimax", real, fake).item() == pytest.approx(200.0)
    assert g_loss("non-saturating", torch.tensor([-100.0])).item() == pytest.approx(100.0)
    assert g_loss("minimax", torch.tensor([100.0])).item() == pytest.approx(-100.0)


def test_lsgan_on_known_numbers():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    # 1/2 mean((r - 1)^2) + 1/2 mean(f^2) = 1/2 * 2 + 1/2 * 2
    assert d_loss("lsgan", real, fake).item() == pytest.approx(2.0)
    # 1/2 mean((f - 1)^2) = 1/2 * mean(1, 1)
    assert g_loss("lsgan", fake).item() == pytest.approx(0.5)


def test_hinge_on_known_numbers():
    real, fake = torch.tensor([0.5, 2.0]), torch.tensor([-2.0, 0.5])
    # mean(relu(1 - r)) + mean(relu(1 + f)) = mean(0.5, 0) + mean(0, 1.5)
    assert d_loss("hinge", real, fake).item() == pytest.approx(1.0)
    assert g_loss("hinge", fake).item() == pytest.approx(0.75)


def test_wgan_on_known_numbers():
    real, fake = torch.tensor([0.5, 2.0]), torch.tensor([-2.0, 0.5])
    assert d_loss("wgan-gp", real, fake).item() == pytest.approx(-0.75 - 1.25)
    assert g_loss("wgan-gp", fake).item() == pytest.approx(0.75)


class LinearCritic(nn.Module):
    """D(x) = <w, flatten(x)>: its gradient w.r.t. x is w everywhere."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w)
        self.seen_labels = None

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        self.seen_labels = labels
        return x.flatten(1) @ self.w


def test_gradient_penalty_zero_for_unit_gradient():
    w = torch.randn(12, dtype=torch.float64)
    critic = LinearCritic(w / w.norm())
    real, fake = (
        torch.randn(6, 3, 2, 2, dtype=torch.float64),
        torch.randn(6, 3, 2, 2, dtype=torch.float64),
    )
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-12)


def test_gradient_penalty_positive_otherwise_and_trains_d():
    w = torch.randn(12, dtype=torch.float64)
    critic = LinearCritic(3 * w / w.norm())  # gradient norm 3 -> (3 - 1)^2 = 4
    real, fake = (
        torch.randn(6, 3, 2, 2, dtype=torch.float64),
        torch.randn(6, 3, 2, 2, dtype=torch.float64),
    )
    labels = torch.arange(6)
    penalty = gradient_penalty(critic, real, fake, labels)
    assert penalty.item() == pytest.approx(4.0, rel=1e-9)
    assert critic.seen_labels is labels
    penalty.backward()  # differentiable w.r.t. D's weights (create_graph=True)
    assert critic.w.grad is not None and critic.w.grad.norm() > 0


def test_unknown_loss_name_raises():
    for call in (
        lambda: d_loss("wgan", REAL, FAKE),
        lambda: g_loss("wgan", FAKE),
        lambda: check_loss("bce"),
    ):
        with pytest.raises(ValueError, match="unknown loss"):
            call()
    with pytest.raises(ValueError, match="unknown loss"):
        TrainConfig(loss="least-squares")


def test_every_loss_has_formulas_and_a_code_path():
    assert set(FORMULAS) == set(LOSSES)
    for name in LOSSES:
        assert check_loss(name) == name
        assert set(FORMULAS[name]) == {"d", "g"}
        assert torch.isfinite(d_loss(name, REAL, FAKE)) and torch.isfinite(g_loss(name, FAKE))


def test_realness_is_a_probability_for_log_losses_only():
    logits = torch.tensor([0.0, 2.0])
    assert realness("non-saturating", logits) == pytest.approx(torch.sigmoid(logits).mean().item())
    assert realness("minimax", logits) == pytest.approx((0.5 + 1 / (1 + math.exp(-2))) / 2)
    assert realness("wgan-gp", logits) == pytest.approx(1.0)
