"""The explorer's plain functions (explorer.latents, explorer.checkpoints and the tab handlers)
and the latent maths behind them (trainers.latent_space, trainers.activations), tested without a
browser on tiny checkpoints trained in a temporary folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import train_run
from PIL import Image

from explorer import checkpoints, latents, summary
from explorer.gradio_ui.tabs import classes, generate, inside, interpolate
from trainers import activations, latent_space
from trainers.checkpoint import CheckpointError
from trainers.data import to_uint8_images
from trainers.losses import g_loss_report
from trainers.pipeline import GANPipeline

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.py


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with one tiny trained run per family: <root>/<family>/checkpoint/."""
    root = tmp_path_factory.mktemp("explorer-runs")
    for family in ("dcgan", "cgan", "mlp-gan"):
        train_run(root / family, family)
    return root


@pytest.fixture(scope="module")
def catalog(runs: Path) -> checkpoints.Catalog:
    return checkpoints.discover([runs], include_default=False)


def load(catalog: checkpoints.Catalog, key: str) -> GANPipeline:
    return catalog.load(key)


# --- discovery and loading -------------------------------------------------------------------


def test_discovery_finds_run_checkpoints_with_labels(catalog: checkpoints.Catalog) -> None:
    assert sorted(catalog.keys()) == ["cgan", "dcgan", "mlp-gan"]
    assert catalog.keys()[0] == "dcgan"  # DCGAN first among same-sized models
    label = catalog.get("cgan").label
    assert "cGAN" in label and "synthetic" in label and "4 steps" in label
    assert catalog.default_key(conditional=True) == "cgan"
    assert [k for _, k in catalog.choices(conditional_only=True)] == ["cgan"]
    assert catalog.load("dcgan") is catalog.load("dcgan")  # cached


def test_missing_and_corrupt_checkpoints_give_clear_messages(
    runs: Path, tmp_path: Path, catalog
) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint named 'nope'; available: "):
        catalog.get("nope")
    with pytest.raises(CheckpointError, match="does not exist"):
        checkpoints.load_cached(tmp_path / "missing")

    bad = tmp_path / "bad"
    shutil.copytree(runs / "dcgan", bad / "truncated")
    weights = bad / "truncated" / "checkpoint" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    shutil.copytree(runs / "dcgan", bad / "badjson")
    (bad / "badjson" / "checkpoint" / "meta.json").write_text("{not json")
    found = checkpoints.discover([bad], include_default=False)
    assert found.keys() == ["truncated"]  # meta.json is fine, so it is offered ...
    assert any("not valid JSON" in p for p in found.problems)  # ... the broken one is explained
    image, text = generate.on_generate("truncated", catalog=found)
    assert image is None and "truncated or corrupt" in text  # ... and loading it says why

    empty = checkpoints.discover([tmp_path / "nowhere"], include_default=False)
    assert not empty and "does not exist" in empty.problems[0]
    image, text = generate.on_generate(None, catalog=empty)
    assert image is None and "no checkpoint chosen; available: none" in text


# --- latents ---------------------------------------------------------------------------------


def test_sample_latents_are_seeded_and_do_not_depend_on_the_grid_size(catalog) -> None:
    pipe = load(catalog, "dcgan")  # latent_dim 8
    z4, z16 = pipe.latents(7, 4), pipe.latents(7, 16)
    assert z4.shape == (4, 8) and z16.shape == (16, 8) and z4.dtype == torch.float32
    assert torch.equal(z4, z16[:4])
    assert not torch.equal(z4, pipe.latents(8, 4))
    assert torch.equal(pipe.latents(7, 4, truncation=0.5), z4 * 0.5)
    edited = latent_space.edit_dimensions(z4, [(3, 1.5), (99, 2.0)])  # 99: clamped to the last
    assert torch.allclose(edited[:, 3], z4[:, 3] + 1.5) and torch.allclose(
        edited[:, 7], z4[:, 7] + 2.0
    )


def test_same_seed_same_image_and_shapes(catalog: checkpoints.Catalog) -> None:
    for key in catalog.keys():
        ckpt = load(catalog, key)
        z = latent_space.build_latents(ckpt, seed=3, n=6)
        out = ckpt(latents=z, labels=ckpt.class_labels(6))
        assert out.images.shape == (6, 8, 8, 1) and out.images.dtype == np.uint8
        assert out.scores.shape == (6,) and ((out.scores > 0) & (out.scores < 1)).all()
        a, text = generate.on_generate(key, seed=3, grid=3, catalog=catalog)
        b, _ = generate.on_generate(key, seed=3, grid=3, catalog=catalog)
        c, _ = generate.on_generate(key, seed=4, grid=3, catalog=catalog)
        assert a.ndim == 3 and a.shape[2] == 3 and a.dtype == np.uint8
        assert np.array_equal(a, b) and not np.array_equal(a, c)
        assert "D(G(z))" in text and "non-saturating" in text


def test_principal_directions_are_orthonormal_and_cached(catalog: checkpoints.Catalog) -> None:
    for key in catalog.keys():
        ckpt = load(catalog, key)
        pca = latent_space.principal_directions(ckpt, k=5, n_samples=300)
        d = pca.directions
        assert d.shape == (5, ckpt.latent_dim)
        assert torch.allclose(d @ d.T, torch.eye(5), atol=1e-5)
        assert (pca.explained > 0).all() and pca.explained.sum() <= 1 + 1e-6
        assert (pca.explained[:-1] >= pca.explained[1:] - 1e-6).all()  # most important first
        assert latent_space.principal_directions(ckpt, k=5, n_samples=300) is pca
    ckpt = load(catalog, "dcgan")
    z = ckpt.latents(0, 2)
    moved = latent_space.apply_directions(z, pca.directions, [2.0, 0, 0, 0, 0])
    assert torch.allclose((moved - z).norm(dim=1), torch.tensor([2.0, 2.0]), atol=1e-5)


def test_g_loss_report_matches_the_textbook_gradients() -> None:
    logits = torch.tensor([-4.0, 0.0, 3.0])
    report = g_loss_report(logits)
    p = torch.sigmoid(logits)
    assert report["minimax"]["grad"] == pytest.approx(
        p.mean().item(), abs=1e-6
    )  # d log(1-σ)/dl = -σ
    assert report["non-saturating"]["grad"] == pytest.approx((1 - p).mean().item(), abs=1e-6)
    assert report["non-saturating"]["loss"] == pytest.approx(
        torch.nn.functional.softplus(-logits).mean().item()
    )


# --- classes ---------------------------------------------------------------------------------


def test_one_z_every_class_and_one_class_grid(catalog: checkpoints.Catalog) -> None:
    ckpt = load(catalog, "cgan")
    out, ncol = latent_space.one_z_every_class(ckpt, seed=1, rows=2)
    assert ncol == 2 and out.images.shape == (4, 8, 8, 1)
    one = latent_space.one_class_grid(ckpt, 1, seed=1, n=4)
    assert one.images.shape == (4, 8, 8, 1)
    every_picture, one_picture, text = classes.on_classes(
        "cgan", "class 1", 1, 2, 2, catalog=catalog
    )
    assert every_picture.shape[2] == 3 and one_picture.shape[2] == 3 and "class 1" in text
    with pytest.raises(ValueError, match="unconditional dcgan: it has no classes"):
        latent_space.one_z_every_class(load(catalog, "dcgan"), seed=1)
    assert classes.on_classes("dcgan", None, catalog=catalog)[2].startswith("⚠️")


# --- interpolation ---------------------------------------------------------------------------


def test_lerp_and_slerp_endpoints_are_exactly_the_end_latents() -> None:
    a, b = torch.randn(64, generator=torch.Generator().manual_seed(0)), torch.randn(64)
    for method in ("lerp", "slerp"):
        path = latent_space.interpolation_path(a, b, 9, method)
        assert path.shape == (9, 64)
        assert torch.equal(path[0], a) and torch.equal(path[-1], b)
    slerp = latent_space.slerp
    assert torch.equal(slerp(a, b, 0.0), a) and torch.equal(slerp(a, b, 1.0), b)
    lerp_mid = latent_space.lerp(a, b, 0.5).norm()
    slerp_mid = slerp(a, b, 0.5).norm()
    ends = (a.norm() + b.norm()) / 2
    assert slerp_mid > lerp_mid and abs(slerp_mid - ends) < 0.1 * ends  # slerp keeps the norm
    assert torch.allclose(slerp(a, a, torch.tensor([0.3])), a[None])  # parallel: no NaN


def test_interpolation_gif_has_n_frames(catalog: checkpoints.Catalog, tmp_path: Path) -> None:
    ckpt = load(catalog, "dcgan")
    interp = latent_space.interpolate_seeds(ckpt, 0, 1, 7)
    assert interp.images["lerp"].shape == (7, 8, 8, 1) and interp.images["slerp"].shape == (
        7,
        8,
        8,
        1,
    )
    assert np.array_equal(interp.images["lerp"][0], interp.images["slerp"][0])  # same ends
    path = latents.write_gif(latents.gif_frames(interp), tmp_path / "walk.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 7
    strip, gif_path, download, text = interpolate.on_interpolate("dcgan", frames=5, catalog=catalog)
    assert strip.shape[2] == 3 and gif_path == download and "5 frames" in text
    with Image.open(gif_path) as gif:
        assert gif.n_frames == 5


def test_class_interpolation_ends_are_the_two_classes(catalog: checkpoints.Catalog) -> None:
    ckpt = load(catalog, "cgan")
    interp = latent_space.interpolate_classes(ckpt, seed=2, class_a=0, class_b=1, frames=4)
    z = ckpt.latents(2, 1)
    for frame, label in ((0, 0), (-1, 1)):
        direct = ckpt(latents=z, labels=[label]).images[0]
        assert np.array_equal(interp.images["slerp"][frame], direct)
    *_, text = interpolate.on_interpolate(
        "cgan", interpolate.CLASSES, 2, 0, "class 0", "class 1", 4, catalog=catalog
    )
    assert "class **class 0** → **class 1**" in text


# --- inside the generator --------------------------------------------------------------------


def test_feature_maps_are_the_generators_own_activations(catalog: checkpoints.Catalog) -> None:
    """Inside the generator: z first, then what each of G's layers computed for it, in forward
    order (a layer of a Sequential fed the map before it gives its own map), and last the
    image G returns for that z; a flat vector G reshapes is drawn as the channels it becomes."""
    for key in catalog.keys():
        pipe = load(catalog, key)
        z = pipe.latents(0, 1)[0]  # (latent_dim,)
        label = 1 if pipe.conditional else None
        maps = latents.feature_maps(pipe, z, label)
        trace = activations.trace_forward(pipe, z, label)
        leaves = dict(pipe.generator.named_modules())
        assert (maps[0].name, maps[0].shape) == ("z", (pipe.latent_dim,))
        assert [(m.name, m.shape) for m in maps[1:-1]] == [(o.name, o.shape) for o in trace.layers]
        assert (maps[-1].name, maps[-1].shape) == ("output image", pipe.image_shape)
        assert all(m.image.ndim == 3 and m.image.shape[2] == 3 for m in maps), key
        checked = 0
        for before, after in zip(trace.layers, trace.layers[1:], strict=False):
            parent, _, index = after.name.rpartition(".")
            if index.isdigit() and before.name == f"{parent}.{int(index) - 1}":
                with torch.no_grad():  # clone: an in-place ReLU must not change the record
                    again = leaves[after.name](before.value[None].clone())[0]
                torch.testing.assert_close(again, after.value)
                checked += 1
        assert checked >= 2, key
        torch.testing.assert_close(trace.layers[-1].value.flatten(), trace.image.flatten())
        drawn = pipe(latents=z[None], labels=label).images[0]  # uint8 (H, W, C)
        assert np.array_equal(to_uint8_images(trace.image[None])[0], drawn)
        if pipe.spec.convolutional:  # the projection's k·s·s numbers are shown as k channels
            side = trace.feature_side
            flat = next(m for m in maps if "reshaped by the model" in m.note)
            assert f"to {flat.shape[0] // side**2}×{side}×{side}" in flat.note
    dcgan = latents.feature_maps(load(catalog, "dcgan"), torch.zeros(8))
    picture, table = inside.on_inside("dcgan", *generate.default_settings(), 0, catalog=catalog)
    assert picture.ndim == 3 and picture.shape[2] == 3 and picture.shape[0] > 3 * 64
    assert "ConvTranspose2d(" in table and table.count("\n| ") == 1 + len(dcgan)  # header + rows


def test_hooks_are_removed_after_use(catalog: checkpoints.Catalog) -> None:
    ckpt = load(catalog, "cgan")
    latents.feature_maps(ckpt, torch.zeros(8), 0)
    latent_space.interpolate_classes(ckpt, 0, 0, 1, 3)
    latent_space.principal_directions(ckpt, k=2, n_samples=50, seed=5)
    assert all(not m._forward_hooks for m in ckpt.generator.modules())


def test_upsampling_period_and_first_image(catalog: checkpoints.Catalog) -> None:
    assert activations.upsampling_period(load(catalog, "dcgan")) == (4, "convtranspose")
    assert activations.upsampling_period(load(catalog, "mlp-gan")) is None
    image = activations.first_image(load(catalog, "cgan"), seed=0)
    assert image.shape == (1, 1, 8, 8) and image.abs().max() <= 1


def test_summary_and_labels_show_metrics() -> None:
    meta = {
        "model": "dcgan",
        "dataset": "mnist",
        "step": 3000,
        "image_shape": [1, 28, 28],
        "latent_dim": 100,
        "metrics": {"classifier_fid": 4.2109, "label_accuracy": 0.9},
        "config": {"upsample": "resize-conv"},
    }
    assert (
        checkpoints.describe(meta, "x")
        == "DCGAN (resize-conv) · MNIST · 3,000 steps · cFID 4.21 · label acc 0.9 — x"
    )
    entry = checkpoints.CheckpointEntry("x", Path("x"), meta, "x")
    assert "FID 4.2" in summary.summary_markdown(
        summary.model_summary(entry.meta)
    )  # plain words: explorer/summary.py
    json.dumps(meta)  # labels come from JSON-ready metadata
