"""Hosted mode (issue 17, item 1): a public explorer shows no server path, takes training data
only built in or uploaded, states and enforces the visitor limits, and lets a visitor stop or
export only their own training job; every upload goes through trainers.images.load_image."""

from __future__ import annotations

import io
import json
import re
import socket
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from gradio.data_classes import FileData
from gradio.utils import get_upload_folder
from PIL import Image

from explorer.context import (
    HOSTED_LIMITS,
    ExplorerContext,
    hosted_mode,
    is_loopback,
    public_text,
)
from explorer.gradio_ui import app as explorer_app
from explorer.gradio_ui.tabs import train
from explorer.gradio_ui.tabs import translate as translate_tab
from explorer.gradio_ui.tabs.uploads import CheckedImage
from explorer.live_training import form
from explorer.live_training.form import JobOptions
from explorer.live_training.job import current_job
from explorer.live_training.places import RUNS_ENV, SAVE_ENV

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO = Path(__file__).resolve().parents[1]
ABSOLUTE = re.compile(r"(?<![\w.:/])/(?:[\w.@+-]+/)+[\w.@+-]*")
URL = re.compile(r"https?://\S+")


#: URL paths of Gradio's own routes and its API docs' placeholder: not server folders.
URL_ROUTES = ("/gradio_api/", "/static/", "/assets/", "/path/to/your/")


def server_paths(text: str) -> list[str]:
    """Absolute paths in ``text``, except Gradio's routes and its file route into its own
    temporary folder (``/gradio_api/file=/tmp/gradio/<hash>/image.png``: how Gradio serves
    every picture, whatever the app)."""
    gradio_tmp = str(Path(get_upload_folder()))
    found = [
        path
        for path in ABSOLUTE.findall(text)
        if not path.startswith(URL_ROUTES) and not path.startswith(gradio_tmp + "/")
    ]
    text = URL.sub("", text)  # e.g. Gradio's example URLs .../raw/main/...
    for needle in (str(REPO), f"/{REPO.name}/", str(Path.home()), sys.prefix, sys.base_prefix):
        if needle in text:
            found.append(needle)
    return found


def test_hosted_mode_decision() -> None:
    assert not hosted_mode("127.0.0.1", environ={})
    assert not hosted_mode("localhost", environ={}) and not hosted_mode("::1", environ={})
    assert not hosted_mode(None, environ={})
    assert hosted_mode("0.0.0.0", environ={}) and hosted_mode("192.168.1.20", environ={})
    assert hosted_mode("my-laptop.example.org", environ={})
    assert hosted_mode("127.0.0.1", public=True, environ={})
    assert hosted_mode("127.0.0.1", environ={"SPACE_ID": "me/gan-explorer"})
    assert hosted_mode("127.0.0.1", environ={"GAN_EXPLORER_PUBLIC": "1"})
    assert ExplorerContext.hosted_mode is hosted_mode or ExplorerContext.hosted_mode("0.0.0.0")
    assert is_loopback("127.0.0.2") and not is_loopback("0.0.0.0")


def test_public_text_cuts_paths_to_their_last_part() -> None:
    text = "MNIST not found in /root/.cache/gan-explorer/data; see https://pytorch.org/a/b"
    assert public_text(text) == "MNIST not found in …/data; see https://pytorch.org/a/b"
    assert public_text("folder:/srv/app/uploads/x1") == "folder:…/x1"
    assert public_text("ratio 1/2 and a / b") == "ratio 1/2 and a / b"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def hosted_demo():
    """The whole explorer in hosted mode with the shipped checkpoints, training switched on."""
    return explorer_app.build_app(hosted=True, enable_training=True)


def test_no_server_path_in_the_config_or_the_api_schema(hosted_demo) -> None:
    config = json.dumps(hosted_demo.get_config_file(), default=str)
    api = json.dumps(hosted_demo.get_api_info(), default=str)
    assert server_paths(config) == []
    assert server_paths(api) == []
    assert "Shared explorer" in config  # the limits are stated on the page
    elem_ids = {c["props"].get("elem_id") for c in hosted_demo.config["components"]}
    assert "train-upload" in elem_ids and "train-folder" not in elem_ids  # no typed folder
    labels = {c["props"].get("label") for c in hosted_demo.config["components"]}
    assert "data dir" not in labels
    # the Translate tab's choices are names, not folders
    choices = translate_tab.checkpoint_choices()
    assert choices and all("/" not in key and "\\" not in key for _, key in choices)


def test_served_page_and_client_view_api_show_no_server_path(hosted_demo) -> None:
    from gradio_client import Client

    port = free_port()
    hosted_demo.launch(
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True
    )
    try:
        assert hosted_demo.max_file_size == HOSTED_LIMITS.upload_mb * 1024 * 1024
        assert hosted_demo.show_error is False  # an unexpected error's text is not shown
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/config", timeout=30) as response:
            assert server_paths(response.read().decode()) == []
        with urllib.request.urlopen(base, timeout=30) as response:
            assert server_paths(response.read().decode()) == []
        client = Client(f"{base}/", verbose=False)
        assert (
            server_paths(json.dumps(client.view_api(return_format="dict", print_info=False))) == []
        )
    finally:
        hosted_demo.close()


def test_local_mode_keeps_the_folder_fields(monkeypatch) -> None:
    monkeypatch.delenv("SPACE_ID", raising=False)
    with gr.Blocks() as demo:
        train.build_tab(True)
    labels = {c["props"].get("label") for c in demo.config["components"]}
    assert {"data dir", "image folder"} <= labels


# --- uploads go through trainers.images.load_image ------------------------------------------


def png_bytes(width: int, height: int, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), 128).save(buffer, format="PNG")
    return buffer.getvalue()


def one_sentence(message: str) -> bool:
    text = message.strip()
    return bool(text) and "\n" not in text and text.count(". ") == 0 and len(text) < 300


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (png_bytes(9000, 50), "too long and thin"),
        (b"\x00garbage\xff" * 50, "not an image"),
        (b"", "not an image"),
        (png_bytes(4, 4), "too small"),
    ],
)
def test_checked_image_refuses_in_one_sentence(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "upload.png"
    path.write_bytes(content)
    widget = CheckedImage(type="numpy", upload_name="content image")
    with pytest.raises(gr.Error) as caught:
        widget.preprocess(FileData(path=str(path), orig_name="upload.png"))
    message = caught.value.message
    assert words in message and one_sentence(message), message
    assert str(tmp_path) not in message


def test_checked_image_converts_odd_modes(tmp_path: Path) -> None:
    path = tmp_path / "grey16.png"
    Image.fromarray(np.full((20, 30), 40000, dtype=np.uint16)).save(path)
    array = CheckedImage(type="numpy").preprocess(FileData(path=str(path)))
    assert array.shape == (20, 30, 3) and array.dtype == np.uint8


def test_translate_refuses_a_9000x50_image_in_a_sentence(tmp_path: Path) -> None:
    choices = translate_tab.checkpoint_choices()
    if not choices:
        pytest.skip("no CycleGAN checkpoint shipped")
    path = tmp_path / "strip.png"
    path.write_bytes(png_bytes(9000, 50))
    source, _ = translate_tab.on_upload(str(path))
    with pytest.raises(gr.Error) as caught:
        translate_tab.on_translate(choices[0][1], source, "a2b")
    message = caught.value.message
    assert "9000x50" in message and "too long and thin" in message and one_sentence(message)
    with pytest.raises(gr.Error, match="no CycleGAN checkpoint called"):
        translate_tab.on_translate(str(REPO / "pretrained" / "dcgan-mnist"), source, "a2b")


# --- training: built-in data or an upload, limits, one's own job -----------------------------


@pytest.fixture
def live_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    monkeypatch.setenv(SAVE_ENV, str(tmp_path / "checkpoints"))
    monkeypatch.delenv("SPACE_ID", raising=False)
    yield tmp_path
    job = current_job()
    if job is not None:
        job.stop()


def values(**changes):
    base = {
        "model": "mlp-gan",
        "preset": "classroom",
        "data": "mnist",
        "image_size": 16,
        "loss": "non-saturating",
        "batch_size": 8,
        "steps": 4000,
        "max_seconds": 0,
    }
    return base | changes


def visitor(session: str) -> SimpleNamespace:
    return SimpleNamespace(session_hash=session, username=None)


def start_hosted(state, vals, who):
    return train.on_start(state, vals, visitor(who), hosted=True, limits=HOSTED_LIMITS)


def test_hosted_training_never_takes_a_server_path(live_dirs: Path) -> None:
    status = start_hosted({}, values(data="folder", folder="/etc"), "a")[1]
    assert "Upload your pictures" in status
    status = start_hosted({}, values(data_dir="/etc", steps=10**6), "a")[1]
    assert "at most 5,000 steps" in status
    status = start_hosted({}, values(batch_size=4096), "a")[1]
    assert "at most 128 images per batch" in status
    junk = live_dirs / "junk.png"
    junk.write_bytes(b"not a picture at all")
    status = start_hosted({}, values(data="upload", upload=[str(junk)] * 9), "a")[1]
    assert "picture 1" in status and "not an image" in status and str(live_dirs) not in status
    assert "at least" in start_hosted({}, values(data="upload", upload=[]), "a")[1]


def test_a_visitor_stops_and_exports_only_their_own_job(live_dirs: Path) -> None:
    pictures = []
    rng = np.random.default_rng(0)
    for i in range(10):
        path = live_dirs / f"p{i}.png"
        Image.fromarray(rng.integers(0, 255, (24, 20, 3), dtype=np.uint8)).save(path)
        pictures.append(str(path))
    state, status, *_, timer = start_hosted({}, values(data="upload", upload=pictures), "alice")
    assert timer.active, status
    job = current_job()
    assert job is not None and job.owner_id == "alice" and job.options.dataset == "your images"
    assert job.trainer.config.max_seconds == HOSTED_LIMITS.train_seconds  # capped time budget
    assert "not yours" in train.on_stop({}, visitor("bob"))
    assert "not yours" in train.on_stop({"job_id": "made-up"}, visitor("bob"))
    assert current_job() is job and not job.stop_event.is_set()
    assert "Nothing to animate" in train.on_gif({}, hosted=True)[1]  # bob has no run
    assert "Stopping" in train.on_stop({}, visitor("alice"))  # the same browser session
    assert job.join(30)
    gif, message = train.on_gif(state, hosted=True)
    assert gif.endswith(".gif") and server_paths(message) == []
    saved = train.on_save(state, hosted=True)
    assert "Saved" in saved and server_paths(saved) == []
    status = train.on_poll(state, hosted=True)[0]
    assert server_paths(status) == []
    state, status, *_ = train.on_resume(
        state, 12, None, visitor("alice"), hosted=True, limits=HOSTED_LIMITS
    )
    assert "your images" in status, status  # resumed on the same uploaded pictures
    current_job().join(30)


# --- every choice of every dropdown works or says why ----------------------------------------


def test_every_train_dropdown_choice_works_or_says_why(live_dirs: Path) -> None:
    from trainers.data import synthetic_dataset
    from trainers.engine import GANTrainer, TrainConfig
    from trainers.registry import get_spec

    assert "cyclegan" not in [name for _, name in form.family_choices()]
    data = synthetic_dataset((1, 28, 28), num_classes=10, n=16, seed=0)
    loss_spec = next(spec for spec in form.train_specs() if spec.name == "loss")
    combos = [
        (name, form.default_preset(name), "non-saturating") for _, name in form.family_choices()
    ]
    combos += [
        (name, preset, "non-saturating")
        for _, name in form.family_choices()
        for preset in form.preset_choices(name)
    ]
    combos += [
        (form.default_family(), form.default_preset(form.default_family()), loss)
        for loss in loss_spec.choices
    ]
    for model, preset, loss in dict.fromkeys(combos):
        options = JobOptions.from_values(values(model=model, preset=preset, loss=loss, steps=1))
        options.check(dataset=True)
        spec = get_spec(model)
        config = spec.make_config(data.image_shape, 10, preset=options.preset)
        trainer = GANTrainer(
            spec, config, TrainConfig(**{**options.train, "batch_size": 4, "steps": 1}), data, "cpu"
        )
        step = trainer.train_step()
        assert all(np.isfinite(v) for v in step.losses.values()), (model, preset, loss)
    for data_choice, _ in [(value, label) for label, value in form.HOSTED_DATA_CHOICES]:
        try:
            JobOptions.from_values(values(data=data_choice)).check(dataset=data_choice != "upload")
        except ValueError as error:  # says why in words (the 2-D sets live in the playground)
            assert data_choice == form.TOY_DATA and "2-D playground" in str(error)


def test_a_hosted_app_launches_with_the_upload_cap_and_no_error_details(tmp_path: Path) -> None:
    demo = explorer_app.build_app([tmp_path], include_default=False, hosted=True)
    port = free_port()
    demo.launch(  # the caller asks for error details: a hosted app never shows them
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
        show_error=True,
    )  # fmt: skip
    try:
        assert demo.max_file_size == HOSTED_LIMITS.upload_mb * 1024 * 1024
        assert demo.show_error is False
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read()
        assert b"GAN Explorer" in page
    finally:
        demo.close()


def test_sweeper_deletes_old_temp_files_but_keeps_start_values(tmp_path: Path) -> None:
    import os

    from explorer.gradio_ui import tempfiles

    old, new, kept = (
        tmp_path / "a" / "old.png",
        tmp_path / "b" / "new.png",
        tmp_path / "c" / "v.png",
    )
    for path in (old, new, kept):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    hour_ago = time.time() - 3600
    for path in (old, kept):
        os.utime(path, (hour_ago, hour_ago))
    # a file counts as new while its mtime or ctime is (ctime is "now" here: just written)
    assert tempfiles.sweep(tmp_path, 600, keep={str(kept)}) == 0
    time.sleep(0.05)
    assert tempfiles.sweep(tmp_path, 0.01, keep={str(kept)}) == 2
    assert kept.exists() and not old.exists() and not new.exists()
    assert not (tmp_path / "a").exists()  # empty folders go too


def test_gradio_cache_writes_are_atomic_and_reused(tmp_path: Path, hosted_demo) -> None:
    import os

    from gradio import processing_utils

    from explorer.gradio_ui import tempfiles

    assert processing_utils.save_pil_to_cache is tempfiles._save_pil_to_cache  # build_app did it
    picture = np.full((8, 8, 3), 7, dtype=np.uint8)
    first = processing_utils.save_img_array_to_cache(picture, str(tmp_path))
    inode = os.stat(first).st_ino
    again = processing_utils.save_img_array_to_cache(picture, str(tmp_path))
    assert again == first and os.stat(again).st_ino == inode  # not rewritten under a reader
    assert [p.name for p in Path(first).parent.iterdir()] == [Path(first).name]  # no leftovers
