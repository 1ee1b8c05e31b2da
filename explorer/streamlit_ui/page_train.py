"""Train: train an image GAN in a background job and watch it learn.

The job is :mod:`explorer.live_training`'s (one per machine, the same as in the Gradio app);
this page never waits for it. Its live panel is an ``st.fragment(run_every=POLL_S)`` that
polls the job (``job.poll()``, non-blocking) about once a second and redraws the plotly curves,
the fixed-noise grid and the status; only the fragment reruns, so the rest of the page and
other users' pages stay responsive. The option widgets are generated from the config
dataclasses (:mod:`explorer.live_training.form`), as in the Gradio edition.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer import charts
from explorer import live_training as lt
from explorer.context import VisitorLimits
from explorer.live_training import form, uploads
from explorer.pictures import as_rgb, enlarge
from explorer.streamlit_ui import shared
from trainers.checkpoint import CheckpointError, read_meta
from trainers.data import DEFAULT_DATA_DIR
from trainers.device import pick_device
from trainers.losses import FORMULAS
from trainers.options import OptionSpec

P = shared.KEEP + "train."
POLL_S = 1.0  # the live panel asks the job for news once a second
GRID_SIDE = 256  # the samples grid is enlarged to at least this many pixels
JOB = "train.job_id"  # Session State: this page's run (job id, run folder, polling on)
RUN_DIR = "train.run_dir"
WATCH = "train.watching"
START_ERRORS = lt.START_ERRORS

INTRO_MD = """
Pick a model, the data and the game, then **Start**. About once a second the page shows the
losses of D and G, D(x) on real images and D(G(z)) on fakes, and G's output for the *same* 64
noise vectors. **Stop** ends cleanly and keeps a checkpoint; **Resume** continues the run;
**Save checkpoint** puts the model where the Generate page finds it; **Download GIF** animates
the samples across the run. One training job runs on this machine at a time.
"""


# --- the live panel (plain function + fragment) -----------------------------------------------


@dataclass(frozen=True)
class LiveView:
    """What the live panel shows of a job at one poll."""

    status: str
    figure: go.Figure
    image: np.ndarray | None
    quality_md: str
    finished: bool


def live_view(job_id: str | None) -> LiveView | None:
    """Poll a job (non-blocking) and turn its snapshot into what the panel shows; None when
    there is no such job."""
    job = lt.get_job(job_id)
    if job is None:
        return None
    view = job.poll()
    status = shared.public(view.status)
    if view.finished and view.reason in ("done", "stopped"):
        status += "  \nThe run's checkpoint is kept: **Resume** continues it."
    figure = charts.training_curves(
        view.history, view.extra["quality"], loss=view.extra["loss"], revision=view.id
    )
    image = enlarge(as_rgb(view.image), GRID_SIDE) if view.image is not None else None
    return LiveView(status, figure, image, view.extra["quality_md"], view.finished)


def live_panel(job_id: str | None) -> None:
    """The fragment: status, curves, samples; stops polling once the run has ended."""
    view = live_view(job_id)
    if view is None:
        st.markdown("Press **Start**.")
        st.plotly_chart(charts.training_curves(None), key="train-curves")
        return
    st.markdown(view.status)
    st.plotly_chart(view.figure, key="train-curves")
    if view.image is not None:
        shared.image(st, view.image, caption="G(z) for the same fixed noise")
    if view.quality_md:
        st.markdown(view.quality_md)
    if view.finished and st.session_state.get(WATCH):
        st.session_state[WATCH] = False
        st.rerun()  # the whole page again, without run_every: polling stops


# --- the form ---------------------------------------------------------------------------------


def _float_step(spec: OptionSpec) -> float:
    """A step for a float field without one: a tenth of its default's order of magnitude."""
    if spec.step:
        return float(spec.step)
    default = abs(float(spec.default or 0))
    return 10 ** math.floor(math.log10(default)) / 10 if default else 0.01


def option_widget(spec: OptionSpec, key: str) -> Any:
    """The widget for one declared option (its label, help text, bounds and start value)."""
    kind = form.widget_kind(spec)
    shared.init(key, spec.default)
    common = {"key": key, "help": spec.help}
    if kind == "choice":
        return st.selectbox(spec.label, list(spec.choices), **common)
    if kind == "toggle":
        return st.checkbox(spec.label, **common)
    if kind == "slider":
        return st.slider(
            spec.label, int(spec.minimum), int(spec.maximum), step=int(spec.step or 1), **common
        )
    if kind == "integer":
        low = None if spec.minimum is None else int(spec.minimum)
        high = None if spec.maximum is None else int(spec.maximum)
        return st.number_input(spec.label, low, high, step=int(spec.step or 1), **common)
    if kind == "number":
        low = None if spec.minimum is None else float(spec.minimum)
        high = None if spec.maximum is None else float(spec.maximum)
        return st.number_input(spec.label, low, high, step=_float_step(spec), format="%g", **common)
    return st.text_input(spec.label, **common)


def form_values(hosted: bool = False) -> dict[str, Any]:
    """Draw the form; returns the flat ``{name: value}`` of :meth:`JobOptions.from_values`
    (hosted: no typed server path, your own images come as an upload, ``"upload"``)."""
    families = dict((name, label) for label, name in form.family_choices())
    shared.choose(P + "model", list(families), form.default_family())
    model = st.selectbox("model family", list(families), format_func=families.get, key=P + "model")
    presets = form.preset_choices(model)
    shared.choose(P + "preset", presets, form.default_preset(model))
    values: dict[str, Any] = {
        "model": model,
        "preset": st.selectbox("model preset", presets, key=P + "preset"),
    }
    _start_at_preset(model, values["preset"], hosted)
    choices = form.HOSTED_DATA_CHOICES if hosted else form.DATA_CHOICES
    data_labels = {name: label for label, name in choices}
    shared.choose(P + "data", list(data_labels), "mnist")
    data = st.selectbox("data", list(data_labels), format_func=data_labels.get, key=P + "data")
    values["data"] = data
    if data == form.UPLOAD_DATA:
        values["upload"] = st.file_uploader(
            "your pictures (one data set)",
            type=shared.IMAGE_TYPES,
            accept_multiple_files=True,
            key="train.upload",
        )
        values["image_size"] = st.slider(
            "image side (pixels)", 16, 64, step=4, key=shared.init(P + "image_size", 32)
        )
    elif data == form.FOLDER_DATA:
        values["folder"] = st.text_input(
            "image folder", key=shared.init(P + "folder", ""), placeholder="/path/to/images"
        )
        values["image_size"] = st.slider(
            "image side (pixels)", 16, 64, step=4, key=shared.init(P + "image_size", 32)
        )
    elif data == form.TOY_DATA:
        st.info(form.TOY_MESSAGE)
    if not hosted:
        values["data_dir"] = st.text_input(
            "data dir",
            key=shared.init(P + "data_dir", ""),
            placeholder=f"default: {DEFAULT_DATA_DIR}",
        )
    groups: dict[str, list[OptionSpec]] = {group: [] for group in form.GROUP_TITLES}
    for spec in [*form.model_specs(model).values(), *form.train_specs()]:
        groups.setdefault(spec.group, []).append(spec)
    for group, specs in groups.items():
        with st.expander(form.GROUP_TITLES.get(group, group), expanded=group != "model"):
            for spec in specs:
                values[spec.name] = option_widget(spec, P + spec.name)
                if spec.name == "loss" and values["loss"] in FORMULAS:
                    formula = FORMULAS[values["loss"]]
                    st.caption(f"`{formula['d']}`  \n`{formula['g']}`")
    return values


def _start_at_preset(model: str, preset: str, hosted: bool) -> None:
    """When the family or preset changes (and on the first visit), put every option widget at
    :func:`form.preset_values` (hosted: within the visitor limits) before it is drawn; what the
    user changes afterwards stays until the next change of family or preset."""
    chosen = (model, preset)
    if st.session_state.get(P + "started_at") == chosen:
        return
    st.session_state[P + "started_at"] = chosen
    limits = shared.limits() if hosted else None
    for name, value in form.preset_values(model, preset).items():
        st.session_state[P + name] = limits.training_start(name, value) if limits else value


# --- the buttons ------------------------------------------------------------------------------


def _started(job: lt.TrainingJob) -> None:
    st.session_state[JOB], st.session_state[RUN_DIR] = job.id, str(job.run_dir)
    st.session_state[WATCH] = True


def within_limits(values: dict[str, Any], limits: VisitorLimits) -> dict[str, Any]:
    """A hosted visitor's values within ``limits``: too many steps or too big a batch is
    refused in one sentence; the run's time is capped."""
    values = dict(values)
    for name, most, what in (
        ("steps", limits.train_steps, "steps"),
        ("batch_size", limits.train_batch, "images per batch"),
    ):
        if float(values.get(name) or 0) > most:
            raise ValueError(f"In this shared explorer a run has at most {most:,} {what}.")
    seconds = float(values.get("max_seconds") or 0)
    if limits.train_seconds and not 0 < seconds <= limits.train_seconds:
        values["max_seconds"] = limits.train_seconds
    return values


def uploaded_data(files: list[Any] | None, image_size: int, limits: VisitorLimits) -> Any:
    """Your own pictures as a data set: each checked by the one image loader and stored by
    :mod:`explorer.live_training.uploads` (which reads files, so they are written out first)."""
    with tempfile.TemporaryDirectory(prefix="gan-explorer-upload-") as tmp:
        paths = []
        for index, upload in enumerate(files or []):
            path = Path(tmp) / f"{index:05d}"
            path.write_bytes(upload.getvalue())
            paths.append(str(path))
        folder = uploads.save_upload(paths, limits.train_upload_images)
    st.session_state["train.upload_dir"] = str(folder)
    return uploads.load_upload(folder, image_size)


def start(values: dict[str, Any], hosted: bool = False) -> str:
    """Start a new run from the form's values; returns "" or an error message."""
    limits = shared.limits()
    try:
        data = None
        if hosted:
            values = within_limits(values, limits)
            lt.expire_live_runs()  # visitors' old runs do not pile up on the server's disk
        if values.get("data") == form.UPLOAD_DATA:
            size = int(values.get("image_size") or form.FOLDER_IMAGE_SIZE)
            data = uploaded_data(values.pop("upload", None), size, limits)
        else:
            st.session_state.pop("train.upload_dir", None)
        options = lt.JobOptions.from_values(values)
        _started(lt.start_job(options, shared.owner(), data=data, owner_id=shared.owner()))
    except START_ERRORS as error:
        return shared.public(str(error))
    return ""


def resume(steps: int, data_dir: str | None, hosted: bool = False) -> str:
    """Continue this session's last run (the same step count and curves)."""
    run_dir = st.session_state.get(RUN_DIR)
    if not run_dir:
        return "Nothing to resume yet: Start a run first."
    try:
        if hosted:
            steps = within_limits({"steps": steps}, shared.limits())["steps"]
        options = lt.JobOptions(
            train={"steps": int(steps)}, data_dir=(data_dir or "").strip() or None
        )
        data = None
        if st.session_state.get("train.upload_dir"):  # the same uploaded pictures again
            size = int(read_meta(Path(run_dir) / "checkpoint")["image_shape"][1])
            data = uploads.load_upload(st.session_state["train.upload_dir"], size)
        job = lt.start_job(
            options, shared.owner(), resume_dir=run_dir, data=data, owner_id=shared.owner()
        )
        _started(job)
    except START_ERRORS as error:
        return shared.public(str(error))
    return ""


def stop() -> str:
    """Stop this session's run (after the current step; its checkpoint is saved); nobody
    else's."""
    job = lt.current_job()
    if job is None:
        return "No training job is running."
    if job.id != st.session_state.get(JOB) and not job.owned_by(shared.owner()):
        return shared.public(f"The running job is not yours: {job.describe()}.")
    job.request_stop()
    return "Stopping after the current step…"


def save(hosted: bool = False) -> tuple[bool, str]:
    """Write an inference checkpoint of this session's run that the Generate page can open;
    (ok, message)."""
    job = lt.get_job(st.session_state.get(JOB))
    try:
        path = lt.save_checkpoint(job, run_dir=st.session_state.get(RUN_DIR))
    except (ValueError, CheckpointError, TimeoutError, OSError) as error:
        return False, shared.public(str(error))
    shared.catalog().refresh()
    where = "" if hosted else f" in `{path.parent}`"
    return True, f"Saved **{path.name}**{where}: the Generate page lists it now."


def gif_bytes(run_dir: str, max_frames: int) -> bytes:
    """The run's fixed-noise grids as an animated GIF (made when the button is pressed)."""
    return lt.make_gif(run_dir, max_frames=max_frames).read_bytes()


def render() -> None:
    """The Train page."""
    st.header("Train a GAN and watch it learn")
    st.markdown(INTRO_MD)
    enabled, why = shared.training_allowed()
    hosted = shared.hosted()
    st.caption(
        f"Training runs on this machine's **{lt.describe_device(pick_device('auto'))}** "
        "(CUDA, then Apple MPS, then CPU)."
    )
    if not enabled:
        st.warning(why or "Training is switched off in this explorer.")
    left, right = st.columns([2, 3])
    with left:
        values = form_values(hosted)
    with right:
        buttons = st.columns(5)
        pressed = {
            "start": buttons[0].button("▶ Start", type="primary", disabled=not enabled),
            "stop": buttons[1].button("■ Stop", disabled=not enabled),
            "resume": buttons[2].button("Resume", disabled=not enabled),
            "save": buttons[3].button("Save checkpoint", disabled=not enabled),
        }
        run_dir = st.session_state.get(RUN_DIR)
        has_frames = bool(run_dir) and any((Path(run_dir) / "samples").glob("step_*.png"))
        buttons[4].download_button(
            "Download GIF",
            data=lambda: gif_bytes(run_dir, shared.limits().gif_frames),
            file_name="training.gif",
            mime="image/gif",
            disabled=not (enabled and has_frames),
            on_click="ignore",
        )
        if pressed["start"] and (error := start(values, hosted)):
            st.error(error)
        if pressed["resume"] and (error := resume(values["steps"], values.get("data_dir"), hosted)):
            st.error(error)
        if pressed["stop"]:
            st.info(stop())
        if pressed["save"]:
            ok, message = save(hosted)
            (st.success if ok else st.error)(message)
        run_every = POLL_S if st.session_state.get(WATCH) else None
        st.fragment(live_panel, run_every=run_every)(st.session_state.get(JOB))
