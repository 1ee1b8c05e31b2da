"""The held-out judge: its network, augmentation, training, files, report and command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from trainers.checkpoint import CheckpointError
from trainers.cli import main
from trainers.data import synthetic_dataset, to_uint8_images
from trainers.judge import (
    JUDGE_DESIGNS,
    AugmentConfig,
    JudgeConfig,
    JudgeNet,
    TrainSettings,
    augment,
    build_judge,
    feature_stats,
    judge_dir_for,
    load_judge,
    save_judge,
    train_judge,
)
from trainers.judge_report import format_per_class_table, judge_report

SHAPE = (1, 16, 16)
TINY = JudgeConfig(SHAPE, num_classes=2, widths=(8, 16), blocks=(1, 1), groups=4, stem_kernel=3)
MILD = AugmentConfig(shift_px=1.0, rotate_deg=5, scale=0.05, elastic_px=0.3, elastic_grid=3)


def tiny_data(n: int = 64):
    return synthetic_dataset(SHAPE, num_classes=2, n=n, seed=0)


def loss_on(model: JudgeNet, data) -> float:
    x, y = data.batch(torch.arange(len(data)))
    with torch.no_grad():
        return F.cross_entropy(model.eval()(x), y).item()


def test_features_and_logits_have_the_documented_shapes():
    model = JudgeNet(JudgeConfig((3, 32, 32), widths=(8, 16, 24), groups=4)).eval()
    x = torch.rand(5, 3, 32, 32) * 2 - 1
    assert model.features(x).shape == (5, 24)
    assert model(x).shape == (5, 10)


def test_training_a_few_steps_lowers_the_loss():
    data = tiny_data()
    torch.manual_seed(0)
    before = loss_on(JudgeNet(TINY), data)  # train_judge seeds the same way: same start
    settings = TrainSettings(epochs=8, batch_size=16, lr=3e-3, seed=0)
    model = train_judge(data, TINY, MILD, settings, log=lambda _: None)
    assert loss_on(model, data) < 0.5 * before


def test_augmentation_keeps_shape_and_range_and_moves_pixels():
    x = torch.rand(8, 3, 12, 12) * 2 - 1
    for aug in (MILD, AugmentConfig(flip=True, padding="reflection"), AugmentConfig()):
        out = augment(x.clone(), aug, torch.Generator().manual_seed(0))
        assert out.shape == x.shape and out.dtype == x.dtype
        assert out.min() >= -1 and out.max() <= 1
        assert not torch.allclose(out, x)
    same = augment(x.clone(), MILD, torch.Generator().manual_seed(3))
    assert torch.equal(same, augment(x.clone(), MILD, torch.Generator().manual_seed(3)))


def test_augmentation_with_nothing_asked_is_the_identity():
    x = torch.rand(4, 1, 10, 10) * 2 - 1
    none = AugmentConfig(shift_px=0, rotate_deg=0, scale=0, elastic_px=0)
    assert torch.allclose(augment(x, none, torch.Generator().manual_seed(0)), x, atol=1e-5)


def test_save_and_load_round_trip_exactly(tmp_path):
    model = JudgeNet(TINY).eval()
    stats = feature_stats(np.random.default_rng(0).normal(size=(50, 16)))
    save_judge(model, tmp_path / "judge", {"dataset": "synthetic", "test_accuracy": 0.5}, stats)
    loaded, meta = load_judge(tmp_path / "judge")
    x = torch.rand(6, *SHAPE) * 2 - 1
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
        assert torch.equal(model.features(x), loaded.features(x))
    assert meta["dataset"] == "synthetic" and meta["weights_dtype"] == "float16"
    assert loaded.config == TINY


def test_resuming_from_a_snapshot_ends_where_an_unbroken_run_ends():
    data = tiny_data()
    settings = TrainSettings(epochs=2, batch_size=16, seed=1, save_every_s=-1)  # snapshot each step
    unbroken = train_judge(data, TINY, MILD, settings, log=lambda _: None)
    saved: dict[str, torch.Tensor] = {}

    class Stop(Exception):
        pass

    def snapshot(model, state, step):
        if step == 3:
            saved.update({k: v.clone() for k, v in state.items()})
            raise Stop

    with pytest.raises(Stop):
        train_judge(data, TINY, MILD, settings, snapshot=snapshot, log=lambda _: None)
    resumed = train_judge(data, TINY, MILD, settings, resume=saved, log=lambda _: None)
    for (name, a), b in zip(
        unbroken.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        assert torch.allclose(a, b, atol=1e-6), name


def test_a_foreign_folder_is_refused(tmp_path):
    (tmp_path / "meta.json").write_text(json.dumps({"kind": "gan-explorer-classifier"}))
    with pytest.raises(CheckpointError, match="not a GAN Explorer held-out judge"):
        load_judge(tmp_path)
    with pytest.raises(CheckpointError, match="no readable held-out judge"):
        load_judge(tmp_path / "missing")


def test_a_pickle_in_place_of_the_weights_is_refused(tmp_path):
    save_judge(JudgeNet(TINY), tmp_path, {"dataset": "synthetic"})
    import pickle

    (tmp_path / "model.safetensors").write_bytes(pickle.dumps({"w": [1, 2, 3]}))
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_judge(tmp_path)


def test_judge_report_reads_labels_shares_and_fid(tmp_path):
    data = tiny_data()
    out = build_judge(
        data,
        data,
        tmp_path / "judge",
        tmp_path / "run",
        TrainSettings(epochs=4, batch_size=16, seed=0),
        log=lambda _: None,
    )
    assert 0 <= out["test_accuracy"] <= 1 and out["fid_floor_train_vs_test"] >= 0
    images = to_uint8_images(data.batch(torch.arange(len(data)))[0])  # (N, 16, 16, 1)
    report = judge_report(images, data.labels.numpy(), "synthetic", judge_dir=tmp_path / "judge")
    assert report["label_accuracy"] == pytest.approx(out["test_accuracy"], abs=1e-6)
    assert sum(report["class_shares"]) == pytest.approx(1.0, abs=1e-3)
    assert 0 <= report["confident_share"] <= 1
    assert report["judge_fid"] == pytest.approx(0.0, abs=1e-3)  # the real test set itself
    assert [row["asked"] for row in report["per_class"]] == [32, 32]
    assert "| class 0 | 32 |" in format_per_class_table(report)
    unconditional = judge_report(images[:10], None, "x", judge_dir=tmp_path / "judge")
    assert "label_accuracy" not in unconditional and unconditional["samples"] == 10
    with pytest.raises(ValueError, match="uint8 images of shape"):
        judge_report(images[:, :8], None, "x", judge_dir=tmp_path / "judge")


def make_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for k, name in enumerate(("dark", "light")):
        (root / name).mkdir(parents=True)
        for i in range(8):
            pixels = rng.integers(0, 100, (8, 8), dtype=np.uint8) + 120 * k
            Image.fromarray(pixels, "L").save(root / name / f"{i}.png")
    return root


def test_the_judge_command_trains_saves_and_resumes(tmp_path, capsys):
    folder = make_folder(tmp_path / "data")
    out, run = tmp_path / "judge", tmp_path / "run"
    args = ["judge", "--dataset", f"folder:{folder}", "--image-size", "8", "--epochs", "2"]
    args += ["--batch-size", "4", "--out", str(out), "--run-dir", str(run)]
    assert main(args) == 0
    assert "judge for folder:" in capsys.readouterr().out
    model, meta = load_judge(out)
    assert meta["command"].startswith("gan-train judge") and meta["train_seconds"] >= 0
    assert model.config.image_shape == (1, 8, 8)
    assert main([*args, "--resume"]) == 2  # no snapshot was due yet: a one-line error
    assert "no train_state.safetensors" in capsys.readouterr().err


@pytest.mark.parametrize("dataset", sorted(JUDGE_DESIGNS))
def test_shipped_judges_load_and_meet_their_targets(dataset):
    directory = judge_dir_for(dataset)
    if not (directory / "meta.json").is_file():
        pytest.skip(f"no shipped judge for {dataset} yet")
    model, meta = load_judge(dataset)
    target = {"mnist": 0.988, "fashion-mnist": 0.90, "cifar10": 0.65}[dataset]
    assert meta["test_accuracy"] >= target
    assert meta["fid_floor_train_vs_test"] >= 0 and meta["command"].startswith("gan-train judge")
    assert model.config.image_shape == tuple(meta["config"]["image_shape"])
    shipped = sum(f.stat().st_size for f in directory.parent.rglob("*") if f.is_file())
    assert shipped < 4_000_000  # all judges together stay small
