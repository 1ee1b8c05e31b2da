"""Tests for the 2-D toy GANs (trainers/toy2d/), the playground pictures (explorer/playground.py)
and the playground tab's handlers (explorer/gradio_ui/tabs/playground.py)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from explorer import playground as pg
from explorer import playground_plot as plane
from trainers.toy2d import (
    PRESETS,
    TOY_DATASETS,
    VIEW_LIMIT,
    Toy2DConfig,
    Toy2DTrainer,
    ToyDataError,
    grid_modes,
    js_divergence,
    js_estimate,
    make_dataset,
    mode_coverage,
    points_from_csv,
    preset_config,
    ring_modes,
)

SMALL = {"width": 16, "depth": 1, "batch_size": 64}


def _around(modes: np.ndarray, per_mode: int, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([m + sigma * rng.standard_normal((per_mode, 2)) for m in modes])


# --- metrics --------------------------------------------------------------------------------------


def test_mode_coverage_all_modes_of_the_ring() -> None:
    modes = ring_modes()
    result = mode_coverage(_around(modes, 250, 0.05), modes, sigma=0.05)
    assert result.covered == 8 and result.num_modes == 8
    assert result.high_quality_share > 0.98  # 3 sigma holds 98.9 % of a 2-D Gaussian
    assert sum(result.counts) == pytest.approx(2000 * result.high_quality_share, abs=1)


def test_mode_coverage_one_mode_and_none() -> None:
    modes = ring_modes()
    collapsed = _around(modes[:1], 2000, 0.05)
    result = mode_coverage(collapsed, modes, sigma=0.05)
    assert result.covered == 1
    assert result.counts[0] > 1900 and sum(result.counts[1:]) == 0
    nowhere = np.zeros((2000, 2))  # the centre of the ring is 2 away from every mode
    result = mode_coverage(nowhere, modes, sigma=0.05)
    assert result.covered == 0 and result.high_quality_share == 0.0


def test_mode_coverage_threshold_and_grid() -> None:
    modes = grid_modes()
    assert modes.shape == (25, 2)
    # 24 modes well covered, one with only a few samples: below a fifth of its fair share
    samples = np.concatenate([_around(modes[:24], 100, 0.05), _around(modes[24:], 3, 0.05)])
    result = mode_coverage(samples, modes, sigma=0.05)
    assert result.covered == 24
    assert result.min_count == int(np.ceil(0.2 / 25 * len(samples)))


def test_js_divergence_bounds() -> None:
    p = np.array([0.5, 0.5, 0.0, 0.0])
    q = np.array([0.0, 0.0, 0.5, 0.5])
    assert js_divergence(p, p) == pytest.approx(0.0)
    assert js_divergence(p, q) == pytest.approx(1.0)
    real = _around(ring_modes(), 250, 0.05, seed=1)
    assert js_estimate(real, _around(ring_modes(), 250, 0.05, seed=2)) < 0.1
    assert js_estimate(real, _around(ring_modes()[:1], 2000, 0.05)) > 0.6


# --- data -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in TOY_DATASETS if n != "points"])
def test_builtin_datasets_fit_the_window(name: str) -> None:
    data = make_dataset(name)
    x = data.sample(4000, torch.Generator().manual_seed(0))
    assert x.shape == (4000, 2) and x.dtype == torch.float32
    assert x.abs().max() < VIEW_LIMIT
    assert (data.modes is not None) == (name in ("ring", "grid"))


def test_points_from_csv_reads_header_and_tabs(tmp_path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("x,y\n0.5,-1\n# a comment\n1.5, 2\n")
    assert points_from_csv(path).tolist() == [[0.5, -1.0], [1.5, 2.0]]
    assert points_from_csv("1\t2\n3\t4\n").shape == (2, 2)
    far = points_from_csv("0,0\n100,50\n")  # outside [-3, 3]^2: scaled to fit, shape kept
    assert np.abs(far).max() == pytest.approx(2.5)
    assert far[1, 0] - far[0, 0] == pytest.approx(2 * (far[1, 1] - far[0, 1]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no points"),
        ("x,y\n", "holds no points"),
        ("1,2\n3\n", "line 2"),
        ("1,2\nfoo,bar\n", "line 2"),
        ("1,nan\n", "finite"),
    ],
)
def test_points_from_csv_bad_files_say_why(text: str, message: str) -> None:
    with pytest.raises(ToyDataError, match=message):
        points_from_csv(text + ("\n" if "\n" not in text else ""))


def test_user_points_dataset() -> None:
    with pytest.raises(ToyDataError, match="no points"):
        make_dataset("points", [])
    trainer = Toy2DTrainer(
        Toy2DConfig(dataset="points", **SMALL), points=[(1.0, 1.0), (-1.0, -1.0)]
    )
    x = trainer.real_points(1000)
    assert np.abs(np.abs(x) - 1).max() < 0.5  # around the two points


# --- the trainer -----------------------------------------------------------------------------------


def _changed(before: dict, after: dict) -> bool:
    return any(not torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize(
    "options", [{}, {"spectral_norm": True, "minibatch_std": True, "loss": "wgan-gp"}]
)
def test_step_d_changes_only_d_and_step_g_only_g(options: dict) -> None:
    trainer = Toy2DTrainer(Toy2DConfig(**SMALL, **options))
    before = trainer.parameter_snapshot()
    trainer.step_d(3)
    after_d = trainer.parameter_snapshot()
    assert _changed(before["D"], after_d["D"])
    assert not _changed(before["G"], after_d["G"])
    trainer.step_g(3)
    after_g = trainer.parameter_snapshot()
    assert _changed(after_d["G"], after_g["G"])
    assert not _changed(after_d["D"], after_g["D"])  # spectral norm's buffers included
    assert (trainer.d_updates, trainer.g_updates) == (3, 3)


def test_step_both_runs_k_updates_per_side() -> None:
    trainer = Toy2DTrainer(Toy2DConfig(d_steps=3, g_steps=2, **SMALL))
    stats = trainer.step_both(2)
    assert (trainer.d_updates, trainer.g_updates) == (6, 4)
    assert {"d", "g", "d_real", "d_fake"} <= set(stats)
    assert set(trainer.last_stats()) == {"d", "g", "d_real", "d_fake"}


def test_reset_and_live_options() -> None:
    trainer = Toy2DTrainer(Toy2DConfig(**SMALL))
    start = trainer.fake_points(50)
    trainer.step_both(3)
    assert trainer.set_options(loss="hinge", lr_g=5e-4) is False  # applies at once, keeps training
    assert trainer.g_updates == 3 and trainer.opt_g.param_groups[0]["lr"] == 5e-4
    assert trainer.set_options(width=8) is True  # a different network: reset
    assert trainer.g_updates == 0
    trainer.set_options(width=16)
    np.testing.assert_array_equal(trainer.fake_points(50), start)  # same seed, same start


def test_heatmap_and_gradient_arrows() -> None:
    trainer = Toy2DTrainer(Toy2DConfig(**SMALL))
    trainer.step_both(5)
    grid = trainer.d_on_grid(16)
    assert grid.shape == (16, 16) and grid.min() >= 0 and grid.max() <= 1
    points, push = trainer.g_gradients(32)
    assert points.shape == push.shape == (32, 2)
    # moving each fake point a little along its arrow lowers G's loss at that point
    from trainers.losses import g_loss

    with torch.no_grad():
        x = torch.as_tensor(points)
        step = (
            1e-3
            * torch.as_tensor(push)
            / torch.as_tensor(push).norm(dim=1, keepdim=True).clamp_min(1e-12)
        )
        trainer.discriminator.eval()
        before = torch.stack([g_loss("non-saturating", trainer.discriminator(p[None])) for p in x])
        after = torch.stack(
            [g_loss("non-saturating", trainer.discriminator(p[None])) for p in x + step]
        )
    assert (after <= before + 1e-7).float().mean() > 0.9


def test_presets_differ_by_one_switch() -> None:
    collapse, cure = PRESETS["collapse"], PRESETS["cure"]
    assert {k for k in collapse if collapse[k] != cure.get(k)} == {"loss"}
    assert preset_config("cure", seed=3).seed == 3


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("GAN_EXPLORER_SLOW_TESTS"),
    reason="about a minute on 2 CPU cores; "
    "set GAN_EXPLORER_SLOW_TESTS=1 (benchmarks/playground.py checks 5 seeds)",
)
def test_collapse_preset_collapses_and_cure_covers_more() -> None:
    torch.set_num_threads(1)
    covered = {}
    for name in ("collapse", "cure"):
        trainer = Toy2DTrainer(preset_config(name, seed=0))
        trainer.step_both(1000)
        covered[name] = trainer.metrics().modes_covered
    assert covered["collapse"] <= 4
    assert covered["cure"] >= covered["collapse"] + 3


# --- pictures -------------------------------------------------------------------------------------


def test_pixel_and_data_coordinates_round_trip() -> None:
    points = np.array([[-2.0, 1.5], [0.0, 0.0], [2.9, -2.9]])
    pixels = plane.data_to_pixel(points)
    back = [plane.pixel_to_data(c, r + plane.HEADER) for c, r in pixels]
    np.testing.assert_allclose(back, points, atol=0.01)
    assert plane.pixel_to_data(10, 2) is None  # on the title strip


def test_render_draws_the_state() -> None:
    trainer = Toy2DTrainer(Toy2DConfig(**SMALL))
    trainer.step_both(2)
    image = plane.render(trainer)
    assert (
        image.shape == (plane.HEADER + plane.PLOT_SIZE + plane.FOOTER, plane.PLOT_SIZE, 3)
        and image.dtype == np.uint8
    )
    bare = plane.render(
        trainer, plane.View(heatmap=False, real=False, fake=False, arrows=False, modes=False)
    )
    assert (image != bare).any()
    text = plane.figures_markdown(
        trainer, trainer.metrics(), trainer.last_stats(), plane.mean_push(trainer)
    )
    assert "modes covered" in text and "JS divergence" in text and "L_G = -E[log D(G(z))]" in text


# --- the tab's handlers (plain functions) -------------------------------------------------------------


def _values(dataset: str = "ring", **overrides) -> tuple:

    settings = {
        "dataset": dataset,
        "loss": "non-saturating",
        "d_steps": 1,
        "g_steps": 1,
        "spectral_norm": False,
        "minibatch_std": False,
        "lr_d": 1e-3,
        "lr_g": 1e-3,
        "width": 16,
        "depth": 1,
        "latent_dim": 2,
        "batch_size": 64,
        "seed": 0,
        "show": plane.SHOW_CHOICES,
    } | overrides
    return tuple(settings[name] for name in pg.SETTING_NAMES)


def test_tab_handlers_step_one_side_at_a_time() -> None:
    from explorer.gradio_ui.tabs import playground as tab

    session, plot, figures, history = tab.on_step_d(None, *_values())
    assert (session.trainer.d_updates, session.trainer.g_updates) == (1, 0)
    assert plot.ndim == 3 and "modes covered" in figures
    session, *_ = tab.on_step_g(session, *_values())
    assert (session.trainer.d_updates, session.trainer.g_updates) == (1, 1)
    session, *_ = tab.on_step_both(session, 3, *_values(d_steps=2))
    assert (session.trainer.d_updates, session.trainer.g_updates) == (7, 4)
    session, *_ = tab.on_reset(session, *_values())
    assert session.trainer.g_updates == 0


def test_tab_clicks_and_csv_make_your_points(tmp_path) -> None:
    from explorer.gradio_ui.tabs import playground as tab

    session, plot, figures, _ = tab.on_settings(None, *_values("points"))
    assert session.trainer is None and "click" in figures
    c, r = plane.data_to_pixel(np.array([[1.0, -1.0]]))[0]
    click = SimpleNamespace(index=[c, r + plane.HEADER])
    session, *_ = tab.on_click(session, click, *_values("points"))
    assert session.points == [pytest.approx((1.0, -1.0), abs=0.02)]
    assert session.trainer is not None and session.trainer.config.dataset == "points"
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\nhello,3\n")
    outputs = tab.on_csv(session, str(bad), *_values("points"))
    assert "line 2" in outputs[2]
    good = tmp_path / "good.csv"
    good.write_text("x,y\n0,0\n1,1\n-1,1\n")
    outputs = tab.on_csv(session, str(good), *_values("ring"))
    assert len(outputs[0].points) == 3 and outputs[0].trainer.config.dataset == "points"


def test_tab_builds_with_named_endpoints() -> None:
    import gradio as gr

    from explorer.gradio_ui.tabs import playground as tab

    with gr.Blocks() as demo:
        tab.build_tab()
    names = [fn.api_name for fn in demo.fns.values()]
    assert all(name.startswith("playground_") for name in names)
    assert len(names) == len(set(names)) >= 10
