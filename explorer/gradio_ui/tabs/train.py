"""The "Train" tab: Gradio layout and wiring over :mod:`explorer.live_training.page` (the
page's rules and words). Start starts the job and a ``gr.Timer``; each tick polls the job and
redraws the curves in place (:mod:`~explorer.gradio_ui.tabs.live_plot`: the zoom stays), the
samples and the status. Each page keeps its own run in a ``gr.State``; every event's
``api_name`` starts with ``train_``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gradio as gr

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
    return f"browser session {(session_of(request) or '?')[:6]}"


# --- handlers (plain values in, Gradio updates out: testable without a browser) ---------------


def _answer(state: dict, error: str, hosted: bool = False) -> tuple[Any, ...]:
    """(state, status, curves, samples, quality, timer) after Start or Resume."""
    view = None if error else page.live_view(state["job_id"], hosted)
    if view is None:
        return state, error, gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
    curves = plot_value(view.figure)
    return state, view.status, curves, view.image, view.quality_md, gr.Timer(active=True)


def on_start(
    state: dict | None, values: dict[str, Any], request: gr.Request = None, **options: Any
) -> tuple[Any, ...]:
    """Start a new run from the widgets' ``values``; ``options``: :func:`page.start`'s
    ``hosted``, ``limits`` and ``enabled``."""
    answer = page.start(state, values, owner_of(request), session_of(request), **options)
    return _answer(*answer, options.get("hosted", False))


def on_resume(
    state: dict | None,
    steps: float,
    data_dir: str | None = None,
    request: gr.Request = None,
    **options: Any,
) -> tuple[Any, ...]:
    """Continue this page's last run; ``options``: as :func:`on_start`'s."""
    who = owner_of(request), session_of(request)
    answer = page.resume(state, steps, data_dir, *who, **options)
    return _answer(*answer, options.get("hosted", False))


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
    """Each option widget (:func:`page.option_names`) at :func:`page.start_values`, or hidden
    where the family does not have it."""
    values = page.start_values(model, preset, limits)
    return [
        gr.update(visible=True, value=values[name])
        if page.option_shown(name, model)
        else gr.update(visible=False)
        for name in page.option_names()
    ]


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


def _button(name: str, enabled: bool) -> Any:
    """One of :data:`page.BUTTONS`, elem_id ``train-<name>``; Start is the primary one."""
    variant = "primary" if name == "start" else "secondary"
    return gr.Button(
        page.BUTTONS[name], variant=variant, interactive=enabled, elem_id=f"train-{name}"
    )


def _on(
    trigger: Callable, handler: Callable, inputs: Any, outputs: Any, name: str, **how: Any
) -> None:
    """One event: api_name ``train_<name>``, no progress shown unless ``how`` says so."""
    how = {"show_progress": "hidden", **how}
    trigger(handler, inputs, outputs, api_name=f"train_{name}", **how)


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
    preset = form.default_preset(family)
    start_at = page.start_values(family, preset, visitor)
    fields: dict[str, gr.Component] = {}
    formula = None
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            fields["model"] = _widget("model", choices=form.family_choices(), value=family)
            fields["preset"] = _widget("preset", choices=form.preset_choices(family), value=preset)
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
            for heading, first_open, specs in page.option_groups():
                with gr.Accordion(heading, open=first_open):
                    for spec in specs:
                        fields[spec.name] = _widget(
                            spec,
                            value=start_at.get(spec.name, spec.default),
                            visible=page.option_shown(spec.name, family),
                            **page.visitor_maximum(spec, visitor),
                        )
                        if spec.name == "loss":
                            formula = gr.Markdown(page.formula_markdown(start_at["loss"]))
        with gr.Column(scale=3, min_width=420):
            with gr.Row():
                start, stop, resume = (_button(n, enabled) for n in ("start", "stop", "resume"))
            idle = page.panel_view(None)  # "Press Start", no curves
            status = gr.Markdown(idle.status, elem_id="train-status")
            curves = live_plot(idle.figure, elem_id="train-curves")
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
                save, gif = _button("save", enabled), _button("gif", enabled)
            saved = gr.Markdown()
            gif_file = gr.File(label="GIF", interactive=False)

    run_options = {"hosted": hosted, "limits": limits, "enabled": enabled}

    def start_run(data: dict, request: gr.Request) -> tuple[Any, ...]:
        values = {name: data[widget] for name, widget in fields.items()}
        return on_start(data[state], values, request, **run_options)

    def resume_run(
        run: dict | None, steps: float, data_dir: str | None, request: gr.Request
    ) -> tuple[Any, ...]:
        return on_resume(run, steps, data_dir, request, **run_options)

    def resume_hosted(run: dict | None, steps: float, request: gr.Request) -> tuple[Any, ...]:
        return on_resume(run, steps, None, request, **run_options)

    now = {"concurrency_limit": None}  # never queued behind another page's event
    shown = [state, status, curves, grid, quality, timer]
    resume_in = [state, fields["steps"], *([] if hosted else [fields["data_dir"]])]
    _on(start.click, start_run, {state, *fields.values()}, shown, "start", **now)
    _on(resume.click, resume_hosted if hosted else resume_run, resume_in, shown, "resume", **now)
    poll = functools.partial(on_poll, hosted=hosted)
    _on(timer.tick, poll, state, shown[1:], "poll", **now)
    for button, handler, answer, name in (
        (stop, on_stop, saved, "stop"),
        (save, functools.partial(on_save, hosted=hosted), saved, "save_checkpoint"),
        (gif, functools.partial(on_gif, hosted=hosted, limits=limits), [gif_file, saved], "gif"),
    ):
        _on(button.click, handler, [state], answer, name, show_progress="full", **now)
    options = [fields[name] for name in page.option_names()]
    family_box, preset_box = fields["model"], fields["preset"]
    new_family = functools.partial(on_model, limits=visitor)
    _on(family_box.change, new_family, family_box, [preset_box, *options], "model_options")
    new_preset = functools.partial(on_preset, limits=visitor)  # the user's pick only: .input
    _on(preset_box.input, new_preset, [family_box, preset_box], options, "preset_options")
    data_out = [fields["upload" if hosted else "folder"], fields["image_size"], data_note]
    new_data = functools.partial(on_data, hosted=hosted)
    _on(fields["data"].change, new_data, fields["data"], data_out, "data_choice")
    if formula is not None:
        _on(fields["loss"].change, page.formula_markdown, fields["loss"], formula, "formula")
