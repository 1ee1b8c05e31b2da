"""Ask D: what does a trained discriminator think of *your* picture?

Plain functions behind the "Ask D" tab (no gradio here). A drawing or an upload is brought to
the checkpoint's size and channels with the one image loader
(:func:`trainers.images.to_model_input`) and scored with :meth:`GANPipeline.score`, beside
D's scores of G's own samples and, when the data set is on disk, of real training images.
For a cGAN, D judges an (image, label) pair, so the picture is scored under every label.

Scores are sigmoid(D(x)): D's probability that x is real for the log-loss family
(minimax, non-saturating); for hinge/LSGAN/WGAN critics only a squashed score.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from explorer import inputs
from explorer.latents import captioned_grid, score_captions
from explorer.params import page_specs
from explorer.views import SEED_HELP, checked
from trainers.data import DEFAULT_DATA_DIR, DataUnavailableError, load_dataset
from trainers.images import ImageInputError, to_model_input
from trainers.options import option
from trainers.pipeline import GANPipeline

#: Where real images are looked for, after an explicit ``data_dir``.
SHARED_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class Verdict:
    """D's opinion of one picture, with G's samples and real images to compare.

    Attributes:
        image: uint8 (H, W, C), the picture exactly as D saw it.
        score: D's realness of it (a cGAN: under ``label``).
        label: the class it was judged under (cGAN: the asked one, or the most convincing), else None.
        class_scores: (K,) D's realness under every class label (cGAN), else None.
        inverted: the picture's brightness was flipped to match the data (light strokes on dark).
        fake_images / fake_scores: G's samples (n, H, W, C) and D's scores of them (n,).
        real_images / real_scores: real images of the data set and their scores, or None.
        real_note: why there are no real images (empty when there are).
    """

    image: np.ndarray
    score: float
    label: int | None
    class_scores: np.ndarray | None
    inverted: bool
    fake_images: np.ndarray
    fake_scores: np.ndarray
    real_images: np.ndarray | None
    real_scores: np.ndarray | None
    real_note: str


# --- the picture ------------------------------------------------------------------------------


def _flatten_alpha(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) uint8 -> (H, W, 3): transparent parts become the colour that contrasts with
    the strokes (white under dark strokes, black under light ones), as on paper or a slate."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32)
    ink = float((rgb.mean(axis=2, keepdims=True) * alpha).sum() / max(alpha.sum(), 1e-6))
    background = 255.0 if ink < 128 else 0.0
    return (rgb * alpha + background * (1 - alpha)).round().astype(np.uint8)


def picture_from_input(value: Any) -> Any:
    """The picture in a front end's value: a sketchpad's ``{"composite": ...}`` (or its layers),
    an upload (array, PIL image, path or bytes). Raises ImageInputError when there is none."""
    if isinstance(value, dict):
        picture = value.get("composite")
        if picture is None:
            picture = value.get("background")
        if picture is None:
            raise ImageInputError("Draw something or upload a picture first.")
        array = np.asarray(picture)
        if array.ndim == 3 and array.shape[2] == 4:
            if not array[..., 3].any():
                raise ImageInputError("The drawing is empty: draw something first.")
            array = _flatten_alpha(array)
        if array.ndim >= 2 and array.size and int(array.max()) == int(array.min()):
            raise ImageInputError("The drawing is empty: draw something first.")
        return array
    if value is None:
        raise ImageInputError("Draw something or upload a picture first.")
    if isinstance(value, np.ndarray) and value.ndim == 3 and value.shape[2] == 4:
        return _flatten_alpha(value)
    return value


def prepare_picture(
    value: Any, image_shape: tuple[int, int, int], invert: bool | None = None
) -> tuple[np.ndarray, bool]:
    """A drawing or upload as the model's input: (uint8 (H, W, C), whether it was inverted).

    ``invert`` None = automatic: a one-channel model (MNIST, Fashion-MNIST: light on dark) gets
    a picture whose border is light inverted, so dark ink on white paper becomes light on dark.
    Raises ImageInputError (a ValueError) for anything that is not a usable picture.
    """
    image = to_model_input(picture_from_input(value), image_shape)  # (H, W, C)
    if invert is None:
        border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
        invert = image_shape[0] == 1 and float(border.mean()) > 127
    return (255 - image if invert else image), bool(invert)


# --- scores -----------------------------------------------------------------------------------


def class_scores(pipe: GANPipeline, image: np.ndarray) -> np.ndarray:
    """D's realness of one uint8 (H, W, C) image under every class label: (K,) float32."""
    k = pipe.num_classes
    return pipe.score(np.repeat(image[None], k, axis=0), labels=np.arange(k))


def judge(
    pipe: GANPipeline, image: np.ndarray, label: int | None = None
) -> tuple[float, int | None, np.ndarray | None]:
    """(score, label judged under, per-class scores) for one uint8 (H, W, C) image.

    A cGAN is scored under every label; ``label`` None picks the most convincing one.
    """
    if not pipe.conditional:
        return float(pipe.score(image[None])[0]), None, None
    per_class = class_scores(pipe, image)
    chosen = int(per_class.argmax()) if label is None else int(label)
    if not 0 <= chosen < pipe.num_classes:
        raise ValueError(
            f"class {label} is out of range: {pipe.name} has {pipe.num_classes} classes"
        )
    return float(per_class[chosen]), chosen, per_class


def data_dirs(data_dir: str | Path | None = None) -> list[Path]:
    """Where to look for the data set: ``data_dir``, the trainers' default, ../shared/data."""
    candidates = [Path(data_dir)] if data_dir else []
    candidates += [DEFAULT_DATA_DIR, SHARED_DATA_DIR]
    return [c for i, c in enumerate(candidates) if c.is_dir() and c not in candidates[:i]]


@functools.lru_cache(maxsize=4)
def _test_split(dataset: str, root: str, image_size: int):
    return load_dataset(dataset, root, train=False, download=False, image_size=image_size)


def real_examples(
    pipe: GANPipeline, n: int = 8, seed: int = 0, data_dir: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray] | str:
    """``n`` real test images of the checkpoint's data set, uint8 (n, H, W, C), with their
    labels (n,); or a sentence saying why there are none (never downloads)."""
    dataset = str(pipe.meta.get("dataset", ""))
    c, h, w = pipe.image_shape
    data = None
    for root in data_dirs(data_dir):
        try:
            data = _test_split(dataset, str(root), h)
            break
        except (DataUnavailableError, ValueError, OSError):
            continue
    if data is None:
        return f"no real images: the data set {dataset!r} is not on disk here"
    if tuple(data.image_shape) != (c, h, w):
        return (
            f"no real images: {dataset} has images {data.image_shape}, the model {pipe.image_shape}"
        )
    rng = np.random.default_rng(int(seed))
    index = rng.choice(len(data), size=min(int(n), len(data)), replace=False)
    images = data.images[index].permute(0, 2, 3, 1).numpy()  # (n, H, W, C) uint8
    return np.ascontiguousarray(images), data.labels[index].numpy()


def ask(
    pipe: GANPipeline,
    value: Any,
    label: int | None = None,
    n: int = 8,
    seed: int = 0,
    invert: bool | None = None,
    data_dir: str | Path | None = None,
    with_real: bool = True,
) -> Verdict:
    """Score a picture and, for comparison, ``n`` of G's samples (seed ``seed``) and ``n``
    real images. Raises ImageInputError / ValueError with a message for the user."""
    if pipe.discriminator is None:
        raise ValueError(f"{pipe.name} was saved without its discriminator: there is no D to ask")
    image, inverted = prepare_picture(value, pipe.image_shape, invert)
    score, chosen, per_class = judge(pipe, image, label)
    fakes = pipe(n=n, seed=seed)
    real_images = real_scores = None
    note = "real images not asked for"
    if with_real:
        real = real_examples(pipe, n, seed, data_dir)
        if isinstance(real, str):
            note = real
        else:
            real_images, real_labels = real
            real_scores = pipe.score(real_images, real_labels if pipe.conditional else None)
            note = ""
    return Verdict(
        image,
        score,
        chosen,
        per_class,
        inverted,
        fakes.images,
        fakes.scores,
        real_images,
        real_scores,
        note,
    )


# --- what the tab shows -----------------------------------------------------------------------


def verdict_picture(verdict: Verdict, top_margin: int = 24) -> np.ndarray:
    """Your picture (left, large) beside a grid of G's samples over real images (when there
    are), each with D's bar and score. -> uint8 (H, W, 3)."""
    h = verdict.image.shape[0]
    yours = captioned_grid(
        verdict.image[None],
        1,
        score_captions(np.array([verdict.score])),
        np.array([verdict.score]),
        column_titles=["yours"],
        scale=max(1, round(160 / h)),
        top_margin=top_margin,
    )
    rows, scores, titles = [verdict.fake_images], [verdict.fake_scores], ["G(z)"]
    if verdict.real_images is not None:
        rows.append(verdict.real_images)
        scores.append(verdict.real_scores)
        titles.append("real")
    n = max(len(r) for r in rows)
    flat = np.concatenate(rows)
    all_scores = np.concatenate(scores)
    others = captioned_grid(
        flat, n, score_captions(all_scores), all_scores, row_titles=titles, top_margin=top_margin
    )
    height = max(yours.shape[0], others.shape[0])
    canvas = np.full((height, yours.shape[1] + others.shape[1], 3), 255, dtype=np.uint8)
    canvas[: yours.shape[0], : yours.shape[1]] = yours
    canvas[: others.shape[0], yours.shape[1] :] = others
    return canvas


def verdict_markdown(pipe: GANPipeline, verdict: Verdict) -> str:
    """A few lines: D's score of the picture against the others, and what it means."""
    lines = [f"**D's score of your picture: {verdict.score:.2f}**"]
    if verdict.label is not None:
        lines[0] += f" (as a **{pipe.class_names[verdict.label]}**)"
    fakes = verdict.fake_scores
    lines.append(
        f"G's samples: mean {fakes.mean():.2f} (min {fakes.min():.2f}, max {fakes.max():.2f})."
    )
    if verdict.real_scores is not None:
        real = verdict.real_scores
        lines.append(
            f"Real images: mean {real.mean():.2f} (min {real.min():.2f}, max {real.max():.2f})."
        )
        pool = np.concatenate([fakes, real])
        rank = float((pool < verdict.score).mean())
        lines.append(f"Your picture scores higher than {rank:.0%} of these {len(pool)} images.")
    else:
        lines.append(f"({verdict.real_note}.)")
    if verdict.class_scores is not None:
        best = int(verdict.class_scores.argmax())
        lines.append(
            f"Under every label (a cGAN's D judges the pair): most convincing as "
            f"**{pipe.class_names[best]}** ({verdict.class_scores[best]:.2f}), least as "
            f"**{pipe.class_names[int(verdict.class_scores.argmin())]}** "
            f"({verdict.class_scores.min():.2f})."
        )
    if verdict.inverted:
        lines.append(
            "Your picture was inverted (light on dark) to match the training images; "
            "choose *invert: no* to keep it as drawn."
        )
    return "\n\n".join(lines)


def class_score_dict(pipe: GANPipeline, verdict: Verdict) -> dict[str, float] | None:
    """{class name: D's realness under that label} for a cGAN, else None."""
    if verdict.class_scores is None:
        return None
    return {name: float(s) for name, s in zip(pipe.class_names, verdict.class_scores, strict=True)}


# --- the page --------------------------------------------------------------------------------

INVERT_CHOICES = {"auto": None, "yes": True, "no": False}
BEST = "the most convincing class"
ABOUT = """
**Ask D.** The discriminator was trained to output D(x) near 1 for real training images and near
0 for G's fakes. Upload any picture (or draw a digit or a shirt, where the page has a
sketchpad): it is brought to the model's size and channels and D gives its verdict, beside its
verdicts on G's own samples and, when the data set is on this machine, on real images. A D at
the end of training is often unsure about everything (scores near ½): that is the equilibrium
of the game. For a **cGAN** D judges the *pair* (image, label): the bars show how real your
picture looks *as each class*.
"""
PICTURE = "D's realness: your picture, G's samples, real images"
CLASS_SCORES = "D's score under every class label (cGAN)"
SKETCH = "draw (white on black, like MNIST)"
UPLOAD = "…or upload a picture (used instead of the drawing)"
UPLOAD_PROMPT = "Upload a picture (a digit on paper, a shirt, anything) to ask D."


@dataclass(frozen=True)
class AskDParams:
    """The Ask D page's settings (the picture itself is the page's drawing or upload)."""

    class_name: str = option(
        BEST,
        "the label D judges the pair with",
        ui_label="judge it as class (cGAN)",
        widget="choice",
    )
    invert: str = option(
        "auto",
        "auto: grey models see light strokes on dark, like MNIST",
        choices=tuple(INVERT_CHOICES),
        ui_label="invert brightness",
        widget="radio",
    )
    n: int = option(
        8,
        "how many of G's samples (and real images) to score beside it",
        minimum=2,
        maximum=16,
        step=1,
        ui_label="samples to compare",
    )
    seed: int = option(0, SEED_HELP, minimum=0, step=1, ui_label="seed", widget="integer")


SPECS = page_specs(AskDParams)


def ask_view(
    pipe: GANPipeline,
    value: Any,
    p: AskDParams,
    top_margin: int = 24,
    data_dir: str | Path | None = None,
) -> tuple[np.ndarray, dict[str, float] | None, str]:
    """The page for one picture: (comparison picture, per-class scores or None, Markdown).
    Raises ImageInputError / ValueError with a message for the user."""
    names = list(pipe.class_names)
    verdict = ask(
        pipe,
        value,
        names.index(p.class_name) if p.class_name in names else None,
        checked(SPECS["n"], p.n, "The number of samples"),
        inputs.seed(p.seed),
        INVERT_CHOICES.get(p.invert) if isinstance(p.invert, str) else None,
        data_dir,
    )
    return (
        verdict_picture(verdict, top_margin),
        class_score_dict(pipe, verdict),
        verdict_markdown(pipe, verdict),
    )


def on_ask(
    checkpoint: str | None,
    sketch: Any = None,
    upload: Any = None,
    class_name: str | None = None,
    invert: str = "auto",
    n: float = 8,
    seed: float = 0,
    *,
    catalog: Any = None,
    data_dir: str | Path | None = None,
) -> tuple[np.ndarray | None, dict[str, float] | None, str]:
    """The Gradio tab's handler: :func:`ask_view` of the upload when there is one, else the
    drawing. Errors come back as a "⚠️" line."""
    try:
        pipe = catalog.load(checkpoint)
        params = AskDParams(class_name, invert, n, seed)
        value = upload if upload is not None else sketch
        return ask_view(pipe, value, params, data_dir=data_dir)
    except ValueError as error:  # ImageInputError and CheckpointError are ValueErrors
        return None, None, f"⚠️ {error}"
