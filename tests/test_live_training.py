"""Tests for training from the browser (explorer/live_training/ and the Train tab's handlers).

Tiny MLP-GANs on synthetic 8x8 images, so every run takes well under a second.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.context import ENABLE_ENV, training_enabled
from explorer.jobs import JobBusyError
from explorer.live_training.export import make_gif
from explorer.live_training.form import JobOptions
from explorer.live_training.job import (
    TrainingDisabledError,
    TrainingJob,
    current_job,
    expire_live_runs,
    history_from_log,
    save_checkpoint,
    start_job,
)
from explorer.live_training.page import GRID_SIDE
from explorer.live_training.places import RUNS_ENV, SAVE_ENV
from explorer.live_training.quality import make_quality_probe
from trainers.checkpoint import load_checkpoint
from trainers.data import synthetic_dataset

TINY = {"g_hidden": (16,), "d_hidden": (16,), "latent_dim": 8, "batchnorm": False}


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Runs and checkpoints go to tmp_path; no job outlives a test."""
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    monkeypatch.setenv(SAVE_ENV, str(tmp_path / "checkpoints"))
    monkeypatch.delenv("SPACE_ID", raising=False)
    yield
    job = current_job()
    if job is not None:
        job.stop()


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset((1, 8, 8), num_classes=4, n=256, seed=0)


def _start(data, steps: int = 30, owner: str = "tester", **kwargs) -> TrainingJob:
    options = JobOptions(
        model="mlp-gan", dataset="synthetic", train={"batch_size": 16, "steps": steps}
    )
    return start_job(options, owner, data=data, device="cpu", model_overrides=TINY, **kwargs)


def _training_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("gan-explorer-training")]


def _wait_for_step(job: TrainingJob, step: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while job.step < step:
        assert time.monotonic() < deadline, "training did not get going"
        time.sleep(0.005)


def test_stream_yields_increasing_steps_until_done(data) -> None:
    job = _start(data, steps=40)
    updates = list(job.follow(0.02))
    steps = [u.step for u in updates]
    assert all(b >= a for a, b in zip(steps, steps[1:], strict=False))
    assert steps[-1] == 40 and updates[-1].finished and updates[-1].reason == "done"
    assert sum(u.finished for u in updates) == 1
    last = updates[-1]
    assert last.history["step"] == list(range(1, 41))
    assert set(last.history) >= {"d", "g", "d_real", "d_fake"}
    assert last.image is not None and last.image.ndim == 3
    assert "device" in last.status and "40 / 40" in last.status
    assert not _training_threads()


def test_stream_rate_is_limited(data) -> None:
    job = _start(data, steps=100_000)
    started = time.monotonic()
    gen = job.follow(0.5, 1.0)
    updates = [next(gen) for _ in range(3)]
    elapsed = time.monotonic() - started
    gen.close()
    assert elapsed >= 0.9  # three updates at most every 0.5 s
    assert updates[-1].step > updates[0].step
    assert not job.is_alive


def test_stop_ends_within_one_step(data) -> None:
    job = _start(data, steps=100_000)
    _wait_for_step(job, 5)
    job.stop_event.set()  # what the Stop button does
    pressed_at = job.step  # steps finished when Stop was pressed
    job.join(10)
    assert not job.is_alive
    assert job.trainer.step <= pressed_at + 1  # only the step in progress may finish
    assert job.finished.reason == "stopped"
    assert (job.run_dir / "checkpoint" / "meta.json").is_file()  # kept for Resume
    assert not _training_threads()


def test_stop_through_the_stream(data) -> None:
    job = _start(data, steps=100_000)
    updates = []
    for update in job.follow(0.05):
        updates.append(update)
        if len(updates) == 3:
            job.stop_event.set()
    assert updates[-1].finished and updates[-1].reason == "stopped"
    assert updates[-1].step == job.trainer.step
    assert not _training_threads()


def test_closing_the_stream_stops_and_joins_the_thread(data) -> None:
    job = _start(data, steps=100_000)
    gen = job.follow(0.05)
    next(gen)
    next(gen)
    assert job.is_alive and _training_threads()
    gen.close()  # what Gradio does when the browser tab goes away
    assert not job.is_alive
    assert not _training_threads()
    assert current_job() is None


def test_orphaned_job_stops_itself(data) -> None:
    job = _start(data, steps=100_000)
    job.orphan_timeout = 0.2  # nobody reads the stream
    job.join(10)
    assert not job.is_alive and job.finished.reason == "stopped"


def test_resume_continues_steps_and_curves(data) -> None:
    first = _start(data, steps=20)
    before = list(first.follow(0.02))[-1].history
    assert before["step"] == list(range(1, 21))
    options = JobOptions(train={"steps": 35})
    second = start_job(options, "tester", resume_dir=first.run_dir, data=data, device="cpu")
    # resumed at step 20 (the worker thread may already have taken a step or two)
    assert 20 <= second.step <= 35 and second.target == 35
    updates = list(second.follow(0.02))
    after = updates[-1].history
    assert after["step"] == list(range(1, 36))  # no gap, no repeat
    assert after["d"][:20] == before["d"] and after["g"][:20] == before["g"]
    assert updates[-1].step == 35
    # a target already reached means "that many more"
    third = start_job(
        JobOptions(train={"steps": 5}),
        "tester",
        resume_dir=first.run_dir,
        data=data,
        device="cpu",
    )
    assert third.target == 40
    third.stop()


def test_one_job_per_machine(data) -> None:
    job = _start(data, steps=100_000, owner="alice")
    with pytest.raises(JobBusyError, match="alice's mlp-gan"):
        _start(data, owner="bob")
    job.stop()
    _start(data, steps=2, owner="bob").join(10)  # free again


def test_training_switched_off_on_a_space(monkeypatch, data) -> None:
    assert training_enabled({})
    assert not training_enabled({"SPACE_ID": "user/space"})
    assert training_enabled({"SPACE_ID": "user/space", ENABLE_ENV: "1"})
    monkeypatch.setenv("SPACE_ID", "user/space")
    with pytest.raises(TrainingDisabledError, match=ENABLE_ENV):
        _start(data)


def test_save_checkpoint_while_running_and_after(data, tmp_path) -> None:
    job = _start(data, steps=100_000)
    _wait_for_step(job, 3)
    running = save_checkpoint(job)
    assert running.parent == tmp_path / "checkpoints"
    loaded = load_checkpoint(running)
    assert loaded.spec.name == "mlp-gan" and loaded.meta["step"] >= 3
    job.stop()
    ended = save_checkpoint(job, name="my model")
    assert load_checkpoint(ended).meta["name"] == "my model"
    exported = save_checkpoint(None, run_dir=job.run_dir, name="from the folder")
    assert load_checkpoint(exported).meta["step"] == job.trainer.step


def test_gif_of_the_run(data) -> None:
    job = _start(data, steps=30)
    list(job.follow(0.02))
    (job.run_dir / "samples" / "step_000015.png").write_bytes(
        (job.run_dir / "samples" / "step_000001.png").read_bytes()
    )
    path = make_gif(job.run_dir)
    from PIL import Image

    with Image.open(path) as gif:
        assert gif.n_frames == len(list((job.run_dir / "samples").glob("step_*.png"))) >= 3


def test_quality_figure_with_a_reference_classifier(data, tmp_path) -> None:
    from trainers.evaluate import ClassifierConfig, ReferenceClassifier, save_classifier

    torch.manual_seed(0)
    save_classifier(
        ReferenceClassifier(ClassifierConfig((1, 8, 8), 4)),
        tmp_path / "clf",
        {"dataset": "synthetic"},
    )
    job = _start(data, steps=10, classifier_dir=tmp_path / "clf")
    assert job.quality_probe is not None
    last = list(job.follow(0.02))[-1]
    assert "classifier-FID" in last.extra["quality_md"]
    assert np.isfinite(last.extra["quality"]["classifier_fid"][-1])
    assert make_quality_probe("synthetic", data, None, tmp_path / "missing") is None


def test_history_from_the_log_and_the_chart(data) -> None:
    from explorer import charts

    job = _start(data, steps=12)
    job.join(20)
    history = history_from_log(job.run_dir / "log.jsonl")
    assert history["step"] == list(range(1, 13)) and len(history["d_real"]) == 12
    figure = charts.training_curves(dict(history), loss="non-saturating")
    assert [t.name for t in figure.data] == ["L_D", "L_G", "D(x) real", "D(G(z)) fake"]
    assert list(figure.data[0].x) == list(range(1, 13))


# --- the Train tab's handlers ---------------------------------------------------------------------


def _form(**values):
    """The Train tab's widget values by option name (the tab's defaults, then ``values``)."""
    return {
        "model": "mlp-gan",
        "preset": "classroom",
        "data": "mnist",
        "folder": "",
        "image_size": 32,
        "data_dir": "",
        "loss": "non-saturating",
        "d_steps": 1,
        "lr_d": 2e-4,
        "lr_g": 2e-4,
        "spectral_norm": False,
        "minibatch_std": False,
        "batch_size": 64,
        "steps": 10,
        "seed": 0,
    } | values


def test_job_options_come_from_the_declared_options() -> None:
    from explorer.live_training import form

    names = [spec.name for spec in form.train_specs()]
    assert {"steps", "batch_size", "loss", "d_steps", "lr_g", "lr_d", "max_seconds"} <= set(names)
    assert "precision" not in names and "sample_every" not in names  # ui=False
    assert {"spectral_norm", "minibatch_std", "latent_dim"} <= set(form.model_specs())
    assert "cyclegan" not in [name for _, name in form.family_choices()]
    options = JobOptions.from_values(
        _form(
            model="dcgan",
            preset="(none)",
            loss="hinge",
            d_steps=2.0,
            spectral_norm=True,
            max_seconds=30,
            batchnorm=False,  # batchnorm is mlp-gan's: ignored for dcgan
        )
    )
    assert options.preset is None and options.loss == "hinge"
    assert options.train["d_steps"] == 2 and isinstance(options.train["d_steps"], int)
    assert options.train["max_seconds"] == 30.0
    assert options.model_options == {"spectral_norm": True}  # only what differs from default
    assert options.train_config("mnist").max_seconds == 30.0
    with pytest.raises(ValueError, match="k \\(D steps per G step\\) must be between 1 and 20"):
        JobOptions.from_values(_form(d_steps=30))
    with pytest.raises(ValueError, match="does not train in the browser"):
        JobOptions(model="cyclegan").check(dataset=False)


def test_pages_start_at_the_classroom_preset_and_the_users_values_win() -> None:
    from explorer.context import HOSTED_LIMITS
    from explorer.gradio_ui.tabs import train
    from explorer.live_training import form

    assert (form.default_family(), form.default_preset("dcgan")) == ("dcgan", "classroom")
    start = form.preset_values("dcgan", "classroom")
    assert start["batch_size"] == 16 and start["lr_g"] == 5e-4 and start["max_seconds"] == 60.0
    assert start["minibatch_std"] is True and start["spectral_norm"] is False
    assert form.preset_values("dcgan", "(none)")["batch_size"] == 64  # TrainConfig's default
    with pytest.raises(ValueError, match="dcgan has no preset 'fast'"):
        form.preset_values("dcgan", "fast")
    # the Gradio handlers send those values to the widgets (hosted: within the visitor limits)
    model_names = list(form.model_specs())
    train_names = [spec.name for spec in form.train_specs()]
    updates = train.on_model("dcgan")
    assert updates[0].value == "classroom"
    sent = dict(zip([*model_names, *train_names], updates[1:], strict=True))
    assert sent["batch_size"]["value"] == 16 and sent["minibatch_std"]["value"] is True
    assert sent["batchnorm"]["visible"] is False  # mlp-gan's option
    hosted = dict(
        zip(
            train_names,
            train.on_preset("dcgan", "classroom", HOSTED_LIMITS)[-len(train_names) :],
            strict=True,
        )
    )
    assert hosted["steps"]["value"] == HOSTED_LIMITS.train_steps
    assert hosted["max_seconds"]["value"] == 60.0  # within the visitor's budget already
    # what the page sends: the preset's own values are not overrides, a changed one is
    options = JobOptions.from_values(_form(**start, model="dcgan", preset="classroom"))
    assert options.model_options == {}
    assert options.train_config("mnist").precision == "fp32"  # the preset's, no widget
    changed = JobOptions.from_values(
        _form(**{**start, "minibatch_std": False}, model="dcgan", preset="classroom")
    )
    assert changed.model_options == {"minibatch_std": False}


def _run_tab_until_done(state, timeout: float = 60.0):
    from explorer.gradio_ui.tabs import train

    deadline = time.monotonic() + timeout
    while True:
        outputs = train.on_poll(state)
        if not outputs[-1].active or time.monotonic() > deadline:
            return outputs
        time.sleep(0.05)


def test_train_tab_handlers_without_a_browser(tmp_path) -> None:
    from explorer.gradio_ui.tabs import train

    assert "2-D playground" in train.on_start({}, _form(data="toy2d"))[1]
    assert "image folder" in train.on_start({}, _form(data="folder"))[1]
    missing = tmp_path / "nothing-here"
    assert "does not exist" in train.on_start({}, _form(data="folder", folder=str(missing)))[1]
    assert "cyclegan" not in str(train.on_model("dcgan")[0])
    assert "Nothing to resume" in train.on_resume({}, 10, "")[1]
    assert train.on_stop({}) == "No training job is running."
    assert "first" in train.on_gif({})[1]
    assert train.on_poll({})[-1].active is False  # no job: the timer stops


def test_train_tab_trains_a_folder_run(tmp_path) -> None:
    from PIL import Image

    from explorer.gradio_ui.tabs import train

    folder = tmp_path / "images" / "blobs"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(16):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    values = _form(data="folder", folder=str(tmp_path / "images"), image_size=16, batch_size=8)
    state, status, curves, _, _, timer = train.on_start({}, values | {"steps": 6})
    assert timer.active and Path(state["run_dir"]).is_dir()
    status, curves, grid, _, timer = _run_tab_until_done(state)
    assert "done" in status and "6 / 6" in status and not timer.active
    assert grid.ndim == 3 and grid.shape[0] >= GRID_SIDE
    traces = json.loads(curves)["data"]  # the live chart's value: the plotly figure as JSON
    assert [t["name"] for t in traces][:2] == ["L_D", "L_G"] and len(traces) == 4
    options = json.loads((Path(state["run_dir"]) / "options.json").read_text())
    assert options["train_config"]["steps"] == 6 and options["model_config"]["batchnorm"] is False
    assert "Saved" in train.on_save(state)
    assert train.on_gif(state)[0].endswith(".gif")
    assert not _training_threads()


def test_train_tab_builds_with_named_endpoints(monkeypatch) -> None:
    import gradio as gr

    from explorer.gradio_ui.tabs import train

    with gr.Blocks() as demo:
        train.build_tab()
    names = [fn.api_name for fn in demo.fns.values()]
    assert all(name.startswith("train_") for name in names)
    assert {
        "train_start",
        "train_stop",
        "train_resume",
        "train_save_checkpoint",
        "train_gif",
        "train_poll",
    } <= set(names)
    monkeypatch.setenv("SPACE_ID", "user/space")
    with gr.Blocks() as hosted:
        train.build_tab()
    start = next(b for b in hosted.blocks.values() if getattr(b, "elem_id", None) == "train-start")
    assert start.interactive is False


def test_a_hosted_explorer_deletes_old_live_runs_but_not_the_running_one(data, tmp_path) -> None:
    import os

    old, fresh, uploads = tmp_path / "old-run", tmp_path / "fresh-run", tmp_path / "uploads"
    for folder in (old, fresh, uploads):
        (folder / "checkpoint").mkdir(parents=True)
        (folder / "checkpoint" / "meta.json").write_text("{}")
    long_ago = time.time() - 7 * 3600
    for path in (old, old / "checkpoint", old / "checkpoint" / "meta.json", uploads):
        os.utime(path, (long_ago, long_ago))
    os.utime(fresh, (long_ago, long_ago))  # an old folder with a file written just now
    assert expire_live_runs(runs_dir=tmp_path) == 1
    assert not old.exists() and fresh.is_dir() and uploads.is_dir()
    # the running job's folder stays however old it looks (keep_s < 0: every folder is "old")
    job = _start(data, steps=100_000, runs_dir=tmp_path)
    _wait_for_step(job, 1)
    assert expire_live_runs(keep_s=-3600, runs_dir=tmp_path) == 1  # "fresh-run"
    assert job.run_dir.is_dir() and uploads.is_dir()


def test_the_save_folder_is_not_the_list_of_checkpoints_to_show(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``GAN_EXPLORER_CHECKPOINTS`` lists hf:// checkpoints a Space shows; "Save checkpoint"
    writes to ``GAN_EXPLORER_SAVE_DIR`` (a Space with both never saves into "hf:/...")."""
    from explorer.live_training.places import default_checkpoint_dir

    monkeypatch.setenv("GAN_EXPLORER_CHECKPOINTS", "hf://alice/a,hf://bob/b@v2")
    monkeypatch.delenv(SAVE_ENV, raising=False)
    assert default_checkpoint_dir() == Path.home() / ".cache" / "gan-explorer" / "checkpoints"
    monkeypatch.setenv(SAVE_ENV, str(tmp_path / "saved"))
    assert default_checkpoint_dir() == tmp_path / "saved"
