"""Data-parallel training on two CPU processes (gloo), launched the way the README says.

Three launches, shared by the tests below (module fixtures): DCGAN (BatchNorm) with
``accelerate launch --multi_gpu``, cGAN and a no-BatchNorm MLP-GAN with
``torchrun --standalone``. ``GAN_EXPLORER_CHECKSUMS`` makes every process write a sha1 of G's
and D's parameters after every step (trainers/distributed.py). Everything else runs in this
process: the one-process reference runs and the resumes on one process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from trainers.cli import main
from trainers.distributed import (
    CHECKSUM_VARIABLE,
    WORLD_SIZE_VARIABLES,
    Distributed,
    resume_batch_size,
)

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
    reason="needs torch.distributed with gloo",
)


def launch(launcher: str, args: list[str], checksums: Path | None = None) -> str:
    """Run ``-m trainers.cli ARGS`` on two CPU processes; return stderr (fails on exit != 0)."""
    env = {k: v for k, v in os.environ.items() if k not in WORLD_SIZE_VARIABLES}
    env |= {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    if checksums is not None:
        env[CHECKSUM_VARIABLE] = str(checksums)
    if launcher == "accelerate":  # the README's line; port 0 = pick a free one
        head = ["accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
        head += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
        head += ["--main_process_port", "0"]
    else:
        head = ["torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command = [sys.executable, "-m", *head, "-m", "trainers.cli", *args, "--device", "cpu"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stderr


def read_meta(run: Path) -> dict:
    return json.loads((run / "checkpoint" / "meta.json").read_text())


def log_records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def checksum_lines(folder: Path) -> list[list[str]]:
    return [(folder / f"rank{r}.txt").read_text().splitlines() for r in (0, 1)]


# --- 20 steps of DCGAN (BatchNorm in G and D) and of cGAN on two processes --------------------

GAN_FLAGS = ["--dataset", "synthetic:256", "--steps", "20", "--batch-size", "8"]
GAN_FLAGS += ["--checkpoint-every", "10", "--sample-every", "10", "--log-every", "5"]


@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("dcgan2")
    stderr = launch(
        "accelerate", ["dcgan", *GAN_FLAGS, "--out", str(root / "run")], root / "checksums"
    )
    return root / "run", root / "checksums", stderr


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cgan2")
    stderr = launch(
        "torchrun", ["cgan", *GAN_FLAGS, "--out", str(root / "run")], root / "checksums"
    )
    return root / "run", root / "checksums", stderr


@pytest.mark.slow  # each launch starts three Python processes that import torch
@pytest.mark.parametrize("fixture", ["dcgan_run", "cgan_run"])
def test_only_the_main_process_writes(fixture, request):
    run, _, stderr = request.getfixturevalue(fixture)
    meta = read_meta(run)
    assert meta["world_size"] == 2 and meta["global_batch_size"] == 16
    assert meta["train_config"]["batch_size"] == 8  # per process
    assert meta["step"] == 20 and meta["batches_drawn"] == 20  # global batches
    assert meta["epoch"] == pytest.approx(20 * 16 / 256)
    # one log line per logged step (two writers would double them), one report line
    assert [r["step"] for r in log_records(run)] == [5, 10, 15, 20]
    assert stderr.count("done at step 20") == 1
    assert "2 processes (global batch 16)" in stderr
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_000010.png",
        "step_000020.png",
    ]
    assert sorted(p.name for p in run.iterdir()) == [
        "checkpoint",
        "log.jsonl",
        "options.json",
        "samples",
    ]  # no half-written .checkpoint.tmp left by a second writer


@pytest.mark.slow
@pytest.mark.parametrize("fixture", ["dcgan_run", "cgan_run"])
def test_weights_are_identical_on_every_rank_after_every_step(fixture, request):
    _, checksums, _ = request.getfixturevalue(fixture)
    rank0, rank1 = checksum_lines(checksums)
    assert len(rank0) == 20 and [line.split()[0] for line in rank0] == [
        str(s) for s in range(1, 21)
    ]
    assert rank0 == rank1  # bit-identical G and D in both processes after each step
    assert len({line.split()[1] for line in rank0}) == 20  # and G did change every step


@pytest.mark.slow
def test_resume_on_one_process_continues_the_step_and_the_log(dcgan_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(dcgan_run[0], run)
    resume = ["dcgan", "--out", str(run), "--resume", "--steps", "22", "--log-every", "1"]
    assert main([*resume, "--device", "cpu"]) == 0
    meta = read_meta(run)
    assert meta["step"] == 22 and meta["batches_drawn"] == 22
    assert meta["world_size"] == 1 and meta["global_batch_size"] == 16
    assert meta["train_config"]["batch_size"] == 16  # the global batch is kept
    assert meta["epoch"] == pytest.approx(22 * 16 / 256)
    assert [r["step"] for r in log_records(run)] == [5, 10, 15, 20, 21, 22]


# --- the same run as one process with the global batch -------------------------------------------

#: No BatchNorm (classroom preset), so two processes must compute what one does. The options
#: that could break that are on: k = 2 D steps, TTUR, WGAN-GP, spectral norm, EMA.
MLP_FLAGS = ["--dataset", "synthetic:64", "--preset", "classroom", "--loss", "wgan-gp"]
MLP_FLAGS += ["--d-steps", "2", "--lr-g", "1e-4", "--lr-d", "4e-4", "--ema", "0.9"]
MLP_FLAGS += ["--set", "spectral_norm=true", "--log-every", "1", "--sample-every", "0"]


@pytest.fixture(scope="module")
def mlp_runs(tmp_path_factory):
    """2 steps on two processes (batch 8 each) resumed on one process to step 3, and 3 steps
    on one process with the global batch of 16."""
    root = tmp_path_factory.mktemp("mlp")
    two = root / "two"
    launch(
        "torchrun", ["mlp-gan", *MLP_FLAGS, "--batch-size", "8", "--steps", "2", "--out", str(two)]
    )
    first_two_steps = log_records(two)
    flags = ["--device", "cpu"]
    assert main(["mlp-gan", "--out", str(two), "--resume", "--steps", "3", *flags]) == 0
    one = root / "one"
    assert (
        main(
            ["mlp-gan", *MLP_FLAGS, "--batch-size", "16", "--steps", "3", "--out", str(one), *flags]
        )
        == 0
    )
    return first_two_steps, two, one


@pytest.mark.slow
def test_two_processes_match_one_process_with_the_global_batch(mlp_runs):
    first_two_steps, two, one = mlp_runs
    reference = log_records(one)
    # Only float rounding differs: the all-reduce sums two halves of the batch. Adam then
    # amplifies it: its first updates are about lr * sign(gradient), so a component whose
    # gradient is ~0 may flip sign and move by up to 2 * lr. Step 1 already logs losses after
    # one D update (k = 2); later steps' losses use the weights of the steps before.
    for mine, theirs in zip(log_records(two), reference, strict=True):
        rel = 1e-4 if mine["step"] == 1 else 1e-3
        for key in ("d", "g", "d_real", "d_fake"):
            assert mine[key] == pytest.approx(theirs[key], rel=rel, abs=1e-6), (mine, theirs)
    assert first_two_steps == log_records(two)[:2]  # the resume kept the first two lines
    a = load_file(str(two / "checkpoint" / "model.safetensors"))
    b = load_file(str(one / "checkpoint" / "model.safetensors"))
    assert sorted(a) == sorted(b) and any(k.startswith("G_ema.") for k in a)
    for key in a:
        diff = (a[key].float() - b[key].float()).abs()
        # at most 2 * lr = 8e-4 (D) where a sign flipped, on average nothing
        assert diff.max() <= 1e-3 and diff.mean() <= 1e-5, (key, diff.max(), diff.mean())


# --- the one-process path and the helpers, in this process ----------------------------------------


def test_one_process_trains_the_plain_modules(monkeypatch):
    from trainers.data import synthetic_dataset
    from trainers.engine import GANTrainer, TrainConfig
    from trainers.registry import get_spec

    for name in WORLD_SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    dist = Distributed.from_environment("cpu")
    assert not dist.enabled and dist.is_main and dist.accelerator is None
    spec = get_spec("mlp-gan")
    trainer = GANTrainer(
        spec,
        spec.make_config((1, 28, 28), 10, preset="classroom"),
        TrainConfig(model="mlp-gan", steps=1, batch_size=8),
        synthetic_dataset(n=32),
        dist=dist,
    )
    assert trainer.g_train is trainer.generator and trainer.d_train is trainer.discriminator
    assert trainer.meta()["world_size"] == 1 and trainer.meta()["global_batch_size"] == 8


def test_each_rank_takes_its_block_of_the_global_batch():
    rows = torch.arange(8)
    assert Distributed(world_size=2, rank=0).local(rows).tolist() == [0, 1, 2, 3]
    assert Distributed(world_size=2, rank=1).local(rows).tolist() == [4, 5, 6, 7]
    assert Distributed().local(rows) is rows


def test_resume_keeps_the_global_batch():
    assert resume_batch_size(16, 2) == 8 and resume_batch_size(16, 1) == 16
    with pytest.raises(ValueError, match="does not split evenly over 3 processes"):
        resume_batch_size(16, 3)


def test_accelerate_launch_without_multi_gpu_on_a_cpu_machine_warns(monkeypatch, capsys):
    for name in WORLD_SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "no")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    assert not Distributed.from_environment("cpu").enabled
    assert "--multi_gpu" in capsys.readouterr().err
