"""The "Translate" tab: CycleGAN image-to-image translation, wired to :mod:`explorer.translate`.

Call :func:`build_tab` inside an open ``gr.Blocks`` / ``gr.Tab`` context::

    with gr.Blocks() as demo:
        with gr.Tab("Translate"):
            build_tab()

The handlers are plain functions (testable without a browser). The chosen picture lives in
``gr.State`` per user; nothing is kept in module globals except the read-only loaded networks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from explorer import translate as tr

INTRO_MD = """
### Translate: CycleGAN (Zhu et al. 2017)

Two generators learn to map between two sets of photos **without any pairs**:
`G_AB: A → B` (horse → zebra) and `G_BA: B → A`. Two PatchGAN discriminators judge 70×70
patches of each domain. What keeps a horse the *same* horse once it has stripes is the
**cycle-consistency loss**

`L_cyc = λ · ( |G_BA(G_AB(a)) − a|₁ + |G_AB(G_BA(b)) − b|₁ )`,  λ = 10

so the tab shows the translation **and** its cycle reconstruction (sent back again).
Upload a photo, or pick an example. scikit-image ships no horse or zebra photo (its `horse`
is a silhouette), so upload your own horse or zebra to see the model on its home ground;
on other pictures you see what a texture-transfer model does out of its domain.
Any size or aspect works: the shorter side is resized (the longer one capped at 512 px).
"""

DIRECTIONS = [("A → B  (horse → zebra)", "a2b"), ("B → A  (zebra → horse)", "b2a")]


def checkpoint_choices() -> list[tuple[str, str]]:
    """Dropdown choices: (label, key) of the CycleGAN checkpoints under pretrained/ (a key is
    the folder's name, never a server path)."""
    return tr.cyclegan_choices()


def on_refresh() -> tuple[Any, str]:
    """Rescan pretrained/ for CycleGAN checkpoints."""
    choices = checkpoint_choices()
    value = choices[0][1] if choices else None
    return gr.update(choices=choices, value=value), on_checkpoint(value)


NO_CHECKPOINT_MD = (
    "No CycleGAN checkpoint in `pretrained/` yet: train one with "
    "`gan-train cyclegan --data-a DIR --data-b DIR` and export it there."
)


def on_checkpoint(checkpoint: str | None) -> str:
    """The chosen checkpoint (a key of :func:`checkpoint_choices`) in one line."""
    if not checkpoint:
        return NO_CHECKPOINT_MD
    try:
        return tr.checkpoint_info(tr.checkpoint_folder(checkpoint))
    except ValueError as error:
        return f"⚠️ {error}"


def on_upload(path: str | None) -> tuple[dict | None, Any]:
    """A new upload becomes the picture to translate (and clears the example choice)."""
    if not path or not isinstance(path, str):
        return None, gr.update()
    return {"kind": "upload", "value": path}, gr.update(value=None)


def on_example(name: str | None) -> dict | None:
    return {"kind": "example", "value": name} if name else None


def on_translate(
    checkpoint: str | None, source: dict | None, direction: str
) -> tuple[Any, Any, Any, str]:
    """Translate the chosen picture; a bad upload or missing checkpoint becomes a clear message."""
    if not checkpoint:
        raise gr.Error(
            "Choose a CycleGAN checkpoint first." if checkpoint_choices() else NO_CHECKPOINT_MD,
            print_exception=False,
        )
    if not isinstance(source, dict) or not source.get("value"):
        raise gr.Error("Upload an image or pick an example first.", print_exception=False)
    if direction not in ("a2b", "b2a"):
        raise gr.Error("Choose a direction: A → B or B → A.", print_exception=False)
    try:
        folder = tr.checkpoint_folder(checkpoint)
        image = (
            tr.example_image(source["value"])
            if source.get("kind") == "example"
            else _uploaded(source["value"])
        )
        result = tr.translate(folder, image, direction)
    except ValueError as error:
        raise gr.Error(str(error), print_exception=False) from None
    return result.input, result.translated, result.reconstruction, result.summary


def _uploaded(path: str) -> bytes:
    """An upload's bytes (so every message names the picture, not the server's cache path)."""
    try:
        return Path(path).read_bytes()
    except OSError:
        raise ValueError("The uploaded image could not be read; please upload it again.") from None


def build_tab() -> None:
    """Create the Translate tab's widgets and events in the current Blocks context."""
    choices = checkpoint_choices()
    first = choices[0][1] if choices else None
    gr.Markdown(INTRO_MD)
    with gr.Row():
        checkpoint = gr.Dropdown(choices=choices, value=first, label="CycleGAN checkpoint", scale=3)
        refresh = gr.Button("↻ rescan pretrained/", size="sm", scale=0, min_width=160)
    info = gr.Markdown(on_checkpoint(first))
    source = gr.State(
        None
    )  # per user: {"kind": "upload" | "example", "value": path or example name}
    with gr.Row():
        upload = gr.File(label="Upload an image", file_types=["image"], type="filepath", scale=2)
        with gr.Column(scale=2):
            example = gr.Dropdown(
                choices=tr.example_names(), value=None, label="…or an example (scikit-image)"
            )
            direction = gr.Radio(choices=DIRECTIONS, value="a2b", label="Direction")
            run = gr.Button("Translate", variant="primary")
    with gr.Row():
        shown = gr.Image(label="Input (resized / cropped)", type="numpy", interactive=False)
        translated = gr.Image(label="Translation", type="numpy", interactive=False)
        reconstruction = gr.Image(label="Cycle reconstruction", type="numpy", interactive=False)
    summary = gr.Markdown()

    refresh.click(on_refresh, None, [checkpoint, info], api_name="translate_refresh")
    checkpoint.change(on_checkpoint, checkpoint, info, api_name="translate_checkpoint_info")
    upload.upload(on_upload, upload, [source, example], api_name="translate_upload")
    example.input(on_example, example, source, api_name="translate_pick_example")
    run.click(
        on_translate,
        [checkpoint, source, direction],
        [shown, translated, reconstruction, summary],
        api_name="translate_run",
    )
