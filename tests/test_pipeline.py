"""GANPipeline: the one sampler behind `gan-train sample`, the explorer and evaluation.

The same checkpoint, seed, n, labels and truncation must give the same bytes from the CLI's
.npz, the Generate tab's handler and the pipeline itself.
"""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer import checkpoints, latents
from explorer.gradio_ui.tabs import generate
from trainers import paths
from trainers.checkpoint import CheckpointError
from trainers.cli import main
from trainers.evaluate import classifier_dir_for
from trainers.pipeline import GANPipeline, PipelineOutput
from trainers.registry import families, get_spec

PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.py


def cli_sample(run: Path, out: Path, n: int, seed: int, truncation: float, label=None):
    """`gan-train sample` into an .npz; returns (images, labels or None)."""
    args = ["sample", str(run), "--n", str(n), "--seed", str(seed)]
    args += ["--truncation", str(truncation), "--out", str(out), "--device", "cpu"]
    if label is not None:
        args += ["--label", str(label)]
    assert main(args) == 0
    with np.load(out) as npz:
        return npz["images"], (npz["labels"] if "labels" in npz.files else None)


@pytest.mark.parametrize(
    ("family", "grid", "seed", "truncation", "label"),
    [
        ("dcgan", 3, 7, 1.0, None),
        ("mlp-gan", 2, 0, 0.6, None),
        ("cgan", 2, 5, 0.8, None),  # every class in turn
        ("cgan", 2, 5, 1.0, 1),
    ],
)
def test_cli_generate_tab_and_pipeline_draw_the_same_bytes(
    trained_run, tmp_path, family, grid, seed, truncation, label
):
    run = trained_run(family)
    n = grid * grid
    cli_images, cli_labels = cli_sample(run, tmp_path / "s.npz", n, seed, truncation, label)

    pipe = GANPipeline.from_pretrained(run)
    direct = pipe(n=n, seed=seed, labels=pipe.class_labels(n, label), truncation=truncation)

    catalog = checkpoints.discover([run], include_default=False)
    key = catalog.keys()[0]
    ckpt = catalog.load(key)
    class_name = generate.MIXED if label is None else ckpt.class_names[label]
    tab, _, _ = generate.generate_batch(ckpt, seed, grid, truncation, class_name)

    assert cli_images.dtype == np.uint8 and cli_images.shape == (n, 8, 8, 1)
    assert cli_images.tobytes() == direct.images.tobytes() == tab.images.tobytes()
    if family == "cgan":
        assert np.array_equal(cli_labels, direct.labels.numpy())
        assert np.array_equal(cli_labels, tab.labels.numpy())
    else:
        assert cli_labels is None and direct.labels is None
    # ... and the picture the Generate tab shows is made of exactly these tiles.
    picture, text = generate.on_generate(key, seed, grid, truncation, class_name, catalog=catalog)
    expected = latents.captioned_grid(
        cli_images,
        grid,
        latents.score_captions(direct.scores),
        direct.scores,
        top_margin=generate.LABEL_MARGIN,
    )
    assert np.array_equal(picture, expected) and f"{n} samples" in text


def test_row_i_does_not_depend_on_n(trained_run):
    pipe = GANPipeline.from_pretrained(trained_run("dcgan"))
    small, large = pipe(n=3, seed=11), pipe(n=12, seed=11)
    assert torch.equal(small.latents, large.latents[:3])
    assert np.array_equal(small.images, large.images[:3])
    assert np.allclose(small.scores, large.scores[:3], atol=1e-6)
    assert not np.array_equal(small.images, pipe(n=3, seed=12).images)


def test_output_fields_and_scores_agree_with_score(trained_run):
    pipe = GANPipeline.from_pretrained(trained_run("cgan"))
    out = pipe(n=6, seed=2)
    assert isinstance(out, PipelineOutput)
    assert out.images.shape == (6, 8, 8, 1) and out.images.dtype == np.uint8
    assert out.latents.shape == (6, pipe.latent_dim) and out.latents.dtype == torch.float32
    assert out.labels.tolist() == [0, 1, 0, 1, 0, 1]
    assert out.scores.shape == (6,) and out.scores.dtype == np.float32 and out.logits.shape == (6,)
    assert np.allclose(pipe.score(out.images, out.labels), out.scores, atol=0.02)
    assert pipe(n=2, seed=2, with_scores=False).scores is None
    with pytest.raises(ValueError, match="pass labels"):
        pipe.score(out.images)  # a cGAN's D judges (image, label) pairs
    with pytest.raises(ValueError, match=r"uint8 images of shape \(N, 8, 8, 1\)"):
        pipe.score(np.zeros((2, 28, 28, 1), np.uint8), labels=0)


@pytest.mark.parametrize("family", [s.name for s in families(samples_from_noise=True)])
def test_truncation_zero_gives_the_same_image_in_every_row(trained_run, tmp_path, family):
    run = trained_run(family)
    label = 1 if get_spec(family).conditional else None
    images, _ = cli_sample(run, tmp_path / "t.npz", 5, 3, 0.0, label)
    assert all(np.array_equal(images[0], image) for image in images[1:])
    pipe = GANPipeline.from_pretrained(run)
    out = pipe(n=5, seed=9, labels=label, truncation=0.0)
    assert torch.count_nonzero(out.latents) == 0  # psi = 0: the mean latent
    assert np.array_equal(out.images, images)  # any seed: z = 0


def test_labels_are_honoured_for_a_cgan(trained_run):
    pipe = GANPipeline.from_pretrained(trained_run("cgan"))
    assert pipe.conditional and pipe.num_classes == 2
    assert pipe.class_names == ["class 0", "class 1"]
    assert pipe.class_labels(5).tolist() == [0, 1, 0, 1, 0]
    assert pipe.class_labels(3, 1).tolist() == [1, 1, 1]
    ones, zeros = pipe(n=4, seed=0, labels=1), pipe(n=4, seed=0, labels=0)
    assert ones.labels.tolist() == [1] * 4 and not np.array_equal(ones.images, zeros.images)
    mixed = pipe(n=4, seed=0, labels=[1, 0, 1, 0])
    assert np.array_equal(mixed.images[0], ones.images[0])
    assert np.array_equal(mixed.images[1], zeros.images[1])
    with pytest.raises(ValueError, match="out of range"):
        pipe(n=2, labels=2)
    with pytest.raises(ValueError, match="got 3 labels for 2 images"):
        pipe(n=2, labels=[0, 1, 0])
    unconditional = GANPipeline.from_pretrained(trained_run("dcgan"))
    assert unconditional.class_labels(4) is None and unconditional.num_classes == 0
    assert unconditional.class_names == []  # the data set's names are in meta, not G's labels
    with pytest.raises(ValueError, match="cGAN"):
        unconditional(n=2, labels=0)


def test_shipped_cgan_draws_the_asked_class():
    from trainers.evaluate import load_classifier, uint8_to_model_input

    pipe = GANPipeline.from_pretrained(PRETRAINED / "cgan-mnist")
    classifier, _ = load_classifier(classifier_dir_for("mnist"))
    out = pipe(n=20, seed=4, labels=7)
    with torch.no_grad():
        predicted = classifier(uint8_to_model_input(out.images)).argmax(1)
    assert (predicted == 7).float().mean() >= 0.8
    assert out.scores.shape == (20,) and np.isfinite(out.scores).all()


# --- from_pretrained -------------------------------------------------------------------------


def test_from_pretrained_on_a_run_folder_and_its_checkpoint_folder(trained_run):
    run = trained_run("dcgan")
    from_run = GANPipeline.from_pretrained(run)
    from_folder = GANPipeline.from_pretrained(run / "checkpoint")
    assert from_run.path == from_folder.path == run / "checkpoint"
    assert from_run.name == run.name  # a run's checkpoint/ is named after the run
    assert from_run.image_shape == (1, 8, 8) and from_run.latent_dim == 8
    assert from_run.discriminator is not None
    assert np.array_equal(from_run(n=4, seed=1).images, from_folder(n=4, seed=1).images)
    assert all(not p.requires_grad for p in from_run.generator.parameters())
    assert "GANPipeline('" in repr(from_run)


def test_from_pretrained_on_shipped_checkpoints():
    pipe = GANPipeline.from_pretrained(PRETRAINED / "dcgan-cifar10")
    out = pipe(n=2, seed=0)
    assert out.images.shape == (2, 32, 32, 3) and pipe.name == "dcgan-cifar10"


def test_from_pretrained_refuses_foreign_folders_clearly(tmp_path, trained_run):
    foreign = tmp_path / "holiday-photos"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not a model")
    with pytest.raises(CheckpointError, match="not a GAN Explorer checkpoint: it has no meta.json"):
        GANPipeline.from_pretrained(foreign)
    with pytest.raises(CheckpointError, match="does not exist"):
        GANPipeline.from_pretrained(tmp_path / "missing")
    pickled = tmp_path / "generator.pkl"
    pickled.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(CheckpointError, match="pickle"):
        GANPipeline.from_pretrained(pickled)
    with pytest.raises(CheckpointError, match="translates images rather than sampling"):
        GANPipeline.from_pretrained(PRETRAINED / "cyclegan-horse2zebra")
    broken = tmp_path / "broken"
    shutil.copytree(trained_run("dcgan") / "checkpoint", broken)
    (broken / "model.safetensors").write_bytes(b"\0" * 10)
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        GANPipeline.from_pretrained(broken)


# --- finding pretrained/ ---------------------------------------------------------------------


def test_pretrained_dir_is_found_and_the_env_var_overrides_it(tmp_path, monkeypatch, trained_run):
    monkeypatch.delenv(paths.PRETRAINED_ENV, raising=False)
    default = paths.pretrained_dir()
    assert (default / "dcgan-mnist" / "meta.json").is_file()
    assert classifier_dir_for("mnist") == default / "classifiers" / "mnist"
    assert "dcgan-mnist" in checkpoints.discover().keys()

    mine = tmp_path / "my-pretrained"
    shutil.copytree(trained_run("dcgan") / "checkpoint", mine / "tiny-dcgan")
    shutil.copytree(default / "classifiers" / "mnist", mine / "classifiers" / "mnist")
    monkeypatch.setenv(paths.PRETRAINED_ENV, str(mine))
    assert paths.pretrained_dir() == mine
    assert classifier_dir_for("mnist") == mine / "classifiers" / "mnist"
    assert checkpoints.discover().keys() == ["tiny-dcgan"]  # replaces the shipped folder

    monkeypatch.setenv(paths.PRETRAINED_ENV, str(tmp_path / "nowhere"))
    found = checkpoints.discover()
    assert not found and "does not exist" in found.problems[0]


def test_the_wheel_ships_every_pretrained_file(monkeypatch):
    """What setuptools would put into the wheel (build_py's file list, worked out from
    pyproject.toml without building anything) holds every file of pretrained/: each shipped
    checkpoint's meta.json and weights, its grids and notes, and the package's __init__.py."""
    pytest.importorskip("setuptools.config.pyprojecttoml")
    import warnings

    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    root = PRETRAINED.parent
    monkeypatch.chdir(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # setuptools' deprecation notes about pyproject fields
        dist = apply_configuration(
            Distribution({"script_name": "setup.py"}), root / "pyproject.toml"
        )
        build_py = dist.get_command_obj("build_py")
        build_py.ensure_finalized()
        outputs = build_py.get_outputs(include_bytecode=False)
    shipped = {Path(p).relative_to(build_py.build_lib).as_posix() for p in outputs}
    files = [
        p.relative_to(root).as_posix()
        for p in PRETRAINED.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ]
    assert "pretrained/__init__.py" in files and "pretrained/cgan-mnist/model.safetensors" in files
    assert sorted(set(files) - shipped) == []
