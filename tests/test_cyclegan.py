"""CycleGAN: network shapes, the cycle loss, the image pool, training, checkpoints, resume and
the translate CLI. Everything runs on tiny random images in a few seconds."""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from trainers import cli
from trainers.checkpoint import load_checkpoint, read_meta
from trainers.cli.cyclegan import add_arguments, run_from_args
from trainers.cyclegan import (
    CycleGANTrainConfig,
    CycleGANTrainer,
    CycleGANUserError,
    ImagePool,
    cycle_loss,
    load_training_images,
    lr_at,
    prepare_image,
    resume_trainer,
)
from trainers.models.cyclegan import (
    CycleGANConfig,
    CycleGANDiscriminators,
    CycleGANGenerators,
    PatchDiscriminator,
    ResnetGenerator,
)
from trainers.registry import get_spec

TINY = {"ngf": 4, "ndf": 4, "n_residual_blocks": 1}


# --- shapes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("upsample", ["convtranspose", "resize-conv"])
@pytest.mark.parametrize("size", [16, 32, 64, 256])
def test_generator_keeps_the_image_shape(size: int, upsample: str) -> None:
    g = ResnetGenerator(CycleGANConfig(image_size=max(size, 16), upsample=upsample, **TINY))
    x = torch.rand(2, 3, size, size) * 2 - 1
    y = g(x)
    assert y.shape == (2, 3, size, size)
    assert y.abs().max() <= 1.0  # tanh


def test_generator_takes_non_square_multiples_of_four() -> None:
    g = ResnetGenerator(CycleGANConfig(**TINY))
    assert g(torch.zeros(1, 3, 48, 80)).shape == (1, 3, 48, 80)


@pytest.mark.parametrize("size", [32, 64, 128, 256])
def test_patch_discriminator_grid(size: int) -> None:
    d = PatchDiscriminator(CycleGANConfig(image_size=size, **TINY))
    # three stride-2 convs (H/8), then two 4x4 stride-1 convs with padding 1 (-1 each)
    assert d(torch.zeros(2, 3, size, size)).shape == (2, 1, size // 8 - 2, size // 8 - 2)


def test_full_size_discriminator_is_the_70px_patchgan() -> None:
    d = PatchDiscriminator(CycleGANConfig(image_size=256))
    widths = [m.out_channels for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert widths == [64, 128, 256, 512, 1]
    assert d(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)


def test_wrappers_and_registry_build_both_directions() -> None:
    spec = get_spec("cyclegan")
    config = spec.make_config((3, 32, 32), **TINY)
    generators, discriminators = spec.build(config)
    assert isinstance(generators, CycleGANGenerators) and isinstance(
        discriminators, CycleGANDiscriminators
    )
    x = torch.zeros(1, 3, 32, 32)
    assert generators(x, "a2b").shape == generators(x, "b2a").shape == x.shape
    assert discriminators(x, "a").shape == (1, 1, 2, 2)
    with pytest.raises(ValueError, match="direction"):
        generators(x, "sideways")


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="upsample"):
        CycleGANConfig(upsample="bilinear")
    with pytest.raises(ValueError, match="multiple of 4"):
        CycleGANConfig(image_size=30)


# --- losses, pool, schedule --------------------------------------------------------------------


def test_cycle_loss_is_zero_for_identity_mappings() -> None:
    a, b = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    assert cycle_loss(nn.Identity(), nn.Identity(), a, b).item() == 0.0
    assert cycle_loss(lambda x: x + 0.1, lambda x: x, a, b).item() == pytest.approx(
        10 * 2 * 0.1, rel=1e-5
    )


def test_image_pool_fills_then_mixes_old_and_new() -> None:
    pool, rng = ImagePool(50), torch.Generator().manual_seed(0)
    for i in range(50):  # filling: every new fake is stored and returned unchanged
        new = torch.full((1, 3, 2, 2), float(i))
        assert torch.equal(pool.query(new, rng), new)
    assert len(pool) == 50
    returned_old = 0
    for i in range(50, 250):
        out = pool.query(torch.full((1, 3, 2, 2), float(i)), rng)
        returned_old += int(out[0, 0, 0, 0].item() != i)
    assert len(pool) == 50  # never grows past its size
    assert 70 < returned_old < 130  # about half of 200 (the 50/50 rule)


def test_image_pool_is_seeded_and_can_be_off() -> None:
    fakes = [torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(i)) for i in range(40)]
    runs = []
    for _ in range(2):
        pool, rng = ImagePool(10), torch.Generator().manual_seed(3)
        runs.append(torch.cat([pool.query(f, rng) for f in fakes]))
    assert torch.equal(runs[0], runs[1])
    assert torch.equal(ImagePool(0).query(fakes[0], torch.Generator()), fakes[0])


def test_lr_is_constant_then_linear_to_zero() -> None:
    cfg = CycleGANTrainConfig(steps=100, decay_start=60, lr=2e-4)
    assert lr_at(0, cfg) == lr_at(59, cfg) == 2e-4
    assert lr_at(80, cfg) == pytest.approx(1e-4)
    assert lr_at(100, cfg) == 0.0
    assert CycleGANTrainConfig(steps=10).decay_start == 5


# --- training, checkpoints, resume, translate ----------------------------------------------------


def _write_images(folder: Path, n: int, size: int, seed: int, mode: str = "RGB") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        array = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(array).convert(mode).save(folder / f"img_{i}.png")
    return folder


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("h2z")
    a = _write_images(root / "trainA", 5, 40, seed=1)
    b = _write_images(root / "trainB", 4, 36, seed=2, mode="L")  # grayscale files become RGB
    return a, b


def _args(out: Path, data: tuple[Path, Path], *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = [
        "--data-a",
        str(data[0]),
        "--data-b",
        str(data[1]),
        "--out",
        str(out),
        "--image-size",
        "32",
        "--ngf",
        "4",
        "--ndf",
        "4",
        "--n-blocks",
        "1",
        "--precision",
        "fp32",
        "--num-samples",
        "2",
    ]
    return parser.parse_args(base + list(extra))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, data: tuple[Path, Path]) -> Path:
    out = tmp_path_factory.mktemp("run") / "cg"
    assert (
        run_from_args(_args(out, data, "--steps", "2", "--sample-every", "1", "--log-every", "1"))
        == 0
    )
    return out


def test_two_step_run_writes_checkpoint_log_and_samples(tiny_run: Path) -> None:
    meta = read_meta(tiny_run / "checkpoint")
    assert meta["model"] == "cyclegan" and meta["step"] == 2
    assert meta["config"]["image_size"] == 32 and meta["train_config"]["load_size"] == 36
    assert {"command", "wall_time_s", "device", "train_config"} <= set(meta)
    assert (tiny_run / "checkpoint" / "train_state.safetensors").is_file()
    assert (tiny_run / "samples" / "step_000002.png").is_file()
    grid = np.asarray(Image.open(tiny_run / "samples" / "step_000002.png"))
    assert grid.shape == (2 * 34 + 2, 6 * 34 + 2, 3)  # 2 rows x 6 columns of 32 px + padding
    lines = [json.loads(line) for line in (tiny_run / "log.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2]
    assert {"d_a", "d_b", "g_gan", "cycle", "identity", "d", "g", "lr"} <= set(lines[-1])


def test_checkpoint_round_trip_gives_identical_outputs(
    tiny_run: Path, data: tuple[Path, Path]
) -> None:
    loaded = load_checkpoint(tiny_run)
    trainer = resume_trainer(tiny_run)
    trainer.generators.eval()
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        for direction in ("a2b", "b2a"):
            assert torch.equal(loaded.generator(x, direction), trainer.generators(x, direction))


def test_resume_continues_step_schedule_and_weights_exactly(
    tmp_path: Path, data: tuple[Path, Path]
) -> None:
    """4 steps in one go == 2 steps, stop, resume to 4 (weights, step, LR, pool)."""
    straight = tmp_path / "straight"
    run_from_args(_args(straight, data, "--steps", "4", "--decay-start", "1", "--pool-size", "2"))

    parser_args = _args(
        tmp_path / "split", data, "--steps", "4", "--decay-start", "1", "--pool-size", "2"
    )
    stop = threading.Event()
    first = _trainer_from_args(parser_args)
    first.run(lambda e: stop.set() if getattr(e, "step", 0) == 2 else None, stop=stop)
    assert first.step == 2 and read_meta(tmp_path / "split")["lr"] == pytest.approx(
        lr_at(2, first.config)
    )
    resumed = resume_trainer(tmp_path / "split")
    assert resumed.step == 2 and resumed.config.decay_start == 1 and len(resumed.pool_a) == 2
    lrs = []
    resumed.run(lambda e: lrs.append(e.losses["lr"]) if hasattr(e, "losses") else None)
    assert resumed.step == 4
    assert lrs == pytest.approx([2e-4 * 2 / 3, 2e-4 * 1 / 3])  # steps 3 and 4 on the 1 -> 4 decay
    a, b = load_checkpoint(straight), load_checkpoint(tmp_path / "split")
    for (name, p), q in zip(
        a.generator.state_dict().items(), b.generator.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q), name


def _trainer_from_args(args: argparse.Namespace) -> CycleGANTrainer:
    model_config = CycleGANConfig(image_size=32, ngf=4, ndf=4, n_residual_blocks=1)
    train = CycleGANTrainConfig(
        data_a=str(args.data_a),
        data_b=str(args.data_b),
        steps=4,
        decay_start=1,
        pool_size=2,
        load_size=36,
        precision="fp32",
        num_samples=2,
        sample_every=0,
        checkpoint_every=0,
    )
    return CycleGANTrainer(
        model_config, train, *load_training_images(train, model_config), out_dir=args.out
    )


def test_existing_run_needs_resume(tiny_run: Path, data: tuple[Path, Path]) -> None:
    with pytest.raises(CycleGANUserError, match="--resume"):
        run_from_args(_args(tiny_run, data, "--steps", "2"))


def test_a_second_cyclegan_on_the_same_run_folder_refuses(
    tiny_run: Path, data: tuple[Path, Path]
) -> None:
    from trainers.runlock import RunLock, RunLockedError

    before = (tiny_run / "checkpoint" / "meta.json").read_bytes()
    with RunLock(tiny_run, "the first run"), pytest.raises(RunLockedError, match="the first run"):
        run_from_args(_args(tiny_run, data, "--resume", "--steps", "3"))
    assert (tiny_run / "checkpoint" / "meta.json").read_bytes() == before  # nothing touched


def test_translate_cli_writes_an_image(tiny_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "wide.jpg"
    Image.fromarray(np.full((30, 70, 3), 128, np.uint8)).save(source)
    out = tmp_path / "out.png"
    code = cli.main(
        [
            "translate",
            str(tiny_run),
            "--direction",
            "b2a",
            "--input",
            str(source),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    # default size: twice the 32 px training size -> shorter side 64, width 70 * 64/30 = 149 -> 148
    assert Image.open(out).size == (148, 64)


def test_translate_cli_refuses_a_non_image(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = tmp_path / "notes.jpg"
    source.write_text("this is not a picture")
    code = cli.main(
        ["translate", str(tiny_run), "--input", str(source), "--out", str(tmp_path / "o.png")]
    )
    assert code == 2
    assert "notes.jpg is not an image" in capsys.readouterr().err


def test_prepare_image_sizes() -> None:
    assert prepare_image(Image.new("RGB", (1000, 500)), 128).size == (256, 128)
    assert prepare_image(Image.new("L", (5000, 100)), 128, max_side=512).size == (
        512,
        8,
    )  # long strip capped


def test_explorer_functions(tiny_run: Path, tmp_path: Path) -> None:
    from explorer import translate as tr

    pretrained = tmp_path / "pretrained"
    pretrained.mkdir()
    (pretrained / "cg").symlink_to(tiny_run / "checkpoint", target_is_directory=True)
    found = tr.list_cyclegan_checkpoints(pretrained)
    assert [folder for _, folder in found] == [str(pretrained / "cg")]
    result = tr.translate(found[0][1], tr.example_image("chelsea (a cat)"), "a2b")
    assert result.translated.shape == result.reconstruction.shape == result.input.shape
    assert result.input.shape[0] == 64 and result.input.shape[2] == 3
    bad = tmp_path / "x.png"
    bad.write_bytes(b"%PDF-1.4 not an image")
    with pytest.raises(ValueError, match="not an image"):
        tr.load_image(str(bad), 64)


def test_gan_train_help_lists_the_cyclegan_commands(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert "cyclegan" in text and "translate" in text and "evaluate-cyclegan" in text


def test_export_keeps_generators_only_and_translates_the_same(
    tiny_run: Path, tmp_path: Path
) -> None:
    from trainers.cyclegan import export_generators

    out = export_generators(tiny_run, tmp_path / "shipped", half=True, name="tiny")
    meta = read_meta(out)
    assert meta["weights_dtype"] == "float16" and meta["step"] == 2 and meta["name"] == "tiny"
    assert not (out / "train_state.safetensors").exists()
    shipped, full = load_checkpoint(out), load_checkpoint(tiny_run)
    assert shipped.discriminator is None
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():  # float16 storage: equal to about 3 decimals
        assert torch.allclose(shipped.generator(x, "a2b"), full.generator(x, "a2b"), atol=2e-2)


def test_evaluation_reports_rates_and_writes_grids(
    tiny_run: Path, data: tuple[Path, Path], tmp_path: Path
) -> None:
    from trainers.cyclegan import DomainClassifier, evaluate_cyclegan

    torch.manual_seed(0)
    result = evaluate_cyclegan(
        tiny_run, data[0], data[1], DomainClassifier(8).eval(), tmp_path / "eval", grid_n=2
    )
    assert result["test_images"] == {"a": 5, "b": 4}
    for key in ("cycle_l1_a", "a2b_target_rate", "b2a_target_rate", "a2b_rate_on_untouched_test_a"):
        assert 0.0 <= result[key] <= 2.0
    assert (tmp_path / "eval" / "before_after_32px.png").is_file()
    assert (tmp_path / "eval" / "before_after_64px.png").is_file()
    assert json.loads((tmp_path / "eval" / "results.json").read_text())["step"] == 2


def test_domain_classifier_round_trips_and_refuses_other_folders(tmp_path: Path) -> None:
    from trainers.checkpoint import CheckpointError
    from trainers.cyclegan import DomainClassifier, load_domain_classifier, save_domain_classifier

    torch.manual_seed(0)
    model = DomainClassifier(8).eval()
    save_domain_classifier(model, tmp_path / "clf", {"accuracy": 0.9})
    loaded, meta = load_domain_classifier(tmp_path / "clf")
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    assert torch.equal(model(x), loaded(x))
    assert meta["accuracy"] == 0.9 and meta["width"] == 8
    with pytest.raises(CheckpointError, match="--train-classifier"):
        load_domain_classifier(tmp_path / "nothing-here")
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "meta.json").write_text(
        json.dumps({"kind": "gan-explorer-classifier"})
    )
    with pytest.raises(CheckpointError, match="not a GAN Explorer domain classifier"):
        load_domain_classifier(tmp_path / "reference")


def test_ctrl_c_during_cyclegan_training_saves_a_checkpoint(
    tiny_run: Path, data: tuple[Path, Path], tmp_path: Path
) -> None:
    """The shared run loop (trainers.engine.TrainingLoop) saves on KeyboardInterrupt."""
    import shutil

    from trainers.cyclegan import resume_trainer

    run = tmp_path / "cg"
    shutil.copytree(tiny_run, run)  # the module's run stays at step 2 for the other tests
    trainer = resume_trainer(run)
    trainer.config.steps = 10
    real_step = trainer.train_step

    def interrupted_at_step_4():
        if trainer.step == 3:
            trainer.step += 1
            raise KeyboardInterrupt
        return real_step()

    trainer.train_step = interrupted_at_step_4
    with pytest.raises(KeyboardInterrupt):
        trainer.run()
    assert read_meta(run)["step"] == 4
