"""Moving around G's latent space: edits, principal directions, interpolation, class grids.

Plain functions over a :class:`trainers.pipeline.GANPipeline`; all latents come from its one
sampler (``pipe.latents``), so a grid here shows the same samples as ``gan-train sample``.
z is float32 (B, latent_dim); one latent is (latent_dim,).

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
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor, nn

from trainers.activations import first_nonlinearity, layer_activations

if TYPE_CHECKING:
    from trainers.pipeline import GANPipeline, PipelineOutput

# --- editing latents ---------------------------------------------------------------------------


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


_PCA_CACHE: weakref.WeakKeyDictionary[GANPipeline, dict] = weakref.WeakKeyDictionary()
_PCA_GUARD = threading.Lock()


def principal_directions(
    pipe: GANPipeline, k: int = 5, n_samples: int = 1000, seed: int = 0
) -> PrincipalDirections:
    """Top-``k`` principal directions of G's first-layer activations, carried back to z-space.

    Computed once per (pipeline, k, n_samples, seed) and cached (a fraction of a second for a
    28x28 DCGAN).
    """
    cache_key = (int(k), int(n_samples), int(seed))
    with _PCA_GUARD:
        cached = _PCA_CACHE.get(pipe, {}).get(cache_key)
    if cached is not None:
        return cached

    name, module = first_nonlinearity(pipe.generator)
    z = pipe.latents(seed, n_samples)  # (N, d)
    y = layer_activations(pipe, module, z, pipe.class_labels(n_samples))  # (N, F)
    y = y - y.mean(0)  # PCA works on centred data
    q = min(k + 10, *y.shape)
    with torch.random.fork_rng(devices=[]):  # pca_lowrank is randomised: make it repeatable
        torch.manual_seed(seed)
        _, s, v = torch.pca_lowrank(y, q=q, center=False, niter=4)  # v: (F, q)
    coeffs = (y @ v[:, :k]).double()  # (N, k): each sample's coordinates on the k components
    zc = z.double() - z.double().mean(0)
    regression = torch.linalg.lstsq(coeffs, zc).solution  # (k, d): z ≈ coeffs @ regression
    q_mat, r_mat = torch.linalg.qr(regression.T)  # orthonormal columns, same order
    directions = (q_mat * torch.sign(torch.diagonal(r_mat))).T  # (k, d); keep each sign
    explained = s[:k] ** 2 / (y**2).sum()
    result = PrincipalDirections(
        directions.float().contiguous(), explained.float(), name, int(n_samples)
    )
    with _PCA_GUARD:
        _PCA_CACHE.setdefault(pipe, {})[cache_key] = result
    return result


def apply_directions(z: Tensor, directions: Tensor, amounts: list[float]) -> Tensor:
    """z + sum_i amounts[i] * directions[i] for every latent. z: (B, d); directions: (k, d)."""
    n = min(len(amounts), directions.shape[0])
    if n == 0:
        return z
    shift = torch.tensor(amounts[:n], dtype=z.dtype) @ directions[:n]  # (d,)
    return z + shift


def build_latents(
    pipe: GANPipeline,
    seed: int,
    n: int,
    truncation: float = 1.0,
    dim_edits: list[tuple[int, float]] | None = None,
    pc_amounts: list[float] | None = None,
) -> Tensor:
    """Seeded and truncated latents (``pipe.latents``), then moved along raw dimensions and
    principal directions: (n, d). Without edits these are exactly ``pipe.latents(seed, n, ψ)``."""
    z = edit_dimensions(pipe.latents(seed, n, truncation), dim_edits or [])
    if pc_amounts and any(pc_amounts):
        directions = principal_directions(pipe, k=len(pc_amounts)).directions
        z = apply_directions(z, directions, pc_amounts)
    return z


# --- class grids (cGAN) -----------------------------------------------------------------------


def require_conditional(pipe: GANPipeline) -> int:
    """The number of classes of a cGAN; a ValueError for other models."""
    if not pipe.conditional:
        raise ValueError(
            f"{pipe.name} is an unconditional {pipe.spec.name}: it has no classes. "
            "Pick a cGAN checkpoint."
        )
    return pipe.num_classes


def one_z_every_class(
    pipe: GANPipeline, seed: int, rows: int = 1, truncation: float = 1.0
) -> tuple[PipelineOutput, int]:
    """Each of ``rows`` latents drawn with every class label: row r, column c = G(z_r, c).

    Only the label changes along a row, so whatever stays the same (stroke width, slant,
    brightness) is what z controls. Returns (output with rows*num_classes images, ncol).
    """
    num_classes = require_conditional(pipe)
    z = pipe.latents(seed, rows, truncation).repeat_interleave(num_classes, dim=0)  # (rows*K, d)
    labels = torch.arange(num_classes).repeat(rows)  # (rows*K,)
    return pipe(latents=z, labels=labels), num_classes


def one_class_grid(
    pipe: GANPipeline, class_index: int, seed: int, n: int = 16, truncation: float = 1.0
) -> PipelineOutput:
    """``n`` different latents, all with the same class label (= ``gan-train sample --label``)."""
    require_conditional(pipe)
    return pipe(n=n, seed=seed, labels=int(class_index), truncation=truncation)


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
    pipe: GANPipeline, seed_a: int, seed_b: int, frames: int, class_index: int | None = None
) -> Interpolation:
    """From sample 0 of seed A to sample 0 of seed B, by lerp and by slerp (cGAN: one class,
    class 0 unless ``class_index`` is given)."""
    a, b = pipe.latents(seed_a, 1)[0], pipe.latents(seed_b, 1)[0]
    label = (class_index or 0) if pipe.conditional else None
    images, norms, scores = {}, {}, {}
    for method in ("lerp", "slerp"):
        path = interpolation_path(a, b, frames, method)  # (N, d)
        out = pipe(latents=path, labels=label)
        images[method], norms[method], scores[method] = (
            out.images,
            path.norm(dim=1).numpy(),
            out.scores,
        )
    t = np.linspace(0, 1, int(frames))
    return Interpolation("latent", t, images, norms, scores, math.sqrt(pipe.latent_dim))


def _embedding(generator: nn.Module) -> nn.Embedding:
    for module in generator.modules():
        if isinstance(module, nn.Embedding):
            return module
    raise ValueError("this generator has no class embedding to interpolate")


def interpolate_classes(
    pipe: GANPipeline, seed: int, class_a: int, class_b: int, frames: int
) -> Interpolation:
    """Same z, the class *embedding* moving from class A's vector to class B's.

    The label enters the cGAN through ``nn.Embedding``; for in-between frames a forward hook
    on that layer replaces its output by the interpolated vector (under the pipeline's lock).
    """
    num_classes = require_conditional(pipe)
    for c in (class_a, class_b):
        if not 0 <= int(c) < num_classes:
            raise ValueError(f"class {c} is out of range: this model has {num_classes} classes")
    embedding = _embedding(pipe.generator)
    e_a = embedding.weight[int(class_a)].detach().float().cpu()  # (embed_dim,)
    e_b = embedding.weight[int(class_b)].detach().float().cpu()
    z = pipe.latents(seed, 1).repeat(int(frames), 1)  # (N, d)
    images, norms, scores = {}, {}, {}
    for method in ("lerp", "slerp"):
        path = interpolation_path(e_a, e_b, frames, method)  # (N, embed_dim)
        replacement = path.to(pipe.device)
        with pipe.lock:
            handle = embedding.register_forward_hook(lambda _m, _i, _o, p=replacement: p)
            try:
                out = pipe(latents=z, labels=0, with_scores=False)  # the label is replaced
            finally:
                handle.remove()
        images[method], norms[method], scores[method] = out.images, path.norm(dim=1).numpy(), None
    t = np.linspace(0, 1, int(frames))
    reference = float((e_a.norm() + e_b.norm()) / 2)
    return Interpolation("class embedding", t, images, norms, scores, reference)
