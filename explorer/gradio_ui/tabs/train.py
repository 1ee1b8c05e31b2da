"""The "Train" tab: train an image GAN from the browser and watch it learn.

Call :func:`build_tab` inside an open ``gr.Blocks`` / ``gr.Tab`` context::

    with gr.Blocks() as demo:
        with gr.Tab("Train"):
            build_tab(enable_training=True)

The work is in :mod:`explorer.live_training` (a background job running the project's training
engine, one job per machine); the option widgets are generated from the config dataclasses
(:mod:`explorer.live_training.form`), so a new option in ``TrainConfig`` or a family's config
appears here by itself. Start starts the job and a ``gr.Timer``; each tick polls the job and
redraws the interactive curves in place (:mod:`explorer.gradio_ui.tabs.live_plot`: no flicker, the zoom
stays), the samples and the status. Each page
remembers its own run in a ``gr.State`` (job id and run folder). Every event has an explicit
``api_name`` starting with ``train_``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gradio as gr

from explorer import charts
from explorer import live_training as lt
from explorer.context import LOCAL_LIMITS, VisitorLimits, public_text, training_disabled_reason
from explorer.gradio_ui.tabs.live_plot import live_plot, plot_value
from explorer.live_training import form, uploads
from explorer.pictures import as_rgb, enlarge
from trainers.checkpoint import CheckpointError, read_meta
from trainers.data import DEFAULT_DATA_DIR
from trainers.device import pick_device
from trainers.losses import FORMULAS
from trainers.options import OptionSpec

POLL_S = 0.5  # the page asks the job for news twice a second
GRID_SIDE = 256  # the samples grid is enlarged to at least this many pixels
START_ERRORS = lt.START_ERRORS

INTRO_MD = """
### Train a GAN and watch it learn

Pick a model, the data and the game, then **Start**. The page shows, about twice a second, the
losses of D and G, what D says of real images D(x) and of fakes D(G(z)), and G's output for
the *same* 64 noise vectors z (so you see the same faces of the model improve). Hover the
curves for values, drag to zoom, click a legend entry to hide a line. **Stop** ends cleanly
and keeps a checkpoint of the run; **Resume** continues it, with the step count and the curves
going on where they stopped. **Save checkpoint** puts the model where the Generate tab finds
it; **Download GIF** animates the samples across the run.
"""


def session_of(request: gr.Request | None) -> str | None:
    """The browser session's id (Gradio's ``session_hash``): who owns a job."""
    return getattr(request, "session_hash", None) if request is not None else None


def owner_of(request: gr.Request | None) -> str:
    """How other users see who runs a job: the login name, else a short session id."""
    if request is None:
        return "a local user"
    if getattr(request, "username", None):
        return str(request.username)
    session = getattr(request, "session_hash", None) or "?"
    return f"browser session {session[:6]}"


def formula_markdown(loss: str) -> str:
    """D's and G's loss, written out."""
    formula = FORMULAS.get(loss)
    if not formula:
        return ""
    return f"`{formula['d']}`  \n`{formula['g']}`"


def device_markdown() -> str:
    device = pick_device("auto")
    return (
        f"Training runs on this machine's **{lt.describe_device(device)}** "
        "(CUDA, then Apple MPS, then CPU)."
    )


# ---------------------------------------------------------------------------------------------
# Handlers (plain functions of plain values: testable without a browser)
# ---------------------------------------------------------------------------------------------


def _message(state: dict, text: str, hosted: bool = False) -> tuple[Any, ...]:
    """(state, status, curves, samples, quality, timer) for a message and no run."""
    text = public_text(text) if hosted else text
    return state, text, gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)


def check_limits(values: dict[str, Any], limits: VisitorLimits) -> dict[str, Any]:
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


def _started(job: lt.TrainingJob, state: dict | None = None) -> tuple[Any, ...]:
    state = {**(state or {}), "job_id": job.id, "run_dir": str(job.run_dir)}
    curves = charts.training_curves(job.history.copy(), loss=job.options.loss, revision=job.id)
    return state, job.status_text(), plot_value(curves), None, "", gr.Timer(active=True)


def on_start(
    state: dict | None,
    values: dict[str, Any],
    request: gr.Request = None,
    *,
    hosted: bool = False,
    limits: VisitorLimits = LOCAL_LIMITS,
) -> tuple[Any, ...]:
    """Start a new run from the widgets' ``values`` ({option name: value}, see
    :meth:`JobOptions.from_values`). Returns (state, status, curves, samples, quality, timer).

    Hosted (``hosted=True``): no typed folder or data dir, the data set is built in or the
    ``upload`` value's pictures; ``limits`` cap steps, batch and time.
    """
    state = dict(state or {})
    values = dict(values)
    try:
        if not lt.training_enabled():  # before any upload is stored
            raise lt.TrainingDisabledError(training_disabled_reason())
        data = None
        if hosted:
            values.pop("data_dir", None)
            values.pop("folder", None)
            if values.get("data") == form.FOLDER_DATA:
                raise ValueError("Upload your pictures instead: choose 'your images (upload)'.")
            values = check_limits(values, limits)
            lt.expire_live_runs()  # visitors' old runs do not pile up on the Space's disk
        if values.get("data") == form.UPLOAD_DATA:
            folder = uploads.save_upload(values.get("upload"), limits.train_upload_images)
            state["upload_dir"] = str(folder)
            size = int(values.get("image_size") or form.FOLDER_IMAGE_SIZE)
            data = uploads.load_upload(folder, size)
        options = lt.JobOptions.from_values(values)
        job = lt.start_job(options, owner_of(request), data=data, owner_id=session_of(request))
    except START_ERRORS as error:
        return _message(state, f"⚠️ {error}", hosted)
    return _started(job, state)


def on_resume(
    state: dict | None,
    steps: float,
    data_dir: str | None = None,
    request: gr.Request = None,
    *,
    hosted: bool = False,
    limits: VisitorLimits = LOCAL_LIMITS,
) -> tuple[Any, ...]:
    """Continue this page's last run (the same step count and curves). ``steps`` is the new
    target; if the run is already there, it trains ``steps`` more."""
    state = dict(state or {})
    run_dir = state.get("run_dir")
    if not run_dir:
        return _message(state, "Nothing to resume yet: **Start** a run first.")
    try:
        train_values = {"steps": steps}
        if hosted:
            data_dir = None
            train_values = check_limits(train_values, limits)
            train_values.pop("max_seconds", None)  # a resumed run keeps its own time budget
        options = lt.JobOptions(
            train={"steps": int(train_values["steps"])},
            data_dir=str(data_dir or "").strip() or None,
        )
        data = None
        if state.get("upload_dir"):  # a run on uploaded pictures: the same pictures again
            meta = read_meta(run_dir)
            data = uploads.load_upload(state["upload_dir"], int(meta["image_shape"][1]))
        job = lt.start_job(
            options, owner_of(request), resume_dir=run_dir, data=data, owner_id=session_of(request)
        )
    except START_ERRORS as error:
        return _message(state, f"⚠️ {error}", hosted)
    except (TypeError, KeyError):
        return _message(state, "⚠️ The number of steps must be a whole number.", hosted)
    return _started(job, state)


def on_poll(state: dict | None, *, hosted: bool = False) -> tuple[Any, ...]:
    """The timer's tick: the job's news. Returns (status, curves, samples, quality, timer);
    the timer stops once the run has ended."""
    job = lt.get_job((state or {}).get("job_id"))
    if job is None:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
    view = job.poll()
    status = public_text(view.status) if hosted else view.status
    if view.finished and view.reason in ("done", "stopped"):
        status += (
            "  \nThe run's checkpoint is kept: **Resume** continues it, "
            "**Save checkpoint** exports it."
        )
    curves = charts.training_curves(
        view.history, view.extra["quality"], loss=view.extra["loss"], revision=view.id
    )
    grid = enlarge(as_rgb(view.image), GRID_SIDE) if view.image is not None else gr.skip()
    timer = gr.Timer(active=not view.finished)
    return status, plot_value(curves), grid, view.extra["quality_md"], timer


def _mine(job: lt.TrainingJob, state: dict | None, request: gr.Request | None) -> bool:
    """Whether this page may stop or export ``job``: it started it (its own ``gr.State``, kept
    on the server per browser session, holds the job's id), or the same browser session did."""
    if (state or {}).get("job_id") == job.id:
        return True
    session = session_of(request)
    if job.owner_id is not None or session is not None:
        return job.owned_by(session)
    return job.owner == owner_of(request)  # no sessions at all (a plain function call)


def on_stop(state: dict | None, request: gr.Request = None) -> str:
    """Stop this page's run (the loop ends after the current step and saves its checkpoint);
    nobody else's."""
    job = lt.current_job()
    if job is None:
        return "No training job is running."
    if not _mine(job, state, request):
        return f"The running job is not yours: {job.describe()}."
    job.request_stop()  # the next tick sees it finish and shows the end
    return "Stopping after the current step…"


def on_save(state: dict | None, *, hosted: bool = False) -> str:
    """Write an inference checkpoint of this page's own run that the Generate tab can open."""
    state = state or {}
    job = lt.get_job(state.get("job_id"))
    try:
        path = lt.save_checkpoint(job, run_dir=state.get("run_dir"))
    except (ValueError, CheckpointError, TimeoutError, OSError) as error:
        return f"⚠️ {public_text(str(error)) if hosted else error}"
    where = "" if hosted else f" in `{path.parent}`"
    return (
        f"Saved **{path.name}**{where}. Press **↻ Find new checkpoints** at the top "
        "to open it in the Generate tab."
    )


def on_gif(
    state: dict | None, *, hosted: bool = False, limits: VisitorLimits = LOCAL_LIMITS
) -> tuple[Any, str]:
    """The fixed-noise samples across this page's run as an animated GIF. Returns (file, message)."""
    run_dir = (state or {}).get("run_dir")
    if not run_dir:
        return None, "Nothing to animate yet: **Start** a run first."
    try:
        path = lt.make_gif(run_dir, max_frames=limits.gif_frames)
    except (ValueError, OSError) as error:
        return None, f"⚠️ {public_text(str(error)) if hosted else error}"
    if hosted:
        return str(path), f"GIF of the run ({path.name}): download it above."
    return str(path), f"GIF of the run: `{path}`"


def on_model(model: str, limits: VisitorLimits | None = None) -> list[Any]:
    """The family changed: its presets (the "classroom" one chosen where it has it), then
    :func:`on_preset`'s widget values."""
    preset = form.default_preset(model)
    return [
        gr.Dropdown(choices=form.preset_choices(model), value=preset),
        *on_preset(model, preset, limits),
    ]


def on_preset(model: str, preset: str, limits: VisitorLimits | None = None) -> list[Any]:
    """The family or preset changed: each model option (shown only if the family has it), then
    each training option, at :func:`form.preset_values` (hosted: within the visitor limits)."""
    values = form.preset_values(model, preset)
    own = form.model_specs(model)
    updates: list[Any] = []
    for name in form.model_specs():
        spec = own.get(name)
        updates.append(
            gr.update(visible=True, value=values[name]) if spec else gr.update(visible=False)
        )
    for spec in form.train_specs():
        start = dataclasses.replace(spec, default=values[spec.name])
        updates.append(gr.update(value=(_limited(start, limits) if limits else start).default))
    return updates


def on_data(data: str, *, hosted: bool = False) -> tuple[Any, Any, str]:
    """The data choice changed: show the folder (hosted: upload) fields or the 2-D note.
    Returns (folder or upload, size, note)."""
    own = data == (form.UPLOAD_DATA if hosted else form.FOLDER_DATA)
    note = form.TOY_MESSAGE if data == form.TOY_DATA else ""
    if hosted and own:
        note = f"Upload {uploads.MIN_IMAGES} or more pictures (one class); they are deleted after an hour."
    field = gr.File(visible=own) if hosted else gr.Textbox(visible=own)
    return field, gr.Slider(visible=own), note


def _limited(spec: OptionSpec, limits: VisitorLimits) -> OptionSpec:
    """A hosted page's widget range for steps, batch size and the time budget."""
    most = limits.training_maxima().get(spec.name)
    if most is None:
        return spec
    maximum = min(spec.maximum, most) if spec.maximum is not None else most
    default = limits.training_start(spec.name, spec.default)
    return dataclasses.replace(spec, maximum=maximum, default=default)


# ---------------------------------------------------------------------------------------------
# Layout and wiring
# ---------------------------------------------------------------------------------------------


def option_widget(spec: OptionSpec, visible: bool = True) -> gr.Component:
    """The widget for one declared option (its label, help text, bounds and default)."""
    kind = form.widget_kind(spec)
    elem_id = "train-" + spec.name.replace("_", "-")
    common = {"label": spec.label, "info": spec.help, "visible": visible, "elem_id": elem_id}
    if kind == "choice":
        return gr.Dropdown(list(spec.choices), value=spec.default, **common)
    if kind == "toggle":
        return gr.Checkbox(bool(spec.default), **common)
    if kind == "slider":
        return gr.Slider(
            spec.minimum, spec.maximum, value=spec.default, step=spec.step or 1, **common
        )
    if kind in ("integer", "number"):
        return gr.Number(
            spec.default,
            minimum=spec.minimum,
            maximum=spec.maximum,
            step=spec.step or (1 if kind == "integer" else None),
            precision=0 if kind == "integer" else None,
            **common,
        )
    return gr.Textbox(str(spec.default or ""), **common)


def _option_widgets(
    fields: dict[str, gr.Component], family: str, limits: VisitorLimits | None = None
) -> Any:
    """All option widgets, by group, at the family's default preset's values (see
    :func:`on_preset`); returns the loss formula's Markdown."""
    model_names = set(form.model_specs())
    start = form.preset_values(family, form.default_preset(family))
    formula = None
    groups: dict[str, list[OptionSpec]] = {group: [] for group in form.GROUP_TITLES}
    for spec in [*form.model_specs().values(), *form.train_specs()]:
        groups.setdefault(spec.group, []).append(spec)
    own = form.model_specs(family)
    for group, specs in groups.items():
        if not specs:
            continue
        with gr.Accordion(form.GROUP_TITLES.get(group, group), open=group != "model"):
            for spec in specs:
                visible = spec.name not in model_names or spec.name in own
                if spec.name in start:
                    spec = dataclasses.replace(spec, default=start[spec.name])
                if limits is not None:
                    spec = _limited(spec, limits)
                fields[spec.name] = option_widget(spec, visible)
                if spec.name == "loss":
                    formula = gr.Markdown(formula_markdown(str(spec.default)))
    return formula


def build_tab(
    enable_training: bool = True, hosted: bool = False, limits: VisitorLimits | None = None
) -> None:
    """Create the Train tab inside the current Blocks/Tab context.

    With ``enable_training=False`` (or on a hosted Space without
    ``GAN_EXPLORER_ENABLE_TRAINING=1``) the form is shown but the buttons are disabled and a
    note says why. ``hosted``: no data-dir or folder field (built-in data or an upload), the
    visitor ``limits`` on steps, batch and time, and only one's own job can be stopped or exported.
    """
    limits = limits or LOCAL_LIMITS
    why = training_disabled_reason()
    enabled = enable_training and not why
    gr.Markdown(INTRO_MD)
    gr.Markdown(device_markdown(), elem_id="train-device")
    if not enabled:
        gr.Markdown(
            f"⚠️ {why or 'Training is switched off in this explorer.'}", elem_id="train-disabled"
        )
    state = gr.State({})
    timer = gr.Timer(POLL_S, active=False)
    family = form.default_family()
    fields: dict[str, gr.Component] = {}
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            fields["model"] = gr.Dropdown(
                form.family_choices(), value=family, label="model family", elem_id="train-model"
            )
            fields["preset"] = gr.Dropdown(
                form.preset_choices(family),
                value=form.default_preset(family),
                label="model preset",
                info="'classroom': tuned to draw digits within a minute on a CPU",
            )
            fields["data"] = gr.Dropdown(
                form.HOSTED_DATA_CHOICES if hosted else form.DATA_CHOICES,
                value="mnist",
                label="data",
                elem_id="train-data",
            )
            if hosted:  # never a typed server path: the pictures come with the request
                fields["upload"] = gr.File(
                    label=f"your pictures ({uploads.MIN_IMAGES} to {limits.train_upload_images})",
                    file_count="multiple",
                    file_types=["image"],
                    type="filepath",
                    elem_id="train-upload",
                    visible=False,
                )
            else:
                fields["folder"] = gr.Textbox(
                    label="image folder",
                    elem_id="train-folder",
                    placeholder="/path/to/images (sub-folders = classes)",
                    visible=False,
                )
            fields["image_size"] = gr.Slider(
                16,
                64,
                value=form.FOLDER_IMAGE_SIZE,
                step=4,
                label="image side (pixels)",
                visible=False,
            )
            data_note = gr.Markdown()
            if not hosted:  # a server folder: only for the person at this computer
                fields["data_dir"] = gr.Textbox(
                    label="data dir",
                    placeholder=f"default: {DEFAULT_DATA_DIR}",
                    info="where MNIST / Fashion-MNIST / CIFAR-10 are (or are downloaded to)",
                )
            formula = _option_widgets(fields, family, limits if hosted else None)
        with gr.Column(scale=3, min_width=420):
            with gr.Row():
                start = gr.Button(
                    "▶ Start", variant="primary", interactive=enabled, elem_id="train-start"
                )
                stop = gr.Button("■ Stop", interactive=enabled, elem_id="train-stop")
                resume = gr.Button("Resume", interactive=enabled, elem_id="train-resume")
            status = gr.Markdown("Press **Start**.", elem_id="train-status")
            curves = live_plot(charts.training_curves(None), elem_id="train-curves")
            gr.Markdown("G(z) for the same 64 noise vectors z, redrawn about once a second:")
            grid = gr.Image(
                label="samples for the same fixed noise",
                show_label=False,
                type="numpy",
                interactive=False,
                format="png",
                height=360,
                elem_id="train-samples",
            )
            quality = gr.Markdown(elem_id="train-quality")
            with gr.Row():
                save = gr.Button("Save checkpoint", interactive=enabled)
                gif = gr.Button("Download GIF", interactive=enabled)
            saved = gr.Markdown()
            gif_file = gr.File(label="GIF", interactive=False)

    # The buttons are greyed out when training is off; the API refuses as well.
    refused = "⚠️ " + (why or "Training is switched off in this explorer.")

    def start_run(data: dict, request: gr.Request) -> tuple[Any, ...]:
        if not enabled:
            return _message(data[state], refused, hosted)
        values = {name: data[widget] for name, widget in fields.items()}
        return on_start(data[state], values, request, hosted=hosted, limits=limits)

    def resume_run(
        run_state: dict | None, steps: float, data_dir: str | None, request: gr.Request
    ) -> tuple[Any, ...]:
        if not enabled:
            return _message(dict(run_state or {}), refused, hosted)
        return on_resume(run_state, steps, data_dir, request, hosted=hosted, limits=limits)

    def resume_hosted(run_state: dict | None, steps: float, request: gr.Request) -> tuple[Any, ...]:
        return resume_run(run_state, steps, None, request)

    quiet = {"concurrency_limit": None, "show_progress": "hidden"}
    outputs = [state, status, curves, grid, quality, timer]
    start.click(start_run, {state, *fields.values()}, outputs, api_name="train_start", **quiet)
    resume.click(
        resume_hosted if hosted else resume_run,
        [state, fields["steps"], *([] if hosted else [fields["data_dir"]])],
        outputs,
        api_name="train_resume",
        **quiet,
    )
    timer.tick(
        lambda run_state: on_poll(run_state, hosted=hosted),
        state,
        outputs[1:],
        api_name="train_poll",
        **quiet,
    )
    stop.click(on_stop, [state], saved, api_name="train_stop", concurrency_limit=None)
    save.click(
        lambda run_state: on_save(run_state, hosted=hosted),
        [state],
        saved,
        api_name="train_save_checkpoint",
        concurrency_limit=None,
    )
    gif.click(
        lambda run_state: on_gif(run_state, hosted=hosted, limits=limits),
        [state],
        [gif_file, saved],
        api_name="train_gif",
        concurrency_limit=None,
    )
    option_widgets = [
        fields[name] for name in [*form.model_specs(), *(spec.name for spec in form.train_specs())]
    ]
    visitor_limits = limits if hosted else None
    fields["model"].change(
        lambda model: on_model(model, visitor_limits),
        fields["model"],
        [fields["preset"], *option_widgets],
        api_name="train_model_options",
        show_progress="hidden",
    )
    fields["preset"].input(  # the user's pick only: on_model already set the widgets
        lambda model, preset: on_preset(model, preset, visitor_limits),
        [fields["model"], fields["preset"]],
        option_widgets,
        api_name="train_preset_options",
        show_progress="hidden",
    )
    fields["data"].change(
        lambda data: on_data(data, hosted=hosted),
        fields["data"],
        [fields["upload" if hosted else "folder"], fields["image_size"], data_note],
        api_name="train_data_choice",
        show_progress="hidden",
    )
    if formula is not None and "loss" in fields:
        fields["loss"].change(
            formula_markdown,
            fields["loss"],
            formula,
            api_name="train_formula",
            show_progress="hidden",
        )
