"""The latent widget in a real browser, in both editions (headless Debian Chromium, Playwright).

A slider step inside the widget changes its canvas and sends nothing to the server; the canvas
shows the pipeline's pixels (= ``gan-train sample``'s and ``/generate``'s) within 2/255 for the
same seed and slider values, including principal directions, a raw dimension, a cGAN class and
lerp/slerp; without WebAssembly the page falls back to the server path and says so.
Skipped where /usr/bin/chromium is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from browser_support import chromium, free_port, need_chromium, streamlit_server
from conftest import train_run

from trainers import latent_space
from trainers.cli import main as gan_train
from trainers.device import torch_threads
from trainers.pipeline import GANPipeline

pytestmark = pytest.mark.browser

WAIT_FRAMES = (
    "(n) => { const w = document.querySelector('#latent-widget');"
    " return !!w && +(w.dataset.frames || 0) >= n; }"
)
FRAMES = "() => +(document.querySelector('#latent-widget').dataset.frames || 0)"
SET = """([name, value]) => {
  const input = document.querySelector(`#latent-widget [name="${name}"]`);
  input.value = String(value);
  input.dispatchEvent(new Event(input.type === "range" ? "input" : "change"));
}"""
TILES = "(i) => document.querySelector('#latent-widget').latentWidget.readTiles(i)"
NO_WASM = "delete window.WebAssembly;"


def tiles(frame, index: int, shape: tuple[int, ...]) -> np.ndarray:
    """The canvas's pixels of picture ``index``, as uint8 (N, H, W, C)."""
    return np.asarray(frame.evaluate(TILES, index), dtype=np.uint8).reshape(-1, *shape)


def step(frame, name: str, value) -> None:
    """Move one of the widget's inputs and wait for the next frame."""
    before = frame.evaluate(FRAMES)
    frame.evaluate(SET, [name, value])
    frame.wait_for_function(WAIT_FRAMES, arg=before + 1, timeout=30_000)


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape
    assert np.abs(actual.astype(int) - expected.astype(int)).max() <= 2  # within 2/255


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_chromium()
    root = tmp_path_factory.mktemp("widget-browser")
    with torch_threads(1):
        train_run(root / "checkpoints" / "a-dcgan-tiny", "dcgan")
        train_run(root / "checkpoints" / "b-cgan-tiny", "cgan")
    (root / "empty").mkdir()
    return root


@pytest.fixture(scope="module")
def browser(runs: Path):
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def gradio_url(runs: Path) -> Iterator[str]:
    from explorer.gradio_ui.app import build_app

    mp = pytest.MonkeyPatch()
    mp.setenv("GAN_EXPLORER_CACHE", str(runs / "cache"))
    demo = build_app([runs / "checkpoints"], include_default=False, enable_training=False)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
        mp.undo()


@pytest.fixture(scope="module")
def streamlit_url(runs: Path) -> Iterator[str]:
    env = {
        "GAN_EXPLORER_PRETRAINED": str(runs / "empty"),
        "GAN_EXPLORER_CACHE": str(runs / "cache"),
    }
    with streamlit_server(runs / "checkpoints", runs / "streamlit.log", env) as url:
        yield url


def widget_frame(page, timeout_ms: int = 60_000):
    """The document holding #latent-widget (the page in Gradio, a component iframe in
    Streamlit), once the widget has drawn its first frame."""
    deadline = timeout_ms
    while deadline > 0:
        for frame in page.frames:
            try:
                if frame.evaluate(WAIT_FRAMES, 1):
                    return frame
            except Exception:  # a frame that is navigating
                pass
        page.wait_for_timeout(200)
        deadline -= 200
    raise AssertionError("the latent widget drew nothing")


def requests_during(page, action) -> list[str]:
    """Every request and websocket message the page sends while ``action`` runs."""
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    for ws in getattr(page, "_widget_sockets", []):
        ws.on("framesent", lambda payload: sent.append("websocket message"))
    action()
    page.wait_for_timeout(300)
    return sent


def open_page(browser, url: str, *, wasm: bool = True, only_in_component: bool = False):
    page = browser.new_page(viewport={"width": 1300, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page._widget_sockets = []  # type: ignore[attr-defined]
    page.on("websocket", lambda ws: page._widget_sockets.append(ws))
    if not wasm and only_in_component:
        # Streamlit's own page needs WebAssembly: take it away inside the widget's iframe only,
        # by serving the widget's script with one line in front.
        def without_wasm(route) -> None:
            body = route.fetch().text()
            route.fulfill(body=NO_WASM + "\n" + body, content_type="text/javascript")

        page.route("**/component/**/latent-widget.js", without_wasm)
    elif not wasm:
        page.add_init_script(NO_WASM)
    page.goto(url, timeout=60_000)
    return page, errors


def check_generate(page, runs: Path) -> None:
    """Generate: a step sends nothing; pixels = pipeline (= gan-train sample) after each step."""
    frame = widget_frame(page)
    pipe = GANPipeline.from_pretrained(runs / "checkpoints" / "a-dcgan-tiny")
    shape = (8, 8, 1)
    first = tiles(frame, 0, shape)
    expected = pipe(n=16, seed=0)
    assert_close(first, expected.images)
    # D's scores follow G's pictures (drawn under them once the sliders rest)
    frame.wait_for_function(
        "() => { const w = document.querySelector('#latent-widget');"
        " return +(w.dataset.scored || 0) === +w.dataset.frames; }",
        timeout=30_000,
    )
    scores = frame.evaluate(
        "() => document.querySelector('#latent-widget').latentWidget.lastScores[0]"
    )
    np.testing.assert_allclose(scores, expected.scores, atol=1e-4)
    sent = requests_during(page, lambda: step(frame, "psi", 0.5))
    assert sent == [], f"a slider step reached the server: {sent}"
    out = tiles(frame, 0, shape)
    assert not np.array_equal(out, first)  # the canvas changed
    sample = runs / "sample.npz"
    assert (
        gan_train(
            ["sample", str(runs / "checkpoints" / "a-dcgan-tiny"), "--n", "16", "--seed", "0"]
            + ["--truncation", "0.5", "--out", str(sample)]
        )
        == 0
    )
    assert_close(out, np.load(sample)["images"])
    step(frame, "offset1", 1.5)  # z[0] += 1.5
    step(frame, "pc1", 2.0)
    step(frame, "grid", 3)
    z = latent_space.build_latents(pipe, 0, 9, 0.5, [(0, 1.5)], [2.0, 0, 0, 0, 0])
    assert_close(tiles(frame, 0, shape), pipe(latents=z).images)


def check_cgan(page, runs: Path, url: str, edition: str) -> None:
    """Classes (one z across every class, a class picker) and Interpolate's scrub over t."""
    pipe = GANPipeline.from_pretrained(runs / "checkpoints" / "b-cgan-tiny")
    shape = (8, 8, 1)
    if edition == "gradio":
        page.get_by_role("tab", name="Classes (cGAN)").click()
    else:
        page.goto(url + "classes", timeout=60_000)
    frame = widget_frame(page)
    assert frame.evaluate("document.querySelector('#latent-widget').dataset.mode") == "classes"
    every, _ = latent_space.one_z_every_class(pipe, 0, rows=2)
    assert_close(tiles(frame, 0, shape), every.images)
    step(frame, "class", 1)
    assert_close(tiles(frame, 1, shape), latent_space.one_class_grid(pipe, 1, 0, 16).images)

    if edition == "gradio":  # the app-wide model: pick the cGAN for Interpolate
        page.get_by_role("tab", name="Interpolate").click()
        page.locator("#checkpoint input").click()
        page.get_by_role("option", name="b-cgan-tiny", exact=False).first.click()
        frame = page.main_frame
        page.wait_for_function(
            "() => { const w = document.querySelector('#latent-widget');"
            " return w && w.dataset.mode === 'interpolate' && w.latentWidget.config &&"
            " w.latentWidget.config.model.conditional && +w.dataset.frames >= 1; }",
            timeout=60_000,
        )
    else:
        page.goto(url + "interpolate", timeout=60_000)
        frame = widget_frame(page)
        assert frame.evaluate("document.querySelector('#latent-widget').dataset.mode") == (
            "interpolate"
        )
        pipe = GANPipeline.from_pretrained(runs / "checkpoints" / "a-dcgan-tiny")
    step(frame, "t", 0.3)
    a, b = pipe.latents(0, 1)[0], pipe.latents(1, 1)[0]
    label = 0 if pipe.conditional else None
    for index, path in enumerate([latent_space.lerp(a, b, 0.3), latent_space.slerp(a, b, 0.3)]):
        expected = pipe(latents=path[None], labels=label).images
        assert_close(tiles(frame, index, shape), expected)


def test_gradio_widget_runs_in_the_browser(browser, gradio_url: str, runs: Path) -> None:
    page, errors = open_page(browser, gradio_url)
    check_generate(page, runs)
    check_cgan(page, runs, gradio_url, "gradio")
    assert page.locator("#generate-image").is_hidden()  # the server path stays out of sight
    assert not errors
    page.close()


def test_streamlit_widget_runs_in_the_browser(browser, streamlit_url: str, runs: Path) -> None:
    page, errors = open_page(browser, streamlit_url)
    check_generate(page, runs)
    check_cgan(page, runs, streamlit_url, "streamlit")
    assert not errors
    page.close()


def test_gradio_without_webassembly_falls_back_to_the_server(browser, gradio_url: str) -> None:
    page, _ = open_page(browser, gradio_url, wasm=False)
    page.wait_for_selector("#latent-widget .lw-note", timeout=60_000)
    note = page.locator("#latent-widget .lw-note").inner_text()
    assert note.startswith("Pictures come from the server:") and "WebAssembly" in note
    image = page.locator("#generate-image img")
    image.wait_for(timeout=60_000)  # the server path, shown and drawn
    assert image.is_visible()
    page.close()


def test_streamlit_without_webassembly_falls_back_to_the_server(
    browser, streamlit_url: str
) -> None:
    page, _ = open_page(browser, streamlit_url, wasm=False, only_in_component=True)
    main_image = '[data-testid="stMain"] [data-testid="stImage"] img'
    page.wait_for_selector(main_image, timeout=60_000)  # the server-drawn grid
    assert "Pictures come from the server" in page.locator('[data-testid="stMain"]').inner_text()
    page.close()


@pytest.mark.parametrize("edition", ["gradio", "streamlit"])
def test_a_links_slider_values_and_the_presenter_view(
    browser, runs: Path, edition: str, request: pytest.FixtureRequest
) -> None:
    """``?psi=0.5&grid=2&pc1=9`` opens the widget at those values (pc1 clamped to 4); the
    presenter's view redraws the same pixels at twice the scale."""
    url = request.getfixturevalue(f"{edition}_url")
    page, errors = open_page(browser, url + "?psi=0.5&grid=2&pc1=9")
    frame = widget_frame(page)
    pipe = GANPipeline.from_pretrained(runs / "checkpoints" / "a-dcgan-tiny")
    z = latent_space.build_latents(pipe, 0, 4, 0.5, [], [4.0, 0, 0, 0, 0])
    expected = pipe(latents=z).images
    assert_close(tiles(frame, 0, (8, 8, 1)), expected)
    query = frame.evaluate("() => LatentWidget.linkQuery()")  # what "Copy link" adds
    assert {"psi=0.5", "grid=2", "pc1=4"} <= set(query.split("&"))
    scale = "() => document.querySelector('#latent-widget').latentWidget.layouts[0].scale"
    before = frame.evaluate(scale)
    page.evaluate("() => document.body.classList.add('presenter')")
    frame.wait_for_function(f"() => ({scale[6:]}) === {2 * before}", timeout=30_000)
    assert_close(tiles(frame, 0, (8, 8, 1)), expected)
    assert not errors
    page.close()
