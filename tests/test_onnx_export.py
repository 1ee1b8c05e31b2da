"""ONNX export of G and D (trainers/onnx_export.py) and the widget's server side (explorer/widget.py).

Every noise-sampling family in the registry is exported and run with onnxruntime; its pixels
and D's scores must be the PyTorch pipeline's. The cache is keyed by content and lives in the
cache folder, never beside the checkpoint.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_OVERRIDES, train_run

from trainers.cli import main as gan_train
from trainers.onnx_export import (
    OnnxExportError,
    cached_export,
    content_key,
    export_onnx,
)
from trainers.pipeline import GANPipeline
from trainers.registry import families

ort = pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

NOISE_FAMILIES = [spec.name for spec in families(samples_from_noise=True)]


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("GAN_EXPLORER_CACHE", str(cache))
    return cache


def run_onnx(path: Path, feeds: dict[str, np.ndarray]) -> np.ndarray:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)[0]


def onnx_sample(export, pipe: GANPipeline, z: torch.Tensor, labels: torch.Tensor | None):
    """uint8 images (N, H, W, C) and D's scores, computed by the ONNX files alone."""
    feeds = {"z": z.numpy()} | ({"label": labels.numpy()} if labels is not None else {})
    image = run_onnx(export.generator, feeds)  # (N, C, H, W) in [-1, 1]
    uint8 = np.round((np.clip(image, -1, 1) + 1) * 127.5).astype(np.uint8).transpose(0, 2, 3, 1)
    d_feeds = {"image": image} | {k: v for k, v in feeds.items() if k != "z"}
    logit = run_onnx(export.discriminator, d_feeds)
    return uint8, 1 / (1 + np.exp(-logit))


def test_every_noise_family_is_covered_by_the_tiny_models() -> None:
    # A new family must bring a tiny configuration, or the export test below would miss it.
    assert NOISE_FAMILIES
    assert set(NOISE_FAMILIES) <= set(TINY_OVERRIDES), set(NOISE_FAMILIES) - set(TINY_OVERRIDES)


@pytest.mark.parametrize(
    "family, overrides, train",
    [(name, {}, {}) for name in NOISE_FAMILIES]
    + [
        # spectral norm (aten::vdot in its sigma) + projection D + EMA: the shipped cGAN recipe
        (
            "cgan",
            {"conditioning": "projection", "spectral_norm": True},
            {"loss": "hinge", "ema_decay": 0.9},
        ),
        ("dcgan", {}, {"ema_decay": 0.9}),
        # InfoGAN's code: argmax of z's first numbers as a one-hot (ReduceMax + Equal)
        ("dcgan", {"latent_code": 4, "spectral_norm": True}, {"loss": "hinge"}),
    ],
)
def test_export_matches_pytorch(tmp_path: Path, family: str, overrides: dict, train: dict) -> None:
    from conftest import build_trainer

    from trainers.loop import JsonlLogger

    trainer = build_trainer(family, out_dir=tmp_path / "run", model_overrides=overrides, **train)
    trainer.run(JsonlLogger(tmp_path / "run" / "log.jsonl", 1))
    pipe = GANPipeline.from_pretrained(tmp_path / "run")
    export = export_onnx(pipe, tmp_path / "onnx")
    assert export.info["max_abs_difference_from_pytorch"] < 1e-4

    out = pipe(n=9, seed=5)  # a batch size the export never saw (the batch axis is dynamic)
    images, scores = onnx_sample(export, pipe, out.latents, out.labels)
    assert images.shape == out.images.shape == (9, 8, 8, 1)
    assert np.abs(images.astype(int) - out.images.astype(int)).max() <= 1
    np.testing.assert_allclose(scores, out.scores, atol=1e-4)
    info = json.loads((tmp_path / "onnx" / "export.json").read_text())
    assert info["conditional"] == (family == "cgan")
    assert info["inputs"]["G"] == (["z", "label"] if family == "cgan" else ["z"])


def test_export_of_the_pipeline_does_not_change_it(tmp_path: Path) -> None:
    train_run(tmp_path / "run", "cgan")
    pipe = GANPipeline.from_pretrained(tmp_path / "run")
    before = pipe(n=4, seed=1)
    export_onnx(pipe, tmp_path / "onnx")
    after = pipe(n=4, seed=1)
    assert np.array_equal(before.images, after.images)
    np.testing.assert_array_equal(before.scores, after.scores)


def test_cache_is_keyed_by_content_and_kept_out_of_the_checkpoint(
    tmp_path: Path, private_cache: Path
) -> None:
    train_run(tmp_path / "run", "dcgan")
    folder = tmp_path / "run" / "checkpoint"
    before = sorted(p.name for p in folder.iterdir())
    pipe = GANPipeline.from_pretrained(folder)
    first = cached_export(pipe)
    assert first.folder.parent == private_cache / "onnx"
    assert first.folder.name == first.key == content_key(folder)
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written beside it
    stamp = first.generator.stat().st_mtime_ns
    again = cached_export(GANPipeline.from_pretrained(folder))
    assert again.folder == first.folder and again.generator.stat().st_mtime_ns == stamp

    # New weights (e.g. a resumed run saved again): a new key, a new export.
    train_run(tmp_path / "other", "dcgan", seed=7)
    other = cached_export(GANPipeline.from_pretrained(tmp_path / "other"))
    assert other.key != first.key and other.generator.is_file()


def test_broken_export_raises_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    train_run(tmp_path / "run", "mlp-gan")
    pipe = GANPipeline.from_pretrained(tmp_path / "run")

    def refuse(*args, **kwargs):
        raise RuntimeError("unsupported operator aten::fancy")

    monkeypatch.setattr(torch.onnx, "export", refuse)
    with pytest.raises(OnnxExportError, match="ONNX export failed: unsupported operator"):
        export_onnx(pipe, tmp_path / "onnx")


def test_cli_export_onnx(tmp_path: Path, capsys) -> None:
    train_run(tmp_path / "run", "cgan")
    assert gan_train(["export-onnx", str(tmp_path / "run"), "--out", str(tmp_path / "o")]) == 0
    assert {p.name for p in (tmp_path / "o").iterdir()} == {"G.onnx", "D.onnx", "export.json"}
    assert "max |ONNX - PyTorch|" in capsys.readouterr().out
    status = gan_train(["export-onnx", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")])
    assert status == 2
    assert "does not exist" in capsys.readouterr().err


# --- the widget's server side ---------------------------------------------------------------------


def decode(text: str, d: int) -> np.ndarray:
    return np.frombuffer(base64.urlsafe_b64decode(text), dtype="<f4").reshape(-1, d)


def test_widget_config_hands_out_the_samplers_z_and_the_pca(tmp_path: Path) -> None:
    from explorer import widget
    from trainers import latent_space

    train_run(tmp_path / "run", "cgan")
    pipe = GANPipeline.from_pretrained(tmp_path / "run")
    config = widget.widget_config(pipe, "generate", 11, values={"psi": 0.7, "grid": 3})
    d = pipe.latent_dim
    z = decode(config["z"], d)
    assert z.shape == (widget.MAX_GRID**2, d)
    np.testing.assert_array_equal(z, pipe.latents(11, widget.MAX_GRID**2).numpy())
    directions = decode(config["pca"]["directions"], d)
    expected = latent_space.principal_directions(pipe, k=widget.N_PCS).directions.numpy()
    np.testing.assert_array_equal(directions, expected)
    assert config["values"]["psi"] == 0.7 and config["values"]["grid"] == 3
    assert config["model"]["class_names"] == pipe.class_names
    key = config["model"]["key"]
    assert config["model_base"] == f"models/{key}/"
    assert str(tmp_path) not in json.dumps(config)  # no server path reaches the page
    assert widget.served_file(f"models/{key}/G.onnx").is_file()

    seeds = widget.widget_config(pipe, "interpolate", 3, seed_b=4)
    ab = decode(seeds["z"], d)
    np.testing.assert_array_equal(ab[0], pipe.latents(3, 1)[0].numpy())
    np.testing.assert_array_equal(ab[1], pipe.latents(4, 1)[0].numpy())


def test_widget_values_are_clamped_and_unknown_names_refused(tmp_path: Path) -> None:
    from explorer import widget

    train_run(tmp_path / "run", "dcgan")
    pipe = GANPipeline.from_pretrained(tmp_path / "run")
    values = widget.checked_values(pipe, "generate", {"grid": 99, "psi": -3, "class": 4})
    assert values["grid"] == widget.MAX_GRID and values["psi"] == 0.0
    assert values["class"] == -1  # an unconditional model draws no class
    with pytest.raises(ValueError, match="no slider 'zoom'"):
        widget.checked_values(pipe, "generate", {"zoom": 2})
    with pytest.raises(ValueError, match="not a finite number"):
        widget.checked_values(pipe, "interpolate", {"t": float("nan")})
    with pytest.raises(ValueError, match="unknown widget mode"):
        widget.default_values("paint")


def test_page_config_steps_aside_with_the_reason(tmp_path: Path) -> None:
    from explorer import checkpoints, widget

    catalog = checkpoints.discover([tmp_path], include_default=False)
    config = widget.page_config(catalog, "missing", "generate", 0)
    assert config["fallback"] and "model" not in config
    assert widget.page_config(catalog, None, "classes")["fallback"] == "no checkpoint is chosen"


@pytest.mark.parametrize(
    "path",
    [
        "../meta.json",
        "static/../../etc/passwd",
        "static/other.js",
        "models/abc/G.onnx",
        "models/0123456789abcdef0123/model.safetensors",
        "/etc/passwd",
        "",
    ],
)
def test_served_files_are_only_the_widgets(path: str) -> None:
    from explorer import widget

    assert widget.served_file(path) is None


def test_served_static_files_are_the_packages() -> None:
    from explorer import widget

    for name, source in widget.STATIC_FILES.items():
        served = widget.served_file(f"static/{name}")
        assert served is not None and served.read_bytes() == source.read_bytes()
    assert (
        widget.served_file("index.html").read_bytes()
        == (widget.WEB_DIR / "index.html").read_bytes()
    )
    gz = widget.compressed(widget.served_file("static/latent-widget.js"))
    import gzip

    assert gzip.decompress(gz.read_bytes()) == widget.STATIC_FILES["latent-widget.js"].read_bytes()
