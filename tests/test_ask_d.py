"""Ask D: a user's picture brought to the model's input and scored by D (explorer.ask_d)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from explorer import ask_d, checkpoints
from trainers.images import ImageInputError
from trainers.pipeline import GANPipeline

PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.py


def ink_on_paper(height: int = 100, width: int = 60) -> np.ndarray:
    """A dark vertical stroke on white paper: uint8 (H, W, 3)."""
    picture = np.full((height, width, 3), 250, dtype=np.uint8)
    picture[20:80, width // 2 - 10 : width // 2 + 10] = 10
    return picture


def sketch(stroke: int = 255) -> dict:
    """What gr.Sketchpad hands over: RGBA layers over a transparent canvas."""
    composite = np.zeros((280, 280, 4), dtype=np.uint8)
    composite[60:220, 120:160] = (stroke, stroke, stroke, 255)
    return {"background": np.zeros_like(composite), "layers": [composite], "composite": composite}


def test_pictures_are_brought_to_the_models_size_and_channels():
    grey, inverted = ask_d.prepare_picture(ink_on_paper(), (1, 8, 8))
    assert grey.shape == (8, 8, 1) and grey.dtype == np.uint8
    assert inverted and grey[4, 4, 0] > 200 and grey[0, 0, 0] < 50  # light stroke on dark
    kept, inverted = ask_d.prepare_picture(ink_on_paper(), (1, 8, 8), invert=False)
    assert not inverted and kept[0, 0, 0] > 200
    colour, inverted = ask_d.prepare_picture(ink_on_paper(), (3, 32, 32))
    assert colour.shape == (32, 32, 3) and not inverted  # colour models see it as it is
    for stroke in (255, 0):  # white or black ink on a transparent canvas: the same picture
        drawn, _ = ask_d.prepare_picture(sketch(stroke), (1, 28, 28))
        assert drawn.shape == (28, 28, 1) and drawn[14, 14, 0] > 200 and drawn[1, 1, 0] < 50


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"%PDF-1.4 this is not an image", "not an image"),
        (None, "Draw something or upload a picture first"),
        ({"background": None, "layers": [], "composite": None}, "Draw something"),
        ({"composite": np.zeros((280, 280, 4), np.uint8)}, "drawing is empty"),
        (np.zeros((3, 500, 2), np.uint8), "too long and thin|should be an"),
    ],
)
def test_a_non_image_gives_a_clear_error(value, message):
    with pytest.raises(ImageInputError, match=message):
        ask_d.prepare_picture(value, (1, 8, 8))


def test_a_text_file_is_not_an_image(tmp_path):
    notes = tmp_path / "notes.png"
    notes.write_text("hello")
    with pytest.raises(ValueError, match="not an image"):
        ask_d.prepare_picture(str(notes), (1, 8, 8))


def test_unconditional_d_scores_the_picture_beside_gs_samples(trained_run):
    pipe = GANPipeline.from_pretrained(trained_run("dcgan"))
    verdict = ask_d.ask(pipe, ink_on_paper(), n=5, seed=1)
    assert verdict.image.shape == (8, 8, 1) and 0 < verdict.score < 1
    assert verdict.label is None and verdict.class_scores is None
    assert verdict.fake_images.shape == (5, 8, 8, 1) and verdict.fake_scores.shape == (5,)
    assert np.array_equal(verdict.fake_images, pipe(n=5, seed=1).images)  # the one sampler
    assert verdict.real_images is None and "not on disk" in verdict.real_note  # synthetic data
    assert verdict.score == pytest.approx(float(pipe.score(verdict.image)[0]))
    picture = ask_d.verdict_picture(verdict)
    assert picture.ndim == 3 and picture.shape[2] == 3 and picture.dtype == np.uint8


def test_a_cgan_gives_one_score_per_class(trained_run):
    pipe = GANPipeline.from_pretrained(trained_run("cgan"))
    verdict = ask_d.ask(pipe, ink_on_paper(), n=4)
    assert verdict.class_scores.shape == (pipe.num_classes,) == (2,)
    assert verdict.label == int(verdict.class_scores.argmax())
    assert verdict.score == pytest.approx(float(verdict.class_scores.max()))
    as_one = ask_d.ask(pipe, ink_on_paper(), label=1, n=4)
    assert as_one.label == 1 and as_one.score == pytest.approx(float(verdict.class_scores[1]))
    image = verdict.image
    for k in range(2):
        assert verdict.class_scores[k] == pytest.approx(float(pipe.score(image, labels=k)[0]))
    with pytest.raises(ValueError, match="out of range"):
        ask_d.ask(pipe, ink_on_paper(), label=5)


def test_on_ask_handler(trained_run):
    catalog = checkpoints.discover([trained_run("cgan")], include_default=False)
    key = catalog.keys()[0]
    picture, per_class, text = ask_d.on_ask(
        key, sketch(), None, "class 1", "auto", 4, 0, catalog=catalog
    )
    assert picture.ndim == 3 and set(per_class) == {"class 0", "class 1"}
    assert "D's score of your picture" in text and "as a **class 1**" in text
    picture, per_class, text = ask_d.on_ask(key, None, b"garbage", catalog=catalog)
    assert picture is None and per_class is None and text.startswith("⚠️")
    *_, text = ask_d.on_ask("nope", sketch(), None, catalog=catalog)
    assert text.startswith("⚠️") and "no checkpoint named" in text


@pytest.mark.shared_data
@pytest.mark.skipif(not (SHARED_DATA / "MNIST" / "raw").is_dir(), reason="needs ../shared/data")
def test_shipped_cgan_with_real_mnist_images():
    pipe = GANPipeline.from_pretrained(PRETRAINED / "cgan-mnist")
    verdict = ask_d.ask(pipe, ink_on_paper(280, 280), n=6, data_dir=SHARED_DATA)
    assert verdict.class_scores.shape == (10,)
    assert verdict.real_images.shape == (6, 28, 28, 1) and verdict.real_scores.shape == (6,)
    assert verdict.real_note == ""
    text = ask_d.verdict_markdown(pipe, verdict)
    assert "Real images: mean" in text and "higher than" in text
