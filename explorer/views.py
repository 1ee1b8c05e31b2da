"""The Generate, Classes, Interpolate and Inside-the-generator pages, written once.

Each page declares what a visitor can set as a dataclass of :func:`trainers.options.option`
fields (:mod:`explorer.params`: both editions build their controls from these specs) and has a
plain view function that turns a checkpoint and those values into what the page shows: pictures
as uint8 (H, W, 3) arrays, Markdown, a GIF's path. Every rule (the checks on values an API
caller may send, the latent assembly, the sentences under the pictures) lives here; the Gradio
edition (``explorer/gradio_ui/tabs/``) and the Streamlit edition (``explorer/streamlit_ui/``)
keep only their layout and wiring. Ask D's view is in :mod:`explorer.ask_d`.

Nothing here imports gradio or streamlit. A view raises ``ValueError`` (``CheckpointError``
and :class:`explorer.inputs.InputError` are ValueErrors) with one sentence for a bad value.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch import Tensor

from explorer import inputs, latents, page_check, widget
from explorer.params import page_specs
from explorer.widget import DEFAULT_GRID, MAX_GRID, MAX_ROWS, MAX_TRUNCATION, MIXED, N_DIMS, N_PCS
from explorer.widget import OFFSET_MAX as OFFSET
from trainers import activations, latent_space
from trainers.checkpoint import CheckpointError
from trainers.losses import FORMULAS, g_loss_report
from trainers.options import OptionSpec, option
from trainers.pipeline import GANPipeline, PipelineOutput

#: Blank pixels above a Gradio picture, where Gradio draws the image's label.
LABEL_MARGIN = 24
#: A seed needs no help text (a help icon would also be labelled "seed").
SEED_HELP = ""
PSI_HELP = "z → ψ·z: ψ < 1 keeps to the well-trained middle of the prior (cleaner, less varied)"
NEW_SEED = "New seed"
#: "New seed" draws a seed below this.
NEW_SEED_MAX = 1_000_000


def class_names(pipe: GANPipeline) -> list[str]:
    """The class names of a cGAN ("0", "1", ... when none were stored); [] for other models."""
    return list(pipe.class_names) if pipe.conditional else []


def loaded(catalog: Any, key: str | None) -> GANPipeline | None:
    """The checkpoint ``key`` of ``catalog``, or None when there is none or it does not load."""
    try:
        return catalog.load(key) if key else None
    except (CheckpointError, ValueError):
        return None


def names_of(catalog: Any, key: str | None) -> list[str]:
    """The class names of the checkpoint ``key`` of ``catalog`` ([] when it does not load)."""
    pipe = loaded(catalog, key)
    return class_names(pipe) if pipe else []


def checked(spec: OptionSpec, value: Any, what: str, default: Any = None) -> Any:
    """``value`` within ``spec``'s bounds (:func:`explorer.page_check.checked`: one sentence
    when it is not); for a tuple field, one item of it, ``default`` when missing."""
    if spec.type is tuple:
        spec = dataclasses.replace(spec, type=spec.item_type, default=default)
    return page_check.checked(spec, value, what)


def shown(
    view: Callable[..., Any], catalog: Any, key: str | None, *args: Any, blanks: int = 1, **kw: Any
) -> tuple[Any, ...]:
    """``view(catalog.load(key), *args)``, or ``blanks`` Nones and a "⚠️" line saying what is
    wrong (what the Gradio endpoints answer)."""
    try:
        return tuple(view(catalog.load(key), *args, **kw))
    except (CheckpointError, ValueError) as error:
        return (*[None] * blanks, f"⚠️ {error}")


# --- Generate -------------------------------------------------------------------------------------

GENERATE_ABOUT_TITLE = "What am I looking at? The GAN game, D(x), D(G(z)) and the G loss"
GENERATE_ABOUT = f"""
**The game.** The generator G turns noise z ~ N(0, I) into an image; the discriminator D
outputs D(x), its probability that x is a *real* training image. Goodfellow et al. (2014)
set them a minimax game, min over G and max over D of

`V(D, G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))]`

D maximises V, i.e. minimises `{FORMULAS["minimax"]["d"]}`.

**D(x) and D(G(z)).** D(x) near 1: "this looks real"; D(G(z)) near 0: "this is a fake".
The bar and number under each sample are D(G(z)) = sigmoid(D's logit) for that sample.
At the ideal end of the game G's samples look like the data and D can only guess: ½.

**Why the non-saturating G loss.** The minimax G loss
`{FORMULAS["minimax"]["g"]}` is flat exactly when G most needs help: early on D rejects
the fakes (D(G(z)) ≈ 0) and the gradient per sample, sigmoid(logit), is ≈ 0. The
non-saturating loss `{FORMULAS["non-saturating"]["g"]}` has the same fixed point but a
gradient of 1 − sigmoid(logit) ≈ 1 there. The numbers beside the grid compare both on
the samples you are looking at, computed by the same `trainers.losses.g_loss` used in training.

**The sliders.** *Truncation ψ* multiplies z by ψ: ψ < 1 keeps to the well-trained
middle of the prior (cleaner, less varied). *Raw dimensions* add to one coordinate of z;
single coordinates rarely mean anything on their own. *Principal directions* (GANSpace,
Härkönen et al. 2020) are the main axes of variation of G's first layer over 1,000 random
z, carried back to z-space; they tend to change one visible property at a time.
"""
GENERATE_PICTURE = "G(z): D(G(z)) under each sample (bar: 0 = fake … 1 = real)"
DIMS_TITLE = "Raw latent dimensions: pick a coordinate of z, slide it"
PCS_TITLE = "Principal directions (GANSpace): unit steps along the main axes"
RESET = "Reset sliders"


@dataclass(frozen=True)
class GenerateParams:
    """The Generate page's settings: ``dims``/``offsets`` are the raw-dimension sliders (one
    pair each), ``pcs`` the principal-direction amounts."""

    seed: int = option(0, SEED_HELP, minimum=0, step=1, ui_label="seed", widget="integer")
    grid: int = option(
        DEFAULT_GRID,
        "the grid has n × n samples",
        minimum=1,
        maximum=MAX_GRID,
        step=1,
        ui_label="grid side n (n × n samples)",
    )
    truncation: float = option(
        1.0,
        PSI_HELP,
        minimum=0.0,
        maximum=MAX_TRUNCATION,
        step=0.05,
        ui_label="truncation ψ (z → ψ·z; 1 = off)",
    )
    class_name: str = option(
        MIXED, "the class a cGAN is asked for", ui_label="class (cGAN)", widget="choice"
    )
    dims: tuple[int, ...] = option(
        tuple(range(N_DIMS)),
        "a coordinate of z; one alone rarely means anything",
        minimum=0,
        step=1,
        ui_label="dimension",
        widget="integer",
    )
    offsets: tuple[float, ...] = option(
        (0.0,) * N_DIMS,
        "added to that coordinate of every sample's z",
        minimum=-OFFSET,
        maximum=OFFSET,
        step=0.1,
        ui_label="add to z[dimension]",
        widget="slider",
    )
    pcs: tuple[float, ...] = option(
        (0.0,) * N_PCS,
        "unit steps along a main axis of variation of G's first layer",
        minimum=-OFFSET,
        maximum=OFFSET,
        step=0.1,
        ui_label="PC",
        widget="slider",
    )

    @classmethod
    def from_values(cls, seed: Any, grid: Any, truncation: Any, class_name: Any, values: Sequence):
        """From the widgets' flat order (dimension, offset pairs, then the PC amounts), as the
        ``/generate`` API sends them; missing values take their defaults."""
        start = cls()
        flat = [v for pair in zip(start.dims, start.offsets, strict=True) for v in pair]
        values = [*values, *[*flat, *start.pcs][len(values) :]]
        pairs, pcs = values[: 2 * N_DIMS], values[2 * N_DIMS : 2 * N_DIMS + N_PCS]
        return cls(
            seed, grid, truncation, class_name, tuple(pairs[::2]), tuple(pairs[1::2]), tuple(pcs)
        )

    def values(self) -> tuple[Any, ...]:
        """The settings in the widgets' flat order (the reverse of :meth:`from_values`)."""
        pairs = [v for pair in zip(self.dims, self.offsets, strict=True) for v in pair]
        return (self.seed, self.grid, self.truncation, self.class_name, *pairs, *self.pcs)


GENERATE = page_specs(GenerateParams)


def dim_label(latent_dim: int) -> str:
    """A raw-dimension box's label, with the model's range: "dimension (0–99)"."""
    return f"{GENERATE['dims'].label} (0–{latent_dim - 1})"


def offset_label(i: int) -> str:
    """The label of the ``i``-th raw dimension's slider: "add to z[dimension] #1"."""
    return f"{GENERATE['offsets'].label} #{i + 1}"


@dataclass(frozen=True)
class GenerateModel:
    """What the Generate controls show for one model: the raw-dimension boxes' last value and
    label, the class choices (``MIXED`` first) and the principal-direction sliders' labels."""

    last_dim: int
    dim_label: str
    choices: list[str]
    pc_labels: list[str]

    @property
    def conditional(self) -> bool:
        """Whether there are classes to choose (the class box is shown)."""
        return len(self.choices) > 1


def generate_model(pipe: GANPipeline | None, explained: bool = True) -> GenerateModel:
    """The controls for ``pipe`` (a 100-dimensional unconditional model when None); with
    ``explained`` the PC labels carry each direction's share of the variance."""
    latent_dim = pipe.latent_dim if pipe else 100
    shares = None
    if pipe and explained:
        shares = latent_space.principal_directions(pipe, k=N_PCS).explained
    return GenerateModel(
        latent_dim - 1,
        dim_label(latent_dim),
        [MIXED, *(class_names(pipe) if pipe else [])],
        [widget.pc_label(i, None if shares is None else float(shares[i])) for i in range(N_PCS)],
    )


def fitted(pipe: GANPipeline, p: GenerateParams) -> GenerateParams:
    """``p`` fitted to ``pipe`` (settings kept from another model): a class it does not have
    becomes ``MIXED``, a dimension past its last one the last."""
    name = p.class_name if p.class_name in class_names(pipe) else MIXED
    dims = tuple(min(int(d), pipe.latent_dim - 1) for d in p.dims)
    return dataclasses.replace(p, class_name=name, dims=dims)


def grid_side(p: GenerateParams) -> int:
    """The grid side n of the settings (n × n samples), checked."""
    return checked(GENERATE["grid"], p.grid, "The grid side")


def class_index(pipe: GANPipeline, class_name: str | None) -> int | None:
    """The label index of a class name, or None for "every class in turn"/unconditional."""
    if not pipe.conditional or not class_name or class_name == MIXED:
        return None
    names = class_names(pipe)
    if class_name not in names:
        raise ValueError(f"{pipe.name} has no class {class_name!r}; classes: {', '.join(names)}")
    return names.index(class_name)


def generate_latents(
    pipe: GANPipeline, p: GenerateParams
) -> tuple[Tensor, Tensor | None, list[tuple[int, float]]]:
    """The grid's latents (n², d), labels (n²,) or None and dimension edits, every value
    checked first (the API reaches this too: NaN, infinity, a 10**6 grid are refused)."""
    last = pipe.latent_dim - 1
    dims = [inputs.whole(d, "A latent dimension", 0, last, 0) for d in p.dims]
    offsets = [checked(GENERATE["offsets"], v, "A dimension's offset", 0.0) for v in p.offsets]
    pcs = [checked(GENERATE["pcs"], v, "A principal direction's amount", 0.0) for v in p.pcs]
    n = grid_side(p) ** 2
    psi = checked(GENERATE["truncation"], p.truncation, "Truncation ψ")
    edits = list(zip(dims, offsets, strict=True))
    z = latent_space.build_latents(pipe, inputs.seed(p.seed), n, psi, edits, pcs)
    return z, pipe.class_labels(n, class_index(pipe, p.class_name)), edits


def generate_samples(
    pipe: GANPipeline, p: GenerateParams
) -> tuple[PipelineOutput, list[tuple[int, float]], float]:
    """(pipeline output, dimension edits, seconds). With the sliders at 0 this is
    ``gan-train sample CKPT --n grid² --seed S [--label L] --truncation ψ``'s samples."""
    start = time.perf_counter()
    z, labels, edits = generate_latents(pipe, p)
    return pipe(latents=z, labels=labels), edits, time.perf_counter() - start


def generate_batch(
    pipe: GANPipeline,
    seed: Any = 0,
    grid: Any = DEFAULT_GRID,
    truncation: Any = 1.0,
    class_name: Any = MIXED,
    values: Sequence = (),
) -> tuple[PipelineOutput, list[tuple[int, float]], float]:
    """:func:`generate_samples` for the widgets' flat values (see ``GenerateParams.from_values``)."""
    params = GenerateParams.from_values(seed, grid, truncation, class_name, values)
    return generate_samples(pipe, params)


def g_formula(loss: str) -> str:
    """G's loss formula from ``trainers.losses.FORMULAS``, without its comment."""
    return FORMULAS[loss]["g"].split("   (")[0].strip()


def describe_batch(
    pipe: GANPipeline,
    out: PipelineOutput,
    edits: list[tuple[int, float]],
    seed: int,
    truncation: float,
    seconds: float = 0.0,
) -> str:
    """The Markdown beside the grid: D's verdict, both G losses on these fakes, z facts."""
    n, d = len(out.images), pipe.latent_dim
    lines = [
        f"**{n} samples** from `{pipe.name}` · seed {seed} · ψ {truncation:g} · "
        f"model work {seconds * 1000:.0f} ms"
    ]
    if out.scores is not None:
        s = out.scores
        verdict = "mostly real" if s.mean() > 0.6 else "mostly fake" if s.mean() < 0.4 else "unsure"
        lines.append(
            f"**D(G(z))** mean {s.mean():.2f} (min {s.min():.2f}, max {s.max():.2f}): D thinks "
            f"these are {verdict}; ½ is the end of the game, where D can only guess."
        )
        report = g_loss_report(out.logits)
        mm, ns = report["minimax"], report["non-saturating"]
        lines.append(
            "| G loss on these fakes | value | push per sample, mean abs(dℓ/dlogit) |\n|---|---|---|\n"
            f"| minimax `{g_formula('minimax')}` | {mm['loss']:.3f} | {mm['grad']:.3f} |\n"
            f"| non-saturating `{g_formula('non-saturating')}` | {ns['loss']:.3f} | {ns['grad']:.3f} |"
        )
    else:
        lines.append("This checkpoint has no discriminator, so there are no D scores.")
    lines.append(
        f"Sample 0: ‖z‖ = {float(out.latents[0].norm()):.2f} (a typical N(0, I) latent in {d} "
        f"dimensions has ‖z‖ ≈ √{d} = {d**0.5:.1f})."
    )
    base = pipe.latents(seed, 1, truncation)[0]
    for dim, offset in edits:
        if offset:
            k = min(max(dim, 0), d - 1)
            lines.append(
                f"Dimension {k}: sample 0 has z[{k}] = {float(base[k]):+.2f}, moved to "
                f"{float(base[k]) + offset:+.2f}."
            )
    return "\n\n".join(lines)


def generate_view(
    pipe: GANPipeline, p: GenerateParams, top_margin: int = 0
) -> tuple[np.ndarray, str]:
    """The Generate page drawn on the server: (captioned grid with D's score under each
    sample, the Markdown beside it)."""
    out, edits, seconds = generate_samples(pipe, p)
    side = grid_side(p)
    scores = out.scores
    picture = latents.captioned_grid(
        out.images, side, latents.score_captions(scores), scores, top_margin=top_margin
    )
    text = describe_batch(pipe, out, edits, inputs.seed(p.seed), float(p.truncation), seconds)
    return picture, text


# --- Classes --------------------------------------------------------------------------------------

CLASSES_ABOUT = """
**Conditional GAN** (Mirza & Osindero 2014). Both players get the class label y: G makes
G(z, y) and D judges the *pair*, D(x, y) = "is x a real image **of class y**?". So D can
reject a perfect "7" that was asked to be a "3", and G must learn to obey the label.

In *one z, every class* only the label changes along a row: whatever stays the same
(thickness, slant, size, brightness) is what z encodes — "style", separated from "content".
The bar and number under each sample are D(G(z, y), y) for the label it was asked for.
"""
NO_CGAN = (
    "⚠️ No conditional GAN (cgan) checkpoint was found. Train one with "
    "`gan-train cgan --dataset fashion-mnist --out runs/cgan-fashion-mnist` and start the "
    "explorer with `--checkpoint-dir runs/`."
)
EVERY_CLASS_PICTURE = "One z, every class (rows: latents; columns: labels)"
ONE_CLASS_PICTURE = "One class, many z"


@dataclass(frozen=True)
class ClassesParams:
    """The Classes page's settings."""

    seed: int = option(0, SEED_HELP, minimum=0, step=1, ui_label="seed", widget="integer")
    class_name: str = option(
        "", "the class of the one-class grid", ui_label="class", widget="choice"
    )
    rows: int = option(
        2,
        "latents drawn in every class, one row each",
        minimum=1,
        maximum=MAX_ROWS,
        step=1,
        ui_label="rows (latents) in the every-class grid",
    )
    side: int = option(
        4,
        "the one-class grid has n × n samples",
        minimum=1,
        maximum=6,
        step=1,
        ui_label="one-class grid side (n × n)",
    )
    truncation: float = option(
        1.0, PSI_HELP, minimum=0.0, maximum=MAX_TRUNCATION, step=0.05, ui_label="truncation ψ"
    )


CLASSES = page_specs(ClassesParams)


def classes_view(
    pipe: GANPipeline, p: ClassesParams, top_margin: int = 0
) -> tuple[np.ndarray, np.ndarray, str]:
    """(one z in every class, a grid of one class, the Markdown under them); the first class
    when ``p.class_name`` names none."""
    names = class_names(pipe)
    if not names:
        raise ValueError(f"{pipe.name} is not a conditional GAN: it has no classes")
    index = names.index(p.class_name) if p.class_name in names else 0
    return latents.class_pictures(
        pipe,
        index,
        inputs.seed(p.seed),
        checked(CLASSES["rows"], p.rows, "The number of rows"),
        checked(CLASSES["side"], p.side, "The grid side"),
        checked(CLASSES["truncation"], p.truncation, "Truncation ψ"),
        top_margin=top_margin,
    )


# --- Interpolate ----------------------------------------------------------------------------------

SEEDS = "two seeds"
BETWEEN_CLASSES = "two classes (cGAN, same z)"
#: Frames of a filmstrip and its GIF at most (``VisitorLimits.interpolate_frames``).
MAX_FRAMES = 24
INTERPOLATE_ABOUT_TITLE = "Why slerp? (the soap-bubble effect)"
INTERPOLATE_ABOUT = """
**lerp** walks the straight line `(1 − t)·a + t·b`. **slerp** walks the great circle
`sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b` (Ω = angle between a and b).

Why bother? A latent z ~ N(0, I) in d dimensions almost always has length close to √d
(the "soap bubble": nearly all the probability sits in a thin shell). Halfway along the
straight line between two such vectors the length drops to about √(d/2), a region G was
rarely trained on, so lerp's middle frames can look washed out or odd. slerp keeps the
length, as the ‖v‖ under each frame shows (White 2016, "Sampling Generative Networks").
"""
FILMSTRIP = "Filmstrip: lerp (top) and slerp (bottom); ‖v‖ under each frame"
ANIMATION = "Animated: lerp | slerp"


@dataclass(frozen=True)
class InterpolateParams:
    """The Interpolate page's settings (seed A is the z of a walk between two classes)."""

    mode: str = option(
        SEEDS,
        "classes: cGAN only",
        choices=(SEEDS, BETWEEN_CLASSES),
        ui_label="between",
        widget="radio",
    )
    seed_a: int = option(
        0, SEED_HELP, minimum=0, step=1, ui_label="seed A (the z)", widget="integer"
    )
    seed_b: int = option(1, SEED_HELP, minimum=0, step=1, ui_label="seed B", widget="integer")
    class_a: str = option(
        "", "where the walk starts (cGAN)", ui_label="class A (cGAN)", widget="choice"
    )
    class_b: str = option("", "where the walk ends (cGAN)", ui_label="class B", widget="choice")
    frames: int = option(
        8, "frames of the walk", minimum=2, maximum=MAX_FRAMES, step=1, ui_label="frames N"
    )


INTERPOLATE = page_specs(InterpolateParams)


def interpolate_view(
    pipe: GANPipeline, p: InterpolateParams, gif: Path | None = None
) -> tuple[np.ndarray, Path, str]:
    """Between sample 0 of two seeds or, for a cGAN, two classes with z fixed: (the filmstrip
    of lerp over slerp, the path of the GIF (lerp | slerp per frame), the sentence under them).
    The GIF is written to ``gif`` (default: a fresh file in the temp folder)."""
    n = checked(INTERPOLATE["frames"], p.frames, "The number of frames")
    a, b = inputs.seed(p.seed_a, "Seed A"), inputs.seed(p.seed_b, "Seed B")
    names = class_names(pipe)
    if p.mode == BETWEEN_CLASSES and names:
        ia = names.index(p.class_a) if p.class_a in names else 0
        ib = names.index(p.class_b) if p.class_b in names else min(1, len(names) - 1)
        interp = latent_space.interpolate_classes(pipe, a, ia, ib, n)
        what = f"class **{names[ia]}** → **{names[ib]}**, same z (seed {a})"
    else:
        label = names.index(p.class_a) if p.class_a in names else (0 if names else None)
        interp = latent_space.interpolate_seeds(pipe, a, b, n, label)
        what = f"seed {a} → seed {b}"
        if p.mode == BETWEEN_CLASSES:
            what += " (this model has no classes, so between two seeds)"
        if names:
            what += f", class **{names[label]}**"
    norms = interp.norms
    text = (
        f"{n} frames, {what}. Length of the interpolated {interp.what} halfway: "
        f"lerp **{norms['lerp'][n // 2]:.2f}**, slerp **{norms['slerp'][n // 2]:.2f}** (ends: "
        f"{norms['lerp'][0]:.2f} and {norms['lerp'][-1]:.2f}; typical: {interp.reference_norm:.2f})."
    )
    if interp.scores["lerp"] is not None:
        text += (
            f" Mean D(G(z)) along the path: lerp {interp.scores['lerp'].mean():.2f}, "
            f"slerp {interp.scores['slerp'].mean():.2f}."
        )
    gif = latents.write_gif(latents.gif_frames(interp), gif)
    return latents.filmstrip(interp), gif, text


# --- Inside the generator -------------------------------------------------------------------------

INSIDE_ABOUT = """
**From latent to image.** Each picture below is one layer's output for the same z, in the
order the forward pass runs. A 4-D layer output is a stack of *channels* (feature maps);
each small tile is one channel, scaled to its own min..max (white = largest). The DCGAN's
first Linear layer makes one long vector that the model reshapes into a small stack of
channels; every `ConvTranspose2d(k=4, s=2, p=1)` then doubles height and width:
H_out = (H_in − 1)·s − 2p + k = 2·H_in. BatchNorm rescales each channel, ReLU zeroes the
negative values (black tiles are channels that are "off" for this z), and tanh squashes
the last layer into [−1, 1], the pixel range.
"""
INSIDE_PICTURE = "Layer outputs in forward order (left to right, then down)"


@dataclass(frozen=True)
class InsideParams:
    """The Inside page's own setting; the latents are the Generate page's."""

    sample: int = option(
        0,
        "the latent whose layers are shown",
        minimum=0,
        maximum=MAX_GRID**2 - 1,
        step=1,
        ui_label="which sample of the Generate grid (0 = top left)",
    )


INSIDE = page_specs(InsideParams)


def inside_view(pipe: GANPipeline, p: GenerateParams, sample: Any) -> tuple[np.ndarray, str]:
    """Every layer's output for one latent of the Generate grid: (one picture with every
    layer's channels, a Markdown table of the layers)."""
    z, labels, _ = generate_latents(pipe, p)
    index = min(checked(INSIDE["sample"], sample, "The sample"), z.shape[0] - 1)
    label = int(labels[index]) if labels is not None else None
    layers = latents.feature_maps(pipe, z[index], label)
    what = f"sample {index} of seed {inputs.seed(p.seed)}"
    if label is not None:
        what += f", class {class_names(pipe)[label]}"
    rows = "".join(
        f"\n| {i} | `{layer.name}` | {layer.kind} | {' × '.join(map(str, layer.shape))} | "
        f"{layer.params:,} | {layer.note} |"
        for i, layer in enumerate(layers)
    )
    table = (
        f"Layers of `{pipe.name}` for {what}:\n\n"
        "| # | layer | what | output shape (one sample) | weights | picture |\n|---|---|---|---|---|---|"
    )
    return latents.layers_picture(layers), table + rows


# --- the checkerboard on a trained model (the Transposed convolution page) ------------------------

CHECKERBOARD_TITLE = "On a trained model's output"
CHECKERBOARD_ABOUT = """
The same views for a real checkpoint of this app: its first sample for a seed, the
high-pass residual and the spectrum, with the artefact's period set to the generator's
total upsampling factor. Compare a ConvTranspose generator with a resize-conv one
(`--preset resize-conv`) where both exist. The DCGAN's `ConvTranspose2d(k=4, s=2)` has a
kernel divisible by its stride, so the overlaps are even; any checkerboard left is learned,
and training usually removes most of it.
"""
#: What each checkpoint's three pictures show.
CHECKERBOARD_PICTURES = ("image", "high-pass", "spectrum")
NO_CONVOLUTIONAL = (
    "No convolutional checkpoint (DCGAN or cGAN) was found, so there is no trained model to "
    "look at."
)


def model_checkerboard(
    catalog: Any, keys: Sequence[str | None], seed: Any, artifact_view: Callable[..., Any]
) -> list[Any]:
    """For each checkpoint: (image, high-pass, spectrum) pictures; then one Markdown summary."""
    pictures: list[Any] = []
    lines: list[str] = []
    for key in keys:
        try:
            pipe = catalog.load(key)
            period = activations.upsampling_period(pipe)
            if period is None:
                raise ValueError(f"{key} has no upsampling layers (an MLP): nothing to compare")
            factor, mode = period
            view = artifact_view(activations.first_image(pipe, inputs.seed(seed)), period=factor)
        except (CheckpointError, ValueError) as error:
            pictures += [None, None, None]
            lines.append(f"**{key}**: ⚠️ {error}")
            continue
        pictures += [view.image, view.high_pass, view.spectrum]
        lines.append(f"**{key}** ({mode}, total upsampling ×{factor}): {view.summary}")
    return [*pictures, "  \n".join(lines)]


def checkerboard_pair(catalog: Any) -> tuple[str | None, str | None]:
    """A ConvTranspose checkpoint and, if there is one, a resize-conv checkpoint."""
    conv = [e for e in catalog.entries if e.convolutional]
    if not conv:
        return None, None
    upsample = [(e.meta.get("config") or {}).get("upsample", "convtranspose") for e in conv]
    transposed = [e for e, u in zip(conv, upsample, strict=True) if u == "convtranspose"]
    resize = [e for e, u in zip(conv, upsample, strict=True) if u == "resize-conv"]
    b = resize[0] if resize else conv[min(1, len(conv) - 1)]
    return (transposed or conv)[0].key, b.key
