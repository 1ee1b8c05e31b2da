"""The Train page, written once: its rules and words, as plain functions of plain values.

Both editions draw the same page from here; each keeps only its layout and wiring (Gradio:
``explorer/gradio_ui/tabs/train.py``, Streamlit: ``explorer/streamlit_ui/page_train.py``)::

    fields = page_specs(TrainPageParams)                 # the page's own fields, declared once
    groups = option_groups(model)                        # the run's options, by heading
    state, error = start(state, values, owner, owner_id, hosted=hosted, limits=limits)
    view = live_view(state.get("job_id"), hosted)        # each poll: status, figure, picture
    message = stop(state, owner, owner_id, hosted)

A page's run is a plain ``state`` dict (``job_id``, ``run_dir`` and, for uploaded pictures,
``upload_dir``): a ``gr.State`` holds it in one edition, Session State in the other. Each action
returns what to show: text (Markdown, server paths cut when ``hosted``), a figure, a picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from explorer import charts
from explorer.context import (
    LOCAL_LIMITS,
    VisitorLimits,
    public_text,
    training_disabled_reason,
)
from explorer.jobs import JobBusyError
from explorer.live_training import form, job, uploads
from explorer.live_training.export import make_gif
from explorer.live_training.places import describe_device
from explorer.params import page_specs
from explorer.pictures import as_rgb, enlarge
from trainers.checkpoint import CheckpointError, read_meta
from trainers.data import DEFAULT_DATA_DIR, DataUnavailableError
from trainers.device import pick_device
from trainers.losses import FORMULAS
from trainers.options import OptionSpec, option

GRID_SIDE = 256  # the samples grid is enlarged to at least this many pixels

#: What Start, Resume and Save can refuse with: each is shown to the user as one line.
START_ERRORS = (
    JobBusyError,
    job.TrainingDisabledError,
    DataUnavailableError,
    CheckpointError,
    ValueError,
    OSError,
)

TITLE = "Train a GAN and watch it learn"
INTRO_MD = """
Pick a model, the data and the game, then **Start**. The page shows, live, the losses of D and
G, what D says of real images D(x) and of fakes D(G(z)), and G's output for the *same* 64 noise
vectors z (so you see the same faces of the model improve). Hover the curves for values, drag
to zoom, click a legend entry to hide a line. **Stop** ends cleanly and keeps a checkpoint of
the run; **Resume** continues it, the step count and the curves going on from there.
**Save checkpoint** puts the model where Generate finds it; **Download GIF** animates
the samples across the run. One training job runs on this machine at a time.
"""
BUTTONS = {
    "start": "▶ Start",
    "stop": "■ Stop",
    "resume": "Resume",
    "save": "Save checkpoint",
    "gif": "Download GIF",
}
READY = "Press **Start**."
SAMPLES_CAPTION = "G(z) for the same 64 noise vectors z, redrawn about once a second"
KEPT = "  \nThe run's checkpoint is kept: **Resume** continues it, **Save checkpoint** exports it."


@dataclass
class TrainPageParams:
    """The Train page's own fields (the run's options come from the configs: :mod:`form`)."""

    model: str = option(
        "dcgan", "the GAN family to train", ui_label="model family", widget="choice"
    )
    preset: str = option(
        form.NO_PRESET,
        "'classroom': tuned to draw digits within a minute on a CPU",
        ui_label="model preset",
        widget="choice",
    )
    data: str = option("mnist", "the pictures G learns to draw", widget="choice")
    folder: str = option("", "one sub-folder per class, or just images", ui_label="image folder")
    image_size: int = option(
        form.FOLDER_IMAGE_SIZE,
        "your pictures are resized to this side",
        minimum=16,
        maximum=64,
        step=4,
        ui_label="image side (pixels)",
    )
    data_dir: str = option(
        "",
        "where MNIST / Fashion-MNIST / CIFAR-10 are (or are downloaded to)",
        ui_label="data dir",
    )


FIELDS = page_specs(TrainPageParams)
FOLDER_PLACEHOLDER = "/path/to/images (sub-folders = classes)"
DATA_DIR_PLACEHOLDER = f"default: {DEFAULT_DATA_DIR}"


# --- what the page says before anything runs --------------------------------------------------


def off_reason(enable_training: bool = True) -> str:
    """Why training is off ("" when it is on): here (a hosted Space), or for this page."""
    why = training_disabled_reason()
    if enable_training and not why:
        return ""
    return why or "Training is switched off in this explorer."


def training_state(enable_training: bool = True) -> tuple[bool, str]:
    """(whether the buttons work, the warning to show when they do not)."""
    why = off_reason(enable_training)
    return not why, f"⚠️ {why}" if why else ""


def device_markdown() -> str:
    device = describe_device(pick_device("auto"))
    return f"Training runs on this machine's **{device}** (CUDA, then Apple MPS, then CPU)."


def formula_markdown(loss: str) -> str:
    """D's and G's loss, written out ("" for an unknown loss)."""
    formula = FORMULAS.get(loss)
    return f"`{formula['d']}`  \n`{formula['g']}`" if formula else ""


def data_choices(hosted: bool) -> list[tuple[str, str]]:
    """(label, value) of the data choices: hosted, an upload instead of a server folder."""
    return form.HOSTED_DATA_CHOICES if hosted else form.DATA_CHOICES


def data_note(data: str, hosted: bool) -> tuple[bool, str]:
    """For a data choice: (show the folder or upload fields, a note to show)."""
    own = data == (form.UPLOAD_DATA if hosted else form.FOLDER_DATA)
    if data == form.TOY_DATA:
        return own, form.TOY_MESSAGE
    if hosted and own:
        return own, (
            f"Upload {uploads.MIN_IMAGES} or more pictures (one class); they are deleted after "
            "an hour."
        )
    return own, ""


def upload_label(limits: VisitorLimits) -> str:
    return f"your pictures ({uploads.MIN_IMAGES} to {limits.train_upload_images})"


# --- the option widgets -----------------------------------------------------------------------


def option_groups(model: str | None = None) -> list[tuple[str, bool, list[OptionSpec]]]:
    """(heading, open at first, specs) of each group of option widgets: the model options (of
    ``model``, or of every live family when None) and the training options."""
    groups: dict[str, list[OptionSpec]] = {group: [] for group in form.GROUP_TITLES}
    for spec in [*form.model_specs(model).values(), *form.train_specs()]:
        groups.setdefault(spec.group, []).append(spec)
    return [
        (form.GROUP_TITLES.get(group, group), group != "model", specs)
        for group, specs in groups.items()
        if specs
    ]


def option_names() -> list[str]:
    """Every option widget's name, in the order the editions update them: each family's model
    options, then the training options."""
    return [*form.model_specs(), *(spec.name for spec in form.train_specs())]


def option_shown(name: str, model: str) -> bool:
    """Whether an option widget shows for ``model``: its own model options and every training
    option do, other families' model options do not."""
    return name in form.model_specs(model) or name not in form.model_specs()


def start_values(model: str, preset: str, limits: VisitorLimits | None = None) -> dict[str, Any]:
    """Where each option widget starts when the family or preset changes: the preset's values
    (:func:`form.preset_values`); hosted (``limits``), within the visitor limits."""
    values = form.preset_values(model, preset)
    if limits is None:
        return values
    return {name: limits.training_start(name, value) for name, value in values.items()}


def visitor_maximum(spec: OptionSpec, limits: VisitorLimits | None) -> dict[str, Any]:
    """``{"maximum": ...}`` for a hosted widget of steps, batch size or time ({} otherwise)."""
    most = limits.training_maxima().get(spec.name) if limits is not None else None
    if most is None:
        return {}
    return {"maximum": min(spec.maximum, most) if spec.maximum is not None else most}


# --- the buttons ------------------------------------------------------------------------------


def _warning(error: object, hosted: bool) -> str:
    return f"⚠️ {public_text(str(error)) if hosted else error}"


def within_limits(values: dict[str, Any], limits: VisitorLimits) -> dict[str, Any]:
    """A hosted visitor's values within ``limits``: too many steps or too big a batch is
    refused in one sentence; the time budget is capped (0 = "no limit" becomes the cap)."""
    values = dict(values)
    for name, most, what in (
        ("steps", limits.train_steps, "steps"),
        ("batch_size", limits.train_batch, "images per batch"),
    ):
        try:
            value = float(values.get(name) or 0)
        except (TypeError, ValueError):
            continue  # the form's own check says what is wrong
        if value > most:
            raise ValueError(f"In this shared explorer a run has at most {most:,} {what}.")
    if limits.train_seconds:
        try:
            seconds = float(values.get("max_seconds") or 0)
        except (TypeError, ValueError):
            seconds = 0.0
        if not 0 < seconds <= limits.train_seconds:
            values["max_seconds"] = limits.train_seconds
    return values


def start(
    state: dict | None,
    values: dict[str, Any],
    owner: str,
    owner_id: str | None,
    *,
    hosted: bool = False,
    limits: VisitorLimits = LOCAL_LIMITS,
    enabled: bool = True,
) -> tuple[dict, str]:
    """Start a new run from the form's ``values`` ({field or option name: value}, see
    :meth:`form.JobOptions.from_values`; ``"upload"``: the uploaded files). Returns the page's
    new state and "", or its old state and why not.

    Hosted: no typed folder or data dir (built-in data or an upload), ``limits`` cap steps,
    batch and time, and visitors' old runs are deleted first. ``enabled=False``: the page has
    training off, so it refuses (as its greyed-out button does).
    """
    state = dict(state or {})
    values = dict(values)
    try:
        if why := off_reason(enabled):  # before any upload is stored
            raise job.TrainingDisabledError(why)
        if hosted:
            values.pop("data_dir", None)
            values.pop("folder", None)
            if values.get("data") == form.FOLDER_DATA:
                raise ValueError("Upload your pictures instead: choose 'your images (upload)'.")
            values = within_limits(values, limits)
            job.expire_live_runs()  # visitors' old runs do not pile up on the server's disk
        run: dict[str, Any] = {}
        data = None
        if values.get("data") == form.UPLOAD_DATA:
            folder = uploads.save_upload(values.get("upload"), limits.train_upload_images)
            run["upload_dir"] = str(folder)
            size = int(values.get("image_size") or form.FOLDER_IMAGE_SIZE)
            data = uploads.load_upload(folder, size)
        options = form.JobOptions.from_values(values)
        started = job.start_job(options, owner, data=data, owner_id=owner_id)
    except START_ERRORS as error:
        return state, _warning(error, hosted)
    return {"job_id": started.id, "run_dir": str(started.run_dir), **run}, ""


def resume(
    state: dict | None,
    steps: Any,
    data_dir: str | None,
    owner: str,
    owner_id: str | None,
    *,
    hosted: bool = False,
    limits: VisitorLimits = LOCAL_LIMITS,
    enabled: bool = True,
) -> tuple[dict, str]:
    """Continue the page's last run (the same step count and curves, on the same uploaded
    pictures); ``steps`` is the new target, or how many more when the run is already there.
    Returns the new state and "", or the old state and why not (``enabled``: as :func:`start`)."""
    state = dict(state or {})
    if why := off_reason(enabled):
        return state, _warning(why, hosted)
    run_dir = state.get("run_dir")
    if not run_dir:
        return state, "Nothing to resume yet: **Start** a run first."
    try:
        if hosted:
            data_dir = None
            steps = within_limits({"steps": steps}, limits)["steps"]
        options = form.JobOptions(
            train={"steps": int(steps)}, data_dir=str(data_dir or "").strip() or None
        )
        data = None
        if state.get("upload_dir"):  # a run on uploaded pictures: the same pictures again
            side = int(read_meta(Path(run_dir) / "checkpoint")["image_shape"][1])
            data = uploads.load_upload(state["upload_dir"], side)
        started = job.start_job(options, owner, resume_dir=run_dir, data=data, owner_id=owner_id)
    except START_ERRORS as error:
        return state, _warning(error, hosted)
    except (TypeError, KeyError):
        return state, "⚠️ The number of steps must be a whole number."
    return {**state, "job_id": started.id, "run_dir": str(started.run_dir)}, ""


def stop(state: dict | None, owner: str, owner_id: str | None, hosted: bool = False) -> str:
    """Stop the page's run (after the current step; its checkpoint is saved), nobody else's:
    a job is the page's when its state holds the job's id, or its owner id (a browser session)
    is the job's, or (no ids at all, a plain call) the owner's name is."""
    running = job.current_job()
    if running is None:
        return "No training job is running."
    if (state or {}).get("job_id") == running.id:
        mine = True
    elif running.owner_id is not None or owner_id is not None:
        mine = running.owned_by(owner_id)
    else:
        mine = running.owner == owner
    if not mine:
        text = f"The running job is not yours: {running.describe()}."
        return public_text(text) if hosted else text
    running.request_stop()  # the next poll sees it finish and shows the end
    return "Stopping after the current step…"


def save(state: dict | None, hosted: bool = False, listed: bool = False) -> tuple[bool, str]:
    """Write an inference checkpoint of the page's run that Generate opens; (ok, message).
    ``listed``: the page has refreshed the checkpoint list already."""
    state = state or {}
    try:
        path = job.save_checkpoint(job.get_job(state.get("job_id")), run_dir=state.get("run_dir"))
    except START_ERRORS as error:
        return False, _warning(error, hosted)
    where = "" if hosted else f" in `{path.parent}`"
    if listed:
        return True, f"Saved **{path.name}**{where}: Generate lists it now."
    return True, (
        f"Saved **{path.name}**{where}. Press **↻ Find new checkpoints** at the top to open it "
        "in Generate."
    )


def has_frames(run_dir: str | None) -> bool:
    """Whether the run has sample grids to animate."""
    return bool(run_dir) and any((Path(run_dir) / "samples").glob("step_*.png"))


def gif_bytes(state: dict, limits: VisitorLimits = LOCAL_LIMITS) -> bytes:
    """The animated GIF of the page's run, as bytes to download (see :func:`has_frames`)."""
    return make_gif(state["run_dir"], max_frames=limits.gif_frames).read_bytes()


def gif(
    state: dict | None, hosted: bool = False, limits: VisitorLimits = LOCAL_LIMITS
) -> tuple[str | None, str]:
    """The fixed-noise samples across the page's run as an animated GIF: (file, message)."""
    run_dir = (state or {}).get("run_dir")
    if not run_dir:
        return None, "Nothing to animate yet: **Start** a run first."
    try:
        path = make_gif(run_dir, max_frames=limits.gif_frames)
    except (ValueError, OSError) as error:
        return None, _warning(error, hosted)
    if hosted:
        return str(path), f"GIF of the run ({path.name}): download it above."
    return str(path), f"GIF of the run: `{path}`"


# --- the live panel ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveView:
    """What the live panel shows of a job at one poll."""

    status: str
    figure: go.Figure
    image: np.ndarray | None
    quality_md: str
    finished: bool


def panel_view(job_id: str | None, hosted: bool = False) -> LiveView:
    """:func:`live_view`, or (no such job) the panel before a run: "Press Start", no curves."""
    return live_view(job_id, hosted) or LiveView(
        READY, charts.training_curves(None), None, "", True
    )


def live_view(job_id: str | None, hosted: bool = False) -> LiveView | None:
    """Poll a job (non-blocking) and turn its snapshot into what the panel shows; None when
    there is no such job."""
    running = job.get_job(job_id)
    if running is None:
        return None
    view = running.poll()
    status = public_text(view.status) if hosted else view.status
    if view.finished and view.reason in ("done", "stopped"):
        status += KEPT
    figure = charts.training_curves(
        view.history, view.extra["quality"], loss=view.extra["loss"], revision=view.id
    )
    image = enlarge(as_rgb(view.image), GRID_SIDE) if view.image is not None else None
    return LiveView(status, figure, image, view.extra["quality_md"], view.finished)
