"""Generate: seed, grid side, truncation, raw-dimension and PCA sliders in the sidebar; the
grid with D's score under each sample, and both G losses on these samples.

The grid comes from :func:`sample_grid`, cached with ``st.cache_data`` by the settings: a
slider redraws only the grid (the model and its principal directions are cached resources,
and Streamlit's front end leaves every unchanged element as it is). With the sliders at 0 the
pixels are ``gan-train sample CKPT --n grid² --seed S [--label L] --truncation ψ``'s.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import streamlit as st
import torch

from explorer import latents, widget
from explorer.context import empty_message
from explorer.streamlit_ui import latent_widget, shared
from trainers import latent_space
from trainers.checkpoint import CheckpointError
from trainers.losses import FORMULAS, g_loss_report
from trainers.pipeline import GANPipeline

N_DIMS = widget.N_DIMS  # raw-dimension sliders
N_PCS = widget.N_PCS  # principal-direction sliders
DEFAULT_SIDE = widget.DEFAULT_GRID
MIXED = widget.MIXED
P = shared.KEEP + "generate."  # this page's widget keys

ABOUT_MD = """
G turns noise z ~ N(0, I) into an image; D outputs D(x), its probability that x is a real
training image. The bar and number under each sample are D(G(z)) for that sample.
**Truncation ψ** multiplies z by ψ (ψ < 1: cleaner, less varied). **Raw dimensions** move one
coordinate of z; **principal directions** (GANSpace, Härkönen et al. 2020) move z along the
main axes of variation of G's first layer and tend to change one visible property at a time.
"""


@dataclass(frozen=True)
class Grid:
    """One grid for the page: the picture as PNG bytes and the numbers shown beside it."""

    png: bytes
    n: int
    scores: list[float] | None
    losses: dict[str, dict[str, float]] | None
    z0_norm: float


def batch_latents(
    pipe: GANPipeline,
    seed: int,
    side: int,
    truncation: float,
    label: int | None,
    edits: tuple[tuple[int, float], ...],
    pcs: tuple[float, ...],
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The grid's latents (side², d) and labels (side²,) or None, for these settings."""
    n = side * side
    z = latent_space.build_latents(pipe, seed, n, truncation, list(edits), list(pcs))
    return z, pipe.class_labels(n, label)


def settings_now(pipe: GANPipeline) -> dict[str, Any]:
    """This session's Generate settings (their defaults before the page was opened), as the
    keyword arguments of :func:`batch_latents`: the Inside page looks at the same latents."""
    state = st.session_state
    label = None
    names = list(pipe.class_names) if pipe.conditional else []
    if state.get(P + "class") in names:
        label = names.index(state[P + "class"])
    d = pipe.latent_dim
    edits = tuple(
        (min(int(state.get(P + f"dim{i}", i)), d - 1), float(state.get(P + f"offset{i}", 0.0)))
        for i in range(N_DIMS)
    )
    return {
        "seed": int(state.get(P + "seed", 0)),
        "side": int(state.get(P + "side", DEFAULT_SIDE)),
        "truncation": float(state.get(P + "truncation", 1.0)),
        "label": label,
        "edits": edits,
        "pcs": tuple(float(state.get(P + f"pc{i}", 0.0)) for i in range(N_PCS)),
    }


@st.cache_data(max_entries=256, show_spinner=False)
def sample_grid(
    path: str,
    stamp: int,
    seed: int,
    side: int,
    truncation: float,
    label: int | None,
    edits: tuple[tuple[int, float], ...],
    pcs: tuple[float, ...],
) -> Grid:
    """The samples for these settings, drawn as a captioned grid (cached by the settings)."""
    pipe = shared.pipeline_at(path, stamp)
    with shared.computing():
        z, labels = batch_latents(pipe, seed, side, truncation, label, edits, pcs)
        out = pipe(latents=z, labels=labels)
        picture = latents.captioned_grid(
            out.images, side, latents.score_captions(out.scores), out.scores
        )
    scores = None if out.scores is None else [float(s) for s in out.scores]
    losses = g_loss_report(out.logits) if out.logits is not None else None
    return Grid(shared.png(picture), side * side, scores, losses, float(out.latents[0].norm()))


def _new_seed() -> None:
    st.session_state[P + "seed"] = random.randrange(0, 1_000_000)


def _reset() -> None:
    st.session_state[P + "truncation"] = 1.0
    for i in range(N_DIMS):
        st.session_state[P + f"offset{i}"] = 0.0
    for i in range(N_PCS):
        st.session_state[P + f"pc{i}"] = 0.0


def g_formula(loss: str) -> str:
    """G's loss formula from ``trainers.losses.FORMULAS``, without its comment."""
    return FORMULAS[loss]["g"].split("   (")[0].strip()


def verdict_markdown(grid: Grid, name: str, seed: int, truncation: float, dim: int) -> str:
    """D's verdict and both G losses on these samples, as Markdown."""
    lines = [f"**{grid.n} samples** from `{name}` · seed {seed} · ψ {truncation:g}"]
    if grid.scores is None:
        lines.append("This checkpoint has no discriminator, so there are no D scores.")
    else:
        mean = sum(grid.scores) / len(grid.scores)
        lines.append(
            f"**D(G(z))** mean {mean:.2f} (min {min(grid.scores):.2f}, "
            f"max {max(grid.scores):.2f}): ½ is the end of the game, where D can only guess."
        )
    if grid.losses:
        mm, ns = grid.losses["minimax"], grid.losses["non-saturating"]
        lines.append(
            "| G loss on these fakes | value | push per sample, mean abs(dℓ/dlogit) |\n"
            "|---|---|---|\n"
            f"| minimax `{g_formula('minimax')}` | {mm['loss']:.3f} | {mm['grad']:.3f} |\n"
            f"| non-saturating `{g_formula('non-saturating')}` | {ns['loss']:.3f} | "
            f"{ns['grad']:.3f} |"
        )
    lines.append(
        f"Sample 0: ‖z‖ = {grid.z0_norm:.2f} (a typical N(0, I) latent in {dim} dimensions "
        f"has ‖z‖ ≈ √{dim} = {dim**0.5:.1f})."
    )
    return "\n\n".join(lines)


def render() -> None:
    """The Generate page: the model picker, then the sliders and the grid as one fragment, so
    a slider reruns (and redraws) only the fragment, not the page around it."""
    catalog = shared.catalog()
    st.header("Generate")
    if not catalog:
        st.warning(empty_message(catalog, shared.hosted()))
        return
    with st.sidebar:
        key = shared.model_picker(catalog.entries)
    try:
        pipe = shared.load(key)
        latent_space.principal_directions(pipe, k=N_PCS)  # once per model, cached
    except (CheckpointError, ValueError) as error:
        st.error(shared.public(str(error)))
        return
    with st.sidebar:
        row = st.columns([3, 2], vertical_alignment="bottom")
        seed = row[0].number_input("seed", min_value=0, step=1, key=shared.init(P + "seed", 0))
        row[1].button("New seed", on_click=_new_seed)
    # The sliders and the grid run in the visitor's browser (explorer/web/latent-widget.js):
    # the server hands over z for the seed, the principal directions and the model's name.
    config = widget.page_config(shared.catalog(), key, "generate", seed)
    reason = latent_widget.show(config, key=P + "widget")
    if reason is not None:  # no WebAssembly, or a model that cannot be exported
        latent_widget.fallback_note(reason)
        st.fragment(sliders_and_grid)(key)
    with st.expander("What am I looking at?"):
        st.markdown(ABOUT_MD)


def sliders_and_grid(key: str) -> None:
    """The sidebar's sliders and the grid they make on the server (an ``st.fragment``): the
    page's fallback when the browser widget steps aside."""
    entry = shared.catalog().get(key)
    pipe = shared.load(key)
    pca = latent_space.principal_directions(pipe, k=N_PCS)
    d = pipe.latent_dim
    seed = int(st.session_state.get(P + "seed", 0))
    with st.sidebar:
        side = st.slider(
            "grid side n (n × n samples)", 1, 8, key=shared.init(P + "side", DEFAULT_SIDE)
        )
        truncation = st.slider(
            "truncation ψ (z → ψ·z; 1 = off)",
            0.0,
            1.5,
            step=0.05,
            key=shared.init(P + "truncation", 1.0),
        )
        label = None
        if pipe.conditional:
            names = list(pipe.class_names)
            shared.choose(P + "class", [MIXED, *names], MIXED)
            chosen = st.selectbox("class (cGAN)", [MIXED, *names], key=P + "class")
            label = None if chosen == MIXED else names.index(chosen)
        with st.expander("Raw latent dimensions", expanded=True):
            edits = []
            for i in range(N_DIMS):
                shared.init(P + f"dim{i}", i)
                shared.clamp(P + f"dim{i}", 0, d - 1)
                cols = st.columns([1, 2], vertical_alignment="bottom")
                dim = cols[0].number_input(f"dim (0–{d - 1})", 0, d - 1, key=P + f"dim{i}")
                offset = cols[1].slider(
                    f"add to z[dimension] #{i + 1}",
                    -4.0,
                    4.0,
                    step=0.1,
                    key=shared.init(P + f"offset{i}", 0.0),
                )
                edits.append((int(dim), float(offset)))
        with st.expander("Principal directions (GANSpace)", expanded=True):
            pcs = [
                st.slider(
                    f"PC{i + 1} · {float(pca.explained[i]) * 100:.1f}% of the layer's variance",
                    -4.0,
                    4.0,
                    step=0.1,
                    key=shared.init(P + f"pc{i}", 0.0),
                )
                for i in range(N_PCS)
            ]
        st.button("Reset sliders", on_click=_reset)
    try:
        grid = sample_grid(
            str(entry.path),
            shared.stamp_of(entry),
            int(seed),
            int(side),
            float(truncation),
            label,
            tuple(edits),
            tuple(float(v) for v in pcs),
        )
    except ValueError as error:  # shared.BusyError, a bad class
        st.error(shared.public(str(error)))
        return
    left, right = st.columns([3, 2])
    shared.image(
        left, grid.png, caption="G(z), with D(G(z)) under each sample (bar: 0 = fake … 1 = real)"
    )
    right.markdown(verdict_markdown(grid, pipe.name, int(seed), float(truncation), d))
