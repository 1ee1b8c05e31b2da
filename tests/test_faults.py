"""Faults during training never lose the last good checkpoint (issue 17, item 3).

Injected here: a loss that becomes NaN, a disk that fills up in the middle of a checkpoint
write, a damaged ``train_state.safetensors`` at ``--resume``, and a second ``gan-train`` on a
run folder that one is already training in (then that one killed with SIGKILL). Each time the
files of the last good checkpoint must stay byte for byte what they were, and the user gets
one line saying what happened.
"""

from __future__ import annotations

import errno
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import build_trainer
from trainers import checkpoint as ckpt
from trainers import cli
from trainers.engine import GANTrainer
from trainers.events import Checkpointed, Finished, Step
from trainers.loop import TrainingDiverged
from trainers.runlock import LOCK_FILE, RunLock, RunLockedError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# A tiny CLI run: mlp-gan's classroom preset on 64 synthetic 8x8 images.
TINY_CLI = [
    "mlp-gan",
    "--dataset",
    "synthetic:64",
    "--image-size",
    "8",
    "--preset",
    "classroom",
    "--batch-size",
    "8",
    "--precision",
    "fp32",
]


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: its bytes and modification time (ns)."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def contents(folder: Path) -> dict[str, bytes]:
    return {name: data for name, (data, _) in snapshot(folder).items()}


def error_line(capsys: pytest.CaptureFixture) -> str:
    """The one line ``gan-train`` printed for a user error (a progress bar may precede it on
    the same line: it is not closed when the run fails)."""
    err = capsys.readouterr().err
    assert err.count("gan-train: error:") == 1, err[-2000:]
    line = err[err.index("gan-train: error:") :].split("\n")[0]
    assert "\r" not in line
    return line


def train_cli(out: Path, steps: int, *extra: str) -> int:
    return cli.main([*TINY_CLI, "--steps", str(steps), "--out", str(out), *extra])


# --- NaN / inf losses ----------------------------------------------------------------------


def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    trainer = build_trainer("mlp-gan", out_dir=tmp_path, steps=10, checkpoint_every=2)
    saved: dict[int, dict[str, bytes]] = {}
    events: list = []

    def callback(event) -> None:
        events.append(event)
        if isinstance(event, Checkpointed):
            saved[event.step] = contents(Path(event.path))
        if isinstance(event, Step) and event.step == 5:  # poison D: step 6's losses are NaN
            with torch.no_grad():
                next(trainer.discriminator.parameters()).fill_(math.nan)

    with pytest.raises(TrainingDiverged, match="loss became") as caught:
        trainer.run(callback)
    assert "checkpoint on disk is kept" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(events[-1], Finished) and events[-1].reason == "error"
    assert sorted(saved) == [2, 4]  # no save after the NaN
    assert contents(tmp_path / "checkpoint") == saved[4]  # byte for byte
    assert ckpt.read_meta(tmp_path / "checkpoint")["step"] == 4
    loaded = ckpt.load_checkpoint(tmp_path / "checkpoint")
    assert all(torch.isfinite(p).all() for p in loaded.discriminator.parameters())


def test_inf_loss_through_the_cli_is_one_line_and_touches_no_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    assert train_cli(out, 3) == 0
    real_g_step = GANTrainer.g_step

    def exploding_g_step(self: GANTrainer) -> dict[str, float]:
        stats = real_g_step(self)
        return {**stats, "g": math.inf} if self.step >= 4 else stats  # the 5th update

    monkeypatch.setattr(GANTrainer, "g_step", exploding_g_step)
    capsys.readouterr()
    assert train_cli(out, 8, "--resume", "--checkpoint-every", "1") == 2
    line = error_line(capsys)
    assert "loss became" in line and "inf" in line and "kept" in line
    meta = ckpt.read_meta(out / "checkpoint")
    assert meta["step"] == 4  # the save after step 4 was good; step 5 never saved
    assert ckpt.load_checkpoint(out / "checkpoint").meta["step"] == 4  # loadable
    monkeypatch.setattr(GANTrainer, "g_step", real_g_step)
    assert train_cli(out, 6, "--resume") == 0  # and it resumes from the last good one


# --- a disk that fills up during a checkpoint write ----------------------------------------


def half_then_full(real_save_file):
    """A safetensors ``save_file`` that writes half the file, then fails as a full disk does."""
    from safetensors.torch import save

    def save_file(tensors, filename, metadata=None):
        data = save(tensors, metadata=metadata)
        with open(filename, "wb") as handle:
            handle.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), filename)

    return save_file


def test_failed_write_leaves_the_previous_checkpoint_loadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trainer = build_trainer("dcgan", out_dir=tmp_path, steps=2)
    trainer.run()
    before = snapshot(tmp_path / "checkpoint")
    trainer.train_step()
    monkeypatch.setattr(ckpt, "save_file", half_then_full(ckpt.save_file))
    with pytest.raises(ckpt.CheckpointWriteError) as caught:
        trainer.save()
    message = str(caught.value)
    assert "No space left on device" in message and "previous checkpoint" in message
    assert "\n" not in message
    assert snapshot(tmp_path / "checkpoint") == before  # bytes and times
    assert not (tmp_path / ".checkpoint.tmp").exists()  # the half-written copy is gone
    monkeypatch.undo()
    assert ckpt.load_checkpoint(tmp_path / "checkpoint").meta["step"] == 2
    resumed = GANTrainer.resume(tmp_path, trainer.data, "cpu", steps=3)
    assert resumed.step == 2


def test_disk_full_during_a_cli_run_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    assert train_cli(out, 2) == 0
    before = snapshot(out / "checkpoint")
    monkeypatch.setattr(ckpt, "save_file", half_then_full(ckpt.save_file))
    capsys.readouterr()
    assert train_cli(out, 4, "--resume") == 2
    line = error_line(capsys)
    assert "could not write checkpoint" in line and "previous checkpoint there is kept" in line
    assert snapshot(out / "checkpoint") == before
    monkeypatch.undo()
    assert train_cli(out, 4, "--resume") == 0


# --- a damaged train_state.safetensors at --resume -----------------------------------------


def _damage(kind: str, path: Path) -> None:
    data = path.read_bytes()
    if kind == "truncated":
        path.write_bytes(data[: len(data) // 3])
    elif kind == "random bytes":
        path.write_bytes(os.urandom(4096))
    elif kind == "empty":
        path.write_bytes(b"")
    else:  # "foreign": a valid safetensors file of something else
        from safetensors.torch import save_file

        save_file({"something/else": torch.zeros(3)}, str(path))


@pytest.mark.parametrize("kind", ["truncated", "random bytes", "empty", "foreign"])
def test_corrupt_train_state_on_resume_is_one_line_and_touches_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture, kind: str
) -> None:
    out = tmp_path / "run"
    assert train_cli(out, 2, "--log-every", "1") == 0
    _damage(kind, out / "checkpoint" / ckpt.TRAIN_STATE_FILE)
    before = snapshot(out)
    capsys.readouterr()
    time.sleep(0.01)  # a rewrite would show in the modification times
    assert train_cli(out, 4, "--resume") == 2
    line = error_line(capsys)
    assert "train_state.safetensors" in line
    assert snapshot(out) == before  # files, bytes and times: log.jsonl and options.json too
    assert sorted(p.name for p in out.iterdir()) == sorted(
        {Path(name).parts[0] for name in before}
    )  # nothing new (the run lock was removed again)


# --- two gan-train on the same --out -------------------------------------------------------


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_second_run_on_the_same_out_refuses_and_a_killed_ones_lock_is_taken_over(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "run"
    command = [*TINY_CLI, "--steps", "1000000", "--max-seconds", "120", "--out", str(out)]
    first = subprocess.Popen(
        [sys.executable, "-m", "trainers.cli", *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        lock_file = out / LOCK_FILE
        assert _wait_for(lambda: (out / "options.json").is_file(), 90), "first run did not start"
        assert json.loads(lock_file.read_text())["pid"] == first.pid
        capsys.readouterr()
        assert train_cli(out, 5) == 2
        line = error_line(capsys)
        assert f"PID {first.pid}" in line and "in use" in line
        assert first.poll() is None  # the first run goes on undisturbed
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    assert json.loads(lock_file.read_text())["pid"] == first.pid  # left behind by SIGKILL
    with RunLock(out) as lock:
        assert f"PID {first.pid} no longer runs" in lock.note
        assert json.loads(lock_file.read_text())["pid"] == os.getpid()
    assert not lock_file.exists()


def test_run_lock_in_one_process(tmp_path: Path) -> None:
    with RunLock(tmp_path, "gan-train dcgan") as lock:
        assert lock.note == ""
        with pytest.raises(RunLockedError, match=f"PID {os.getpid()}"):
            RunLock(tmp_path).acquire()
    assert not (tmp_path / LOCK_FILE).exists()
    (tmp_path / LOCK_FILE).write_text("{half a rec")  # killed while writing its own lock
    with RunLock(tmp_path) as lock:
        assert "stale lock" in lock.note
    with RunLock(tmp_path) as lock:
        assert lock.note == ""
