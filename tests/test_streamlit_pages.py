"""The Streamlit edition, page by page, with ``streamlit.testing.v1.AppTest`` (no browser).

Each page runs on tiny checkpoints (``--no-pretrained``): widgets change what is shown, and a
bad upload shows ``st.error``, never an exception. AppTest does not run ``run_every``
fragments, so the Train page's live panel is tested through its plain function.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import train_run
from PIL import Image

pytest.importorskip("streamlit")
from streamlit import config as st_config  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from explorer import latents  # noqa: E402
from explorer.live_training.form import JobOptions  # noqa: E402
from explorer.live_training.job import current_job, start_job  # noqa: E402
from explorer.live_training.places import RUNS_ENV, SAVE_ENV  # noqa: E402
from explorer.streamlit_ui import APP_FILE  # noqa: E402
from trainers.data import synthetic_dataset  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TIMEOUT = 60
NOT_AN_IMAGE = ("notes.png", b"this is not a picture", "image/png")


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny DCGAN and a tiny cGAN, as training runs."""
    root = tmp_path_factory.mktemp("streamlit-checkpoints")
    train_run(root / "dcgan-tiny", "dcgan")
    train_run(root / "cgan-tiny", "cgan")
    return root


@pytest.fixture(autouse=True)
def local_server(checkpoint_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The script's arguments and a loopback address (not hosted); runs go to tmp_path."""
    monkeypatch.setattr(
        sys, "argv", ["app.py", "--checkpoint-dir", str(checkpoint_dir), "--no-pretrained"]
    )
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    monkeypatch.setenv(SAVE_ENV, str(tmp_path / "checkpoints"))
    monkeypatch.delenv("SPACE_ID", raising=False)
    st_config.set_option("server.address", "127.0.0.1")
    yield
    job = current_job()
    if job is not None:
        job.stop()


def page(name: str) -> AppTest:
    """One page's ``render()`` as a script, run once."""
    script = f"from explorer.streamlit_ui import page_{name}\npage_{name}.render()\n"
    return AppTest.from_string(script, default_timeout=TIMEOUT).run()


def png_bytes(shape: tuple[int, ...] = (32, 32, 3)) -> bytes:
    picture = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="png")
    return buffer.getvalue()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def images(at: AppTest) -> list[str]:
    return [url for image in at.image for url in image.value]


# --- the app and Generate ---------------------------------------------------------------------


def widget_config(at: AppTest) -> dict:
    """The latent widget's config as the page handed it to the browser."""
    (component,) = at.get("component_instance")
    assert component.proto.component_name.endswith("latent_widget")
    return json.loads(component.proto.json_args)["config"]


def test_the_app_opens_on_generate_with_the_browser_widget() -> None:
    """The page hands the widget z for the seed and the model's name; a new seed, new z."""
    at = AppTest.from_file(str(APP_FILE), default_timeout=TIMEOUT).run()
    assert_clean(at)
    assert at.header[0].value == "Generate"
    options = at.sidebar.selectbox(key="k:checkpoint").options  # shown with their labels
    assert sorted(o.split(" — ")[-1] for o in options) == ["cgan-tiny", "dcgan-tiny"]
    config = widget_config(at)
    assert config["mode"] == "generate" and config["seed"] == 0 and config["model"]["key"]
    assert images(at) == []  # no server-drawn grid while the widget runs
    at.sidebar.number_input(key="k:generate.seed").set_value(5).run()
    assert_clean(at)
    moved = widget_config(at)
    assert moved["seed"] == 5 and moved["z"] != config["z"]


def test_generate_draws_on_the_server_when_the_widget_steps_aside() -> None:
    at = AppTest.from_file(str(APP_FILE), default_timeout=TIMEOUT)
    at.session_state["k:generate.widget"] = {"fallback": "this browser has no WebAssembly"}
    at.run()
    assert_clean(at)
    assert "Pictures come from the server: this browser has no WebAssembly." in [
        c.value for c in at.caption
    ]
    first = images(at)
    assert len(first) == 1 and first[0].endswith(".png")  # lossless, not JPEG
    assert "samples" in " ".join(m.value for m in at.markdown)
    at.sidebar.slider(key="k:generate.pc0").set_value(2.0).run()
    assert_clean(at)
    moved = images(at)
    assert moved != first
    at.sidebar.slider(key="k:generate.side").set_value(2).run()
    assert images(at) not in (first, moved)
    assert "**4 samples**" in " ".join(m.value for m in at.markdown)
    next(b for b in at.sidebar.button if b.label == "Reset sliders").click().run()
    assert at.sidebar.slider(key="k:generate.pc0").value == 0.0


def test_generate_shows_exactly_the_pipeline_samples(checkpoint_dir: Path) -> None:
    """With the sliders at 0 the grid is drawn from ``pipe(n, seed, truncation)``'s pixels."""
    from explorer.streamlit_ui import page_generate, shared
    from explorer.views import GenerateParams

    path = str(checkpoint_dir / "dcgan-tiny" / "checkpoint")
    stamp = (Path(path) / "model.safetensors").stat().st_mtime_ns
    grid = page_generate.sample_grid(path, stamp, GenerateParams(seed=3, grid=2, truncation=0.7))
    out = shared.pipeline_at(path, stamp)(n=4, seed=3, truncation=0.7)
    expected = latents.captioned_grid(out.images, 2, latents.score_captions(out.scores), out.scores)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(grid.png))), expected)


def test_the_model_choice_survives_a_page_switch() -> None:
    """Streamlit forgets the widgets a page did not draw; app.py hands them back."""
    script = (
        "import streamlit as st\n"
        "from explorer.streamlit_ui import page_generate, page_playground, shared\n"
        "shared.keep_widget_values()\n"
        "where = st.session_state.get('where', 'generate')\n"
        "(page_playground if where == 'playground' else page_generate).render()\n"
    )
    at = AppTest.from_string(script, default_timeout=TIMEOUT).run()
    at.sidebar.selectbox(key="k:checkpoint").set_value("cgan-tiny").run()
    at.session_state["where"] = "playground"
    at.run()
    assert not at.sidebar.selectbox  # the Generate widgets are gone ...
    at.session_state["where"] = "generate"
    at.run()
    assert at.sidebar.selectbox(key="k:checkpoint").value == "cgan-tiny"  # ... but not their values
    assert widget_config(at)["model"]["conditional"]  # the widget got the cGAN


# --- the other pages --------------------------------------------------------------------------


def test_classes_page_hands_the_widget_one_z_for_every_class() -> None:
    at = page("classes")
    assert_clean(at)
    config = widget_config(at)
    assert config["mode"] == "classes" and config["model"]["class_names"] == ["class 0", "class 1"]
    assert images(at) == []  # drawn in the browser


def test_classes_page_on_the_server_follows_the_class_and_the_grid_side() -> None:
    script = "from explorer.streamlit_ui import page_classes\npage_classes.render()\n"
    at = AppTest.from_string(script, default_timeout=TIMEOUT)
    at.session_state["k:classes.widget"] = {"fallback": "no WebAssembly"}
    at.run()
    assert_clean(at)
    before = images(at)
    assert len(before) == 2
    at.selectbox(key="k:classes.class").set_value(at.selectbox(key="k:classes.class").options[1])
    at.run()
    after = images(at)
    assert after[0] == before[0] and after[1] != before[1]  # only the one-class grid changed
    at.slider(key="k:classes.side").set_value(2).run()
    assert "4 latents" in " ".join(m.value for m in at.markdown)


def test_interpolate_page_draws_a_filmstrip_and_offers_the_gif() -> None:
    at = page("interpolate")
    assert_clean(at)
    strip = images(at)
    assert len(strip) == 2 and strip[1].endswith(".gif")
    assert at.get("download_button")
    at.slider(key="k:interpolate.frames").set_value(4).run()
    assert_clean(at)
    assert images(at)[0] != strip[0]
    assert "4 frames" in " ".join(m.value for m in at.markdown)


def test_ask_d_scores_an_upload_and_refuses_a_non_image() -> None:
    at = page("ask_d")
    assert_clean(at)
    assert not images(at)
    at.file_uploader[0].set_value(NOT_AN_IMAGE).run()
    assert_clean(at)
    assert "not an image" in at.error[0].value
    at.file_uploader[0].set_value(("digit.png", png_bytes(), "image/png")).run()
    assert_clean(at)
    assert not at.error and len(images(at)) == 1
    assert "D's score of your picture" in " ".join(m.value for m in at.markdown)


def test_convlab_page_steps_the_kernel_and_reports_bad_parameters() -> None:
    at = page("convlab")
    assert_clean(at)
    step = at.slider(key="k:convlab.step").value
    equation = [m.value for m in at.markdown]
    at.button[1].click().run()  # "next ▶"
    assert at.slider(key="k:convlab.step").value == step + 1
    assert [m.value for m in at.markdown] != equation
    at.slider(key="k:convlab.p").set_value(4).run()  # k=3, p=4: PyTorch refuses
    assert_clean(at)
    assert "PyTorch would refuse" in at.error[0].value


def test_playground_page_steps_and_refuses_a_bad_csv() -> None:
    at = page("playground")
    assert_clean(at)
    text = " ".join(m.value for m in at.markdown)
    assert "G updates **0**" in text
    next(b for b in at.button if b.label == "Step both").click().run()
    assert_clean(at)
    assert "G updates **1**" in " ".join(m.value for m in at.markdown)
    at.file_uploader[0].set_value(("points.csv", b"x,y\n1,banana\n", "text/csv")).run()
    assert_clean(at)
    assert at.error and "points.csv" in at.error[0].value


def test_translate_page_refuses_a_non_image() -> None:
    at = page("translate")
    assert_clean(at)
    if at.warning:  # no CycleGAN checkpoint shipped here
        pytest.skip(at.warning[0].value)
    at.file_uploader[0].set_value(NOT_AN_IMAGE).run()
    assert_clean(at)
    assert "not an image" in at.error[0].value


def test_stylise_page_refuses_a_non_image_at_once() -> None:
    at = page("stylise")
    assert_clean(at)
    assert at.radio(key="k:stylise.schedule").value == "coarse-to-fine"
    assert "133 steps at 64 px" in " ".join(c.value for c in at.caption)
    at.radio(key="k:stylise.schedule").set_value("single").run()
    assert "200 steps at 256 px" in " ".join(c.value for c in at.caption)
    at.file_uploader[0].set_value(NOT_AN_IMAGE).run()
    assert_clean(at)
    assert "not an image" in at.error[0].value


def test_inside_page_opens_the_generate_latent_layer_by_layer() -> None:
    at = page("inside")
    assert_clean(at)
    first = images(at)
    assert len(first) == 1
    assert "output image" in " ".join(m.value for m in at.markdown)
    at.slider(key="k:inside.sample").set_value(3).run()
    assert_clean(at)
    assert images(at) != first


def test_the_gate_lets_a_few_compute_and_turns_the_crowd_away() -> None:
    import threading

    from explorer.jobs import BusyError, Gate

    gate = Gate(concurrency=1, queue_size=1)
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gate():
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    inside.wait(10)
    waiter = threading.Thread(target=lambda: gate().__enter__())  # waits for the slot
    waiter.start()
    time.sleep(0.2)
    with pytest.raises(BusyError, match="busy"):
        with gate():
            pass
    release.set()
    holder.join(10)
    waiter.join(10)
    assert not waiter.is_alive()


# --- Train ------------------------------------------------------------------------------------


def test_train_page_form_comes_from_the_configs_and_explains_a_bad_start() -> None:
    at = page("train")
    assert_clean(at)
    # the page starts at DCGAN "classroom" (digits within a minute), its values in the widgets
    assert at.selectbox(key="k:train.model").value == "dcgan"
    assert at.selectbox(key="k:train.preset").value == "classroom"
    assert at.number_input(key="k:train.batch_size").value == 16
    assert at.number_input(key="k:train.max_seconds").value == 60.0
    assert at.checkbox(key="k:train.minibatch_std").value is True
    at.number_input(key="k:train.batch_size").set_value(24).run()  # the user's value stays...
    assert at.number_input(key="k:train.batch_size").value == 24
    at.selectbox(key="k:train.preset").set_value("(none)").run()  # ...until the preset changes
    assert at.number_input(key="k:train.steps").value == 1000  # TrainConfig's default
    assert at.number_input(key="k:train.batch_size").value == 64
    assert at.checkbox(key="k:train.minibatch_std").value is False
    at.selectbox(key="k:train.data").set_value("folder").run()
    next(b for b in at.button if "Start" in b.label).click().run()
    assert_clean(at)
    assert "image folder" in at.error[0].value  # from JobOptions.from_values
    assert current_job() is None


def test_train_page_is_off_on_a_space(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPACE_ID", "alice/explorer")
    at = page("train")
    assert_clean(at)
    assert "switched off" in at.warning[0].value
    assert next(b for b in at.button if "Start" in b.label).disabled


def test_the_live_panel_follows_a_running_job() -> None:
    """The fragment's function: curves grow while the job runs; it says when it has ended."""
    from explorer.streamlit_ui import page_train

    assert page_train.live_view("no-such-job") is None
    data = synthetic_dataset((1, 8, 8), num_classes=2, n=64, seed=0)
    options = JobOptions(model="mlp-gan", dataset="synthetic", train={"batch_size": 8, "steps": 60})
    tiny = {"g_hidden": (16,), "d_hidden": (16,), "latent_dim": 8, "batchnorm": False}
    job = start_job(options, "tester", data=data, device="cpu", model_overrides=tiny)
    seen = []
    deadline = time.monotonic() + 60
    while (view := page_train.live_view(job.id)) is not None and not view.finished:
        seen.append(len(view.figure.data[0].x))
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert view.finished and "done" in view.status
    assert len(view.figure.data[0].x) == 60 and view.image is not None
    assert seen == sorted(seen)  # the curve only grows


def test_a_hosted_train_page_takes_no_server_paths_and_keeps_the_limits() -> None:
    from explorer.context import HOSTED_LIMITS

    st_config.set_option("server.address", "0.0.0.0")  # reachable by others: hosted mode
    at = page("train")
    assert_clean(at)
    data = at.selectbox(key="k:train.data")
    assert "folder" not in data.options and "your images (upload)" in data.options
    assert not [t for t in at.text_input if t.label == "data dir"]
    # the classroom preset's 20,000 steps start within the visitor's limit
    assert at.number_input(key="k:train.steps").value == HOSTED_LIMITS.train_steps
    at.number_input(key="k:train.steps").set_value(HOSTED_LIMITS.train_steps + 1)
    next(b for b in at.button if "Start" in b.label).click().run()
    assert "at most" in at.error[0].value and current_job() is None


# --- the command ------------------------------------------------------------------------------


def test_gan_explorer_ui_streamlit_runs_streamlit_on_the_app_file() -> None:
    import subprocess

    from explorer import launcher
    from explorer.context import LOCAL_LIMITS

    args = launcher.streamlit_parser().parse_args(["--port", "8600", "--checkpoint-dir", "runs"])
    command = launcher.streamlit_command(args)
    assert command[:2] == ["run", str(APP_FILE)]
    end = command.index("--")
    options = dict(zip(command[2:end:2], command[3:end:2], strict=True))
    assert options["--server.port"] == "8600" and options["--server.address"] == "127.0.0.1"
    assert options["--server.headless"] == "true"
    assert options["--browser.gatherUsageStats"] == "false"
    assert options["--server.maxUploadSize"] == str(LOCAL_LIMITS.upload_mb)
    assert command[command.index("--") + 1 :] == ["--threads", "1", "--checkpoint-dir", "runs"]
    # starting the server must not wait for torch (the first page imports it)
    check = (
        "import sys, explorer.launcher as l; l.streamlit_command(l.streamlit_parser()"
        ".parse_args([])); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
    from explorer import launcher

    for argv in (["--ui", "streamlit", "--help"], ["--ui=gradio", "--help"]):
        with pytest.raises(SystemExit) as exit_info:  # gan-explorer --ui ...: the launcher
            launcher.main(argv)
        assert exit_info.value.code == 0
