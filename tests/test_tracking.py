"""``--report-to``: runs logged to TensorBoard, trackio and W&B (offline), read back with each
tool's own reader, and a tracker that is missing or failing costs one line, never the run."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trainers import tracking
from trainers.cli import build_parser, main
from trainers.events import Finished, Samples, Step
from trainers.registry import families

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[1]
#: A short synthetic run: 20 steps, logged every 5, grids at 10 and 20.
RUN_ARGS = [
    "dcgan",
    "--dataset",
    "synthetic:64",
    "--preset",
    "classroom",
    "--steps",
    "20",
    "--batch-size",
    "8",
    "--log-every",
    "5",
    "--sample-every",
    "10",
    "--checkpoint-every",
    "0",
    "--precision",
    "fp32",
    "--device",
    "cpu",
]


def log_lines(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def test_report_to_values_and_none_changes_nothing(tmp_path: Path) -> None:
    assert tracking.tracker_names(None) == tracking.tracker_names("none") == []
    assert tracking.tracker_names("all") == ["tensorboard", "trackio", "wandb"]
    with pytest.raises(ValueError, match="--report-to must be one of"):
        tracking.tracker_names("mlflow")
    assert tracking.start_trackers("none", tmp_path) is None
    assert not any(tmp_path.iterdir())  # nothing written
    # every trainer's command line has the flag, with the same choices
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    for command in [*(spec.cli_command for spec in families()), "style"]:
        flag = next(a for a in sub[command]._actions if a.dest == "report_to")
        assert tuple(flag.choices) == tracking.REPORT_TO


def test_tensorboard_run_read_back_with_tensorboards_reader(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    assert main([*RUN_ARGS, "--report-to", "tensorboard", "--out", str(run)]) == 0
    assert "TensorBoard logs in" in capsys.readouterr().err
    events = EventAccumulator(str(run / "tensorboard"), size_guidance={"images": 0}).Reload()
    logged = log_lines(run)
    assert [r["step"] for r in logged] == [5, 10, 15, 20]
    for tag, field in (("loss/d", "d"), ("loss/g", "g"), ("D(x)", "d_real"), ("D(G(z))", "d_fake")):
        scalars = events.Scalars(tag)
        assert [s.step for s in scalars] == [5, 10, 15, 20]
        assert [s.value for s in scalars] == pytest.approx([r[field] for r in logged], rel=1e-5)
    assert [s.step for s in events.Scalars("images_per_s")] == [5, 10, 15, 20]
    grids = events.Images("samples")
    assert [g.step for g in grids][:2] == [10, 20] and grids[0].width > 28
    # the options as hyper-parameters (Accelerate's TensorBoardTracker writes hparams.yml)
    hparams = list((run / "tensorboard").glob("*/hparams.yml"))
    assert hparams and "train.report_to: tensorboard" in hparams[0].read_text()
    assert json.loads((run / "options.json").read_text())["train_config"]["report_to"] == (
        "tensorboard"
    )


def test_trackio_local_store_read_back(tmp_path: Path) -> None:
    pytest.importorskip("trackio")
    env = {**os.environ, "TRACKIO_DIR": str(tmp_path / "trackio"), "HF_HUB_OFFLINE": "1"}
    run = tmp_path / "run-trackio"
    command = [sys.executable, "-m", "trainers.cli", *RUN_ARGS, "--report-to", "trackio"]
    done = subprocess.run(
        [*command, "--out", str(run)], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trackio logs run run-trackio" in done.stderr
    read = (
        "import json; from trackio.sqlite_storage import SQLiteStorage as S; "
        "print(json.dumps(S.get_logs('gan-explorer', 'run-trackio'), default=str))"
    )
    out = subprocess.run(
        [sys.executable, "-c", read], env=env, capture_output=True, text=True, check=True
    ).stdout
    rows = [r for r in json.loads(out.strip().splitlines()[-1]) if "loss/d" in r]
    logged = log_lines(run)
    assert [r["step"] for r in rows] == [5, 10, 15, 20]
    assert [r["loss/d"] for r in rows] == pytest.approx([r["d"] for r in logged], rel=1e-6)
    assert [r["D(G(z))"] for r in rows] == pytest.approx([r["d_fake"] for r in logged], rel=1e-6)


def wandb_records(path: Path):
    """The records of a W&B ``.wandb`` file (LevelDB-log framing around protobuf records)."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    pos, block, parts = 7, 32768, b""
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:  # a block's tail too short for a header is padding
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if length == 0 and kind == 0:
            pos += left
            continue
        parts += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a full record, or the last piece of one
            record = pb.Record()
            record.ParseFromString(parts)
            parts = b""
            yield record


def test_wandb_offline_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "config"))
    notes: list[str] = []
    tracker = tracking.start_trackers(
        "wandb",
        tmp_path / "run",
        options={"train": {"lr_g": 2e-4, "channels": (8, 4)}},
        every=2,
        say=notes.append,
    )
    assert tracker is not None and tracker.names == ["wandb"], notes
    for step in range(1, 5):
        tracker(Step(step, 0.1, {"d": 1.0 / step, "g": 2.0}, d_real=0.7, d_fake=0.3))
    tracker(Samples(4, np.full((8, 8, 1), 200, np.uint8)))
    tracker(Finished(4, "done"))
    files = list((tmp_path / "run" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(files) == 1
    history, config = [], {}
    for record in wandb_records(files[0]):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            items = record.history.item  # "loss/d" comes as the nested key ["loss", "d"]
            history.append(
                {i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in items}
            )
        elif kind == "config":
            config |= {i.key: json.loads(i.value_json) for i in record.config.update}
    scalars = [h for h in history if "loss/d" in h]
    assert [h["_step"] for h in scalars] == [2, 4]  # every 2nd step
    assert [h["loss/d"] for h in scalars] == pytest.approx([0.5, 0.25])
    assert scalars[0]["D(x)"] == pytest.approx(0.7)
    assert any("samples" in key for h in history for key in h)  # the grid as an image
    assert config["train.lr_g"] == pytest.approx(2e-4) and config["train.channels"] == "[8, 4]"


def test_missing_or_failing_tracker_is_one_line_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    real_find_spec = tracking.importlib.util.find_spec
    monkeypatch.setattr(
        tracking.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tensorboard" else real_find_spec(name, *a),
    )
    run = tmp_path / "run"
    assert main([*RUN_ARGS, "--steps", "5", "--report-to", "tensorboard", "--out", str(run)]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "--report-to" in line]
    assert lines == [
        "gan-train: --report-to tensorboard: tensorboard is not installed (pip install "
        "tensorboard, or the [tracking] extra); logging to log.jsonl only"
    ]
    assert [r["step"] for r in log_lines(run)] == [5] and not (run / "tensorboard").exists()

    # "all" skips what is not installed without a word; W&B without a login says one line
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setattr(tracking, "_wandb_has_key", lambda: False)
    notes: list[str] = []
    assert tracking.missing_reason("wandb", {}).startswith("W&B is not logged in")
    monkeypatch.setattr(tracking, "TRACKERS", {"tensorboard": "tensorboard", "wandb": "wandb"})
    assert tracking.start_trackers("all", tmp_path / "all", say=notes.append) is None
    assert len(notes) == 1 and "W&B is not logged in" in notes[0]

    # a tracker that fails while logging is dropped with one line; the others go on
    class Broken:
        name = "broken"

        def log(self, values: dict, step: int) -> None:
            raise ConnectionError("the server went away\nmore detail")

    class Kept:
        name = "kept"
        logged: list[int] = []

        def log(self, values: dict, step: int) -> None:
            self.logged.append(step)

        def finish(self) -> None:
            pass

    kept = Kept()
    tracker = tracking.RunTracker([Broken(), kept], say=notes.append)
    for step in (1, 2):
        tracker(Step(step, 0.0, {"d": 1.0}))
    assert kept.logged == [1, 2] and tracker.names == ["kept"]
    assert notes[-1] == "broken stopped logging (log: the server went away); log.jsonl goes on"


def test_only_the_main_process_logs(tmp_path: Path) -> None:
    assert tracking.start_trackers("tensorboard", tmp_path, is_main=False) is None
    assert not any(tmp_path.iterdir())


def test_hyperparameters_are_plain_values() -> None:
    flat = tracking.hyperparameters(
        {"train": {"lr_g": 2e-4, "ema": None, "spectral_norm": True}, "model": {"ch": (8, 4)}}
    )
    assert flat == {
        "train.lr_g": 2e-4,
        "train.ema": "null",
        "train.spectral_norm": True,
        "model.ch": "[8, 4]",
    }
    assert tracking.rgb(np.zeros((4, 5, 1), np.uint8)).shape == (4, 5, 3)


def test_live_runs_may_log_except_on_a_hosted_space(monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer.live_training import form
    from explorer.params import widget_kind

    assert form.tracking_allowed({})
    assert not form.tracking_allowed({"SPACE_ID": "me/gan-explorer"})
    assert form.tracking_allowed({"SPACE_ID": "me/x", form.TRACKING_ENV: "1"})
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.delenv("GAN_EXPLORER_PUBLIC", raising=False)
    spec = next(s for s in form.train_specs() if s.name == "report_to")
    assert spec.choices == tracking.REPORT_TO and widget_kind(spec) == "choice"
    options = form.JobOptions.from_values({"model": "dcgan", "report_to": "tensorboard"})
    assert options.train_config("mnist").report_to == "tensorboard"
    monkeypatch.setenv("SPACE_ID", "me/gan-explorer")
    assert "report_to" not in [s.name for s in form.train_specs()]
    assert form.JobOptions.from_values({"report_to": "wandb"}).train_config().report_to == "none"
