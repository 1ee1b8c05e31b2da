"""The training engine: what one step touches, learning on a toy problem, events, stop, NaN."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from conftest import FAMILIES, TINY_OVERRIDES, build_trainer
from torch.optim.swa_utils import AveragedModel

from trainers import engine
from trainers.checkpoint import read_meta
from trainers.data import synthetic_dataset
from trainers.device import autocast, pick_device, resolve_precision
from trainers.engine import GANTrainer, TrainConfig
from trainers.events import CallbackList, Checkpointed, Finished, Samples, Step
from trainers.images import make_grid
from trainers.loop import TrainingDiverged
from trainers.losses import LOSSES
from trainers.registry import get_spec


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> set[str]:
    return {
        name for name, p in module.named_parameters() if not torch.equal(before[name], p.detach())
    }


@pytest.mark.parametrize("model", FAMILIES)
def test_train_step_changes_g_and_d(model):
    trainer = build_trainer(model)
    g0, d0 = snapshot(trainer.generator), snapshot(trainer.discriminator)
    step = trainer.train_step()
    assert isinstance(step, Step) and step.step == 1 and trainer.step == 1
    g_changed, d_changed = changed(g0, trainer.generator), changed(d0, trainer.discriminator)
    # every weight tensor moved (a cGAN embedding may keep the rows of labels not drawn yet)
    assert {n for n in g0 if "label_embedding" not in n} <= g_changed
    assert {n for n in d0 if "label_embedding" not in n} <= d_changed


@pytest.mark.parametrize("model", FAMILIES)
def test_d_step_changes_only_d(model):
    trainer = build_trainer(model)
    g0, d0 = snapshot(trainer.generator), snapshot(trainer.discriminator)
    stats = trainer.d_step()
    assert set(stats) == {"d", "d_real", "d_fake"}
    assert changed(g0, trainer.generator) == set()
    assert changed(d0, trainer.discriminator)
    assert all(p.grad is None for p in trainer.generator.parameters())  # fakes were detached


@pytest.mark.parametrize("model", FAMILIES)
def test_g_step_changes_only_g(model):
    trainer = build_trainer(model)
    g0, d0 = snapshot(trainer.generator), snapshot(trainer.discriminator)
    stats = trainer.g_step()
    assert "g" in stats
    assert changed(d0, trainer.discriminator) == set()
    assert changed(g0, trainer.generator)
    assert all(p.grad is None for p in trainer.discriminator.parameters())  # no grads leaked into D
    assert all(
        p.requires_grad for p in trainer.discriminator.parameters()
    )  # and D is trainable again


def test_d_loss_falls_on_an_easy_toy_problem():
    """G frozen (lr_g = 0): D alone learns to tell the fixed real set from G's fakes."""
    trainer = build_trainer("mlp-gan", steps=20, lr_g=0.0, lr_d=1e-3, seed=3)
    losses: list[float] = []
    trainer.run(lambda e: losses.append(e.losses["d"]) if isinstance(e, Step) else None)
    assert len(losses) == 20
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])


@pytest.mark.parametrize("k", [1, 3])
def test_k_d_steps_consume_k_batches_per_step(k, monkeypatch):
    trainer = build_trainer("mlp-gan", d_steps=k, steps=2)
    calls = {"d": 0, "g": 0}
    d_step, g_step = trainer.d_step, trainer.g_step
    monkeypatch.setattr(
        trainer, "d_step", lambda: calls.__setitem__("d", calls["d"] + 1) or d_step()
    )
    monkeypatch.setattr(
        trainer, "g_step", lambda: calls.__setitem__("g", calls["g"] + 1) or g_step()
    )
    trainer.run()
    assert trainer.batches_drawn == 2 * k
    assert calls == {"d": 2 * k, "g": 2}
    assert trainer.epoch == pytest.approx(2 * k * 4 / 32)


def test_ema_generator_is_the_moving_average():
    """p_ema <- d * p_ema + (1 - d) * p after each G update, with the warm-up
    d = min(ema_decay, (1 + t) / (10 + t)) (t = G updates done before this one)."""
    trainer = build_trainer("mlp-gan", ema_decay=0.9)
    assert trainer.generator_ema is not None
    ema = snapshot(trainer.generator)  # the EMA starts as a copy of G
    assert changed(ema, trainer.generator_ema) == set()
    for t in range(3):
        trainer.train_step()
        decay = min(0.9, (1 + t) / (10 + t))
        g = snapshot(trainer.generator)
        ema = {name: decay * ema[name] + (1 - decay) * g[name] for name in g}
        for name, p_ema in trainer.generator_ema.named_parameters():
            torch.testing.assert_close(p_ema.detach(), ema[name])
    assert changed(snapshot(trainer.generator), trainer.generator_ema) == set(ema)  # EMA != G
    for b_ema, b in zip(trainer.generator_ema.buffers(), trainer.generator.buffers(), strict=True):
        assert torch.equal(b_ema, b)  # BatchNorm statistics are copied, not averaged
    assert build_trainer("mlp-gan").generator_ema is None  # off by default
    # kept by torch's AveragedModel; its .module is what is saved as "G_ema.*"
    assert isinstance(trainer.ema, AveragedModel) and trainer.ema.module is trainer.generator_ema
    assert int(trainer.ema.n_averaged) == 4  # the initial copy + one average per G update
    assert "G_ema.net.0.weight" in trainer.weights()


def test_samples_come_from_the_ema_generator_when_enabled():
    trainer = build_trainer("mlp-gan", ema_decay=0.5, steps=3)
    trainer.run()
    grid = trainer.sample_grid()
    ema = trainer.generator_ema
    trainer.generator_ema = None
    plain = trainer.sample_grid()
    trainer.generator_ema = ema
    assert not np.array_equal(grid, plain)
    assert np.array_equal(grid, trainer.sample_grid())  # fixed noise: same grid every time


def _nan_d_loss(name, real_logits, fake_logits):
    return (real_logits.mean() + fake_logits.mean()) * float("nan")


def test_nan_loss_raises_and_writes_no_checkpoint(tmp_path, monkeypatch):
    trainer = build_trainer("mlp-gan", out_dir=tmp_path, steps=3, checkpoint_every=1)
    monkeypatch.setattr(engine, "d_loss", _nan_d_loss)
    events: list = []
    with pytest.raises(TrainingDiverged, match="D loss"):
        trainer.run(events.append)
    assert not (tmp_path / "checkpoint").exists()
    assert not any(isinstance(e, Checkpointed) for e in events)
    assert isinstance(events[-1], Finished) and events[-1].reason == "error"


def test_nan_after_a_checkpoint_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    trainer = build_trainer("mlp-gan", out_dir=tmp_path, steps=2, checkpoint_every=2)
    trainer.run()
    weights = (tmp_path / "checkpoint" / "model.safetensors").read_bytes()
    trainer.config.steps = 4
    monkeypatch.setattr(engine, "g_loss", lambda name, logits: logits.mean() * float("inf"))
    with pytest.raises(TrainingDiverged, match="G loss"):
        trainer.run()
    assert (tmp_path / "checkpoint" / "model.safetensors").read_bytes() == weights


def test_huge_learning_rate_diverges_cleanly(tmp_path):
    """Without monkeypatching: an absurd lr blows the weights up; the engine stops with the error."""
    trainer = build_trainer(
        "mlp-gan",
        out_dir=tmp_path,
        steps=30,
        lr_g=1e30,
        lr_d=1e30,
        beta1=0.0,
        model_overrides={"batchnorm": False},
        checkpoint_every=1000,
    )
    with pytest.raises(TrainingDiverged):
        trainer.run()
    assert not (tmp_path / "checkpoint").exists()


def test_stop_event_stops_within_one_step():
    trainer = build_trainer("mlp-gan", steps=50)
    stop = threading.Event()
    steps: list[int] = []

    def callback(event):
        if isinstance(event, Step):
            steps.append(event.step)
            if event.step == 3:
                stop.set()

    finished = trainer.run(callback, stop)
    assert finished == Finished(3, "stopped")
    assert steps == [1, 2, 3] and trainer.step == 3


def test_stop_set_before_run_trains_nothing(tmp_path):
    trainer = build_trainer("mlp-gan", out_dir=tmp_path)
    stop = threading.Event()
    stop.set()
    assert trainer.run(stop=stop).reason == "stopped"
    assert trainer.step == 0 and not (tmp_path / "checkpoint").exists()


def test_time_budget_stops_and_saves(tmp_path):
    """max_seconds counts this session's training time; the run stops between steps and saves."""
    trainer = build_trainer("mlp-gan", out_dir=tmp_path, steps=1_000_000, max_seconds=0.3)
    events: list = []
    finished = trainer.run(events.append)
    assert finished.reason == "stopped" and "time budget" in finished.message
    assert 0 < trainer.step < 1_000_000
    assert any(isinstance(e, Checkpointed) and e.step == trainer.step for e in events)
    assert read_meta(tmp_path)["step"] == trainer.step


def test_event_stream(tmp_path):
    trainer = build_trainer(
        "mlp-gan", out_dir=tmp_path, steps=6, sample_every=2, checkpoint_every=3
    )
    events: list = []
    finished = trainer.run(CallbackList([events.append]))
    steps = [e for e in events if isinstance(e, Step)]
    assert [e.step for e in steps] == [1, 2, 3, 4, 5, 6]
    assert all(b.epoch > a.epoch for a, b in zip(steps, steps[1:], strict=False))
    assert all(b.wall_time >= a.wall_time for a, b in zip(steps, steps[1:], strict=False))
    for e in steps:
        assert set(e.losses) == {"d", "g"}
        assert 0.0 < e.d_real < 1.0 and 0.0 < e.d_fake < 1.0
        assert e.images_per_s > 0
    samples = [e for e in events if isinstance(e, Samples)]
    assert [e.step for e in samples] == [2, 4, 6, 6]  # every 2 steps, plus the final grid
    assert all(
        e.image.dtype == np.uint8 and e.image.ndim == 3 and e.image.shape[-1] == 1 for e in samples
    )
    assert [e.step for e in events if isinstance(e, Checkpointed)] == [3, 6, 6]
    assert events[-1] == finished == Finished(6, "done")


@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_trains(loss):
    trainer = build_trainer("dcgan", loss=loss, steps=2)
    events: list = []
    trainer.run(events.append)
    steps = [e for e in events if isinstance(e, Step)]
    assert [e.step for e in steps] == [1, 2]
    assert all(np.isfinite(list(e.losses.values())).all() for e in steps)


def test_bf16_autocast_path_trains():
    trainer = build_trainer("dcgan", precision="bf16", steps=2)
    assert trainer.precision == "bf16"
    g0 = snapshot(trainer.generator)
    trainer.run()
    assert changed(g0, trainer.generator)
    assert all(
        p.dtype == torch.float32 for p in trainer.generator.parameters()
    )  # weights stay fp32


def test_conditional_model_needs_labelled_data():
    spec = get_spec("cgan")
    unlabelled = synthetic_dataset((1, 8, 8), num_classes=0, n=16)
    model_config = spec.make_config((1, 8, 8), num_classes=2, **TINY_OVERRIDES["cgan"])
    with pytest.raises(ValueError, match="labelled"):
        GANTrainer(spec, model_config, TrainConfig(model="cgan"), unlabelled)


def test_same_seed_same_training_different_seed_different():
    a, b, c = (build_trainer("mlp-gan", steps=2, seed=s) for s in (5, 5, 6))
    for t in (a, b, c):
        t.run()
    pa, pb, pc = (torch.cat([p.flatten() for p in t.generator.parameters()]) for t in (a, b, c))
    assert torch.equal(pa, pb)
    assert not torch.equal(pa, pc)


def test_sample_grid_layout():
    trainer = build_trainer("cgan")  # num_samples=8, 2 classes -> 2 rows of 4
    assert trainer.fixed_labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    grid = trainer.sample_grid()
    assert grid.shape == (2 * (8 + 2) + 2, 4 * (8 + 2) + 2, 1) and grid.dtype == np.uint8
    images = np.full((3, 2, 2, 1), 255, dtype=np.uint8)
    out = make_grid(images, nrow=2, padding=1)
    assert out.shape == (2 * 3 + 1, 2 * 3 + 1, 1)
    assert out.sum() == 3 * 4 * 255  # three images, zero padding


def test_train_config_validation():
    for bad in (
        {"steps": -1},
        {"batch_size": 0},
        {"d_steps": 0},
        {"ema_decay": 1.0},
        {"max_seconds": -1},
    ):
        with pytest.raises(ValueError):
            TrainConfig(**bad)


def test_device_and_precision_choice():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type in {"cpu", "cuda", "mps"}
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("tpu")
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32"
    assert resolve_precision("auto", cpu, convolutional=False) == "fp32"  # MLPs lose with bf16
    with pytest.raises(ValueError, match="unknown precision"):
        resolve_precision("fp8", cpu)
    with autocast(cpu, "bf16"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with autocast(cpu, "fp32"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def test_the_progress_bar_is_closed_when_a_run_fails() -> None:
    from trainers.progress import ProgressBar

    with pytest.raises(RuntimeError, match="disk on fire"), ProgressBar(10, 0) as progress:
        assert not progress.bar.disable  # open while training
        raise RuntimeError("disk on fire")
    assert progress.bar.disable  # tqdm's closed state: the error prints on its own line
