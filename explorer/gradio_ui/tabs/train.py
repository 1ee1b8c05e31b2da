"""The "Train" tab: train an image GAN from the browser and watch it learn.

Call :func:`build_tab` inside an open ``gr.Blocks`` / ``gr.Tab`` context::

    with gr.Blocks() as demo:
        with gr.Tab("Train"):
            build_tab(enable_training=True)

The page's rules and words are :mod:`explorer.live_training.page`'s (the same as the
Streamlit edition's); this module is its Gradio layout and wiring. Start starts the job and a
``gr.Timer``; each tick polls the job and redraws the curves in place
(:mod:`explorer.gradio_ui.tabs.live_plot`: no flicker, the zoom stays), the samples and the
status. Each page keeps its own run in a ``gr.State``. Every event's ``api_name`` starts with
``train_``.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from explorer import charts
from explorer.context import LOCAL_LIMITS, VisitorLimits
from explorer.gradio_ui.tabs.live_plot import live_plot, plot_value
from explorer.gradio_ui.widgets import option_widget
from explorer.live_training import form, page

POLL_S = 0.5  # the page asks the job for news twice a second


def session_of(request: gr.Request | None) -> str | None:
    """The browser session's id (Gradio's ``session_hash``): who owns a job."""
    return getattr(request, "session_hash", None) if request is not None else None


def owner_of(request: gr.Request | None) -> str:
    """How other users see who runs a job: the login name, else a short session id."""
    if request is None:
        return "a local user"
    if getattr(request, "username", None):
        return str(request.username)
    return f"browser session {(getattr(request, 'session_hash', None) or '?')[:6]}"


# --- handlers (plain values in, Gradio updates out: testable without a browser) ---------------


def _answer(state: dict, error: str, hosted: bool = False) -> tuple[Any, ...]:
    """(state, status, curves, samples, quality, timer) after Start or Resume."""
    view = None if error else page.live_view(state["job_id"], hosted)
    if view is None:
        return state, error, gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
    curves = plot_value(view.figure)
    return state, view.status, curves, view.image, view.quality_md, gr.Timer(active=True)


def on_start(
    state: dict | None,
    values: dict[str, Any],
    request: gr.Request = None,
    *,
    hosted: bool = False,
    limits: VisitorLimits = LOCAL_LIMITS,
) -> tuple[Any, ...]:
    """Start a new run from the widgets' ``values`` (see :func:`page.start`)."""
    who = owner_of(request), session_of(request)
    return _answer(*page.start(state, values, *who, hosted=hosted, limits=limits), hosted)


def on_resume(
    state: dict | None,
    steps: float,
    data_dir: str | None = None,
    request: gr.Request = None,
    *,
    hosted: bool = False,
    limits: VisitorLimits = LOCAL_LIMITS,
) -> tuple[Any, ...]:
    """Continue this page's last run (see :func:`page.resume`)."""
    who = owner_of(request), session_of(request)
    answer = page.resume(state, steps, data_dir, *who, hosted=hosted, limits=limits)
    return _answer(*answer, hosted)


def on_poll(state: dict | None, *, hosted: bool = False) -> tuple[Any, ...]:
    """The timer's tick: (status, curves, samples, quality, timer); the timer stops with the run."""
    view = page.live_view((state or {}).get("job_id"), hosted)
    if view is None:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
    grid = view.image if view.image is not None else gr.skip()
    timer = gr.Timer(active=not view.finished)
    return view.status, plot_value(view.figure), grid, view.quality_md, timer


def on_stop(state: dict | None, request: gr.Request = None) -> str:
    return page.stop(state, owner_of(request), session_of(request))


def on_save(state: dict | None, *, hosted: bool = False) -> str:
    return page.save(state, hosted)[1]


def on_gif(
    state: dict | None, *, hosted: bool = False, limits: VisitorLimits = LOCAL_LIMITS
) -> tuple[Any, str]:
    return page.gif(state, hosted, limits)


def on_model(model: str, limits: VisitorLimits | None = None) -> list[Any]:
    """The family changed: its presets (the "classroom" one where it has it), then
    :func:`on_preset`'s widget values."""
    preset = form.default_preset(model)
    choices = gr.Dropdown(choices=form.preset_choices(model), value=preset)
    return [choices, *on_preset(model, preset, limits)]


def on_preset(model: str, preset: str, limits: VisitorLimits | None = None) -> list[Any]:
    """Each model option (shown only if the family has it), then each training option, at
    :func:`page.start_values`."""
    values = page.start_values(model, preset, limits)
    own = form.model_specs(model)
    shown = [
        gr.update(visible=True, value=values[name]) if name in own else gr.update(visible=False)
        for name in form.model_specs()
    ]
    return shown + [gr.update(value=values[spec.name]) for spec in form.train_specs()]


def on_data(data: str, *, hosted: bool = False) -> tuple[Any, Any, str]:
    """The data choice changed: (the folder or upload field, the size slider, the note)."""
    own, note = page.data_note(data, hosted)
    field = gr.File(visible=own) if hosted else gr.Textbox(visible=own)
    return field, gr.Slider(visible=own), note


# --- layout and wiring ------------------------------------------------------------------------


def _widget(spec: Any, **overrides: Any) -> Any:
    """The widget of a declared field or option (``spec`` or its name in :data:`page.FIELDS`);
    its elem_id is ``train-<name-with-dashes>`` (the browser tests find it by that)."""
    spec = page.FIELDS[spec] if isinstance(spec, str) else spec
    return option_widget(spec, elem_id="train-" + spec.name.replace("_", "-"), **overrides)


def build_tab(
    enable_training: bool = True, hosted: bool = False, limits: VisitorLimits | None = None
) -> None:
    """Create the Train tab inside the current Blocks/Tab context. Training off
    (``enable_training=False``, or a hosted Space without the opt-in): the buttons are greyed
    out and the API refuses. ``hosted``: built-in data or an upload, the visitor ``limits``."""
    limits = limits or LOCAL_LIMITS
    visitor = limits if hosted else None
    enabled, refused = page.training_state(enable_training)
    gr.Markdown(f"### {page.TITLE}\n{page.INTRO_MD}")
    gr.Markdown(page.device_markdown(), elem_id="train-device")
    if not enabled:
        gr.Markdown(refused, elem_id="train-disabled")
    state = gr.State({})
    timer = gr.Timer(POLL_S, active=False)
    family = form.default_family()
    start_at = page.start_values(family, form.default_preset(family), visitor)
    fields: dict[str, gr.Component] = {}
    formula = None
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            fields["model"] = _widget("model", choices=form.family_choices(), value=family)
            fields["preset"] = _widget(
                "preset", choices=form.preset_choices(family), value=form.default_preset(family)
            )
            fields["data"] = _widget("data", choices=page.data_choices(hosted))
            if hosted:  # never a typed server path: the pictures come with the request
                fields["upload"] = gr.File(
                    label=page.upload_label(limits),
                    file_count="multiple",
                    file_types=["image"],
                    type="filepath",
                    elem_id="train-upload",
                    visible=False,
                )
            else:
                fields["folder"] = _widget(
                    "folder", placeholder=page.FOLDER_PLACEHOLDER, visible=False
                )
            fields["image_size"] = _widget("image_size", visible=False)
            data_note = gr.Markdown()
            if not hosted:  # a server folder: only for the person at this computer
                fields["data_dir"] = _widget("data_dir", placeholder=page.DATA_DIR_PLACEHOLDER)
            own, every = form.model_specs(family), form.model_specs()
            for heading, first_open, specs in page.option_groups():
                with gr.Accordion(heading, open=first_open):
                    for spec in specs:
                        fields[spec.name] = _widget(
                            spec,
                            value=start_at.get(spec.name, spec.default),
                            visible=spec.name in own or spec.name not in every,
                            **page.visitor_maximum(spec, visitor),
                        )
                        if spec.name == "loss":
                            formula = gr.Markdown(page.formula_markdown(start_at["loss"]))
        with gr.Column(scale=3, min_width=420):
            with gr.Row():
                start = gr.Button(
                    page.BUTTONS["start"],
                    variant="primary",
                    interactive=enabled,
                    elem_id="train-start",
                )
                stop = gr.Button(page.BUTTONS["stop"], interactive=enabled, elem_id="train-stop")
                resume = gr.Button(
                    page.BUTTONS["resume"], interactive=enabled, elem_id="train-resume"
                )
            status = gr.Markdown(page.READY, elem_id="train-status")
            curves = live_plot(charts.training_curves(None), elem_id="train-curves")
            gr.Markdown(page.SAMPLES_CAPTION + ":")
            grid = gr.Image(
                label=page.SAMPLES_CAPTION,
                show_label=False,
                type="numpy",
                interactive=False,
                format="png",
                height=360,
                elem_id="train-samples",
            )
            quality = gr.Markdown(elem_id="train-quality")
            with gr.Row():
                save = gr.Button(page.BUTTONS["save"], interactive=enabled)
                gif = gr.Button(page.BUTTONS["gif"], interactive=enabled)
            saved = gr.Markdown()
            gif_file = gr.File(label="GIF", interactive=False)

    def start_run(data: dict, request: gr.Request) -> tuple[Any, ...]:
        if not enabled:  # the greyed-out button's API refuses too
            return _answer(data[state], refused)
        values = {name: data[widget] for name, widget in fields.items()}
        return on_start(data[state], values, request, hosted=hosted, limits=limits)

    def resume_run(
        run_state: dict | None, steps: float, data_dir: str | None, request: gr.Request
    ) -> tuple[Any, ...]:
        if not enabled:
            return _answer(dict(run_state or {}), refused)
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
        lambda run: on_poll(run, hosted=hosted), state, outputs[1:], api_name="train_poll", **quiet
    )
    stop.click(on_stop, [state], saved, api_name="train_stop", concurrency_limit=None)
    save.click(
        lambda run: on_save(run, hosted=hosted),
        [state],
        saved,
        api_name="train_save_checkpoint",
        concurrency_limit=None,
    )
    gif.click(
        lambda run: on_gif(run, hosted=hosted, limits=limits),
        [state],
        [gif_file, saved],
        api_name="train_gif",
        concurrency_limit=None,
    )
    options = [
        fields[name] for name in [*form.model_specs(), *(s.name for s in form.train_specs())]
    ]
    hidden = {"show_progress": "hidden"}
    fields["model"].change(
        lambda model: on_model(model, visitor),
        fields["model"],
        [fields["preset"], *options],
        api_name="train_model_options",
        **hidden,
    )
    fields["preset"].input(  # the user's pick only: on_model already set the widgets
        lambda model, preset: on_preset(model, preset, visitor),
        [fields["model"], fields["preset"]],
        options,
        api_name="train_preset_options",
        **hidden,
    )
    fields["data"].change(
        lambda data: on_data(data, hosted=hosted),
        fields["data"],
        [fields["upload" if hosted else "folder"], fields["image_size"], data_note],
        api_name="train_data_choice",
        **hidden,
    )
    if formula is not None:
        fields["loss"].change(
            page.formula_markdown, fields["loss"], formula, api_name="train_formula", **hidden
        )
