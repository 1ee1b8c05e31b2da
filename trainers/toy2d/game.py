"""The adversarial game on the plane: one D half-step, one G half-step, and what the
playground shows of it (D's heatmap, G's gradient arrows, the figures)."""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import numpy as np
import torch

from trainers.losses import d_loss, g_loss, gradient_penalty, realness
from trainers.toy2d.data import VIEW_LIMIT, check_points, make_dataset
from trainers.toy2d.metrics import Toy2DMetrics, js_estimate, mode_coverage, realness_map
from trainers.toy2d.models import Toy2DConfig, Toy2DDiscriminator, Toy2DGenerator

EVAL_SAMPLES = 2000  # samples for the figures (real and fake)


class Toy2DTrainer:
    """G, D, their Adam optimisers and the counters of one 2-D experiment.

    ``step_d`` only changes D and ``step_g`` only changes G (the other network is put in eval
    mode and its optimiser does not step), so you can play one side at a time, as in GAN Lab.

    Args:
        config: the experiment.
        points: the user's (N, 2) points when ``config.dataset == "points"``.
    """

    def __init__(self, config: Toy2DConfig, points: np.ndarray | list | None = None) -> None:
        self.config = config
        self.points = None if points is None else check_points(points)
        self.data = make_dataset(config.dataset, self.points)
        self.reset()

    # --- setup ----------------------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> None:
        """New random G and D (same seed = same start), fresh optimisers, counters at 0."""
        if seed is not None:
            self.config = replace(self.config, seed=seed)
        cfg = self.config
        torch.manual_seed(cfg.seed)
        self.generator = Toy2DGenerator(cfg)
        self.discriminator = Toy2DDiscriminator(cfg)
        betas = (cfg.beta1, cfg.beta2)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=cfg.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=cfg.lr_d, betas=betas)
        self.rng = torch.Generator().manual_seed(cfg.seed + 1)  # training noise and real batches
        fixed = torch.Generator().manual_seed(cfg.seed + 2)
        self.eval_z = torch.randn(
            EVAL_SAMPLES, cfg.latent_dim, generator=fixed
        )  # (2000, latent): figures and plot
        reference = torch.Generator().manual_seed(10_000 + cfg.seed)
        self.eval_real = self.data.sample(EVAL_SAMPLES, reference).numpy()  # (2000, 2)
        self.js_floor = js_estimate(
            self.eval_real, self.data.sample(EVAL_SAMPLES, reference).numpy()
        )
        self.d_updates = 0
        self.g_updates = 0
        self.history: list[
            dict[str, float]
        ] = []  # one entry per update: kind, losses, D(x), D(G(z))

    def set_options(self, **changes) -> bool:
        """Change settings. Loss, k, learning rates and batch size apply at once (the networks
        keep learning); anything that changes the networks or the data resets. Returns True on reset."""
        live = {
            "loss",
            "d_steps",
            "g_steps",
            "lr_d",
            "lr_g",
            "batch_size",
            "gp_weight",
            "beta1",
            "beta2",
        }
        points = changes.pop("points", None)
        new = replace(self.config, **changes)
        if points is not None:
            self.points = check_points(points)
        needs_reset = any(
            getattr(new, k) != getattr(self.config, k) for k in asdict(new) if k not in live
        )
        needs_reset |= points is not None
        self.config = new
        if needs_reset:
            self.data = make_dataset(new.dataset, self.points)
            self.reset()
            return True
        for group in self.opt_d.param_groups:
            group["lr"], group["betas"] = new.lr_d, (new.beta1, new.beta2)
        for group in self.opt_g.param_groups:
            group["lr"], group["betas"] = new.lr_g, (new.beta1, new.beta2)
        return False

    # --- the two half-steps ---------------------------------------------------------------------

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.latent_dim, generator=self.rng)  # (n, latent_dim)

    def _real(self, n: int) -> torch.Tensor:
        return self.data.sample(n, self.rng)  # (n, 2)

    def step_d(self, k: int | None = None) -> dict[str, float]:
        """k updates of D only (default ``config.d_steps``); returns the last one's numbers."""
        cfg = self.config
        self.generator.eval()  # G is only used, never changed
        self.discriminator.train()
        stats: dict[str, float] = {}
        for _ in range(cfg.d_steps if k is None else k):
            real = self._real(cfg.batch_size)  # (B, 2)
            with torch.no_grad():
                fake = self.generator(self._noise(cfg.batch_size))  # (B, 2), no graph into G
            real_logits = self.discriminator(real)  # (B,)
            fake_logits = self.discriminator(fake)  # (B,)
            loss = d_loss(cfg.loss, real_logits, fake_logits)
            if cfg.loss == "wgan-gp":
                loss = loss + cfg.gp_weight * gradient_penalty(self.discriminator, real, fake)
            self.opt_d.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_d.step()
            self.d_updates += 1
            stats = {
                "d": loss.item(),
                "d_real": realness(cfg.loss, real_logits),
                "d_fake": realness(cfg.loss, fake_logits),
            }
            self.history.append(
                {"kind": 0, "d_updates": self.d_updates, "g_updates": self.g_updates, **stats}
            )
        return stats

    def step_g(self, k: int | None = None) -> dict[str, float]:
        """k updates of G only (default ``config.g_steps``); D is frozen and in eval mode
        (so spectral norm's power iteration does not touch D's buffers either)."""
        cfg = self.config
        self.generator.train()
        self.discriminator.eval()
        self.discriminator.requires_grad_(False)  # gradients flow through D into G; D stays put
        stats: dict[str, float] = {}
        try:
            for _ in range(cfg.g_steps if k is None else k):
                fake = self.generator(self._noise(cfg.batch_size))  # (B, 2)
                fake_logits = self.discriminator(fake)  # (B,)
                loss = g_loss(cfg.loss, fake_logits)
                self.opt_g.zero_grad(set_to_none=True)
                loss.backward()
                self.opt_g.step()
                self.g_updates += 1
                stats = {"g": loss.item(), "d_fake": realness(cfg.loss, fake_logits)}
                self.history.append(
                    {"kind": 1, "d_updates": self.d_updates, "g_updates": self.g_updates, **stats}
                )
        finally:
            self.discriminator.requires_grad_(True)
        return stats

    def step_both(self, rounds: int = 1) -> dict[str, float]:
        """``rounds`` rounds of (k_D D-updates, then k_G G-updates)."""
        stats: dict[str, float] = {}
        for _ in range(rounds):
            stats = self.step_d() | self.step_g()
            if not all(math.isfinite(v) for v in stats.values()):
                raise FloatingPointError(
                    f"a loss became {stats}; press Reset and lower the learning rates"
                )
        return stats

    def last_stats(self) -> dict[str, float]:
        """The latest numbers of each side: L_D, L_G, D(x), D(G(z)) (probabilities for the
        log losses, raw scores otherwise: ``trainers.losses.realness``)."""
        stats: dict[str, float] = {}
        for entry in reversed(self.history):
            side = "d" if entry["kind"] == 0 else "g"
            if side in stats:
                continue
            stats[side] = entry[side]
            if side == "d":
                stats["d_real"], stats["d_fake"] = entry["d_real"], entry["d_fake"]
            if "d" in stats and "g" in stats:
                break
        return stats

    @property
    def rounds(self) -> int:
        """G updates count the rounds, as in the image engine's ``step``."""
        return self.g_updates

    # --- what the playground shows --------------------------------------------------------------

    @torch.no_grad()
    def fake_points(self, n: int = EVAL_SAMPLES) -> np.ndarray:
        """G's output for the fixed evaluation noise, (n, 2): the same z every time."""
        self.generator.eval()
        return self.generator(self.eval_z[:n]).numpy()

    def real_points(self, n: int = EVAL_SAMPLES) -> np.ndarray:
        """A fixed real sample, (n, 2)."""
        return self.eval_real[:n]

    @torch.no_grad()
    def d_on_grid(self, resolution: int = 64, limit: float = VIEW_LIMIT) -> np.ndarray:
        """D's opinion of the plane as float32 (resolution, resolution) in [0, 1] (1 = real).

        Row i is y = ys[i] with ys *descending* (row 0 is the top of the picture), column j is
        x = xs[j] ascending, cell centres over [-limit, limit]^2.
        """
        self.discriminator.eval()
        centres = (np.arange(resolution) + 0.5) / resolution * 2 * limit - limit
        xs, ys = np.meshgrid(centres, centres[::-1])
        grid = torch.as_tensor(
            np.stack([xs.ravel(), ys.ravel()], axis=1), dtype=torch.float32
        )  # (R*R, 2)
        fake = torch.as_tensor(self.fake_points(self.config.batch_size))
        real = torch.as_tensor(self.real_points(self.config.batch_size))
        std = self.discriminator.batch_std_of(fake)  # judge grid points as members of G's batch
        logits = self.discriminator(grid, batch_std=std)
        real_mean = self.discriminator(real).mean().item()
        fake_mean = self.discriminator(fake).mean().item()
        values = realness_map(self.config.loss, logits, real_mean, fake_mean)
        return values.reshape(resolution, resolution).numpy().astype(np.float32)

    def g_gradients(self, n: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Fake points x = G(z) (n, 2) and the direction G's loss moves them, -dL_G/dx (n, 2).

        L_G is the sum over the batch of the per-point loss, so each arrow is that point's own
        push (with minimax loss they shrink to nothing once D confidently rejects the fakes:
        the saturation that the non-saturating loss fixes).
        """
        self.generator.eval()
        self.discriminator.eval()
        with torch.no_grad():
            x = self.generator(self.eval_z[:n])  # (n, 2)
        x.requires_grad_(True)
        self.discriminator.requires_grad_(False)
        try:
            loss = g_loss(self.config.loss, self.discriminator(x)) * n  # sum of per-point losses
            (grad,) = torch.autograd.grad(loss, x)
        finally:
            self.discriminator.requires_grad_(True)
        return x.detach().numpy(), (-grad).numpy()

    def metrics(self) -> Toy2DMetrics:
        """Modes covered, high-quality share (ring and grid) and the JS estimate, on 2000 samples."""
        fake = self.fake_points()
        result = Toy2DMetrics(js=js_estimate(self.eval_real, fake), js_floor=self.js_floor)
        if self.data.modes is not None:
            coverage = mode_coverage(fake, self.data.modes, self.data.sigma)
            result.modes_covered = coverage.covered
            result.num_modes = coverage.num_modes
            result.high_quality_share = coverage.high_quality_share
            result.mode_counts = coverage.counts
        return result

    def parameter_snapshot(self) -> dict[str, dict[str, torch.Tensor]]:
        """Copies of every parameter and buffer of G and D (for "did this change?" checks)."""
        return {
            "G": {k: v.detach().clone() for k, v in self.generator.state_dict().items()},
            "D": {k: v.detach().clone() for k, v in self.discriminator.state_dict().items()},
        }
