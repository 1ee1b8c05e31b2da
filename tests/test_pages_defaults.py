"""Every endpoint and every page with its defaults (issue 25, item 2), in both editions.

Gradio: the app is built once on tiny checkpoints (a DCGAN, a cGAN, a CycleGAN) and every named
event of ``demo.fns`` is called in-process through ``Blocks.process_api`` (Gradio's own
preprocess, call and postprocess, as for a request) with its components' start values, the
values ``gradio_client.view_api`` shows as the parameters' defaults. The list comes from the app,
so a new endpoint is covered by itself: it must answer its defaults, or be given a small valid
input in :data:`GIVEN`, or be named with a reason in :data:`SKIPPED`. A raised exception
(``gr.Error`` included) or a "⚠️" message in any output fails it.

Streamlit: every page of ``explorer/streamlit_ui/app.py``'s ``PAGES`` is opened through the
app (``?tab=<its path>``) with its defaults: no exception, no ``st.error``; a few pages also get
one small interaction.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pytest
from conftest import train_run
from gradio.blocks import BlockFunction
from gradio.state_holder import SessionState
from PIL import Image

from explorer import translate as tr
from explorer.gradio_ui import app as explorer_app
from explorer.gradio_ui import benchmark_endpoints
from explorer.live_training.job import current_job
from explorer.live_training.places import RUNS_ENV, SAVE_ENV, default_checkpoint_dir

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TIMEOUT = 60
SESSION = "pages-defaults"
ERROR_MARK = "⚠"  # the app's error messages start with "⚠️"
STATE = "<the gr.State input>"  # a GIVEN key: the endpoint's (only) gr.State input
LOWEST = object()  # a GIVEN value: the input component's minimum (a slider's left end)


# --- the tiny checkpoints ------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    checkpoints: Path  # dcgan-tiny and cgan-tiny, as training runs (--checkpoint-dir)
    cyclegans: Path  # cyclegan-tiny (what Translate lists instead of pretrained/)
    picture: Path  # a 32x32 RGB PNG
    points: Path  # a CSV of x,y points for the 2-D playground


def png_file(path: Path, side: int = 32) -> Path:
    picture = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    Image.fromarray(picture).save(path)
    return path


def tiny_cyclegan(root: Path) -> Path:
    """A 2-step CycleGAN at 32 px (tests/test_cyclegan.py's helpers), as ``root/cyclegan-tiny``."""
    from test_cyclegan import _args, _write_images

    from trainers.cli.cyclegan import run_from_args

    data = (
        _write_images(root / "data" / "trainA", 4, 36, seed=1),
        _write_images(root / "data" / "trainB", 4, 36, seed=2),
    )
    run = root / "run"
    assert run_from_args(_args(run, data, "--steps", "2")) == 0
    listed = root / "pretrained"
    listed.mkdir()
    (listed / "cyclegan-tiny").symlink_to(run / "checkpoint", target_is_directory=True)
    return listed


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """The checkpoints, and an environment whose caches, runs and exports stay in tmp folders;
    Translate lists only the tiny CycleGAN (its functions' ``root`` default is patched)."""
    root = tmp_path_factory.mktemp("pages-defaults")
    checkpoints = root / "checkpoints"
    train_run(checkpoints / "dcgan-tiny", "dcgan")
    train_run(checkpoints / "cgan-tiny", "cgan")
    for step in (2, 4):  # the fixed-noise grids the CLI writes (the Runs tab and Train's GIF)
        (checkpoints / "dcgan-tiny" / "samples").mkdir(exist_ok=True)
        png_file(checkpoints / "dcgan-tiny" / "samples" / f"step_{step:06d}.png", side=16)
    cyclegans = tiny_cyclegan(root / "cyclegan")
    points = root / "points.csv"
    points.write_text("x,y\n0.5,0.5\n-1,1\n1.5,-0.5\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GAN_EXPLORER_CACHE", str(root / "cache"))  # the widget's ONNX exports
        mp.setenv(RUNS_ENV, str(root / "live-runs"))
        mp.setenv(SAVE_ENV, str(root / "saved-checkpoints"))
        mp.delenv("SPACE_ID", raising=False)
        mp.delenv("GAN_EXPLORER_PUBLIC", raising=False)
        for function in (tr.list_cyclegan_checkpoints, tr.cyclegan_choices, tr.checkpoint_folder):
            assert function.__defaults__ == (tr.PRETRAINED_DIR,), function  # only root has one
            mp.setattr(function, "__defaults__", (cyclegans,))
        yield Setup(checkpoints, cyclegans, png_file(root / "picture.png"), points)


# --- Gradio: every endpoint ----------------------------------------------------------------------


def file_data(path: Path) -> dict[str, Any]:
    """An uploaded file as the browser sends it."""
    return {"path": str(path), "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


#: Endpoints that need more than their defaults: {api_name: setup -> {input label: value}}.
#: A label names the input component (``STATE``: its gr.State); a renamed label fails the test.
#: Every other input keeps its start value.
GIVEN: dict[str, Callable[[Setup], dict[Any, Any]]] = {
    # the default drawing is an empty slate ("draw something first"): upload a picture
    "ask_d": lambda s: {"…or upload a picture (used instead of the drawing)": file_data(s.picture)},
    # gr.Examples: which example row was clicked
    "stylise_content_example": lambda s: {"Content examples": 0},
    "stylise_style_example": lambda s: {"Style examples": 0},
    # both pictures, at the smallest size and the fewest steps the sliders offer
    "stylise_run": lambda s: {
        "Content": file_data(s.picture),
        "Style": file_data(s.picture),
        "Steps": LOWEST,
        "Output size (long side, px)": LOWEST,
    },
    "translate_upload": lambda s: {"Upload an image": file_data(s.picture)},
    # the picture to translate lives in the page's gr.State (set by an upload or an example)
    "translate_run": lambda s: {STATE: {"kind": "upload", "value": str(s.picture)}},
    "playground_csv": lambda s: {"CSV of x,y points": file_data(s.points)},
    # a page's own finished run (its gr.State names the run folder); exported to a tmp folder
    "train_save_checkpoint": lambda s: {STATE: {"run_dir": str(s.checkpoints / "dcgan-tiny")}},
    "train_gif": lambda s: {STATE: {"run_dir": str(s.checkpoints / "dcgan-tiny")}},
}

#: Endpoints not called, and why.
SKIPPED: dict[str, str] = {
    # with training on it starts a real job (minutes of CPU); this app has training off, so it
    # refuses: test_train_start_is_refused_when_training_is_off checks that.
    "train_start": "starts a training job",
    "train_resume": "continues a training job (refused here: training is off)",
}


def outputs_check(name: str, outputs: list[list[Any]]) -> str:
    """What is wrong with a call's outputs beyond an error message ("" when nothing is)."""
    last = outputs[-1]
    if name.endswith("_widget"):  # the browser widget's config for the page
        config = json.loads(last[0])
        if "fallback" in config:
            return f"the widget steps aside: {config['fallback']}"
        if config["mode"] != name.removesuffix("_widget") or not config["model"]["key"]:
            return f"not a {name} config with an ONNX model: {sorted(config)}"
    pictures = {  # endpoints that draw: which outputs must hold a picture
        "generate": [0],
        "generate_after_reset": [0],
        "classes": [0, 1],
        "interpolate": [0, 1, 2],
        "inside": [0],
        "ask_d": [0],
        "translate_run": [0, 1, 2],
        "stylise_run": [0, 2],  # the final image and its PNG to download
        "stylise_content_example": [0],
        "stylise_style_example": [0],
        "train_gif": [0],
        "trivial_image": [0],
    }
    if any(last[i] is None for i in pictures.get(name, [])):
        return f"no picture in outputs {pictures[name]}: {last!r:.300}"
    if name == "train_save_checkpoint":
        saved = default_checkpoint_dir()  # $GAN_EXPLORER_CHECKPOINTS: a tmp folder here
        if not (saved.is_dir() and any(saved.iterdir())):
            return "said it saved a checkpoint, but none was written"
    return ""


def error_texts(value: Any) -> list[str]:
    """Every string in a (postprocessed) output that carries the app's error mark."""
    if isinstance(value, str):
        return [value] if ERROR_MARK in value else []
    if isinstance(value, dict):
        return [text for item in value.values() for text in error_texts(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in error_texts(item)]
    return []


class GivenError(LookupError):
    """A GIVEN entry names an input its endpoint does not have (one label, or one gr.State)."""


class Caller:
    """Calls one endpoint of ``demo`` the way a browser session does, in-process."""

    def __init__(self, demo: gr.Blocks, setup: Setup) -> None:
        self.demo = demo
        self.setup = setup

    def inputs(self, fn: BlockFunction, given: bool = True) -> tuple[list[Any], dict[int, Any]]:
        """(payload, gr.State values) for ``fn``: its inputs' start values, then GIVEN's."""
        payload = [getattr(block, "value", None) for block in fn.inputs]
        states: dict[int, Any] = {}
        extra = GIVEN[fn.api_name](self.setup) if given and fn.api_name in GIVEN else {}
        for key, value in extra.items():
            if key is STATE:
                found = [i for i, b in enumerate(fn.inputs) if isinstance(b, gr.State)]
            else:
                found = [i for i, b in enumerate(fn.inputs) if getattr(b, "label", None) == key]
            if len(found) != 1:
                raise GivenError(f"GIVEN[{fn.api_name!r}]: {len(found)} inputs named {key!r}")
            block = fn.inputs[found[0]]
            value = block.minimum if value is LOWEST else value
            if key is STATE:
                states[block._id] = value
            else:
                payload[found[0]] = value
        return payload, states

    def call(self, fn: BlockFunction, given: bool = True) -> list[list[Any]]:
        """Every output the endpoint sends (a generator's yields one after another)."""
        payload, states = self.inputs(fn, given)
        session = SessionState(self.demo)  # a fresh visitor: no call depends on another
        for block_id, value in states.items():
            session[block_id] = value
        request = gr.Request(query_params={}, headers={}, session_hash=SESSION)
        # "select" events (a tab opened, a click on a picture) get where and what was selected
        event = gr.EventData(None, {"index": [40, 40], "value": "Generate", "selected": True})

        async def run() -> list[list[Any]]:
            sent: list[list[Any]] = []
            iterator = None
            while True:
                result = await self.demo.process_api(
                    fn,
                    [] if iterator else payload,
                    state=session,
                    request=request,
                    iterator=iterator,
                    session_hash=SESSION,
                    event_data=event,
                )
                if not result.get("is_generating"):  # done; a generator's end sends nothing
                    return sent if iterator else [*sent, result["data"]]
                sent.append(result["data"])
                iterator = result["iterator"]

        return asyncio.run(run())


@pytest.fixture(scope="module")
def demo(setup: Setup) -> Iterator[gr.Blocks]:
    app = explorer_app.build_app([setup.checkpoints], include_default=False, enable_training=False)
    benchmark_endpoints.add(app)
    yield app
    job = current_job()
    if job is not None:
        job.stop()


def named_functions(demo: gr.Blocks) -> dict[str, BlockFunction]:
    """The app's events by API name (every event has one: tests/test_app.py)."""
    functions = {fn.api_name: fn for fn in demo.fns.values() if fn.api_name}
    assert len(functions) == len(demo.fns), "an event without an api_name"
    return functions


def problem(caller: Caller, fn: BlockFunction, given: bool = True) -> str:
    """What went wrong when ``fn`` was called ("" when nothing did)."""
    try:
        outputs = caller.call(fn, given)
        errors = [text for sent in outputs for text in error_texts(sent)]
        return f"answered {errors[0]!r:.300}" if errors else outputs_check(fn.api_name, outputs)
    except GivenError:  # the test's own table is out of date: say so, not "the endpoint failed"
        raise
    except Exception as error:  # noqa: BLE001 - gr.Error included: each one is a failure
        return f"raised {type(error).__name__}: {error}"


def test_every_endpoint_answers_its_defaults(demo: gr.Blocks, setup: Setup) -> None:
    caller = Caller(demo, setup)
    failures: list[str] = []
    called: list[str] = []
    for name, fn in named_functions(demo).items():
        if name in SKIPPED:
            continue
        if fn.fn is None:  # runs in the browser only (js=...): nothing on the server to call
            assert fn.js, f"/{name} has neither a Python function nor JavaScript"
            continue
        wrong = problem(caller, fn)
        if wrong and name not in GIVEN:
            wrong += (
                " (with its defaults: give it a small valid input in GIVEN or skip it in SKIPPED)"
            )
        if wrong:
            failures.append(f"/{name} {wrong}")
        called.append(name)
    assert not failures, "\n".join(failures)
    # the documented API (what gradio_client's view_api lists) was all called or skipped on purpose
    documented = {name.lstrip("/") for name in demo.get_api_info()["named_endpoints"]}
    assert documented - set(called) <= set(SKIPPED)
    assert {"generate", "generate_widget", "classes_widget", "interpolate_widget"} <= set(called)
    assert {"translate_run", "stylise_run", "trivial_image"} <= set(called)


def test_train_start_is_refused_when_training_is_off(demo: gr.Blocks, setup: Setup) -> None:
    """build_app(enable_training=False) greys the buttons out, and its API refuses too."""
    assert current_job() is None
    for name in ("train_start", "train_resume"):
        (sent,) = Caller(demo, setup).call(named_functions(demo)[name])
        assert any("switched off" in text for text in error_texts(sent)), name
        assert current_job() is None  # no job was started


def test_the_tables_name_endpoints_the_app_has(demo: gr.Blocks) -> None:
    names = set(named_functions(demo))
    assert set(GIVEN) - names == set(), "GIVEN names endpoints the app no longer has"
    assert set(SKIPPED) - names == set(), "SKIPPED names endpoints the app no longer has"
    assert not set(GIVEN) & set(SKIPPED)


def test_a_broken_endpoint_would_be_seen(demo: gr.Blocks, setup: Setup) -> None:
    """Both ways the app reports an error are caught: without GIVEN's inputs, Ask D answers
    with a message and Translate raises gr.Error; the cGAN gets a widget config of its own."""
    caller = Caller(demo, setup)
    functions = named_functions(demo)
    assert "draw something first" in problem(caller, functions["ask_d"], given=False)
    assert "raised Error: 'Upload an image" in problem(
        caller, functions["translate_run"], given=False
    )
    assert problem(caller, functions["translate_run"]) == ""
    (config,) = caller.call(functions["classes_widget"])[0]
    assert json.loads(config)["model"]["conditional"]


# --- Streamlit: every page -----------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    module: str  # page_generate
    url_path: str  # generate
    title: str


def app_pages() -> list[Page]:
    """The pages of the Streamlit app, in its order (the core's titles, the edition's modules)."""
    from explorer.links import TITLES
    from explorer.streamlit_ui import PAGE_MODULES

    return [Page(PAGE_MODULES[tab][0], tab, title) for tab, title in TITLES.items()]


PAGES = app_pages()


def test_the_pages_read_from_the_app_are_all_its_page_modules() -> None:
    from explorer.streamlit_ui import APP_FILE

    modules = {path.stem for path in Path(APP_FILE).parent.glob("page_*.py")}
    assert {page.module for page in PAGES} == modules
    assert PAGES[0].url_path == "generate"
    assert set(INTERACTIONS) <= {page.url_path for page in PAGES}


@pytest.fixture
def streamlit_app(setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The script's arguments (tiny checkpoints, nothing shipped) and a loopback address."""
    pytest.importorskip("streamlit")
    from streamlit import config as st_config

    from explorer.streamlit_ui import page_translate

    monkeypatch.setattr(
        sys, "argv", ["app.py", "--checkpoint-dir", str(setup.checkpoints), "--no-pretrained"]
    )
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    st_config.set_option("server.address", "127.0.0.1")
    page_translate.checkpoint_choices.clear()  # found once per process: see the tiny CycleGAN
    yield
    page_translate.checkpoint_choices.clear()  # and let later tests see pretrained/ again
    job = current_job()
    if job is not None:
        job.stop()


def open_page(url_path: str) -> Any:
    from streamlit.testing.v1 import AppTest

    from explorer.streamlit_ui import APP_FILE

    at = AppTest.from_file(str(APP_FILE), default_timeout=TIMEOUT)
    at.query_params["tab"] = url_path  # a link to the page (explorer/links.py)
    return at.run()


def assert_clean(at: Any) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert not at.warning, [w.value for w in at.warning]  # e.g. a bad link, no model


def images(at: Any) -> list[str]:
    return [url for image in at.image for url in image.value]


def pick_a_run(at: Any) -> None:
    runs = at.multiselect(key="k:runs.keys")
    runs.set_value([runs.options[0]]).run()
    assert at.get("plotly_chart"), "no curves for the chosen run"


def translate_an_example(at: Any) -> None:
    at.selectbox(key="k:translate.example").set_value("coffee").run()
    assert len(images(at)) == 3  # input, translation, cycle reconstruction


def ask_d_about_a_picture(at: Any) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buffer, format="png")
    at.file_uploader[0].set_value(("red.png", buffer.getvalue(), "image/png")).run()
    assert len(images(at)) == 1


def fewest_frames(at: Any) -> None:
    fewest = int(at.slider(key="k:interpolate.frames").min)
    at.slider(key="k:interpolate.frames").set_value(fewest).run()
    assert f"{fewest} frames" in " ".join(m.value for m in at.markdown)


#: One small valid interaction, for the pages where it is cheap (keyed by the page's path).
INTERACTIONS: dict[str, Callable[[Any], None]] = {
    "runs": pick_a_run,
    "translate": translate_an_example,
    "ask-d": ask_d_about_a_picture,
    "interpolate": fewest_frames,
}


@pytest.mark.usefixtures("streamlit_app")
@pytest.mark.parametrize("page", PAGES, ids=[page.url_path for page in PAGES])
def test_every_streamlit_page_opens_with_its_defaults(page: Page) -> None:
    at = open_page(page.url_path)
    assert_clean(at)  # no warning: the link was good, so this is the page it names
    assert at.header, "nothing drawn"
    assert (at.header[0].value == "Generate") == (page.url_path == "generate")
    if page.url_path in INTERACTIONS:
        INTERACTIONS[page.url_path](at)
        assert_clean(at)
