"""The explorer app: it builds with and without checkpoints, and /generate answers through
gradio_client on a real (loopback) server."""

from __future__ import annotations

import importlib.util
import re
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import train_run
from PIL import Image

from explorer.context import training_enabled
from explorer.gradio_ui import app as explorer_app
from explorer.gradio_ui import benchmark_endpoints


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("app-runs")
    train_run(root / "dcgan-tiny", "dcgan")
    train_run(root / "cgan-tiny", "cgan")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_names(demo) -> set[str]:
    return {dep.get("api_name") for dep in demo.config["dependencies"]}


def test_training_flag_follows_space_id() -> None:
    assert training_enabled({}) is True
    assert training_enabled({"SPACE_ID": "me/gan-explorer"}) is False
    assert training_enabled({"SPACE_ID": "x", "GAN_EXPLORER_ENABLE_TRAINING": "1"}) is True


def test_no_import_circles_and_no_front_end_in_the_core() -> None:
    """benchmarks/code_shape.py's graph: every import, wherever it stands, between the
    project's own modules; the core (trainers/, explorer/ outside the two editions and the
    launcher that starts them) never imports Gradio or Streamlit."""
    shape = _code_shape()
    graph = shape.import_graph()
    assert "explorer.gradio_ui.app" in graph["explorer.launcher"]  # the graph sees lazy imports
    assert shape.circles(graph) == []
    editions = ("explorer.gradio_ui", "explorer.streamlit_ui")
    for name, path in shape.module_files().items():
        if name.startswith(editions) or name == "explorer.launcher":  # it starts either one
            continue
        text = path.read_text()
        assert not re.search(r"^\s*(import|from) (gradio|streamlit)\b", text, re.M), name


def _code_shape():
    spec = importlib.util.spec_from_file_location(
        "code_shape", Path(__file__).resolve().parents[1] / "benchmarks" / "code_shape.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_broken_tab_fails_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args, **_kwargs) -> None:
        raise RuntimeError("a broken tab")

    monkeypatch.setattr(explorer_app.stylise, "build_tab", broken)
    with pytest.raises(RuntimeError, match="a broken tab"):
        explorer_app.build_app([tmp_path], include_default=False)


def test_app_builds_without_any_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPACE_ID", "someone/gan-explorer")
    demo = explorer_app.build_app([tmp_path], include_default=False)
    assert demo.enable_training is False
    notices = [
        b for b in demo.config["components"] if b["props"].get("elem_id") == "no-checkpoints"
    ]
    assert notices and "No checkpoints found" in notices[0]["props"]["value"]
    assert "generate" in api_names(demo)


def test_every_event_has_an_api_name_and_the_app_serves_generate(runs: Path) -> None:
    from gradio_client import Client

    demo = explorer_app.build_app([runs], include_default=False, enable_training=True)
    benchmark_endpoints.add(demo)
    names = api_names(demo)
    assert None not in names and "" not in names
    assert {"generate", "classes", "interpolate", "inside", "trivial_image"} <= names
    assert demo.enable_training is True
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        image_path, text = client.predict(
            checkpoint="dcgan-tiny", seed=3, grid=2, api_name="/generate"
        )
        again, _ = client.predict(checkpoint="dcgan-tiny", seed=3, grid=2, api_name="/generate")
        other, _ = client.predict(checkpoint="dcgan-tiny", seed=4, grid=2, api_name="/generate")
        a, b, c = (np.asarray(Image.open(p)) for p in (image_path, again, other))
        assert a.ndim == 3 and a.shape[0] > 16 and "4 samples" in text and "D(G(z))" in text
        assert np.array_equal(a, b) and not np.array_equal(a, c)
        _, cgan_text = client.predict(
            checkpoint="cgan-tiny", seed=1, class_name="class 1", api_name="/generate"
        )
        assert "16 samples" in cgan_text
    finally:
        demo.close()


#: What gradio_client users call the public endpoints' parameters (keywords they may pass):
#: renaming one breaks their scripts, so a change here is a change of the API.
API_PARAMETERS = {
    "/generate": ["checkpoint", "seed", "grid", "truncation", "class_name"]
    + [f"{kind}_{i}" for i in (1, 2, 3) for kind in ("dim", "offset")]
    + [f"pc_{i}" for i in range(1, 6)],
    "/classes": ["checkpoint", "class_name", "seed", "rows", "side", "truncation"],
    "/interpolate": ["checkpoint", "mode", "seed_a", "seed_b", "class_a", "class_b", "frames"],
    "/ask_d": ["checkpoint", "sketch", "upload", "class_name", "invert", "n", "seed"],
    "/convlab_update": ["size", "k", "s", "p", "output_padding", "input_kind", "kernel_kind"]
    + ["seed", "step", "stamp"],
    "/stylise_run": ["content_image", "style_image", "n_steps", "px", "w_content"]
    + ["w_style_log10", "w_tv_log10", "init_from", "opt", "keep_colors", "feature_net"]
    + ["noise_seed", "plan"],
    "/translate_run": ["checkpoint", "direction"],
}


def test_the_public_endpoints_keep_their_parameter_names(tmp_path: Path) -> None:
    demo = explorer_app.build_app([tmp_path], include_default=False)
    endpoints = demo.get_api_info()["named_endpoints"]
    for name, parameters in API_PARAMETERS.items():
        assert [p["parameter_name"] for p in endpoints[name]["parameters"]] == parameters, name
