"""`gan-train` through its real entry point, ``trainers.cli.main``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from trainers.checkpoint import read_meta
from trainers.cli import build_parser, main
from trainers.registry import families

#: The sub-commands of the families the GAN engine trains (from the registry).
FAMILIES = [spec.cli_command for spec in families(trainer="gan")]
TINY_TRAIN = ["--image-size", "8", "--batch-size", "4", "--device", "cpu", "--precision", "fp32"]


def make_image_folder(root: Path) -> Path:
    """Two classes of 8x8 PNGs (one grayscale class, one RGB), 8 images each."""
    rng = np.random.default_rng(0)
    for name, mode in (("cats", "L"), ("dogs", "RGB")):
        (root / name).mkdir(parents=True)
        for i in range(8):
            shape = (8, 8) if mode == "L" else (8, 8, 3)
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(
                root / name / f"{i}.png"
            )
    return root


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory) -> Path:
    return make_image_folder(tmp_path_factory.mktemp("images") / "pets")


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory, image_folder) -> Path:
    out = tmp_path_factory.mktemp("cli") / "cgan-run"
    dataset = f"folder:{image_folder}"
    tiny = ["--latent-dim", "8", "--set", "channels=[8, 4]", "--set", "embed_dim=4"]
    code = main(
        ["cgan", "--dataset", dataset, "--steps", "2", "--out", str(out), *tiny, *TINY_TRAIN]
    )
    assert code == 0
    return out


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("gan-train: error: ")
    return lines[0]


# --- dry run and help ----------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_dry_run_of_each_family(family, capsys):
    assert main([family, "--dry-run", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert f"dry run OK: {family}" in out and "round trip identical" in out


def test_dry_run_never_replaces_a_real_checkpoint(trained_run, copy_run):
    """`--dry-run --out DIR` on a folder that holds a run must leave that run's checkpoint alone
    (refusing with status 2 would be fine too)."""
    run = copy_run(trained_run("mlp-gan", steps=2))
    before = {p.name: p.read_bytes() for p in (run / "checkpoint").iterdir()}
    assert main(["mlp-gan", "--dry-run", "--device", "cpu", "--out", str(run)]) in (0, 2)
    assert {p.name: p.read_bytes() for p in (run / "checkpoint").iterdir()} == before


@pytest.mark.parametrize("family", FAMILIES)
def test_help_documents_the_training_options(family, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([family, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--dataset",
        "--data-dir",
        "--no-download",
        "--steps",
        "--epochs",
        "--out",
        "--resume",
        "--device",
        "--dry-run",
        "--loss",
        "--d-steps",
        "--lr-g",
        "--lr-d",
        "--ema",
        "--spectral-norm",
        "--max-seconds",
        "--latent-dim",
        "--preset",
        "--set",
    ):
        assert option in text
    assert "folder:PATH" in text and "mnist" in text and "cifar10" in text


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


@pytest.mark.parametrize("family", FAMILIES)
def test_help_explains_every_training_option(family):
    """The issue: "--help that documents every option" -- each option has a help text."""
    parser = _subparser(family)
    undocumented = [
        a.option_strings[0]
        for a in parser._actions
        if a.option_strings and a.dest != "help" and not (a.help or "").strip()
    ]
    assert undocumented == []


@pytest.mark.parametrize(
    ("command", "options"), [("sample", ["--n", "--label", "--out"]), ("export", ["--half"])]
)
def test_help_of_sample_and_export(command, options, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert all(option in text for option in options)


def test_top_level_help_lists_the_families(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    commands = [spec.cli_command for spec in families()]  # every trainer's families
    assert all(name in text for name in (*commands, "sample", "export"))


# --- user errors: exit status 2 and one line -----------------------------------------------------


def test_missing_dataset_offline_is_one_line(tmp_path, capsys):
    empty = tmp_path / "no-data-here"
    code = main(
        [
            "dcgan",
            "--dataset",
            "mnist",
            "--data-dir",
            str(empty),
            "--no-download",
            "--out",
            str(tmp_path / "run"),
            "--device",
            "cpu",
        ]
    )
    assert code == 2
    line = one_error_line(capsys)
    assert "mnist" in line and "--data-dir" in line
    assert not (tmp_path / "run" / "checkpoint").exists()


def test_bad_data_dir_is_one_line(tmp_path, capsys):
    not_a_folder = tmp_path / "data.txt"
    not_a_folder.write_text("not a data folder")
    code = main(
        [
            "mlp-gan",
            "--dataset",
            "fashion-mnist",
            "--data-dir",
            str(not_a_folder),
            "--no-download",
            "--out",
            str(tmp_path / "run"),
            "--device",
            "cpu",
        ]
    )
    assert code == 2
    assert "--data-dir" in one_error_line(capsys)


def test_missing_image_folder_is_one_line(tmp_path, capsys):
    code = main(
        [
            "dcgan",
            "--dataset",
            f"folder:{tmp_path / 'nope'}",
            "--out",
            str(tmp_path / "run"),
            "--device",
            "cpu",
        ]
    )
    assert code == 2
    assert "does not exist" in one_error_line(capsys)


def test_unknown_dataset_is_one_line(tmp_path, capsys):
    assert (
        main(["dcgan", "--dataset", "imagenet", "--out", str(tmp_path / "run"), "--device", "cpu"])
        == 2
    )
    assert "unknown dataset 'imagenet'" in one_error_line(capsys)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_missing_cuda_is_one_line(tmp_path, capsys):
    assert main(["dcgan", "--dry-run", "--device", "cuda"]) == 2
    assert "cuda" in one_error_line(capsys).lower()


def test_resume_without_a_checkpoint(tmp_path, capsys):
    assert main(["mlp-gan", "--resume", "--out", str(tmp_path / "empty"), "--device", "cpu"]) == 2
    assert "no checkpoint" in one_error_line(capsys)


# --- a real (tiny) training run on an image folder ----------------------------------------------


def test_train_resume_and_refuse_overwrite(image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    base = [
        "mlp-gan",
        "--dataset",
        f"folder:{image_folder}",
        "--preset",
        "classroom",
        "--out",
        str(out),
        "--checkpoint-every",
        "2",
        "--sample-every",
        "2",
        "--log-every",
        "1",
        *TINY_TRAIN,
    ]
    assert main([*base, "--steps", "4"]) == 0
    meta = read_meta(out)
    assert meta["step"] == 4 and meta["model"] == "mlp-gan"
    assert meta["dataset"] == f"folder:{image_folder}"
    assert meta["image_shape"] == [3, 8, 8]  # one RGB class makes the whole set RGB
    assert meta["class_names"] == ["cats", "dogs"]
    assert meta["config"]["g_hidden"] == [128]  # the classroom preset
    assert meta["command"].startswith("gan-train mlp-gan")
    assert [json.loads(line)["step"] for line in (out / "log.jsonl").read_text().splitlines()] == [
        1,
        2,
        3,
        4,
    ]
    assert {p.name for p in (out / "samples").iterdir()} == {"step_000002.png", "step_000004.png"}
    assert Image.open(out / "samples" / "step_000004.png").mode == "RGB"
    assert json.loads((out / "options.json").read_text())["train_config"]["steps"] == 4

    # --resume continues the step counter and the log
    assert main([*base, "--resume", "--steps", "6"]) == 0
    assert read_meta(out)["step"] == 6
    assert [json.loads(line)["step"] for line in (out / "log.jsonl").read_text().splitlines()] == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    assert "step_000006.png" in {p.name for p in (out / "samples").iterdir()}

    # a second run into the same folder without --resume is refused and changes nothing
    before = {p.name: p.read_bytes() for p in (out / "checkpoint").iterdir()}
    capsys.readouterr()
    assert main([*base, "--steps", "8"]) == 2
    assert "--resume" in one_error_line(capsys)
    assert {p.name: p.read_bytes() for p in (out / "checkpoint").iterdir()} == before


def test_resume_with_another_family_is_refused(cgan_run, capsys):
    before = (cgan_run / "checkpoint" / "model.safetensors").read_bytes()
    assert (
        main(["dcgan", "--resume", "--out", str(cgan_run), "--steps", "4", "--device", "cpu"]) == 2
    )
    assert "cgan" in one_error_line(capsys)
    assert (cgan_run / "checkpoint" / "model.safetensors").read_bytes() == before


def test_cgan_run_stores_class_names(cgan_run, image_folder):
    meta = read_meta(cgan_run)
    assert meta["model"] == "cgan" and meta["step"] == 2
    assert meta["class_names"] == ["cats", "dogs"] and meta["config"]["num_classes"] == 2
    # --latent-dim and --set reached the model config
    assert (meta["latent_dim"], meta["config"]["embed_dim"]) == (8, 4)
    assert meta["config"]["channels"] == [8, 4]


# --- sample ---------------------------------------------------------------------------------------


def test_sample_npz_for_cgan(cgan_run, tmp_path):
    target = tmp_path / "samples.npz"
    assert main(["sample", str(cgan_run), "--n", "5", "--out", str(target), "--device", "cpu"]) == 0
    with np.load(target) as npz:
        images, labels = npz["images"], npz["labels"]
    assert images.dtype == np.uint8 and images.shape == (5, 8, 8, 3)
    assert labels.tolist() == [0, 1, 0, 1, 0]  # cycles through the classes


def test_sample_label_and_seed(cgan_run, tmp_path):
    def sample(label: int, seed: int, name: str) -> np.ndarray:
        target = tmp_path / name
        args = [
            "sample",
            str(cgan_run),
            "--n",
            "4",
            "--label",
            str(label),
            "--seed",
            str(seed),
            "--out",
            str(target),
        ]
        assert main([*args, "--device", "cpu"]) == 0
        with np.load(target) as npz:
            assert npz["labels"].tolist() == [label] * 4
            return npz["images"]

    dogs, dogs_again, cats, dogs_other_seed = (
        sample(1, 0, "a.npz"),
        sample(1, 0, "b.npz"),
        sample(0, 0, "c.npz"),
        sample(1, 7, "d.npz"),
    )
    assert np.array_equal(dogs, dogs_again)  # same seed, same images
    assert not np.array_equal(dogs, cats)  # the label matters
    assert not np.array_equal(dogs, dogs_other_seed)


@pytest.mark.parametrize("label", ["2", "-1"])
def test_sample_label_out_of_range(cgan_run, tmp_path, capsys, label):
    target = tmp_path / "s.npz"
    code = main(
        [
            "sample",
            str(cgan_run),
            "--n",
            "2",
            f"--label={label}",
            "--out",
            str(target),
            "--device",
            "cpu",
        ]
    )
    assert code == 2
    assert "out of range" in one_error_line(capsys)
    assert not target.exists()


def test_sample_unconditional_npz_and_pngs(trained_run, tmp_path, capsys):
    run = trained_run("mlp-gan", steps=2)
    target = tmp_path / "s.npz"
    assert main(["sample", str(run), "--n", "3", "--out", str(target), "--device", "cpu"]) == 0
    with np.load(target) as npz:
        assert set(npz.files) == {"images"}
        assert npz["images"].dtype == np.uint8 and npz["images"].shape == (3, 8, 8, 1)
    folder = tmp_path / "pngs"
    assert main(["sample", str(run), "--n", "3", "--out", str(folder), "--device", "cpu"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == [f"sample_0000{i}.png" for i in range(3)]
    capsys.readouterr()
    assert (
        main(
            [
                "sample",
                str(run),
                "--n",
                "3",
                "--label",
                "0",
                "--out",
                str(target),
                "--device",
                "cpu",
            ]
        )
        == 2
    )
    assert "cGAN" in one_error_line(capsys)


def test_sample_from_a_missing_checkpoint(tmp_path, capsys):
    assert (
        main(
            ["sample", str(tmp_path / "nope"), "--out", str(tmp_path / "s.npz"), "--device", "cpu"]
        )
        == 2
    )
    assert "does not exist" in one_error_line(capsys)
