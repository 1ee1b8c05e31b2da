"""Train: train an image GAN in a background job and watch it learn.

Streamlit layout and wiring only: the page's rules and words are
:mod:`explorer.live_training.page`'s. The live panel is an ``st.fragment(run_every=POLL_S)``
that polls the job and redraws the curves, the samples and the status; only it reruns. The
session's run (:func:`page.start`'s state) is kept in Session State.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer.live_training import form, page
from explorer.live_training.page import live_view  # noqa: F401 (the tests poll it here)
from explorer.streamlit_ui import shared
from explorer.streamlit_ui.widgets import option_widget

P = shared.KEEP + "train."
POLL_S = 1.0  # the live panel asks the job for news once a second
RUN = "train.run"  # Session State: this session's run (job id, run folder, upload folder)
WATCH = "train.watching"  # the live panel polls


def live_panel(job_id: str | None, hosted: bool) -> None:
    """The fragment: status, curves, samples; stops polling once the run has ended."""
    view = page.panel_view(job_id, hosted)
    st.markdown(view.status)
    st.plotly_chart(view.figure, key="train-curves")
    if view.image is not None:
        shared.image(st, view.image, caption=page.SAMPLES_CAPTION)
    if view.quality_md:
        st.markdown(view.quality_md)
    if view.finished and st.session_state.get(WATCH):
        st.session_state[WATCH] = False
        st.rerun()  # the whole page again, without run_every: polling stops


def _field(name: str, **overrides: Any) -> Any:
    return option_widget(page.FIELDS[name], P + name, **overrides)


def _choice(name: str, choices: list[tuple[str, str]], default: str) -> Any:
    """A dropdown of (label, value) choices; a value it no longer offers goes back to default."""
    labels = {value: label for label, value in choices}
    shared.choose(P + name, list(labels), default)
    return _field(name, options=list(labels), format_func=labels.get)


def form_values(hosted: bool = False) -> dict[str, Any]:
    """Draw the form; returns the flat ``{name: value}`` :func:`page.start` takes."""
    model = _choice("model", form.family_choices(), form.default_family())
    presets = form.preset_choices(model)
    shared.choose(P + "preset", presets, form.default_preset(model))
    values: dict[str, Any] = {"model": model, "preset": _field("preset", options=presets)}
    _start_at_preset(model, values["preset"], hosted)
    values["data"] = _choice("data", page.data_choices(hosted), "mnist")
    own, note = page.data_note(values["data"], hosted)
    if own and hosted:
        values["upload"] = st.file_uploader(
            page.upload_label(shared.limits()),
            type=shared.IMAGE_TYPES,
            accept_multiple_files=True,
            key="train.upload",
        )
    elif own:
        values["folder"] = _field("folder", placeholder=page.FOLDER_PLACEHOLDER)
    if own:
        values["image_size"] = _field("image_size")
    if note:
        st.info(note)
    if not hosted:
        values["data_dir"] = _field("data_dir", placeholder=page.DATA_DIR_PLACEHOLDER)
    for heading, first_open, specs in page.option_groups(model):
        with st.expander(heading, expanded=first_open):
            for spec in specs:
                values[spec.name] = option_widget(spec, P + spec.name)
                if spec.name == "loss" and (formula := page.formula_markdown(values["loss"])):
                    st.caption(formula)
    return values


def _start_at_preset(model: str, preset: str, hosted: bool) -> None:
    """When the family or preset changes (and on the first visit), put every option widget at
    :func:`page.start_values` before it is drawn; what the user changes afterwards stays until
    the next change of family or preset."""
    if st.session_state.get(P + "started_at") == (model, preset):
        return
    st.session_state[P + "started_at"] = (model, preset)
    limits = shared.limits() if hosted else None
    for name, value in page.start_values(model, preset, limits).items():
        st.session_state[P + name] = value


def _follow(answer: tuple[dict, str]) -> None:
    """After Start or Resume: follow the new run, or say why there is none."""
    state, error = answer
    if error:
        st.error(error)
    else:
        st.session_state[RUN], st.session_state[WATCH] = state, True


def render() -> None:
    """The Train page."""
    st.header(page.TITLE)
    st.markdown(page.INTRO_MD)
    enabled, notice = page.training_state()
    hosted, limits, owner = shared.hosted(), shared.limits(), shared.owner()
    st.caption(page.device_markdown())
    if not enabled:
        st.warning(notice)
    left, right = st.columns([2, 3])
    with left:
        values = form_values(hosted)
    with right:
        run = st.session_state.get(RUN, {})
        buttons = st.columns(5)
        pressed = {
            name: column.button(
                page.BUTTONS[name],
                type="primary" if name == "start" else "secondary",
                disabled=not enabled,
            )
            for name, column in zip(("start", "stop", "resume", "save"), buttons, strict=False)
        }
        buttons[4].download_button(
            page.BUTTONS["gif"],
            data=lambda: page.gif_bytes(run, limits),
            file_name="training.gif",
            mime="image/gif",
            disabled=not (enabled and page.has_frames(run.get("run_dir"))),
            on_click="ignore",
        )
        who = {"owner": owner, "owner_id": owner, "hosted": hosted, "limits": limits}
        if pressed["start"]:
            _follow(page.start(run, values, **who))
        if pressed["resume"]:
            _follow(page.resume(run, values["steps"], values.get("data_dir"), **who))
        if pressed["stop"]:
            st.info(page.stop(run, owner, owner, hosted))
        if pressed["save"]:
            ok, message = page.save(run, hosted, listed=True)
            if ok:
                shared.catalog().refresh()  # the Generate page lists it now
            (st.success if ok else st.error)(message)
        job_id = st.session_state.get(RUN, {}).get("job_id")
        run_every = POLL_S if st.session_state.get(WATCH) else None
        st.fragment(live_panel, run_every=run_every)(job_id, hosted)
