"""Plain functions behind the explorer's Generate, Classes, Interpolate and Inside tabs.

Nothing here imports gradio: every function takes tensors, numbers and a loaded checkpoint
(:class:`trainers.checkpoint.LoadedCheckpoint`) and returns tensors, numpy images or small
dataclasses, so each one can be tested and timed on its own.

Conventions
-----------
* ``z`` is a float32 tensor (B, latent_dim); one latent is (latent_dim,).
* Images are uint8 numpy arrays (B, H, W, C) (the trainers' ``to_uint8_images`` layout);
  pictures for the screen are (H, W, 3).
* Sample ``i`` of seed ``s`` is the same vector whatever the grid size: the latents of a
  seed are rows of one numpy ``default_rng(s)`` stream, which is filled row by row.
* The models are shared (read-only) between all users of the app. Hooks are added to them
  only while a per-model lock is held, and every forward pass takes that lock, so one user's
  hooks never see another user's tensors.

Principal directions (the "GANSpace" sliders)
---------------------------------------------
Härkönen et al. 2020 (GANSpace) find meaningful directions without labels: sample many z,
record an early layer's activations y, run PCA on y, then carry each principal component
back to z-space by linear regression. We do exactly that at the output of G's *first
nonlinearity* (for the DCGAN and cGAN: ``Linear -> BatchNorm -> ReLU``, i.e. the first
feature map before it is reshaped; for the MLP-GAN: the first hidden layer). Had we taken
the activations *before* the nonlinearity, y = W z would be linear in z and the directions
would simply be the top right-singular vectors of W; after the ReLU they also reflect which
units are switched on, which is what makes them more interesting. The regressed directions
are made orthonormal (QR, which keeps the order), so a slider value of 1.0 moves z by one
unit: one standard deviation of the N(0, I) prior along that direction.
"""

from __future__ import annotations

import math
import tempfile
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor, nn

from trainers.checkpoint import LoadedCheckpoint
from trainers.data import to_uint8_images
from trainers.losses import g_loss

__all__ = [
    "Generated",
    "PrincipalDirections",
    "Interpolation",
    "LayerMaps",
    "model_lock",
    "display_name",
    "sample_latents",
    "truncate",
    "edit_dimensions",
    "principal_directions",
    "apply_directions",
    "build_latents",
    "class_labels",
    "generate",
    "g_loss_report",
    "captioned_grid",
    "one_z_every_class",
    "one_class_grid",
    "lerp",
    "slerp",
    "interpolation_path",
    "interpolate_seeds",
    "interpolate_classes",
    "filmstrip",
    "gif_frames",
    "write_gif",
    "save_png",
    "feature_maps",
    "layers_picture",
    "upsampling_period",
    "first_image",
]

# --- sharing read-only models between threads ------------------------------------------------

_LOCKS: weakref.WeakKeyDictionary[nn.Module, threading.RLock] = weakref.WeakKeyDictionary()
_PCA_CACHE: weakref.WeakKeyDictionary[nn.Module, dict] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def model_lock(checkpoint: LoadedCheckpoint) -> threading.RLock:
    """The lock held around every forward pass of this checkpoint's models."""
    with _GUARD:
        lock = _LOCKS.get(checkpoint.generator)
        if lock is None:
            lock = _LOCKS[checkpoint.generator] = threading.RLock()
        return lock


def display_name(checkpoint: LoadedCheckpoint) -> str:
    """The checkpoint's name; a training run's ``<run>/checkpoint`` folder is called ``<run>``."""
    if checkpoint.path.name == "checkpoint" and not checkpoint.meta.get("name"):
        return checkpoint.path.parent.name
    return checkpoint.name


# --- latents -----------------------------------------------------------------------------------


def sample_latents(seed: int, n: int, latent_dim: int) -> Tensor:
    """``n`` latents z ~ N(0, I) for a seed: (n, latent_dim) float32.

    Row i does not depend on ``n`` (numpy fills its normal stream row by row), so sample 3
    of seed 7 is the same picture in a 2x2 grid and in an 8x8 grid.
    """
    rng = np.random.default_rng(int(seed))
    return torch.from_numpy(rng.standard_normal((int(n), int(latent_dim)), dtype=np.float32))


def truncate(z: Tensor, psi: float) -> Tensor:
    """The truncation trick as a shrink towards the mean latent: z' = psi * z (mean of z is 0).

    psi = 1 is the ordinary sampler; psi < 1 keeps samples near the centre of the prior,
    where G had the most training signal: fewer odd samples, less variety. (BigGAN's variant
    re-draws components beyond a threshold instead; both trade diversity for fidelity.)
    """
    return z * float(psi)


def edit_dimensions(z: Tensor, edits: list[tuple[int, float]]) -> Tensor:
    """Add ``offset`` to coordinate ``dim`` of every latent, for each (dim, offset) pair.

    ``dim`` is clamped to [0, latent_dim - 1] so a slider left over from a bigger model is safe.
    z: (B, latent_dim) -> (B, latent_dim), a new tensor.
    """
    z = z.clone()
    for dim, offset in edits:
        if offset:
            z[:, min(max(int(dim), 0), z.shape[1] - 1)] += float(offset)
    return z


@dataclass(frozen=True)
class PrincipalDirections:
    """GANSpace-style directions in z-space (see the module docstring).

    Attributes:
        directions: (k, latent_dim), orthonormal rows, most important first.
        explained: (k,) share of the layer's total activation variance of each component.
        layer: the name of the module whose output was analysed, e.g. "project.2".
        n_samples: how many latents were sampled.
    """

    directions: Tensor
    explained: Tensor
    layer: str
    n_samples: int


class _StopForward(Exception):
    """Raised by a hook to end a forward pass once the layer we need has run."""


def _first_nonlinearity(generator: nn.Module) -> tuple[str, nn.Module]:
    """The first activation module (ReLU, LeakyReLU, ...) of G, or else its first Linear."""
    activations = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.PReLU)
    modules = list(generator.named_modules())
    for name, module in modules:
        if isinstance(module, activations):
            return name, module
    for name, module in modules:
        if isinstance(module, nn.Linear):
            return name, module
    raise ValueError("the generator has neither an activation nor a Linear layer to analyse")


def _layer_activations(
    checkpoint: LoadedCheckpoint, module: nn.Module, z: Tensor, labels: Tensor | None
) -> Tensor:
    """The output of ``module`` for latents z: (B, features). Stops G's forward right there."""
    captured: list[Tensor] = []

    def hook(_module: nn.Module, _inputs: tuple, output: Tensor) -> None:
        captured.append(output.detach().flatten(1).clone())
        raise _StopForward

    with model_lock(checkpoint), torch.inference_mode():
        handle = module.register_forward_hook(hook)
        try:
            checkpoint.generator(z, labels)
        except _StopForward:
            pass
        finally:
            handle.remove()
    return captured[0]


def principal_directions(
    checkpoint: LoadedCheckpoint, k: int = 5, n_samples: int = 1000, seed: int = 0
) -> PrincipalDirections:
    """Top-``k`` principal directions of G's first-layer activations, carried back to z-space.

    Computed once per (model, k, n_samples, seed) and cached (a fraction of a second for a 28x28 DCGAN).
    """
    cache_key = (int(k), int(n_samples), int(seed))
    with _GUARD:
        cached = _PCA_CACHE.get(checkpoint.generator, {}).get(cache_key)
    if cached is not None:
        return cached

    name, module = _first_nonlinearity(checkpoint.generator)
    z = sample_latents(seed, n_samples, checkpoint.latent_dim)  # (N, d)
    labels = class_labels(checkpoint, n_samples, None)
    y = _layer_activations(checkpoint, module, z, labels)  # (N, F)
    y = y - y.mean(0)  # PCA works on centred data
    q = min(k + 10, *y.shape)
    with torch.random.fork_rng(devices=[]):  # pca_lowrank is randomised: make it repeatable
        torch.manual_seed(seed)
        _, s, v = torch.pca_lowrank(y, q=q, center=False, niter=4)  # v: (F, q)
    coeffs = (y @ v[:, :k]).double()  # (N, k): each sample's coordinates on the k components
    zc = z.double() - z.double().mean(0)
    regression = torch.linalg.lstsq(coeffs, zc).solution  # (k, d): z ≈ coeffs @ regression
    q_mat, r_mat = torch.linalg.qr(regression.T)  # orthonormal columns, same order
    directions = (
        q_mat * torch.sign(torch.diagonal(r_mat))
    ).T  # (k, d); keep each regression's sign
    explained = s[:k] ** 2 / (y**2).sum()
    result = PrincipalDirections(
        directions.float().contiguous(), explained.float(), name, int(n_samples)
    )
    with _GUARD:
        _PCA_CACHE.setdefault(checkpoint.generator, {})[cache_key] = result
    return result


def apply_directions(z: Tensor, directions: Tensor, amounts: list[float]) -> Tensor:
    """z + sum_i amounts[i] * directions[i] for every latent. z: (B, d); directions: (k, d)."""
    n = min(len(amounts), directions.shape[0])
    if n == 0:
        return z
    shift = torch.tensor(amounts[:n], dtype=z.dtype) @ directions[:n]  # (d,)
    return z + shift


def class_labels(checkpoint: LoadedCheckpoint, n: int, class_index: int | None) -> Tensor | None:
    """Labels for a batch: None for unconditional models; all ``class_index``; or 0, 1, 2, ...
    cycling through the classes when ``class_index`` is None. Returns (n,) int64 or None."""
    if not checkpoint.conditional:
        return None
    num_classes = int(checkpoint.config.num_classes)
    if class_index is None:
        return torch.arange(n) % num_classes
    if not 0 <= int(class_index) < num_classes:
        raise ValueError(
            f"class {class_index} is out of range: this model has {num_classes} classes"
        )
    return torch.full((n,), int(class_index), dtype=torch.long)


def build_latents(
    checkpoint: LoadedCheckpoint,
    seed: int,
    n: int,
    truncation: float = 1.0,
    dim_edits: list[tuple[int, float]] | None = None,
    pc_amounts: list[float] | None = None,
) -> Tensor:
    """The Generate tab's latents: seeded, truncated, then moved along raw dims and PCs. (n, d)."""
    z = truncate(sample_latents(seed, n, checkpoint.latent_dim), truncation)
    z = edit_dimensions(z, dim_edits or [])
    if pc_amounts and any(pc_amounts):
        z = apply_directions(
            z, principal_directions(checkpoint, k=len(pc_amounts)).directions, pc_amounts
        )
    return z


# --- generating and scoring -------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    """What G made and what D thought of it.

    Attributes:
        images: uint8 (B, H, W, C).
        logits: D's raw outputs (B,) float32, or None when the checkpoint has no D.
        scores: D's realness sigmoid(logit) (B,) numpy, or None when the checkpoint has no D.
        seconds: wall time of the two forward passes.
    """

    images: np.ndarray
    logits: Tensor | None
    scores: np.ndarray | None
    seconds: float


def generate(checkpoint: LoadedCheckpoint, z: Tensor, labels: Tensor | None = None) -> Generated:
    """x = G(z, labels) as uint8 images, and D's realness sigmoid(D(x, labels)) for each.

    For checkpoints trained with the log-loss family (minimax, non-saturating) the score is
    D's probability that the image is real; for LSGAN/hinge/WGAN critics sigmoid of the raw
    score is only a squashed score.
    """
    start = time.perf_counter()
    with model_lock(checkpoint), torch.inference_mode():
        x = checkpoint.generator(z, labels)  # (B, C, H, W) in [-1, 1]
        logits = checkpoint.discriminator(x, labels).float() if checkpoint.discriminator else None
    images = to_uint8_images(x)
    scores = torch.sigmoid(logits).numpy() if logits is not None else None
    return Generated(images, logits, scores, time.perf_counter() - start)


def g_loss_report(logits: Tensor) -> dict[str, dict[str, float]]:
    """Both G losses of ``trainers.losses.g_loss`` on these fakes, and how hard each pushes.

    For "minimax" and "non-saturating": ``loss`` (the batch mean) and ``grad``: the mean
    |dℓ/dlogit| per sample, found by autograd through the very same ``g_loss`` code. When D
    rejects the fakes (small D(G(z))) the minimax gradient is near 0 (it saturates) while the
    non-saturating one is near 1: that is why GANs train G with the non-saturating loss.
    """
    report: dict[str, dict[str, float]] = {}
    values = [float(v) for v in logits.flatten()]
    for name in ("minimax", "non-saturating"):
        leaf = torch.tensor(values, requires_grad=True)  # (B,) a fresh leaf for autograd
        loss = g_loss(name, leaf)
        (grad,) = torch.autograd.grad(loss, leaf)
        report[name] = {"loss": loss.item(), "grad": (grad.abs() * len(values)).mean().item()}
    return report


# --- pictures for the screen ------------------------------------------------------------------

_BACKGROUND = (255, 255, 255)
_TEXT = (31, 41, 55)


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


# PIL's built-in font has no glyphs for these; draw plain-ASCII stand-ins instead.
_ASCII = str.maketrans({"‖": "|", "→": "->", "×": "x", "−": "-", "ψ": "psi", "…": "..."})


@lru_cache(maxsize=2048)
def _text_mask(text: str, size: int) -> np.ndarray:
    """A small uint8 (h, w) alpha mask of ``text``; cached, so drawing a caption costs ~µs."""
    text = text.translate(_ASCII)
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(image).text((-left, -top), text, fill=255, font=font)
    mask = np.asarray(image)
    mask.setflags(write=False)
    return mask


def _draw_text(
    canvas: np.ndarray, text: str, x: int, y: int, size: int, centre_width: int = 0
) -> None:
    """Blend dark ``text`` into ``canvas`` (H, W, 3) at (x, y), centred in ``centre_width`` if given."""
    mask = _text_mask(text, size)
    h, w = mask.shape
    if centre_width:
        x += max(0, (centre_width - w) // 2)
    h, w = min(h, canvas.shape[0] - y), min(w, canvas.shape[1] - x)
    if h <= 0 or w <= 0:
        return
    alpha = mask[:h, :w, None].astype(np.float32) / 255.0
    region = canvas[y : y + h, x : x + w].astype(np.float32)
    canvas[y : y + h, x : x + w] = (region * (1 - alpha) + np.asarray(_TEXT) * alpha).astype(
        np.uint8
    )


def display_scale(height: int, target: int = 96) -> int:
    """The whole-number factor that brings a tile of ``height`` pixels near ``target`` pixels."""
    return max(1, round(target / max(1, height)))


def _score_colour(score: float) -> tuple[int, int, int]:
    """Red (D says fake) through amber to green (D says real)."""
    red = np.array([220, 38, 38])
    green = np.array([22, 163, 74])
    return tuple(int(c) for c in (red + (green - red) * float(np.clip(score, 0, 1))))


def captioned_grid(
    images: np.ndarray,
    ncol: int,
    captions: list[str] | None = None,
    scores: np.ndarray | None = None,
    column_titles: list[str] | None = None,
    row_titles: list[str] | None = None,
    scale: int | None = None,
    font_size: int = 12,
    top_margin: int = 0,
) -> np.ndarray:
    """Tiles with optional text: a title above each column, a title left of each row, and
    under each tile a bar as long as its D score plus a caption. ``top_margin`` leaves blank
    rows at the top (Gradio draws an image's label over its top-left corner).

    images: uint8 (B, H, W, C) with C = 1 or 3 -> uint8 (H', W', 3), nearest-upscaled by
    ``scale`` (default: tiles about 96 px) so pixels stay crisp in the browser.
    """
    b, h, w, c = images.shape
    s = scale or display_scale(h)
    ncol = max(1, min(int(ncol), b))
    nrow = math.ceil(b / ncol)
    th, tw, pad = h * s, w * s, 4
    line = font_size + 4
    below = (4 if scores is not None else 0) + (line if captions else 0)
    above = top_margin + (line if column_titles else 0)
    left = (
        (max(_text_mask(t, font_size).shape[1] for t in row_titles) + 2 * pad) if row_titles else 0
    )
    height = above + nrow * (th + below + pad) + pad
    width = left + ncol * (tw + pad) + pad
    canvas = np.full((height, width, 3), _BACKGROUND, dtype=np.uint8)
    tiles = images if c == 3 else np.repeat(images, 3, axis=3)  # (B, H, W, 3)
    tiles = tiles.repeat(s, axis=1).repeat(s, axis=2)  # (B, H*s, W*s, 3)
    for i in range(b):
        r, col = divmod(i, ncol)
        top, x0 = above + pad + r * (th + below + pad), left + pad + col * (tw + pad)
        canvas[top : top + th, x0 : x0 + tw] = tiles[i]
        y = top + th
        if scores is not None:
            bar = max(1, round(tw * float(np.clip(scores[i], 0, 1))))
            canvas[y + 1 : y + 4, x0 : x0 + tw] = (229, 231, 235)
            canvas[y + 1 : y + 4, x0 : x0 + bar] = _score_colour(float(scores[i]))
            y += 4
        if captions:
            _draw_text(canvas, captions[i], x0, y + 2, font_size, centre_width=tw)
    if column_titles:
        for col, title in enumerate(column_titles[:ncol]):
            x = left + pad + col * (tw + pad)
            _draw_text(canvas, title, x, top_margin + 2, font_size, centre_width=tw)
    if row_titles:
        for r, title in enumerate(row_titles[:nrow]):
            y = above + pad + r * (th + below + pad) + th // 2 - font_size // 2
            _draw_text(canvas, title, pad, y, font_size)
    return canvas


def score_captions(scores: np.ndarray | None) -> list[str] | None:
    """``["D 0.83", ...]`` for each score, or None."""
    return None if scores is None else [f"D {float(v):.2f}" for v in scores]


# --- cGAN grids -------------------------------------------------------------------------------


def _require_conditional(checkpoint: LoadedCheckpoint) -> int:
    if not checkpoint.conditional:
        raise ValueError(
            f"{display_name(checkpoint)} is an unconditional {checkpoint.spec.name}: it has no classes. "
            "Pick a cGAN checkpoint."
        )
    return int(checkpoint.config.num_classes)


def one_z_every_class(
    checkpoint: LoadedCheckpoint, seed: int, rows: int = 1, truncation: float = 1.0
) -> tuple[Generated, int]:
    """Each of ``rows`` latents drawn with every class label: row r, column c = G(z_r, c).

    Only the label changes along a row, so whatever stays the same (stroke width, slant,
    brightness) is what z controls. Returns (Generated with rows*num_classes images, ncol).
    """
    num_classes = _require_conditional(checkpoint)
    z = truncate(sample_latents(seed, rows, checkpoint.latent_dim), truncation)  # (rows, d)
    z = z.repeat_interleave(num_classes, dim=0)  # (rows*K, d)
    labels = torch.arange(num_classes).repeat(rows)  # (rows*K,)
    return generate(checkpoint, z, labels), num_classes


def one_class_grid(
    checkpoint: LoadedCheckpoint, class_index: int, seed: int, n: int = 16, truncation: float = 1.0
) -> Generated:
    """``n`` different latents, all with the same class label."""
    _require_conditional(checkpoint)
    z = truncate(sample_latents(seed, n, checkpoint.latent_dim), truncation)
    return generate(checkpoint, z, class_labels(checkpoint, n, class_index))


# --- interpolation ----------------------------------------------------------------------------


def lerp(a: Tensor, b: Tensor, t: Tensor | float) -> Tensor:
    """Straight line: (1 - t) a + t b. a, b: (d,); t: scalar or (N,) -> (d,) or (N, d)."""
    t = torch.as_tensor(t, dtype=a.dtype)
    out = (1 - t)[..., None] * a + t[..., None] * b if t.dim() else (1 - t) * a + t * b
    return _exact_ends(out, a, b, t)


def slerp(a: Tensor, b: Tensor, t: Tensor | float) -> Tensor:
    """Spherical interpolation (Shoemake 1985), as recommended for GAN latents by White 2016.

        omega = angle between a and b
        slerp(t) = sin((1 - t) omega) / sin(omega) * a + sin(t omega) / sin(omega) * b

    In high dimensions z ~ N(0, I) lies near the sphere of radius sqrt(d); the straight line
    cuts through the middle where the norm drops to about sqrt(d/2), a region G rarely saw.
    slerp keeps the norm close to the ends'. Falls back to lerp for (nearly) parallel vectors.
    Endpoints t = 0 and t = 1 return exactly a and b.
    """
    t = torch.as_tensor(t, dtype=a.dtype)
    cos = torch.dot(a, b) / (a.norm() * b.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if omega.abs() < 1e-4 or (math.pi - omega.abs()) < 1e-4:
        return lerp(a, b, t)
    tt = t[..., None] if t.dim() else t
    out = (torch.sin((1 - tt) * omega) * a + torch.sin(tt * omega) * b) / torch.sin(omega)
    return _exact_ends(out, a, b, t)


def _exact_ends(out: Tensor, a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Put a and b themselves where t is exactly 0 or 1 (no rounding error at the ends)."""
    if t.dim() == 0:
        return a.clone() if t == 0 else b.clone() if t == 1 else out
    out = out.clone()
    out[t == 0] = a
    out[t == 1] = b
    return out


def interpolation_path(a: Tensor, b: Tensor, frames: int, method: str = "slerp") -> Tensor:
    """``frames`` evenly spaced points from a to b (both included): (frames, d)."""
    if frames < 2:
        raise ValueError(f"an interpolation needs at least 2 frames, got {frames}")
    t = torch.linspace(0, 1, int(frames), dtype=a.dtype)
    if method == "lerp":
        return lerp(a, b, t)
    if method == "slerp":
        return slerp(a, b, t)
    raise ValueError(f"unknown interpolation {method!r}; use 'lerp' or 'slerp'")


@dataclass(frozen=True)
class Interpolation:
    """Frames of one interpolation done both ways.

    Attributes:
        what: "latent" (two seeds) or "class embedding" (two classes, same z).
        t: (N,) positions in [0, 1].
        images: {"lerp": uint8 (N, H, W, C), "slerp": ...}.
        norms: {"lerp": (N,) numpy, "slerp": ...}: the norm of the interpolated vector.
        scores: {"lerp": (N,) numpy or None, ...}: D's realness (None in class mode or without D).
        reference_norm: sqrt(d), the typical norm of z ~ N(0, I) (or the ends' mean norm).
    """

    what: str
    t: np.ndarray
    images: dict[str, np.ndarray]
    norms: dict[str, np.ndarray]
    scores: dict[str, np.ndarray | None]
    reference_norm: float


def interpolate_seeds(
    checkpoint: LoadedCheckpoint,
    seed_a: int,
    seed_b: int,
    frames: int,
    class_index: int | None = None,
) -> Interpolation:
    """From sample 0 of seed A to sample 0 of seed B, by lerp and by slerp (cGAN: one class)."""
    d = checkpoint.latent_dim
    a, b = sample_latents(seed_a, 1, d)[0], sample_latents(seed_b, 1, d)[0]
    if checkpoint.conditional and class_index is None:
        class_index = 0
    labels = class_labels(checkpoint, int(frames), class_index)
    images, norms, scores = {}, {}, {}
    for method in ("lerp", "slerp"):
        path = interpolation_path(a, b, frames, method)  # (N, d)
        out = generate(checkpoint, path, labels)
        images[method], norms[method], scores[method] = (
            out.images,
            path.norm(dim=1).numpy(),
            out.scores,
        )
    t = np.linspace(0, 1, int(frames))
    return Interpolation("latent", t, images, norms, scores, math.sqrt(d))


def _embedding(generator: nn.Module) -> nn.Embedding:
    for module in generator.modules():
        if isinstance(module, nn.Embedding):
            return module
    raise ValueError("this generator has no class embedding to interpolate")


def interpolate_classes(
    checkpoint: LoadedCheckpoint, seed: int, class_a: int, class_b: int, frames: int
) -> Interpolation:
    """Same z, the class *embedding* moving from class A's vector to class B's.

    The label enters the cGAN through ``nn.Embedding``; for in-between frames a forward hook
    on that layer replaces its output by the interpolated vector (under the model's lock).
    """
    num_classes = _require_conditional(checkpoint)
    for c in (class_a, class_b):
        if not 0 <= int(c) < num_classes:
            raise ValueError(f"class {c} is out of range: this model has {num_classes} classes")
    embedding = _embedding(checkpoint.generator)
    e_a = embedding.weight[int(class_a)].detach().float()  # (embed_dim,)
    e_b = embedding.weight[int(class_b)].detach().float()
    z = sample_latents(seed, 1, checkpoint.latent_dim).repeat(int(frames), 1)  # (N, d)
    dummy = torch.zeros(int(frames), dtype=torch.long)
    images, norms, scores = {}, {}, {}
    for method in ("lerp", "slerp"):
        path = interpolation_path(e_a, e_b, frames, method)  # (N, embed_dim)
        with model_lock(checkpoint):
            handle = embedding.register_forward_hook(lambda _m, _i, _o, p=path: p)
            try:
                out = generate(checkpoint, z, dummy)
            finally:
                handle.remove()
        images[method], norms[method], scores[method] = out.images, path.norm(dim=1).numpy(), None
    t = np.linspace(0, 1, int(frames))
    reference = float((e_a.norm() + e_b.norm()) / 2)
    return Interpolation("class embedding", t, images, norms, scores, reference)


def filmstrip(interp: Interpolation) -> np.ndarray:
    """Two rows (lerp over slerp), one column per frame, each captioned with t and ‖v‖."""
    n = len(interp.t)
    images = np.concatenate([interp.images["lerp"], interp.images["slerp"]])  # (2N, H, W, C)
    captions = [f"|v| {v:.1f}" for m in ("lerp", "slerp") for v in interp.norms[m]]
    scores = None
    if interp.scores["lerp"] is not None:
        scores = np.concatenate([interp.scores["lerp"], interp.scores["slerp"]])
    titles = [f"t={t:.2f}" for t in interp.t]
    return captioned_grid(
        images, n, captions, scores, titles, ["lerp", "slerp"], font_size=11, top_margin=24
    )


def gif_frames(interp: Interpolation) -> list[np.ndarray]:
    """One (H, W, 3) picture per step: the lerp frame beside the slerp frame, with t written on."""
    frames = []
    for i, t in enumerate(interp.t):
        pair = np.stack([interp.images["lerp"][i], interp.images["slerp"][i]])
        frames.append(captioned_grid(pair, 2, ["lerp", "slerp"], column_titles=[f"t={t:.2f}", ""]))
    return frames


_GIF_DIR = Path(tempfile.gettempdir()) / "gan-explorer-gifs"
_GIF_MAX_AGE_S = 3600
_PNG_DIR = Path(tempfile.gettempdir()) / "gan-explorer-png"
_PNG_MAX_AGE_S = 600
_last_sweep = [0.0]  # when the PNG folder was last cleaned (shared, not per user)


def _sweep(folder: Path, pattern: str, max_age_s: float) -> None:
    """Delete files in ``folder`` older than ``max_age_s`` (the server copies what it serves)."""
    now = time.time()
    for old in folder.glob(pattern):
        try:
            if now - old.stat().st_mtime > max_age_s:
                old.unlink()
        except OSError:
            pass


def save_png(picture: np.ndarray, folder: str | Path | None = None) -> Path:
    """Write a uint8 (H, W, 3) picture as a fast PNG (zlib level 1) and return its path.

    Level 1 is about twice as fast as PIL's default and barely bigger for these pictures;
    handing Gradio a finished file means it does not encode the array again. Without
    ``folder`` a temp folder is used and cleaned of files older than ten minutes.
    """
    if folder is None:
        folder = _PNG_DIR
        folder.mkdir(parents=True, exist_ok=True)
        if time.time() - _last_sweep[0] > 60:
            _last_sweep[0] = time.time()
            _sweep(folder, "*.png", _PNG_MAX_AGE_S)
    path = Path(folder) / f"{uuid.uuid4().hex[:16]}.png"
    Image.fromarray(picture).save(path, format="png", compress_level=1)
    return path


def write_gif(
    frames: list[np.ndarray], path: str | Path | None = None, duration_ms: int = 150
) -> Path:
    """Write an endlessly looping animated GIF with one frame per picture; returns its path.

    Without ``path`` a fresh file in the temp folder is used (files older than an hour there
    are removed). Every frame is kept, even two identical ones (``disposal``/``optimize`` off).
    """
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    if path is None:
        _GIF_DIR.mkdir(parents=True, exist_ok=True)
        _sweep(_GIF_DIR, "*.gif", _GIF_MAX_AGE_S)
        path = _GIF_DIR / f"interpolation-{uuid.uuid4().hex[:12]}.gif"
    path = Path(path)
    pictures = [Image.fromarray(f) for f in frames]
    pictures[0].save(
        path,
        save_all=True,
        append_images=pictures[1:],
        duration=int(duration_ms),
        loop=0,
        optimize=False,
        disposal=1,
    )
    return path


# --- inside the generator ---------------------------------------------------------------------


@dataclass(frozen=True)
class LayerMaps:
    """One layer's output for one latent.

    Attributes:
        name: the module's name in G (e.g. "blocks.0"), or "z" / "output image".
        kind: a short description, e.g. "ConvTranspose2d(128→64, k=4, s=2, p=1)".
        shape: the output shape of one sample, without the batch dimension, e.g. (64, 14, 14).
        image: uint8 (H, W, 3) picture: one tile per channel (or the vector as a square).
        note: how the picture was made (channels shown, reshaping).
        params: number of weights in this module.
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    image: np.ndarray
    note: str
    params: int


def _describe_module(module: nn.Module) -> str:
    if isinstance(module, nn.ConvTranspose2d | nn.Conv2d):
        k, s, p = module.kernel_size[0], module.stride[0], module.padding[0]
        extra = (
            f", op={module.output_padding[0]}" if getattr(module, "output_padding", (0,))[0] else ""
        )
        return f"{type(module).__name__}({module.in_channels}→{module.out_channels}, k={k}, s={s}, p={p}{extra})"
    if isinstance(module, nn.Linear):
        return f"Linear({module.in_features}→{module.out_features})"
    if isinstance(module, nn.Embedding):
        return f"Embedding({module.num_embeddings} classes→{module.embedding_dim})"
    if isinstance(module, nn.Upsample):
        return f"Upsample(×{module.scale_factor}, {module.mode})"
    if isinstance(module, nn.LeakyReLU):
        return f"LeakyReLU({module.negative_slope})"
    return type(module).__name__


def _normalise(x: Tensor) -> Tensor:
    """Each row's values to [0, 1] by its own min and max (a flat row becomes 0.5)."""
    lo = x.amin(dim=1, keepdim=True)
    hi = x.amax(dim=1, keepdim=True)
    return torch.where(hi > lo, (x - lo) / (hi - lo).clamp_min(1e-12), torch.full_like(x, 0.5))


def channel_grid(maps: Tensor, max_channels: int = 64, width: int = 224) -> tuple[np.ndarray, int]:
    """(C, H, W) feature maps -> uint8 (H', W', 3) grid of the first ``max_channels`` channels,
    each scaled to [0, 1] on its own and nearest-upscaled so the grid is about ``width`` pixels
    wide. Returns (picture, channels shown)."""
    c, h, w = maps.shape
    shown = min(c, max_channels)
    flat = _normalise(maps[:shown].reshape(shown, -1).float())  # (shown, H*W)
    tiles = (flat.reshape(shown, h, w, 1) * 255).round().to(torch.uint8).numpy()
    ncol = math.ceil(math.sqrt(shown))
    scale = max(1, (width - 4 * ncol) // (ncol * w))
    return captioned_grid(tiles, ncol, scale=scale), shown


def _vector_picture(v: Tensor, width: int = 224) -> np.ndarray:
    """A 1-D vector (F,) as a near-square grey picture (row-major), scaled to [0, 1]."""
    f = v.numel()
    side = math.ceil(math.sqrt(f))
    padded = torch.full((side * side,), float("nan"))
    padded[:f] = _normalise(v.float().reshape(1, -1))[0]
    grey = (padded.nan_to_num(1.0).reshape(1, side, side, 1) * 255).round().to(torch.uint8).numpy()
    return captioned_grid(grey, 1, scale=max(1, (width - 8) // side))


def feature_maps(
    checkpoint: LoadedCheckpoint, z: Tensor, label: int | None = None, max_channels: int = 64
) -> list[LayerMaps]:
    """Every layer's output for one latent z (d,), from z to the image, via forward hooks.

    Each leaf module of G is hooked once, in the order the forward pass calls it. A flat
    vector that the model later reshapes (the DCGAN's Linear output of 128·7·7 numbers) is
    shown as the channels it becomes.
    """
    generator = checkpoint.generator
    z = z.reshape(1, -1).float()  # (1, d)
    labels = class_labels(checkpoint, 1, label if checkpoint.conditional else None)
    if checkpoint.conditional and label is None:
        labels = torch.zeros(1, dtype=torch.long)
    records: list[tuple[str, nn.Module, Tensor]] = []
    first_map: list[tuple[int, ...]] = []  # shape of the first 4-D tensor entering a layer

    def make_hook(name: str):
        def hook(module: nn.Module, inputs: tuple, output: Tensor) -> None:
            if not first_map and inputs and torch.is_tensor(inputs[0]) and inputs[0].dim() == 4:
                first_map.append(tuple(inputs[0].shape[1:]))
            records.append(
                (name, module, output.detach()[0].clone())
            )  # clone: ReLU(inplace) follows

        return hook

    leaves = [(n, m) for n, m in generator.named_modules() if n and not list(m.children())]
    with model_lock(checkpoint), torch.inference_mode():
        handles = [m.register_forward_hook(make_hook(n)) for n, m in leaves]
        try:
            image = generator(z, labels)  # (1, C, H, W)
        finally:
            for handle in handles:
                handle.remove()

    side = first_map[0][1] if first_map else 0
    layers = [
        LayerMaps(
            "z",
            f"latent N(0, I), ‖z‖ = {z.norm():.2f}",
            (z.shape[1],),
            _vector_picture(z[0]),
            "the latent vector as a square of numbers (white = largest)",
            0,
        )
    ]
    for name, module, out in records:
        params = sum(p.numel() for p in module.parameters(recurse=False))
        shape = tuple(out.shape)
        if out.dim() == 3:
            picture, shown = channel_grid(out, max_channels)
            note = (
                f"{shown} of {shape[0]} channels"
                if shown < shape[0]
                else f"all {shape[0]} channels"
            )
        elif out.dim() == 1 and side and out.numel() % (side * side) == 0:
            channels = out.numel() // (side * side)
            picture, shown = channel_grid(out.reshape(channels, side, side), max_channels)
            note = f"reshaped by the model to {channels}×{side}×{side}; {shown} channels shown"
        else:
            picture, note = _vector_picture(out.flatten()), "a vector, drawn as a square of numbers"
        layers.append(
            LayerMaps(
                name,
                _describe_module(module),
                shape,
                picture,
                note + "; each tile scaled to its own min..max",
                params,
            )
        )
    final = to_uint8_images(image)  # (1, H, W, C)
    layers.append(
        LayerMaps(
            "output image",
            "G(z) as pixels",
            tuple(image.shape[1:]),
            captioned_grid(final, 1, scale=display_scale(final.shape[1], 160)),
            "tanh output mapped from [-1, 1] to 0..255",
            0,
        )
    )
    return layers


def _fit(text: str, width: int, size: int) -> str:
    """``text`` shortened with "..." until it is at most ``width`` pixels wide."""
    if _text_mask(text, size).shape[1] <= width:
        return text
    while len(text) > 1 and _text_mask(text + "...", size).shape[1] > width:
        text = text[:-1]
    return text + "..."


def layers_picture(layers: list[LayerMaps], ncol: int = 4, font_size: int = 12) -> np.ndarray:
    """All layers as cards in forward order (left to right, top to bottom): under a title
    ("3. blocks.0", what the layer is, its output shape) each layer's picture. -> (H, W, 3)."""
    pad, line = 10, font_size + 4
    cell = max(layer.image.shape[1] for layer in layers)
    rows = [layers[i : i + ncol] for i in range(0, len(layers), ncol)]
    heights = [3 * line + max(layer.image.shape[0] for layer in row) + pad for row in rows]
    canvas = np.full(
        (sum(heights) + pad, ncol * (cell + pad) + pad, 3), _BACKGROUND, dtype=np.uint8
    )
    top = pad
    for r, row in enumerate(rows):
        for c, layer in enumerate(row):
            index = r * ncol + c
            x = pad + c * (cell + pad)
            shape = " x ".join(str(v) for v in layer.shape)
            for k, text in enumerate((f"{index}. {layer.name}", layer.kind, f"output {shape}")):
                _draw_text(canvas, _fit(text, cell, font_size), x, top + k * line, font_size)
            h, w = layer.image.shape[:2]
            y0, x0 = top + 3 * line, x + (cell - w) // 2
            canvas[y0 : y0 + h, x0 : x0 + w] = layer.image
        top += heights[r]
    return canvas


# --- helpers for the checkerboard comparison on real models ----------------------------------


def upsampling_period(checkpoint: LoadedCheckpoint) -> tuple[int, str] | None:
    """(total upsampling factor of G, upsample mode) for convolutional generators, else None.

    A periodic artefact from the upsampling layers repeats every ``factor`` pixels.
    """
    factor, modes = 1, set()
    for module in checkpoint.generator.modules():
        if isinstance(module, nn.ConvTranspose2d):
            factor *= int(module.stride[0])
            modes.add("convtranspose")
        elif isinstance(module, nn.Upsample):
            factor *= int(module.scale_factor)
            modes.add("resize-conv")
    if factor == 1:
        return None
    return factor, "+".join(sorted(modes))


def first_image(checkpoint: LoadedCheckpoint, seed: int, class_index: int | None = None) -> Tensor:
    """G's raw output (1, C, H, W) in [-1, 1] for sample 0 of a seed (cGAN: class 0 by default)."""
    z = sample_latents(seed, 1, checkpoint.latent_dim)
    labels = class_labels(checkpoint, 1, class_index if class_index is not None else 0)
    with model_lock(checkpoint), torch.inference_mode():
        return checkpoint.generator(z, labels).float().clone()
