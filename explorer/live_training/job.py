"""One live training run: a :class:`~explorer.jobs.BackgroundJob` around the GAN engine.

The worker thread runs ``GANTrainer.run(self._callback, self.stop_event)``; the callback, between
two steps, records the step (history, ``log.jsonl``), makes a fixed-noise grid about once a
second (kept as a GIF frame every few seconds), measures quality now and then, and serves
"save checkpoint" requests (the only safe moment to read the weights). One job per machine:
:data:`TRAINING_SLOT`.
"""

from __future__ import annotations

import json
import math
import queue
import re
import shutil
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from explorer.context import training_disabled_reason, training_enabled
from explorer.jobs import BackgroundJob, History, JobSlot
from explorer.live_training.export import (
    export_run_checkpoint,
    slug,
    write_inference_checkpoint,
)
from explorer.live_training.form import FOLDER_IMAGE_SIZE, JobOptions, tracking_allowed
from explorer.live_training.places import (
    UPLOADS_FOLDER,
    default_checkpoint_dir,
    default_runs_dir,
    describe_device,
)
from explorer.live_training.quality import QualityProbe, make_quality_probe, quality_markdown
from trainers import checkpoint as ckpt
from trainers.data import ImageData, load_dataset
from trainers.device import pick_device
from trainers.engine import GANTrainer
from trainers.events import Checkpointed, Event, Finished, Samples, Step
from trainers.loop import JsonlLogger, SampleSaver, write_run_options
from trainers.registry import get_spec
from trainers.tracking import RunTracker, say_on_stderr, start_for_trainer

GRID_EVERY_S = 1.0  # a new fixed-noise grid for the page at most once a second
GIF_FRAME_EVERY_S = 2.0  # a grid is kept as a GIF frame at most every 2 s (plus the first and last)
QUALITY_EVERY_S = 20.0  # the classifier figures cost ~0.3 s on a CPU: every 20 s ...
QUALITY_FIRST_S = 5.0  # ... and once after the first 5 s
TRACK_EVERY = 10  # the "also log to" trackers get every 10th step (log.jsonl gets each one)

#: The one training job this machine runs at a time (training takes the whole CPU/GPU).
TRAINING_SLOT = JobSlot("training")


class TrainingDisabledError(RuntimeError):
    """Training is switched off here (a hosted Space without the opt-in variable)."""


def history_from_log(path: Path) -> History:
    """The curves of an earlier session of a run, from its ``log.jsonl``."""
    history = History(("d", "g", "d_real", "d_fake"))
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                break
            values = {k: record.get(k) for k in ("d", "g", "d_real", "d_fake")}
            history.append(record["step"], **values)
    return history


class TrainingJob(BackgroundJob):
    """One training run in a worker thread; make one with :func:`start_job`."""

    def __init__(
        self, options: JobOptions, owner: str, run_dir: Path, owner_id: str | None = None
    ) -> None:
        super().__init__(name="training", target=options.steps)
        self.options = options
        self.owner = owner or "someone"
        self.owner_id = owner_id  # who may stop or export it: a browser session's id
        self.run_dir = Path(run_dir)
        self.trainer: GANTrainer | None = None
        self.device: torch.device | None = None
        self.quality_probe: QualityProbe | None = None
        self.quality = History()  # classifier figures over steps
        self.images_per_s = 0.0
        self._last_grid_time = -math.inf
        self._last_frame_time = -math.inf
        self._last_quality_time = time.monotonic() - QUALITY_EVERY_S + QUALITY_FIRST_S
        self._save_requests: queue.Queue[tuple[Path, str, threading.Event, dict]] = queue.Queue()
        self._logger = JsonlLogger(self.run_dir / "log.jsonl", every=1)
        self._frames = SampleSaver(self.run_dir / "samples")
        self.tracker: RunTracker | None = None  # TrainConfig.report_to (trainers/tracking.py)
        self.tracking_notes: list[str] = []

    # --- describing -----------------------------------------------------------------------------

    def owned_by(self, owner_id: str | None) -> bool:
        """True when ``owner_id`` (a browser session's id) started this job."""
        return bool(owner_id) and owner_id == self.owner_id

    def describe(self) -> str:
        """ "browser session 3f2a9c's dcgan on mnist (step 120 of 2000, started 14:02:11)"."""
        started = time.strftime("%H:%M:%S", time.localtime(self.started_at))
        return (
            f"{self.owner}'s {self.options.model} on {self.options.dataset} "
            f"(step {self.step} of {self.target}, started {started})"
        )

    def status_text(self) -> str:
        state = {"starting": "starting", "running": "training", "finished": "finished"}[self.state]
        if self.finished is not None and self.state == "finished":
            state = {"done": "done", "stopped": "stopped", "error": "stopped by an error"}.get(
                self.finished.reason, self.finished.reason
            )
        device = describe_device(self.device) if self.device is not None else "?"
        trainer = self.trainer
        precision = f", {trainer.precision}" if trainer is not None else ""
        speed = (
            f" · {self.images_per_s:,.0f} img/s"
            if self.images_per_s and self.state == "running"
            else ""
        )
        tracked = f" · also logged to {', '.join(self.tracker.names)}" if self.tracker else ""
        return (
            f"**{state}** · {self.options.model} on {self.options.dataset} · device: {device}"
            f"{precision} · step {self.step} / {self.target}{speed}{tracked}"
        )

    def snapshot_extra(self) -> dict[str, Any]:
        last = self.quality.last()
        figures = {k: v for k, v in last.items() if k != "step" and math.isfinite(v)}
        return {
            "loss": self.options.loss,
            "quality": self.quality.copy(),
            "quality_md": quality_markdown(figures, int(last["step"]) if last else None),
            "run_dir": str(self.run_dir),
            "tracking_notes": list(self.tracking_notes),
        }

    def release(self) -> None:
        """Drop the trainer, data and probe of an ended job (its run folder keeps everything)."""
        if not self.is_alive:
            self.trainer = None
            self.quality_probe = None

    # --- the worker -----------------------------------------------------------------------------

    def work(self) -> Finished:
        assert self.trainer is not None
        return self.trainer.run(self._callback, self.stop_event)

    def on_finish(self) -> None:
        self._serve_save_requests()
        if self.tracker is not None:
            self.tracker.close()
        TRAINING_SLOT.release(self)

    def _callback(self, event: Event) -> None:
        """Runs in the worker thread, between training steps."""
        trainer = self.trainer
        assert trainer is not None
        if isinstance(event, Step):
            self.images_per_s = (
                event.images_per_s
                if not self.images_per_s
                else 0.9 * self.images_per_s + 0.1 * event.images_per_s
            )
            self._logger(event)
            if self.tracker is not None:
                self.tracker(event)
            self.emit(event)
            now = time.monotonic()
            if event.step == 1 or now - self._last_grid_time >= GRID_EVERY_S:
                self._last_grid_time = now
                self._on_samples(Samples(event.step, trainer.sample_grid()))
            if self.quality_probe is not None and now - self._last_quality_time >= QUALITY_EVERY_S:
                self._measure_quality()
            self._serve_save_requests()
            self.should_stop()  # the page is gone (nobody polled): stop, keep the checkpoint
        elif isinstance(event, Samples):  # the engine's own final grid
            self._on_samples(event, keep_frame=True)
        elif isinstance(event, Checkpointed):
            self.emit(event)
        elif isinstance(event, Finished):
            if self.quality_probe is not None and event.step > 0:
                self._measure_quality()
            if self.tracker is not None:
                self.tracker(event)  # ends the trackers
            self.emit(event)

    def _on_samples(self, event: Samples, keep_frame: bool = False) -> None:
        self.emit(event)
        now = time.monotonic()
        if keep_frame or event.step == 1 or now - self._last_frame_time >= GIF_FRAME_EVERY_S:
            self._last_frame_time = now
            self._frames(event)  # samples/step_000120.png: a frame of the run's GIF
            if self.tracker is not None:
                self.tracker(event)  # the same frames as the trackers' "samples" image

    def _measure_quality(self) -> None:
        try:
            figures = self.quality_probe.measure(self.trainer)
            self.quality.append(self.trainer.step, **figures)
            if self.tracker is not None:
                self.tracker.log_figures(figures, self.trainer.step)
        except Exception:  # noqa: BLE001 - a figure is never worth stopping the run
            self.quality_probe = None
        self._last_quality_time = time.monotonic()

    def _serve_save_requests(self) -> None:
        while True:
            try:
                destination, name, done, result = self._save_requests.get_nowait()
            except queue.Empty:
                return
            try:
                result["path"] = write_inference_checkpoint(self.trainer, destination, name)
            except Exception as error:  # noqa: BLE001
                result["error"] = error
            done.set()

    def request_save(self, destination: Path, name: str, timeout: float = 120.0) -> Path:
        """Save between two steps (from the worker thread) and wait for it."""
        done, result = threading.Event(), {}
        self._save_requests.put((destination, name, done, result))
        deadline = time.monotonic() + timeout
        while not done.wait(0.1):
            if not self.is_alive:  # the run ended meanwhile: nobody else will serve it
                self._serve_save_requests()
            elif time.monotonic() > deadline:
                raise TimeoutError(
                    f"the training step did not finish within {timeout:.0f} s; try again"
                )
        if "error" in result:
            raise result["error"]
        return result["path"]


def save_checkpoint(
    job: TrainingJob | None,
    run_dir: str | Path | None = None,
    root: str | Path | None = None,
    name: str | None = None,
) -> Path:
    """Write an inference checkpoint of the job (running: between two steps, in its worker
    thread; ended: from its trainer or its run folder) into ``root`` (default
    :func:`default_checkpoint_dir`). Returns the new folder."""
    root = Path(root) if root is not None else default_checkpoint_dir()
    if job is not None:
        run_dir = job.run_dir
    if run_dir is None:
        raise ValueError("nothing to save yet: start a training run first")
    run_dir = Path(run_dir)
    step = job.step if job is not None else int(ckpt.read_meta(run_dir / "checkpoint")["step"])
    name = name or f"live-{run_dir.name}-step{step:06d}"
    destination = root / slug(name)
    root.mkdir(parents=True, exist_ok=True)
    trainer = job.trainer if job is not None else None
    if job is not None and job.is_alive and trainer is not None:
        return job.request_save(destination, name)
    if job is not None and trainer is not None and job.state == "finished":
        return write_inference_checkpoint(trainer, destination, name)
    if not (run_dir / "checkpoint" / ckpt.META_FILE).is_file():
        raise ValueError(f"{run_dir} has no checkpoint yet: train at least one step")
    return export_run_checkpoint(run_dir, destination, name)


def current_job() -> TrainingJob | None:
    """The job that holds the machine now, or None."""
    return TRAINING_SLOT.current()


HOSTED_RUN_KEEP_S = 6 * 3600.0  # a hosted explorer deletes live runs untouched this long


def expire_live_runs(keep_s: float = HOSTED_RUN_KEEP_S, runs_dir: str | Path | None = None) -> int:
    """A hosted explorer's clean-up, before each new run: delete the live-run folders in which
    nothing changed for ``keep_s`` seconds (never the running job's, never the uploads, which
    keep their own hour: see uploads.py), so visitors' runs cannot fill the disk. A visitor
    keeps a run by downloading its checkpoint or GIF. Returns how many folders went."""
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    running = current_job()
    keep = {running.run_dir.resolve()} if running is not None else set()
    cutoff = time.time() - keep_s
    removed = 0
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not folder.is_dir() or folder.name == UPLOADS_FOLDER or folder.resolve() in keep:
            continue
        try:
            newest = max(p.stat().st_mtime for p in [folder, *folder.rglob("*")])
        except OSError:  # a file went meanwhile: look again next time
            continue
        if newest < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def get_job(job_id: str | None) -> TrainingJob | None:
    """A recent job by id (running or finished), or None."""
    return TRAINING_SLOT.get(job_id)


def start_job(
    options: JobOptions,
    owner: str,
    *,
    resume_dir: str | Path | None = None,
    runs_dir: str | Path | None = None,
    data: ImageData | None = None,
    device: torch.device | str | None = None,
    classifier_dir: str | Path | None = None,
    model_overrides: dict[str, Any] | None = None,
    owner_id: str | None = None,
) -> TrainingJob:
    """Claim the machine, build the trainer (new, or resumed from ``resume_dir``) and start it.

    Args:
        options: what to train. For a resume, only ``steps`` (the new target), ``data_dir``
            and ``device`` are used: everything else comes from the run's checkpoint.
        owner: who is asking (shown to anyone else who presses Start meanwhile).
        resume_dir: a live run folder to continue.
        runs_dir: where new runs go (default :func:`default_runs_dir`).
        data: images to train on instead of loading ``options.dataset`` (tests).
        device: overrides ``options.device``.
        classifier_dir: reference classifier (default ``pretrained/classifiers/<dataset>``).
        model_overrides: extra model-config fields (tests use tiny models).
        owner_id: who may stop or export the job (a browser session's id); see
            :meth:`TrainingJob.owned_by`.
    Raises:
        TrainingDisabledError, JobBusyError, ValueError, DataUnavailableError, CheckpointError.
    """
    if not training_enabled():
        raise TrainingDisabledError(training_disabled_reason())
    if resume_dir is None:
        options.check(dataset=data is None)
    run_dir = Path(resume_dir) if resume_dir is not None else _new_run_dir(options, runs_dir)
    job = TrainingJob(options, owner, run_dir, owner_id)
    TRAINING_SLOT.claim(job, describe=lambda other: other.describe())
    for old in TRAINING_SLOT.recent():  # free the models and data of ended runs
        if old is not job:
            old.release()
    try:
        _prepare(job, resume_dir is not None, data, device, classifier_dir, model_overrides or {})
    except BaseException:
        job.state = "finished"
        TRAINING_SLOT.release(job)
        raise
    return job.start()


def _new_run_dir(options: JobOptions, runs_dir: str | Path | None) -> Path:
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return root / f"{options.model}-{slug(options.dataset)}-{stamp}-{uuid.uuid4().hex[:4]}"


def _prepare(
    job: TrainingJob,
    resume: bool,
    data: ImageData | None,
    device: torch.device | str | None,
    classifier_dir: str | Path | None,
    model_overrides: dict[str, Any],
) -> None:
    """Load the data, build or resume the trainer, reload the curves (in the caller's thread)."""
    options = job.options
    job.device = torch.device(device) if device is not None else pick_device(options.device)
    if resume:
        meta = ckpt.read_meta(job.run_dir / "checkpoint")
        if data is None:
            data = load_dataset(
                meta["dataset"], options.data_dir, download=False, image_size=meta["image_shape"][1]
            )
        done = int(meta["step"])
        target = options.steps if options.steps > done else done + options.steps
        command = meta.get("command", "explorer live training")
        trainer = GANTrainer.resume(job.run_dir, data, job.device, steps=target, command=command)
        train = {k: v for k, v in asdict(trainer.config).items() if k in ("loss", "batch_size")}
        job.options = JobOptions(
            model=meta["model"],
            dataset=meta["dataset"],
            data_dir=options.data_dir,
            device=options.device,
            train={**train, "steps": target},
        )
        _drop_frames_after(job.run_dir / "samples", done)
        job.history = history_from_log(job.run_dir / "log.jsonl")  # resume() cut it at `done`
    else:
        if data is None:
            size = options.image_size or (
                FOLDER_IMAGE_SIZE if options.dataset.startswith("folder:") else None
            )
            data = load_dataset(options.dataset, options.data_dir, download=True, image_size=size)
        spec = get_spec(options.model)
        model_config = spec.make_config(
            data.image_shape,
            len(data.class_names),
            preset=options.preset,
            **{**options.model_options, **model_overrides},
        )
        config = options.train_config(data.name)
        job.run_dir.mkdir(parents=True, exist_ok=True)
        command = f"explorer live training by {job.owner}: {json.dumps(asdict(options))}"
        trainer = GANTrainer(
            spec, model_config, config, data, job.device, job.run_dir, command=command
        )
        write_run_options(job.run_dir, command, config, model_config)
    job.trainer = trainer
    job.step = trainer.step
    job.target = trainer.config.steps
    job.quality_probe = make_quality_probe(
        trainer.data.name, trainer.data, options.data_dir, classifier_dir
    )
    job.tracker = _start_tracker(job, trainer)


def _start_tracker(job: TrainingJob, trainer: GANTrainer) -> RunTracker | None:
    """The run's "also log to" trackers (TrainConfig.report_to), when this explorer allows
    them (:func:`form.tracking_allowed`: not on a hosted Space unless enabled). A tracker that
    cannot start is a note on the job (and a line on the server's stderr), never an error."""
    if not tracking_allowed():
        return None

    def say(text: str) -> None:
        job.tracking_notes.append(text)
        say_on_stderr(text)

    return start_for_trainer(
        trainer, trainer.config.report_to, job.run_dir, every=TRACK_EVERY, say=say
    )


def _drop_frames_after(folder: Path, step: int) -> None:
    """GIF frames newer than the checkpoint belong to a session that died before saving it."""
    if folder.is_dir():
        for path in folder.glob("step_*.png"):
            match = re.fullmatch(r"step_(\d+)\.png", path.name)
            if match and int(match.group(1)) > step:
                path.unlink(missing_ok=True)
