"""The "Train" tab: train an image GAN from the browser and watch it learn.

Call :func:`build_tab` inside an open ``gr.Blocks`` / ``gr.Tab`` context::

    with gr.Blocks() as demo:
        with gr.Tab("Train"):
            build_tab(enable_training=True)

All the work is in :mod:`explorer.live_training` (a worker thread running the project's
training engine, an event queue, one job per machine); the handlers below turn its updates
into widget values. Each page remembers its own run in a ``gr.State`` (a small dict: job id and
run folder). Every event has an explicit ``api_name`` starting with ``train_``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from explorer import live_training as lt
from trainers.checkpoint import CheckpointError
from trainers.data import DEFAULT_DATA_DIR, DataUnavailableError
from trainers.device import pick_device
from trainers.losses import FORMULAS, LOSSES
from trainers.registry import MODELS

NO_PRESET = "(none)"
DATA_CHOICES = [
    ("MNIST", "mnist"),
    ("Fashion-MNIST", "fashion-mnist"),
    ("CIFAR-10", "cifar10"),
    ("an image folder", "folder"),
    ("2-D toy (see the 2-D playground tab)", "toy2d"),
]
TOY_MESSAGE = (
    "The 2-D toy sets (ring, grid, moons, spiral, your own points) train in the **2-D playground** "
    "tab: it shows D's heatmap and G's gradient arrows, which only make sense in 2-D."
)

INTRO_MD = """
### Train a GAN and watch it learn

Pick a model, the data and the game, then **Start**. The page shows, about twice a second, the
losses of D and G, what D says of real images D(x) and of fakes D(G(z)), and G's output for
the *same* 64 noise vectors z (so you see the same faces of the model improve). **Stop** ends
cleanly and keeps a checkpoint of the run; **Resume** continues it, with the step count and
the curves going on where they stopped. **Save checkpoint** puts the model where the Generate
tab finds it; **Download GIF** animates the samples across the run.
"""


def owner_of(request: gr.Request | None) -> str:
    """How other users see who runs a job: the login name, else a short session id."""
    if request is None:
        return "a local user"
    if getattr(request, "username", None):
        return str(request.username)
    session = getattr(request, "session_hash", None) or "?"
    return f"browser session {session[:6]}"


def formula_markdown(loss: str) -> str:
    formula = FORMULAS.get(loss)
    if not formula:
        return ""
    return f"`{formula['d']}`  \n`{formula['g']}`"


def preset_choices(model: str) -> list[str]:
    return [NO_PRESET, *sorted(MODELS[model].presets)] if model in MODELS else [NO_PRESET]


def options_from(
    model: str,
    preset: str | None,
    data: str,
    folder: str,
    image_size: float,
    data_dir: str,
    loss: str,
    k: float,
    lr_d: float,
    lr_g: float,
    spectral_norm: bool,
    minibatch_std: bool,
    batch_size: float,
    steps: float,
    seed: float,
) -> lt.JobOptions:
    """The widgets' values -> JobOptions (raises ValueError for a bad combination)."""
    if data == "folder":
        if not (folder or "").strip():
            raise ValueError(
                "type the path of your image folder (one sub-folder per class, or just images)"
            )
        dataset = f"folder:{folder.strip()}"
    else:
        dataset = data
    return lt.JobOptions(
        model=model,
        dataset=dataset,
        data_dir=(data_dir or "").strip() or None,
        image_size=int(image_size) if data == "folder" else None,
        preset=None if preset in (None, "", NO_PRESET) else preset,
        loss=loss,
        d_steps=int(k),
        lr_d=float(lr_d),
        lr_g=float(lr_g),
        spectral_norm=bool(spectral_norm),
        minibatch_std=bool(minibatch_std),
        batch_size=int(batch_size),
        steps=int(steps),
        seed=int(seed or 0),
    )


def _outputs(state: dict, update: lt.Update) -> tuple[Any, ...]:
    """(state, status, curves, samples, quality) for one stream update."""
    status = update.status
    if update.finished and update.reason in ("done", "stopped"):
        status += "  \nThe run's checkpoint is kept: **Resume** continues it, **Save checkpoint** exports it."
    return state, status, update.curves, update.grid, update.quality


def _message(state: dict, text: str) -> tuple[Any, ...]:
    return state, text, gr.skip(), gr.skip(), gr.skip()


def _follow(job: lt.TrainingJob, state: dict) -> Iterator[tuple[Any, ...]]:
    """Yield the page's outputs for every stream update; closing this generator (the tab went
    away) closes the stream, which stops and joins the training thread."""
    updates = lt.stream(job)
    try:
        for update in updates:
            yield _outputs(state, update)
    finally:
        updates.close()


# ---------------------------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------------------------


def on_start(
    state: dict | None,
    model: str,
    preset: str,
    data: str,
    folder: str,
    image_size: float,
    data_dir: str,
    loss: str,
    k: float,
    lr_d: float,
    lr_g: float,
    spectral_norm: bool,
    minibatch_std: bool,
    batch_size: float,
    steps: float,
    seed: float,
    request: gr.Request = None,
) -> Iterator[tuple[Any, ...]]:
    """Start a new run and stream it. Yields (state, status, curves, samples, quality)."""
    state = dict(state or {})
    if data == "toy2d":
        yield _message(state, TOY_MESSAGE)
        return
    try:
        options = options_from(
            model,
            preset,
            data,
            folder,
            image_size,
            data_dir,
            loss,
            k,
            lr_d,
            lr_g,
            spectral_norm,
            minibatch_std,
            batch_size,
            steps,
            seed,
        )
        job = lt.start_job(options, owner_of(request))
    except (
        lt.JobBusyError,
        lt.TrainingDisabledError,
        DataUnavailableError,
        CheckpointError,
        ValueError,
        OSError,
    ) as error:
        yield _message(state, f"⚠️ {error}")
        return
    state = {"job_id": job.id, "run_dir": str(job.run_dir)}
    yield from _follow(job, state)


def on_resume(
    state: dict | None, steps: float, data_dir: str, request: gr.Request = None
) -> Iterator[tuple[Any, ...]]:
    """Continue this page's last run (the same step count and curves). ``steps`` is the new
    target; if the run is already there, it trains ``steps`` more."""
    state = dict(state or {})
    run_dir = state.get("run_dir")
    if not run_dir:
        yield _message(state, "Nothing to resume yet: **Start** a run first.")
        return
    try:
        options = lt.JobOptions(steps=int(steps), data_dir=(data_dir or "").strip() or None)
        job = lt.start_job(options, owner_of(request), resume_dir=run_dir)
    except (
        lt.JobBusyError,
        lt.TrainingDisabledError,
        DataUnavailableError,
        CheckpointError,
        ValueError,
        OSError,
    ) as error:
        yield _message(state, f"⚠️ {error}")
        return
    state = {"job_id": job.id, "run_dir": str(job.run_dir)}
    yield from _follow(job, state)


def on_stop(state: dict | None, request: gr.Request = None) -> str:
    """Stop this page's run (the loop ends after the current step and saves its checkpoint)."""
    job = lt.current_job()
    if job is None:
        return "No training job is running."
    mine = (state or {}).get("job_id") == job.id or job.owner == owner_of(request)
    if not mine:
        return f"The running job is not yours: {job.describe()}."
    job.stop_event.set()  # the streaming Start/Resume call sees it finish and shows the end
    return "Stopping after the current step…"


def on_save(state: dict | None) -> str:
    """Write an inference checkpoint the Generate tab can open."""
    state = state or {}
    job = lt.get_job(state.get("job_id"))
    try:
        path = lt.save_checkpoint(job, run_dir=state.get("run_dir"))
    except (ValueError, CheckpointError, TimeoutError, OSError) as error:
        return f"⚠️ {error}"
    return (
        f"Saved **{path.name}** in `{path.parent}`. Press **↻ Find new checkpoints** at the top "
        "to open it in the Generate tab."
    )


def on_gif(state: dict | None) -> tuple[Any, str]:
    """The fixed-noise samples across the run as an animated GIF. Returns (file, message)."""
    run_dir = (state or {}).get("run_dir")
    if not run_dir:
        return None, "Nothing to animate yet: **Start** a run first."
    try:
        path = lt.make_gif(run_dir)
    except (ValueError, OSError) as error:
        return None, f"⚠️ {error}"
    return str(path), f"GIF of the run: `{path}`"


def on_model(model: str) -> Any:
    """The family changed: offer its presets."""
    choices = preset_choices(model)
    default = "classroom" if "classroom" in choices else NO_PRESET
    return gr.Dropdown(choices=choices, value=default)


def on_data(data: str) -> tuple[Any, Any, str]:
    """The data choice changed: show the folder fields or the 2-D note. Returns (folder, size, note)."""
    folder = data == "folder"
    note = TOY_MESSAGE if data == "toy2d" else ""
    return gr.Textbox(visible=folder), gr.Slider(visible=folder), note


def device_markdown() -> str:
    try:
        device = pick_device("auto")
    except ValueError:  # pragma: no cover - "auto" never raises
        return ""
    return f"Training runs on this machine's **{lt.describe_device(device)}** (CUDA, then Apple MPS, then CPU)."


# ---------------------------------------------------------------------------------------------
# Layout and wiring
# ---------------------------------------------------------------------------------------------


def build_tab(enable_training: bool = True) -> None:
    """Create the Train tab inside the current Blocks/Tab context.

    With ``enable_training=False`` (or on a hosted Space without
    ``GAN_EXPLORER_ENABLE_TRAINING=1``) the form is shown but the buttons are disabled and a
    note says why.
    """
    allowed, why = lt.training_enabled()
    enabled = enable_training and allowed
    gr.Markdown(INTRO_MD)
    gr.Markdown(device_markdown(), elem_id="train-device")
    if not enabled:
        gr.Markdown(
            f"⚠️ {why or 'Training is switched off in this explorer.'}", elem_id="train-disabled"
        )
    state = gr.State({})
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            model = gr.Dropdown(
                list(MODELS), value="mlp-gan", label="model family", elem_id="train-model"
            )
            preset = gr.Dropdown(
                preset_choices("mlp-gan"),
                value="classroom",
                label="model preset",
                info="mlp-gan 'classroom' is tiny: fast on a CPU",
            )
            data = gr.Dropdown(DATA_CHOICES, value="mnist", label="data", elem_id="train-data")
            folder = gr.Textbox(
                label="image folder",
                placeholder="/path/to/images (sub-folders = classes)",
                visible=False,
            )
            image_size = gr.Slider(
                16, 64, value=32, step=4, label="image side for the folder (pixels)", visible=False
            )
            data_note = gr.Markdown()
            data_dir = gr.Textbox(
                label="data dir",
                placeholder=f"default: {DEFAULT_DATA_DIR}",
                info="where MNIST / Fashion-MNIST / CIFAR-10 are (or are downloaded to)",
            )
            loss = gr.Dropdown(list(LOSSES), value="non-saturating", label="loss")
            formula = gr.Markdown(formula_markdown("non-saturating"))
            k = gr.Slider(1, 10, value=1, step=1, label="k: D steps per G step")
            with gr.Row():
                lr_d = gr.Number(2e-4, label="lr D", minimum=1e-7, maximum=0.1)
                lr_g = gr.Number(
                    2e-4, label="lr G", minimum=1e-7, maximum=0.1, info="different from lr D = TTUR"
                )
            with gr.Row():
                spectral_norm = gr.Checkbox(False, label="spectral norm in D")
                minibatch_std = gr.Checkbox(False, label="minibatch discrimination in D")
            with gr.Row():
                batch_size = gr.Slider(8, 512, value=64, step=8, label="batch size")
                steps = gr.Number(2000, label="steps (G updates)", precision=0, minimum=1)
                seed = gr.Number(0, label="seed", precision=0)
        with gr.Column(scale=3, min_width=420):
            with gr.Row():
                start = gr.Button(
                    "▶ Start", variant="primary", interactive=enabled, elem_id="train-start"
                )
                stop = gr.Button("■ Stop", interactive=enabled, elem_id="train-stop")
                resume = gr.Button("Resume", interactive=enabled, elem_id="train-resume")
            status = gr.Markdown("Press **Start**.", elem_id="train-status")
            curves = gr.Image(
                label="D and G losses; D(x) and D(G(z))",
                show_label=False,
                type="numpy",
                interactive=False,
                format="png",
                elem_id="train-curves",
            )
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

    outputs = [state, status, curves, grid, quality]
    start.click(
        on_start,
        [
            state,
            model,
            preset,
            data,
            folder,
            image_size,
            data_dir,
            loss,
            k,
            lr_d,
            lr_g,
            spectral_norm,
            minibatch_std,
            batch_size,
            steps,
            seed,
        ],
        outputs,
        api_name="train_start",
        concurrency_limit=None,
        show_progress="minimal",
    )
    resume.click(
        on_resume,
        [state, steps, data_dir],
        outputs,
        api_name="train_resume",
        concurrency_limit=None,
        show_progress="minimal",
    )
    stop.click(on_stop, [state], saved, api_name="train_stop", concurrency_limit=None)
    save.click(on_save, [state], saved, api_name="train_save_checkpoint", concurrency_limit=None)
    gif.click(on_gif, [state], [gif_file, saved], api_name="train_gif", concurrency_limit=None)
    model.change(on_model, model, preset, api_name="train_model_presets", show_progress="hidden")
    data.change(
        on_data,
        data,
        [folder, image_size, data_note],
        api_name="train_data_choice",
        show_progress="hidden",
    )
    loss.change(formula_markdown, loss, formula, api_name="train_formula", show_progress="hidden")
