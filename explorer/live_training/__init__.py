"""Train an image GAN from the browser: a background job, an event queue, a page that polls.

How the pieces talk (see /DESIGN.md "One event stream")::

    Start ─► start_job() ──► TrainingJob (a BackgroundJob) ── worker thread: GANTrainer.run()
                                  │                              │ Step / Samples / Finished
                                  │                              ▼
    page ◄── job.poll() ◄──── history, latest grid, ◄──── callback (also: log.jsonl, sample PNGs,
    (a gr.Timer or a           status, event queue              quality probe, save requests)
     Streamlit fragment, ~1-2/s)
    Stop ──► job.request_stop() sets a threading.Event; the engine checks it between steps.

Rules this package keeps:

- **One job per machine** (:data:`TRAINING_SLOT`): training uses the whole CPU/GPU. A second
  Start gets :class:`~explorer.jobs.JobBusyError` saying whose job runs and how far it is.
- **No thread left behind.** A page polls (``job.poll()`` touches the job); when nobody has
  polled for ``orphan_timeout`` seconds the worker stops itself, keeping the checkpoint.
  A streaming caller uses :func:`stream` (``job.follow()``): closing it stops and joins.
- **Resume continues the run.** Stop writes the run's checkpoint; Resume rebuilds the trainer
  from it (``GANTrainer.resume``) and reloads the curves from ``log.jsonl``.
- **Options are declared once** (:mod:`~explorer.live_training.form`): the page's widgets come
  from ``TrainConfig`` and the family configs; only ``live_trainable`` families are offered.
- **Training is off on a hosted Space** (``SPACE_ID`` set) unless ``GAN_EXPLORER_ENABLE_TRAINING=1``.
- **Only its owner stops or exports a job**: ``start_job(..., owner_id=session)`` and
  :meth:`TrainingJob.owned_by`; a hosted page trains on built-in data or an upload
  (:mod:`~explorer.live_training.uploads`), never on a typed server path.

Modules: ``form`` (what to train), ``job`` (the run), ``quality`` (classifier figures),
``export`` (checkpoint, GIF), ``places`` (folders, device), ``uploads`` (a visitor's pictures).
Nothing here imports a front end.
"""

from __future__ import annotations

from collections.abc import Iterator

from explorer.context import ENABLE_ENV, training_disabled_reason, training_enabled
from explorer.jobs import JobBusyError, JobSnapshot
from explorer.live_training.export import make_gif, save_checkpoint, write_inference_checkpoint
from explorer.live_training.form import (
    DATA_CHOICES,
    IMAGE_DATASETS,
    NO_PRESET,
    TOY_DATA,
    TOY_MESSAGE,
    JobOptions,
    family_choices,
    live_families,
    model_specs,
    preset_choices,
    train_specs,
)
from explorer.live_training.job import (
    TRAINING_SLOT,
    TrainingDisabledError,
    TrainingJob,
    current_job,
    expire_live_runs,
    get_job,
    history_from_log,
    start_job,
)
from explorer.live_training.places import (
    CHECKPOINTS_ENV,
    RUNS_ENV,
    default_checkpoint_dir,
    default_runs_dir,
    describe_device,
)
from explorer.live_training.quality import QualityProbe, make_quality_probe, quality_markdown
from trainers.checkpoint import CheckpointError
from trainers.data import DataUnavailableError

#: What Start, Resume and Save can refuse with: each is shown to the user as one line.
START_ERRORS = (
    JobBusyError,
    TrainingDisabledError,
    DataUnavailableError,
    CheckpointError,
    ValueError,
    OSError,
)


def stream(
    job: TrainingJob, min_interval: float = 0.5, heartbeat: float = 1.0
) -> Iterator[JobSnapshot]:
    """Snapshots of the job as it trains (at most every ``min_interval`` s, at least every
    ``heartbeat`` s); the last one is finished. Closing it early stops and joins the job."""
    return job.follow(min_interval, heartbeat)


__all__ = [
    "START_ERRORS",
    "CHECKPOINTS_ENV",
    "DATA_CHOICES",
    "ENABLE_ENV",
    "IMAGE_DATASETS",
    "NO_PRESET",
    "RUNS_ENV",
    "TOY_DATA",
    "TOY_MESSAGE",
    "TRAINING_SLOT",
    "JobBusyError",
    "JobOptions",
    "JobSnapshot",
    "QualityProbe",
    "TrainingDisabledError",
    "TrainingJob",
    "current_job",
    "default_checkpoint_dir",
    "default_runs_dir",
    "describe_device",
    "expire_live_runs",
    "family_choices",
    "get_job",
    "history_from_log",
    "live_families",
    "make_gif",
    "make_quality_probe",
    "model_specs",
    "preset_choices",
    "quality_markdown",
    "save_checkpoint",
    "start_job",
    "stream",
    "train_specs",
    "training_disabled_reason",
    "training_enabled",
    "write_inference_checkpoint",
]
