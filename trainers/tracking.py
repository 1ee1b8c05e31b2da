"""Logging a run where people already look: TensorBoard, trackio or Weights & Biases.

``gan-train ... --report-to tensorboard|trackio|wandb|all|none`` (and the Train tab's "log to"
choice) sends what ``log.jsonl`` gets to those trackers too, through Hugging Face Accelerate's
tracker classes (``accelerate.tracking.TensorBoardTracker``, ``TrackioTracker``,
``WandBTracker``: the ``GeneralTracker`` API that ``Accelerator(log_with=...)`` uses):

- every ``log_every``-th step: ``loss/d``, ``loss/g`` (or the trainer's own loss names),
  ``D(x)``, ``D(G(z))``, ``images_per_s`` and ``epoch``;
- the fixed-noise sample grid as the image ``samples`` whenever the trainer draws one;
- the quality figures when a trainer measures them (``quality/classifier_fid``, ...);
- the options (the run's train and model configs) as hyper-parameters, once at the start.

Where it goes: TensorBoard event files in ``<run folder>/tensorboard/`` (so
``tensorboard --logdir runs/`` compares every run), trackio's local store (project
``gan-explorer``, one run per run folder; ``trackio show --project gan-explorer``), W&B
project ``gan-explorer`` (``WANDB_MODE=offline`` keeps it on disk in ``<run folder>/wandb/``).

The tracker is just another training-event callback (:class:`RunTracker`). Nothing changes
without ``--report-to`` (``"none"``: this module does not even import Accelerate). A tracker
that is not installed, cannot log in or fails later costs one line on stderr and the run goes
on with ``log.jsonl``. Under a data-parallel launch only the main process logs (the callers
build a tracker there only, and Accelerate's trackers check ``PartialState`` again).

We create the tracker objects ourselves rather than through ``Accelerator(log_with=...)``:
a one-process run has no Accelerator (and must not get one just to log), and a
data-parallel run's Accelerator (trainers/distributed.py) is built before the options are
known. ``PartialState()``, which the trackers' logging needs, is created here when missing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainers.events import Finished, Samples, Step
from trainers.options import OptionSpec, option, option_specs

#: The ``--report-to`` choices. "all": every tracker of :data:`TRACKERS` that is installed.
REPORT_TO: tuple[str, ...] = ("none", "tensorboard", "trackio", "wandb", "all")
#: The trackers, by Accelerate's name, with the package each one needs.
TRACKERS: dict[str, str] = {"tensorboard": "tensorboard", "trackio": "trackio", "wandb": "wandb"}
#: trackio's and W&B's project for every run of this project.
DEFAULT_PROJECT = "gan-explorer"
#: The help text of ``--report-to`` and the Train tab's widget (declared on TrainConfig).
REPORT_TO_HELP = (
    "also log the run to TensorBoard, trackio or Weights & Biases (all = those installed); "
    "log.jsonl is always written"
)
#: The step's fields that are not losses (the rest of a log.jsonl line is losses).
NOT_LOSSES = frozenset({"step", "epoch", "d_real", "d_fake", "images_per_s", "wall_time"})

Say = Callable[[str], None]


def say_on_stderr(text: str) -> None:
    """The default way a tracker problem is reported: one line on stderr."""
    print(f"gan-train: {text}", file=sys.stderr)


def report_to_field() -> Any:
    """The ``report_to`` option, declared once, here: ``TrainConfig.report_to`` is this field,
    and :func:`report_to_option` gives its ``OptionSpec`` to the command lines whose configs
    are not option dataclasses (CycleGAN, style transfer)."""
    return option("none", REPORT_TO_HELP, choices=REPORT_TO, ui_label="also log to")


@dataclass
class _ReportTo:
    report_to: str = report_to_field()


def report_to_option() -> OptionSpec:
    """The ``--report-to`` option (an ``OptionSpec``), the same as ``TrainConfig``'s."""
    return option_specs(_ReportTo)[0]


def tracker_names(report_to: str | None) -> list[str]:
    """The trackers a ``--report-to`` value asks for: [] for None/"none", all three for "all".

    Raises:
        ValueError: an unknown value (one line for the user).
    """
    value = (report_to or "none").strip().lower()
    if value not in REPORT_TO:
        raise ValueError(f"--report-to must be one of {', '.join(REPORT_TO)}, got {report_to!r}")
    if value == "none":
        return []
    return list(TRACKERS) if value == "all" else [value]


def missing_reason(name: str, environ: Mapping[str, str] | None = None) -> str:
    """Why tracker ``name`` cannot start here ("" when it can): not installed, or W&B online
    without a key (it would ask for one on the terminal, or fail)."""
    environ = os.environ if environ is None else environ
    package = TRACKERS[name]
    if importlib.util.find_spec(package) is None:
        return f"{package} is not installed (pip install {package}, or the [tracking] extra)"
    if name == "wandb" and environ.get("WANDB_MODE", "").lower() not in (
        "offline",
        "disabled",
        "dryrun",
    ):
        if not environ.get("WANDB_API_KEY") and not _wandb_has_key():
            return "W&B is not logged in (run `wandb login`, or set WANDB_MODE=offline)"
    return ""


def _wandb_has_key() -> bool:
    """Whether W&B has an API key stored (``wandb login``), asked without any prompt."""
    try:
        import wandb

        return bool(wandb.login(prompt=False, verify=False))
    except Exception:  # noqa: BLE001 - any trouble means "not usable"
        return False


def step_values(event: Step) -> dict[str, float]:
    """The numbers of one Step as trackers get them: ``loss/<name>``, ``D(x)``, ``D(G(z))``,
    ``images_per_s``, ``epoch`` (the fields of a log.jsonl line, under readable tags)."""
    values = {f"loss/{name}": float(value) for name, value in event.losses.items()}
    if event.d_real is not None:
        values["D(x)"] = float(event.d_real)
    if event.d_fake is not None:
        values["D(G(z))"] = float(event.d_fake)
    values["images_per_s"] = float(event.images_per_s)
    values["epoch"] = float(event.epoch)
    return values


def hyperparameters(options: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Options flattened to what every tracker takes as hyper-parameters: bool, int, float or
    str values under dotted keys ({"train": {"lr_g": 2e-4}} -> {"train.lr_g": 2e-4}); None,
    lists and tuples become text."""
    flat: dict[str, Any] = {}
    for key, value in options.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat |= hyperparameters(value, f"{name}.")
        elif isinstance(value, bool | int | float | str):
            flat[name] = value
        else:
            flat[name] = json.dumps(value, default=str)
    return flat


def rgb(image: np.ndarray) -> np.ndarray:
    """A uint8 (H, W, C) picture with C = 1 or 3 (or (H, W)) as (H, W, 3)."""
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 2:
        image = image[..., None]
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image[..., :3]


class RunTracker:
    """A training-event callback that sends the run to started Accelerate trackers.

    Make one with :func:`start_trackers`. Step events (every ``every``-th) become scalars,
    Samples the image ``samples``, Finished ends the trackers; :meth:`log_figures` adds
    quality figures. A tracker that raises is dropped with one line (``say``).
    """

    def __init__(self, trackers: list[Any], every: int = 1, say: Say = say_on_stderr) -> None:
        self.trackers = list(trackers)
        self.every = max(1, int(every))
        self.say = say
        self.closed = False

    @property
    def names(self) -> list[str]:
        """The trackers still logging, e.g. ["tensorboard"]."""
        return [tracker.name for tracker in self.trackers]

    def __call__(self, event: Any) -> None:
        if isinstance(event, Step):
            if event.step % self.every == 0:
                self.log(step_values(event), event.step)
        elif isinstance(event, Samples):
            self.log_image("samples", event.image, event.step)
        elif isinstance(event, Finished):
            self.close()

    def log(self, values: Mapping[str, float], step: int) -> None:
        """Scalars at ``step`` to every tracker."""
        self._each("log", lambda tracker: tracker.log(dict(values), step=step))

    def log_figures(self, figures: Mapping[str, float], step: int) -> None:
        """Quality figures (e.g. ``{"classifier_fid": 12.3}``) as ``quality/<name>``."""
        finite = {
            f"quality/{name}": float(value)
            for name, value in figures.items()
            if isinstance(value, int | float) and np.isfinite(value)
        }
        if finite:
            self.log(finite, step)

    def log_image(self, tag: str, image: np.ndarray, step: int) -> None:
        """One picture (uint8 (H, W, C)) at ``step`` to every tracker."""
        picture = rgb(image)

        def send(tracker: Any) -> None:
            if tracker.name == "tensorboard":
                tracker.log_images({tag: picture[None]}, step=step, dataformats="NHWC")
            elif tracker.name == "trackio":  # Accelerate's TrackioTracker has no log_images
                import trackio

                tracker.log({tag: trackio.Image(picture)}, step=step)
            else:
                tracker.log_images({tag: [picture]}, step=step)

        self._each("image", send)

    def close(self) -> None:
        """End every tracker (flush and close its files); safe to call twice."""
        if self.closed:
            return
        self.closed = True
        for tracker in self.trackers:
            try:
                with _quiet():
                    tracker.finish()
            except Exception as error:  # noqa: BLE001 - the run is over; say it and go on
                self.say(f"{tracker.name} could not finish: {_first_line(error)}")

    def _each(self, what: str, action: Callable[[Any], None]) -> None:
        if self.closed:
            return
        for tracker in list(self.trackers):
            try:
                action(tracker)
            except Exception as error:  # noqa: BLE001 - a tracker never stops training
                self.trackers.remove(tracker)
                self.say(
                    f"{tracker.name} stopped logging ({what}: {_first_line(error)}); "
                    "log.jsonl goes on"
                )


def start_trackers(
    report_to: str | None,
    run_dir: str | Path,
    run_name: str | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    every: int = 1,
    is_main: bool = True,
    project: str = DEFAULT_PROJECT,
    say: Say = say_on_stderr,
    tensorboard_dir: str | Path | None = None,
) -> RunTracker | None:
    """Start the trackers ``report_to`` asks for; None when it asks for none (or none could
    start, or this is not the main process).

    Args:
        report_to: a :data:`REPORT_TO` value.
        run_dir: the run folder (W&B writes ``wandb/`` into it).
        run_name: the run's name in trackio and W&B (default: the run folder's name).
        options: hyper-parameters (nested dicts are flattened, see :func:`hyperparameters`).
        every: log every N-th Step (the run's ``log_every``, so trackers and log.jsonl agree).
        is_main: False in the other processes of a data-parallel run: nothing is started.
        project: trackio's and W&B's project.
        say: where the one-line notes go (stderr by default; the explorer shows them).
        tensorboard_dir: where TensorBoard's event files go (default ``run_dir/tensorboard``).
    Raises:
        ValueError: an unknown ``report_to``.
    """
    names = tracker_names(report_to)
    if not names or not is_main:
        return None
    run_dir = Path(run_dir)
    run_name = run_name or run_dir.resolve().name
    tb_dir = Path(tensorboard_dir) if tensorboard_dir is not None else run_dir / "tensorboard"
    hparams = hyperparameters(options or {})
    asked_all = (report_to or "").lower() == "all"
    trackers = []
    for name in names:
        if reason := missing_reason(name):
            if not (asked_all and "not installed" in reason):  # "all" = those installed
                say(f"--report-to {name}: {reason}; logging to log.jsonl only")
            continue
        try:
            tracker = _make_tracker(name, run_dir, run_name, project, tb_dir)
            with _quiet():  # trackio and W&B print banners on stdout
                tracker.start()
                tracker.store_init_configuration(hparams)
        except Exception as error:  # noqa: BLE001 - one line, the run goes on
            say(f"--report-to {name}: could not start ({_first_line(error)}); log.jsonl only")
            continue
        trackers.append(tracker)
        say(_where(name, tb_dir, run_dir, run_name, project))
    return RunTracker(trackers, every, say) if trackers else None


def trainer_options(trainer: Any) -> dict[str, Any]:
    """A trainer's hyper-parameters: its train and model configs and the command line."""
    return {
        "train": asdict(trainer.config),
        "model": asdict(trainer.model_config),
        "command": getattr(trainer, "command", ""),
    }


def start_for_trainer(
    trainer: Any,
    report_to: str | None,
    run_dir: str | Path,
    *,
    every: int | None = None,
    say: Say = say_on_stderr,
) -> RunTracker | None:
    """:func:`start_trackers` for a ``TrainingLoop`` (GANTrainer, CycleGANTrainer): its
    options as hyper-parameters, its ``log_every`` (or ``every``), its main process only."""
    if not tracker_names(report_to):
        return None
    return start_trackers(
        report_to,
        run_dir,
        options=trainer_options(trainer),
        every=every or getattr(trainer.config, "log_every", 1),
        is_main=trainer.dist.is_main,
        say=say,
    )


def _make_tracker(name: str, run_dir: Path, run_name: str, project: str, tb_dir: Path) -> Any:
    """Accelerate's tracker object for ``name`` (not started)."""
    from accelerate import PartialState
    from accelerate.tracking import TensorBoardTracker, TrackioTracker, WandBTracker

    PartialState()  # the trackers' main-process checks and logging need the state
    if name == "tensorboard":  # events in tb_dir (Accelerate joins logging_dir / run_name)
        return TensorBoardTracker(tb_dir.name, tb_dir.parent)
    if name == "trackio":
        return TrackioTracker(project, name=run_name, auto_log_cpu=False, auto_log_gpu=False)
    run_dir.mkdir(parents=True, exist_ok=True)
    return WandBTracker(project, name=run_name, dir=str(run_dir))


def _where(name: str, tb_dir: Path, run_dir: Path, run_name: str, project: str) -> str:
    """The one line that says where a started tracker logs and how to look."""
    if name == "tensorboard":
        return f"TensorBoard logs in {tb_dir} (tensorboard --logdir {tb_dir.parent.parent})"
    if name == "trackio":
        return f"trackio logs run {run_name} (trackio show --project {project})"
    offline = os.environ.get("WANDB_MODE", "").lower() == "offline"
    where = f"offline in {run_dir / 'wandb'} (wandb sync to upload)" if offline else "online"
    return f"W&B logs run {run_name} of project {project}, {where}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]


@contextlib.contextmanager
def _quiet():
    """Swallow what a tracker prints on stdout (its banners), so the CLI's output stays ours."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield
