"""Tests for neural style transfer (trainers/style/) and the Stylise tab helpers.

Everything runs on tiny (32 px) images with the weight-free feature networks, so the whole file
takes seconds on a CPU and never touches the network.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from trainers import images, style
from trainers.cli import style as style_cli
from trainers.events import Finished, Samples, Step
from trainers.style import (
    StyleConfig,
    content_loss,
    gram_matrix,
    style_loss,
    stylise,
    stylise_result,
    total_variation_loss,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny images gain nothing from several threads, and on a busy shared CPU the threads of
    one matrix product wait for each other: one thread made this file ~10x faster there."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _image(seed: int, size: int = 32) -> np.ndarray:
    """A smooth random colour image (uint8, (size, size, 3))."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC))


def _tiny(**overrides) -> StyleConfig:
    settings = dict(size=32, steps=5, features="random", allow_download=False)
    settings.update(overrides)
    return StyleConfig(**settings)


# ---- the losses ---------------------------------------------------------------------------------


def test_gram_matrix_matches_hand_computation():
    # Two channels on a 2×2 grid: channel 0 = [1, 2, 3, 4], channel 1 = [0, 1, 0, 1].
    features = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, 1.0]]]])  # (1, 2, 2, 2)
    # G_ij = Σ_positions F_i F_j / (H·W):  G00 = (1+4+9+16)/4, G01 = (2+4)/4, G11 = (1+1)/4.
    expected = torch.tensor([[[30 / 4, 6 / 4], [6 / 4, 2 / 4]]])
    torch.testing.assert_close(gram_matrix(features), expected)


def test_gram_matrix_batch_and_symmetry():
    features = torch.randn(3, 5, 4, 6)
    gram = gram_matrix(features)
    assert gram.shape == (3, 5, 5)
    torch.testing.assert_close(gram, gram.transpose(1, 2))
    manual = features[1].reshape(5, -1) @ features[1].reshape(5, -1).T / 24
    torch.testing.assert_close(gram[1], manual)


def test_gram_matrix_of_bfloat16_features_is_float32_and_close():
    features = torch.rand(1, 8, 16, 16)
    gram = gram_matrix(features.bfloat16())
    assert gram.dtype == torch.float32
    torch.testing.assert_close(gram, gram_matrix(features), rtol=0.02, atol=0.02)


def test_total_variation_of_known_images():
    constant = torch.full((1, 3, 8, 8), 0.7)
    assert total_variation_loss(constant).item() == pytest.approx(0.0)
    # Vertical stripes 0,1,0,1,...: every horizontal neighbour differs by 1, vertical ones by 0.
    stripes = torch.zeros(1, 3, 8, 8)
    stripes[..., 1::2] = 1.0
    assert total_variation_loss(stripes).item() == pytest.approx(1.0)
    # A horizontal ramp 0, 1/7, ..., 1 down the rows: mean squared step (1/7)² in y only.
    ramp = torch.linspace(0, 1, 8).view(1, 1, 8, 1).expand(1, 3, 8, 8)
    assert total_variation_loss(ramp).item() == pytest.approx((1 / 7) ** 2)


def test_content_and_style_loss_zero_only_for_identical_inputs():
    features = torch.randn(1, 4, 6, 6)
    assert content_loss(features, features.clone()).item() == 0.0
    assert content_loss(features + 0.1, features).item() > 0.0
    gram = gram_matrix(features)
    assert style_loss(gram, gram.clone()).item() == 0.0
    assert style_loss(gram * 1.1, gram).item() == pytest.approx(0.01, rel=1e-4)  # ‖0.1 A‖²/‖A‖²


# ---- the optimisation ---------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_five_steps_lower_the_total_loss(optimizer):
    events = []
    config = _tiny(optimizer=optimizer, init="noise", lr=0.05, precision="fp32")
    image = stylise(_image(0), _image(1), config, callback=events.append, preview_every=2)
    steps = [e for e in events if isinstance(e, Step)]
    assert [s.step for s in steps] == [1, 2, 3, 4, 5]
    assert set(steps[0].losses) == {"content", "style", "tv", "total"}
    assert steps[-1].losses["total"] < steps[0].losses["total"]
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    assert any(isinstance(e, Samples) for e in events)
    assert isinstance(events[-1], Finished) and events[-1].reason == "done"


def test_stop_event_ends_the_run_early():
    stop = threading.Event()
    events = []

    def callback(event):
        events.append(event)
        if isinstance(event, Step) and event.step == 2:
            stop.set()

    result = stylise_result(_image(0), _image(1), _tiny(steps=50), callback=callback, stop=stop)
    assert result.reason == "stopped" and result.steps == 2
    assert events[-1] == Finished(2, "stopped", f"features: {result.features_in_use}")


def test_preserve_color_keeps_the_content_chroma():
    content = _image(3)
    out = stylise(content, _image(4), _tiny(steps=2, preserve_color=True))
    cbcr_out = np.asarray(Image.fromarray(out).convert("YCbCr"))[..., 1:].astype(int)
    cbcr_in = np.asarray(Image.fromarray(content).convert("YCbCr"))[..., 1:].astype(int)
    assert np.abs(cbcr_out - cbcr_in).mean() < 2.0


def test_random_features_are_described_and_reproducible():
    assert "random" in style.describe_features("random", allow_download=False)
    a = stylise(_image(0), _image(1), _tiny(steps=3))
    b = stylise(_image(0), _image(1), _tiny(steps=3))
    np.testing.assert_array_equal(a, b)


# ---- loading real VGG19 weights -----------------------------------------------------------------


@pytest.fixture
def fake_vgg19(tmp_path, monkeypatch):
    """A torchvision-format VGG19 (features) state dict with random weights in a fake TORCH_HOME."""
    from torchvision.models.vgg import cfgs, make_layers

    torch.manual_seed(0)
    reference = make_layers(cfgs["E"]).eval()  # exactly torchvision's vgg19().features
    state = {f"features.{k}": v for k, v in reference.state_dict().items()}
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    path = tmp_path / "hub" / "checkpoints" / style.VGG19_FILENAME
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    return reference, path, state


def test_vgg19_state_dict_loads_and_matches_torchvision(fake_vgg19):
    reference, path, _ = fake_vgg19
    assert style.vgg19_cache_path() == path
    net = style.load_feature_net("vgg19", pooling="max", allow_download=False)
    assert "ImageNet" in net.description
    x = torch.rand(1, 3, 48, 40)
    normalised = (x - torch.tensor(style.IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(
        style.IMAGENET_STD
    ).view(1, 3, 1, 1)
    # torchvision indices: relu1_1 = 1, pool2 = 9, relu3_1 = 11, relu4_2 = 22, relu5_1 = 29.
    names = {"relu1_1": 1, "pool2": 9, "relu3_1": 11, "relu4_2": 22, "relu5_1": 29}
    with torch.no_grad():
        ours = net(x, list(names))
        for name, index in names.items():
            expected = reference[: index + 1](normalised)
            torch.testing.assert_close(ours[name], expected, rtol=1e-4, atol=1e-4)


def test_vgg19_from_safetensors_and_auto_prefers_it(fake_vgg19, tmp_path):
    from safetensors.torch import save_file

    _, _, state = fake_vgg19
    st_path = tmp_path / "vgg19.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(st_path))
    net = style.load_feature_net("vgg19", pooling="max", weights_path=str(st_path))
    assert str(st_path) in net.description
    assert "ImageNet" in style.describe_features("auto", allow_download=False)


def test_missing_vgg19_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no VGG19 ImageNet weights"):
        style.load_feature_net("vgg19", allow_download=False)
    assert "random" in style.describe_features("auto", allow_download=False)


def test_wrong_state_dict_is_refused():
    with pytest.raises(ValueError, match="lack"):
        style.vgg19_from_state_dict({"features.0.weight": torch.zeros(64, 3, 3, 3)})
    bad = {f"features.{i}.{p}": torch.zeros(1) for i in range(40) for p in ("weight", "bias")}
    with pytest.raises(ValueError, match="shape"):
        style.vgg19_from_state_dict(bad)


# ---- bad inputs ---------------------------------------------------------------------------------


def test_file_that_is_not_an_image(tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_text("this is not a picture")
    with pytest.raises(ValueError, match="not an image"):
        stylise(str(fake), _image(1), _tiny())
    with pytest.raises(ValueError, match="does not exist"):
        style.load_image(tmp_path / "missing.png")


def test_huge_image_is_refused(monkeypatch):
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ValueError, match="megapixels"):
        style.load_image(Image.new("RGB", (40, 40)))


def test_large_image_is_downscaled():
    out = stylise(np.zeros((300, 150, 3), np.uint8), _image(1), _tiny(steps=1))
    assert out.shape == (32, 16, 3)


@pytest.mark.parametrize(
    "bad",
    [
        dict(steps=0),
        dict(size=4),
        dict(style_weight=-1.0),
        dict(tv_weight=float("nan")),
        dict(init="zeros"),
        dict(optimizer="sgd"),
        dict(features="alexnet"),
        dict(style_layers={"relu1_1": -1.0}),
    ],
)
def test_bad_config_values(bad):
    with pytest.raises(ValueError, match="bad style config"):
        _tiny(**bad).validate()


def test_unknown_layer_is_a_clear_error():
    with pytest.raises(ValueError, match="relu9_9"):
        stylise(_image(0), _image(1), _tiny(content_layer="relu9_9"))


# ---- command line -------------------------------------------------------------------------------


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    style_cli.add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_writes_an_output_image(tmp_path, capsys):
    Image.fromarray(_image(0, 48)).save(tmp_path / "content.png")
    Image.fromarray(_image(1, 48)).save(tmp_path / "style.jpg")
    out = tmp_path / "out" / "result.png"
    argv = ["--content", str(tmp_path / "content.png"), "--style", str(tmp_path / "style.jpg")]
    argv += ["--out", str(out), "--steps", "3", "--size", "32", "--features", "random"]
    argv += ["--offline", "--preserve-color", "--tv-weight", "0.5"]
    assert style_cli.run_from_args(_parse(argv)) == 0
    with Image.open(out) as written:
        assert written.size == (32, 32) and written.mode == "RGB"
    assert "random" in capsys.readouterr().out


def test_cli_reports_bad_input(tmp_path, capsys):
    (tmp_path / "bad.png").write_bytes(b"\x00" * 10)
    argv = ["--content", str(tmp_path / "bad.png"), "--style", str(tmp_path / "bad.png")]
    argv += ["--out", str(tmp_path / "o.png"), "--steps", "1", "--size", "32", "--offline"]
    assert style_cli.run_from_args(_parse(argv)) == 2
    assert "not an image" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


# ---- explorer helpers ---------------------------------------------------------------------------


def test_explorer_examples_exist(tmp_path):
    from explorer import stylise as core

    files = core.example_files(tmp_path)
    assert len(files["content"]) == 3 and len(files["style"]) == len(core.STYLE_EXAMPLES)
    for path in files["content"] + files["style"]:
        with Image.open(path) as im:
            assert im.mode == "RGB" and max(im.size) <= 512
    # the paintings are in the package, each credited in assets/STYLE_CREDITS.md; they are
    # colourful pictures (unlike the grey textures they replaced), the brick wall is grey
    credits = (Path(__file__).resolve().parents[1] / "assets" / "STYLE_CREDITS.md").read_text()
    for name, file in core.PAINTINGS.items():
        assert f"`{file}`" in credits and "public domain" in credits
        picture = core.example_image(name).astype(float)
        assert picture.std(axis=2).mean() > 10, name  # channels differ: a colour picture
    assert core.example_image("brick").astype(float).std(axis=2).mean() < 1


def test_explorer_run_yields_previews_and_a_file(tmp_path):
    from explorer import stylise as core

    config = core.make_config(steps=4, size=32, features="random")
    config.allow_download = False
    updates = list(
        core.run_stylise(_image(0), _image(1), config, threading.Event(), 0.01, tmp_path)
    )
    preview, status, path = updates[-1]
    assert preview.shape == (32, 32, 3) and path is not None
    assert "done" in status and "random" in status
    assert all(p is None for _, _, p in updates[:-1])
    with pytest.raises(ValueError, match="both"):
        next(core.run_stylise(None, _image(1), config, threading.Event()))


def test_explorer_schedule_choice_reaches_the_config_and_says_where_the_steps_go():
    from explorer import stylise as core

    assert core.make_config(features="random").schedule == "coarse-to-fine"  # the pages' default
    assert core.make_config(schedule="single").schedule == "single"
    with pytest.raises(ValueError, match="schedule must be one of"):
        core.make_config(schedule="zigzag")
    fast = core.schedule_summary(200, 256, "coarse-to-fine")
    assert fast == "133 steps at 64 px → 50 at 128 px → 17 at 256 px"
    assert core.schedule_summary(200, 256, "single") == "200 steps at 256 px"


def test_a_second_stylise_start_waits_for_the_running_one_and_is_refused_after_the_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One style transfer per machine for both editions: a second Start waits as a queue would,
    and starts once the first ends; while it still runs after the wait, it is refused."""

    from explorer import stylise
    from explorer.jobs import JobBusyError, JobSlot

    class FakeJob:
        def __init__(self, number: int) -> None:
            self.id = str(number)
            self.done = threading.Event()
            self.stop_event = threading.Event()

        @property
        def is_alive(self) -> bool:
            return not self.done.is_set()

        def join(self, timeout: float | None = None) -> None:
            self.done.wait(timeout)

        def stop(self) -> None:
            self.done.set()

    started: list[FakeJob] = []

    def fake_start(*_args, **_kwargs) -> FakeJob:
        started.append(FakeJob(len(started)))
        return started[-1]

    monkeypatch.setattr(stylise, "SLOT", JobSlot("style transfer"))
    monkeypatch.setattr(stylise, "start_stylise", fake_start)
    first = stylise.start_one(None, None, None)
    with pytest.raises(JobBusyError, match="still running"):
        stylise.start_one(None, None, None, wait_s=0.05)
    assert len(started) == 1  # a refused start started nothing
    threading.Timer(0.1, first.done.set).start()
    second = stylise.start_one(None, None, None, wait_s=10)
    assert second is not first and stylise.SLOT.current() is second
