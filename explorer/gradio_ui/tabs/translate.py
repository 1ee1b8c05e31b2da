"""The "Translate" tab: CycleGAN image-to-image translation; layout and wiring over
:mod:`explorer.translate` (its words, its checkpoints and its one view).

The handlers are plain functions (testable without a browser). The chosen picture lives in
``gr.State`` per user; nothing is kept in module globals except the read-only loaded networks.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from explorer import translate as tr
from explorer.gradio_ui.widgets import option_widget

NO_CHECKPOINT_MD = tr.NO_CHECKPOINT_MD


def checkpoint_choices() -> list[tuple[str, str]]:
    """Dropdown choices: (label, key) of the CycleGAN checkpoints under pretrained/ (a key is
    the folder's name, never a server path)."""
    return tr.cyclegan_choices()


def on_refresh() -> tuple[Any, str]:
    """Rescan pretrained/ for CycleGAN checkpoints."""
    choices = checkpoint_choices()
    value = choices[0][1] if choices else None
    return gr.update(choices=choices, value=value), on_checkpoint(value)


def on_checkpoint(checkpoint: str | None) -> str:
    """The chosen checkpoint (a key of :func:`checkpoint_choices`) in one line."""
    return tr.checkpoint_markdown(checkpoint)


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
    source = source if isinstance(source, dict) else {}
    try:
        result = tr.translate_choice(
            checkpoint, source.get("kind", ""), source.get("value"), direction
        )
    except ValueError as error:
        raise gr.Error(str(error), print_exception=False) from None
    return result.input, result.translated, result.reconstruction, result.summary


def build_tab() -> None:
    """Create the Translate tab's widgets and events in the current Blocks context."""
    choices = checkpoint_choices()
    first = choices[0][1] if choices else None
    gr.Markdown(f"### {tr.TITLE}\n{tr.INTRO_MD}")
    with gr.Row():
        checkpoint = option_widget(tr.SPECS["checkpoint"], choices=choices, value=first, scale=3)
        refresh = gr.Button("↻ rescan pretrained/", size="sm", scale=0, min_width=160)
    info = gr.Markdown(on_checkpoint(first))
    source = gr.State(None)  # per user: {"kind": "upload" | "example", "value": path or name}
    with gr.Row():
        upload = gr.File(label=tr.UPLOAD_LABEL, file_types=["image"], type="filepath", scale=2)
        with gr.Column(scale=2):
            example = option_widget(tr.SPECS["example"], value=None)
            directions = [(label, value) for value, label in tr.DIRECTIONS.items()]
            direction = option_widget(tr.SPECS["direction"], choices=directions)
            run = gr.Button("Translate", variant="primary")
    with gr.Row():
        pictures = [
            gr.Image(label=caption, type="numpy", interactive=False) for caption in tr.CAPTIONS
        ]
    summary = gr.Markdown()

    refresh.click(on_refresh, None, [checkpoint, info], api_name="translate_refresh")
    checkpoint.change(on_checkpoint, checkpoint, info, api_name="translate_checkpoint_info")
    upload.upload(on_upload, upload, [source, example], api_name="translate_upload")
    example.input(on_example, example, source, api_name="translate_pick_example")
    run.click(
        on_translate,
        [checkpoint, source, direction],
        [*pictures, summary],
        api_name="translate_run",
    )
