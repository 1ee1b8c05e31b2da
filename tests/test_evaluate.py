"""The quality figures: Fréchet distance, the reference classifier and `gan-train evaluate`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.test_cli import TINY_TRAIN, make_image_folder
from trainers.checkpoint import CheckpointError
from trainers.cli import main
from trainers.evaluate import (
    ClassifierConfig,
    ReferenceClassifier,
    code_readings,
    frechet_distance,
    load_classifier,
    save_classifier,
)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    a = np.random.default_rng(0).normal(size=(500, 4))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_of_a_shifted_set_is_the_squared_shift():
    a = np.random.default_rng(0).normal(size=(500, 4))
    shift = np.array([1.0, 2.0, 0.0, -2.0])  # same covariance: FID = ‖shift‖² = 9
    assert frechet_distance(a, a + shift) == pytest.approx(9.0, rel=1e-6)


def test_frechet_distance_sees_a_change_of_spread():
    a = np.random.default_rng(0).normal(size=(2000, 2))
    # Σ = I vs 4I: Tr(I + 4I - 2·2I) = 1 per dimension
    assert frechet_distance(a, 2 * a) == pytest.approx(2.0, rel=0.05)


def test_classifier_round_trip(tmp_path):
    model = ReferenceClassifier(ClassifierConfig((1, 8, 8), num_classes=3)).eval()
    save_classifier(model, tmp_path / "clf", {"dataset": "test"})
    loaded, meta = load_classifier(tmp_path / "clf")
    x = torch.randn(5, 1, 8, 8)
    assert torch.equal(model(x), loaded(x))
    assert loaded.features(x).shape == (5, 128)
    assert meta["dataset"] == "test"


def test_a_foreign_folder_is_not_a_classifier(tmp_path):
    (tmp_path / "meta.json").write_text(json.dumps({"kind": "something-else"}))
    with pytest.raises(CheckpointError, match="not a GAN Explorer reference classifier"):
        load_classifier(tmp_path)


def tiny_run_and_classifier(tmp_path, model: str, *tiny: str):
    """A 2-step run of a tiny ``model`` and a 1-epoch classifier, both on an image folder."""
    dataset = f"folder:{make_image_folder(tmp_path / 'pets')}"
    run, clf = tmp_path / "run", tmp_path / "clf"
    train = [model, "--dataset", dataset, "--steps", "2", "--out", str(run), *tiny, *TINY_TRAIN]
    assert main(train) == 0
    classifier = ["classifier", "--dataset", dataset, "--epochs", "1", "--image-size", "8"]
    assert main([*classifier, "--out", str(clf)]) == 0
    return run, clf


def test_evaluate_a_cgan_end_to_end(tmp_path, capsys):
    tiny = ["--latent-dim", "8", "--set", "channels=[8, 4]", "--set", "embed_dim=4"]
    run, clf = tiny_run_and_classifier(tmp_path, "cgan", *tiny)
    capsys.readouterr()
    assert main(["evaluate", str(run), "--classifier", str(clf), "--n", "40", "--write-meta"]) == 0
    out = capsys.readouterr().out
    result, end = json.JSONDecoder().raw_decode(out)
    assert result["samples"] == 40
    assert sum(result["class_shares"]) == pytest.approx(1.0, abs=1e-3)
    assert 0.0 <= result["label_accuracy"] <= 1.0
    # the per-class table by the reference classifier: its rows add up to the label accuracy
    rows = result["per_class"]
    assert sum(row["asked"] for row in rows) == 40
    weighted = sum(row["accuracy"] * row["asked"] for row in rows if row["asked"]) / 40
    assert weighted == pytest.approx(result["label_accuracy"], abs=1e-3)
    assert result["worst_class_accuracy"] == min(row["accuracy"] for row in rows if row["asked"])
    assert "read by the reference classifier" in out[end:] and "| asked | n |" in out[end:]
    assert result["classifier_fid"] >= 0 and result["classifier_fid_floor_train_vs_test"] >= 0
    stored = json.loads((run / "checkpoint" / "meta.json").read_text())["metrics"]
    assert stored["classifier_fid"] == result["classifier_fid"]


def test_code_readings_name_what_each_infogan_category_draws():
    codes = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    read = np.array([7, 7, 7, 1, 4, 9, 4, 9])
    rows = code_readings(codes, read, [str(i) for i in range(10)], code_size=3)
    assert rows[0] == {"category": 0, "samples": 4, "read_as": "7", "share": 0.75}
    assert rows[1]["samples"] == 4 and rows[1]["share"] == 0.5  # a 4/9 category
    assert rows[2] == {"category": 2, "samples": 0, "read_as": None, "share": 0.0}


def test_evaluate_a_dcgan_with_an_infogan_code(tmp_path, capsys):
    tiny = ["--latent-dim", "8", "--set", "channels=[8, 4]", "--latent-code", "3"]
    run, clf = tiny_run_and_classifier(tmp_path, "dcgan", *tiny)
    capsys.readouterr()
    assert main(["evaluate", str(run), "--classifier", str(clf), "--n", "60"]) == 0
    out = capsys.readouterr().out
    result, end = json.JSONDecoder().raw_decode(out)
    rows = result["code_categories"]
    assert [row["category"] for row in rows] == [0, 1, 2]
    assert sum(row["samples"] for row in rows) == 60
    assert "InfoGAN categories, read by the reference classifier: 0: " in out[end:]
