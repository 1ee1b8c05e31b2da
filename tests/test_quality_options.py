"""The quality options: cGAN conditioning (projection, AC-GAN), DiffAugment, the classroom
preset (model and training values) and coarse-to-fine style transfer. Tiny synthetic data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import build_trainer, tiny_data

from trainers.checkpoint import load_checkpoint
from trainers.cli import build_parser
from trainers.cli.train import make_model_config, train_config
from trainers.diffaugment import DiffAugment, diff_augment, parse_policy
from trainers.engine import TrainConfig
from trainers.losses import class_loss
from trainers.models.blocks import categorical_code
from trainers.models.cgan import CONDITIONINGS, CGANConfig, CGANDiscriminator
from trainers.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from trainers.options import option_specs
from trainers.pipeline import GANPipeline
from trainers.registry import MODELS, config_from_dict, get_spec

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY_CGAN = {"latent_dim": 8, "channels": (8, 4), "embed_dim": 4}


def _discriminator(conditioning: str, **changes) -> CGANDiscriminator:
    torch.manual_seed(0)
    config = CGANConfig(image_shape=(1, 8, 8), num_classes=3, conditioning=conditioning, **changes)
    return CGANDiscriminator(config).eval()


# --- cGAN conditioning -------------------------------------------------------------------------


@pytest.mark.parametrize("spectral_norm", [False, True])
@pytest.mark.parametrize("conditioning", CONDITIONINGS)
def test_discriminator_output_shapes(conditioning: str, spectral_norm: bool) -> None:
    d = _discriminator(conditioning, spectral_norm=spectral_norm, **TINY_CGAN)
    x, y = torch.randn(5, 1, 8, 8), torch.tensor([0, 1, 2, 0, 1])
    assert d(x, y).shape == (5,)
    logits, classes = d(x, y, return_classes=True)
    assert logits.shape == (5,)
    assert torch.allclose(logits, d(x, y))
    if conditioning == "acgan":
        assert classes.shape == (5, 3)
    else:
        assert classes is None


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_label_changes_discriminator_output(conditioning: str) -> None:
    d = _discriminator(conditioning, **TINY_CGAN)
    x = torch.randn(4, 1, 8, 8)
    with torch.no_grad():
        a, b = d(x, torch.zeros(4, dtype=torch.long)), d(x, torch.full((4,), 2))
    assert not torch.allclose(a, b)


def test_acgan_label_changes_class_loss_not_realness() -> None:
    """AC-GAN's D does not see the label (Odena et al.): realness is label-free, its class head
    is what the label is checked against."""
    d = _discriminator("acgan", **TINY_CGAN)
    x = torch.randn(4, 1, 8, 8)
    with torch.no_grad():
        logits_a, classes = d(x, torch.zeros(4, dtype=torch.long), return_classes=True)
        logits_b = d(x, torch.full((4,), 2))
    assert torch.equal(logits_a, logits_b)
    assert torch.equal(logits_a, d(x, None))
    loss_a = class_loss(classes, torch.zeros(4, dtype=torch.long))
    loss_b = class_loss(classes, torch.full((4,), 2))
    assert loss_a.item() != pytest.approx(loss_b.item())
    assert class_loss(None, torch.zeros(4, dtype=torch.long)).item() == 0.0


def test_projection_is_linear_plus_inner_product() -> None:
    """logit = head(h) + <embed(y), h> (Miyato & Koyama 2018)."""
    d = _discriminator("projection", **TINY_CGAN)
    x, y = torch.randn(3, 1, 8, 8), torch.tensor([0, 1, 2])
    with torch.no_grad():
        h = d.features(x).flatten(1)
        expected = d.head(h).squeeze(1) + (d.class_embedding(y) * h).sum(1)
        assert torch.allclose(d(x, y), expected, atol=1e-6)


def test_concat_is_the_default_and_old_configs_load() -> None:
    """Checkpoints written before the option (no "conditioning" key) are concat cGANs, with the
    seed design's weight names."""
    spec = get_spec("cgan")
    old = {
        k: v for k, v in CGANConfig().__dict__.items() if k not in ("conditioning", "acgan_weight")
    }
    config = config_from_dict(spec, old)
    assert config.conditioning == "concat"
    names = set(CGANDiscriminator(config).state_dict())
    assert {"label_embedding.weight", "project_label.weight", "head.weight"} <= names
    with pytest.raises(ValueError, match="conditioning"):
        CGANConfig(conditioning="film")


def test_conditioning_is_a_cli_option() -> None:
    parser = build_parser()
    help_text = parser._subparsers._group_actions[0].choices["cgan"].format_help()
    assert "--conditioning {concat,projection,acgan}" in help_text
    assert "--acgan-weight" in help_text
    args = parser.parse_args(["cgan", "--conditioning", "projection", "--acgan-weight", "0.5"])
    config = make_model_config(get_spec("cgan"), (1, 28, 28), 10, args)
    assert (config.conditioning, config.acgan_weight) == ("projection", 0.5)
    assert "conditioning" in {s.name for s in option_specs(CGANConfig) if s.ui}


@pytest.mark.parametrize(
    "conditioning, loss, policy",
    [
        ("projection", "hinge", ""),
        ("acgan", "non-saturating", "translation"),
        ("acgan", "wgan-gp", "color,translation,cutout"),
    ],
)
def test_conditioning_trains_saves_and_loads(tmp_path, conditioning, loss, policy) -> None:
    data = tiny_data()
    trainer = build_trainer(
        "cgan",
        out_dir=tmp_path,
        data=data,
        model_overrides={"conditioning": conditioning, "spectral_norm": loss == "hinge"},
        loss=loss,
        diffaugment=policy,
        steps=3,
    )
    losses = []
    trainer.run(lambda event: losses.append(getattr(event, "losses", None)))
    assert all(np.isfinite(list(step.values())).all() for step in losses if step)
    assert trainer.step == 3

    loaded = load_checkpoint(tmp_path / "checkpoint")
    assert loaded.config.conditioning == conditioning
    z, y = torch.randn(4, 8), torch.tensor([0, 1, 0, 1])
    trainer.generator.eval()
    with torch.no_grad():
        assert torch.allclose(trainer.generator(z, y), loaded.generator(z, y), atol=1e-6)
        assert torch.allclose(
            trainer.discriminator.eval()(torch.zeros(2, 1, 8, 8), y[:2]),
            loaded.discriminator(torch.zeros(2, 1, 8, 8), y[:2]),
            atol=1e-6,
        )
    pipe = GANPipeline.from_pretrained(tmp_path)
    out = pipe(n=4, seed=0)
    assert out.images.shape == (4, 8, 8, 1)
    assert out.labels.tolist() == [0, 1, 0, 1]
    assert np.isfinite(out.scores).all()


def test_acgan_adds_class_loss_to_both_players() -> None:
    """With acgan_weight 0 the game is the unconditional D's; with a weight, both losses grow
    by the class cross-entropy (which is positive)."""
    results = {}
    for weight in (0.0, 5.0):
        trainer = build_trainer(
            "cgan", model_overrides={"conditioning": "acgan", "acgan_weight": weight}
        )
        d, g = trainer.d_step(), trainer.g_step()
        results[weight] = (d["d"], g["g"])
    assert trainer.class_weight == 5.0
    assert results[5.0][0] > results[0.0][0] and results[5.0][1] > results[0.0][1]


# --- InfoGAN's categorical code (DCGAN latent_code) ----------------------------------------------


def test_categorical_code_is_a_uniform_one_hot_read_off_z() -> None:
    z = torch.randn(20_000, 12, generator=torch.Generator().manual_seed(0))
    one_hot, index = categorical_code(z, 10)
    assert one_hot.shape == (20_000, 10) and one_hot.dtype == z.dtype
    assert torch.equal(one_hot.sum(1), torch.ones(20_000))
    assert torch.equal(one_hot.argmax(1), index)
    assert torch.equal(index, z[:, :10].argmax(1))  # z's last two numbers play no part
    shares = torch.bincount(index, minlength=10) / 20_000
    assert shares.min() > 0.09 and shares.max() < 0.11  # each category with chance 1/10


def test_infogan_generator_draws_from_the_code() -> None:
    """With every weight from z's own numbers zeroed, G's picture depends on the code alone:
    two z with the same largest-of-the-first-K give one picture, another argmax another."""
    torch.manual_seed(0)
    config = DCGANConfig(image_shape=(1, 8, 8), latent_dim=8, channels=(8, 4), latent_code=4)
    g = DCGANGenerator(config).eval()
    linear = g.project[0]
    assert linear.in_features == 8 + 4
    with torch.no_grad():
        linear.weight[:, :8] = 0  # keep only the code's columns
        z = torch.randn(3, 8)
        z[:, :4] = torch.tensor([[3.0, 0, 0, 0], [2.0, 1, -1, 0], [0, 0, 3.0, 0]])
        images = g(z)
    assert torch.allclose(images[0], images[1])  # both chose category 0
    assert not torch.allclose(images[0], images[2])  # category 2


def test_infogan_discriminator_has_a_q_head() -> None:
    config = DCGANConfig(image_shape=(1, 8, 8), latent_dim=8, channels=(8, 4), latent_code=4)
    d = DCGANDiscriminator(config).eval()
    x = torch.randn(5, 1, 8, 8)
    logits, code_logits = d(x, return_classes=True)
    assert logits.shape == (5,) and code_logits.shape == (5, 4)
    assert torch.allclose(logits, d(x))
    plain = DCGANDiscriminator(DCGANConfig(image_shape=(1, 8, 8), latent_dim=8, channels=(8, 4)))
    assert plain(x, return_classes=True)[1] is None


@pytest.mark.parametrize("latent_code", [1, 9, -2])
def test_latent_code_must_fit_in_z(latent_code: int) -> None:
    with pytest.raises(ValueError, match="latent_code"):
        DCGANConfig(image_shape=(1, 8, 8), latent_dim=8, channels=(8, 4), latent_code=latent_code)


def test_infogan_code_loss_falls_as_q_learns_to_read_it() -> None:
    """Both players add the code's cross-entropy; it starts near log K (Q guesses) and falls
    once Q has learnt which picture goes with which category."""
    torch.manual_seed(0)
    trainer = build_trainer(
        "dcgan",
        model_overrides={"latent_code": 4, "info_weight": 1.0},
        batch_size=32,
        lr_g=2e-3,
        lr_d=2e-3,
    )
    assert (trainer.code_size, trainer.code_weight) == (4, 1.0)

    def code_loss() -> float:
        z = torch.randn(512, 8, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            _, code_logits = trainer.discriminator.eval()(trainer.generator.eval()(z), None, True)
        return trainer._code_loss(code_logits, z).item()

    before = code_loss()
    assert abs(before - np.log(4)) < 0.2
    for _ in range(80):
        trainer.train_step()
    assert code_loss() < 0.5 * before


# --- DiffAugment ---------------------------------------------------------------------------------


def _images(n: int = 6, channels: int = 3, side: int = 16, seed: int = 0) -> torch.Tensor:
    return (
        torch.rand(n, channels, side, side, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    )


def test_diffaugment_keeps_shape_and_range() -> None:
    x = _images()
    for policy in ("color", "translation", "cutout", "color,translation,cutout"):
        y = diff_augment(x, policy, torch.Generator().manual_seed(1))
        assert y.shape == x.shape and torch.isfinite(y).all()
    for policy in ("translation", "cutout", "translation,cutout"):  # zero fill stays in [-1, 1]
        y = diff_augment(x, policy, torch.Generator().manual_seed(1))
        assert y.min() >= -1 and y.max() <= 1
    y = diff_augment(x, "color", torch.Generator().manual_seed(1))
    assert y.abs().max() <= 4.0  # brightness +-0.5, saturation x<=2, contrast x<=1.5


def test_diffaugment_is_differentiable() -> None:
    x = _images().requires_grad_(True)
    diff_augment(x, "color,translation,cutout", torch.Generator().manual_seed(0)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_diffaugment_empty_policy_is_identity() -> None:
    x = _images()
    assert diff_augment(x, "") is x
    assert not DiffAugment("") and DiffAugment(" ")(x) is x
    assert parse_policy(None) == () and parse_policy("cutout, color,cutout") == ("cutout", "color")


def test_diffaugment_draws_from_the_generator_per_image() -> None:
    x = _images(n=8)
    a = diff_augment(x, "translation,cutout", torch.Generator().manual_seed(3))
    b = diff_augment(x, "translation,cutout", torch.Generator().manual_seed(3))
    c = diff_augment(x, "translation,cutout", torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    same = x[:1].expand(8, -1, -1, -1)  # one image 8 times: each copy gets its own parameters
    y = diff_augment(same, "translation,cutout", torch.Generator().manual_seed(0))
    assert len({tuple(image.flatten().tolist()) for image in y}) > 1
    grey = x[:, :1].expand(-1, 3, -1, -1)  # 3 equal channels stay equal: they move together
    moved = diff_augment(grey, "translation,cutout", torch.Generator().manual_seed(0))
    assert torch.equal(moved[:, 0], moved[:, 1]) and torch.equal(moved[:, 0], moved[:, 2])


def test_diffaugment_unknown_policy() -> None:
    with pytest.raises(ValueError, match="colour"):
        parse_policy("colour")
    with pytest.raises(ValueError, match="colour"):
        TrainConfig(diffaugment="colour")


def test_diffaugment_before_every_d_call(monkeypatch) -> None:
    """D's step augments real and fake, G's step its fakes: 3 calls per step, with the run's
    noise generator (so a resumed run augments the same)."""
    trainer = build_trainer("dcgan", diffaugment="translation")
    calls = []
    real_augment = trainer.augment

    def spy(x, generator=None):
        calls.append((tuple(x.shape), generator is trainer.rng))
        return real_augment(x, generator)

    monkeypatch.setattr(trainer, "augment", spy)
    trainer.train_step()
    assert calls == [((4, 1, 8, 8), True)] * 3


def test_diffaugment_in_the_gradient_penalty(monkeypatch) -> None:
    """wgan-gp: the penalty's real and fake inputs are the augmented ones."""
    import trainers.engine as engine

    trainer = build_trainer("dcgan", diffaugment="cutout", loss="wgan-gp")
    augmented = []
    real_augment = trainer.augment
    monkeypatch.setattr(
        trainer, "augment", lambda x, g=None: augmented.append(real_augment(x, g)) or augmented[-1]
    )
    seen = []
    real_gp = engine.gradient_penalty
    monkeypatch.setattr(
        engine,
        "gradient_penalty",
        lambda d, r, f, *a, **k: seen.append((r, f)) or real_gp(d, r, f, *a, **k),
    )
    trainer.d_step()
    assert seen[0][0] is augmented[0] and torch.equal(seen[0][1], augmented[1].float())


# --- the classroom preset ------------------------------------------------------------------------


def test_the_classroom_preset_reaches_the_trainer() -> None:
    """``gan-train dcgan --preset classroom``: the preset's model values shape the networks,
    its training values drive the optimisers, the EMA and the batches; the user's flags win."""
    from trainers.engine import GANTrainer
    from trainers.models.blocks import MinibatchStdDev

    spec = get_spec("dcgan")
    preset = spec.preset("classroom")
    parser = build_parser()
    data = tiny_data()

    def trainer_for(*flags: str) -> GANTrainer:
        args = parser.parse_args(["dcgan", "--preset", "classroom", *flags])
        config = train_config(args, "dcgan", data)
        model = make_model_config(spec, data.image_shape, len(data.class_names), args)
        return GANTrainer(spec, model, config, data, "cpu")

    trainer = trainer_for()
    plain = build_trainer("dcgan")
    assert preset.model["minibatch_std"] and preset.train["ema_decay"] > 0  # what is checked
    assert any(isinstance(m, MinibatchStdDev) for m in trainer.discriminator.modules())
    assert not any(isinstance(m, MinibatchStdDev) for m in plain.discriminator.modules())
    widths = [
        m.in_channels
        for m in trainer.generator.modules()
        if isinstance(m, torch.nn.ConvTranspose2d)
    ]
    assert tuple(widths[: len(preset.model["channels"])]) == tuple(preset.model["channels"])
    assert trainer.ema is not None and trainer.precision == preset.train["precision"]
    assert trainer.opt_g.param_groups[0]["lr"] == preset.train["lr_g"]
    assert trainer.opt_d.param_groups[0]["lr"] == preset.train["lr_d"]
    assert trainer._real_batch()[0].shape[0] == preset.train["batch_size"]
    assert trainer.config.max_seconds == preset.train["max_seconds"]

    mine = trainer_for("--batch-size", "8", "--lr-g", "0.001", "--ema", "0")
    assert mine._real_batch()[0].shape[0] == 8 and mine.ema is None
    assert mine.opt_g.param_groups[0]["lr"] == 0.001
    assert mine.opt_d.param_groups[0]["lr"] == preset.train["lr_d"]  # not given: the preset's
    without = train_config(parser.parse_args(["dcgan"]), "dcgan", data)
    assert without.lr_g == TrainConfig().lr_g and without.ema_decay == 0
    assert spec.preset_train_values(None) == {}
    assert get_spec("cgan").preset_train_values("resize-conv") == {}  # a model-only preset


def test_every_preset_names_real_fields() -> None:
    train_fields = set(TrainConfig.__dataclass_fields__)
    for spec in MODELS.values():
        model_fields = set(spec.config_cls.__dataclass_fields__)
        for name, preset in spec.presets.items():
            assert set(preset.model) <= model_fields, (spec.name, name)
            assert set(preset.train) <= train_fields, (spec.name, name)


# --- coarse-to-fine style transfer ---------------------------------------------------------------


def test_stage_plan() -> None:
    from trainers.style import StyleConfig, stage_plan

    assert stage_plan(StyleConfig(size=256, steps=200)) == [(256, 200)]
    plan = stage_plan(StyleConfig(size=256, steps=200, schedule="coarse-to-fine"))
    assert [side for side, _ in plan] == [64, 128, 256]
    assert sum(n for _, n in plan) == 200 and plan[0][1] > plan[1][1] > plan[2][1] > 0
    assert stage_plan(StyleConfig(size=256, steps=1, schedule="coarse-to-fine")) == [(256, 1)]
    with pytest.raises(ValueError, match="schedule"):
        StyleConfig(schedule="fast").validate()


def test_coarse_to_fine_runs_stages_in_order(monkeypatch) -> None:
    from trainers.events import Samples, Step
    from trainers.style import StyleConfig, stylise_result, transfer

    sizes = []
    real_optimise = transfer._optimise

    def spy(objective, x, config, steps, *rest):
        sizes.append((tuple(x.shape[-2:]), steps))
        return real_optimise(objective, x, config, steps, *rest)

    monkeypatch.setattr(transfer, "_optimise", spy)
    rng = np.random.default_rng(0)
    content = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    style = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    config = StyleConfig(
        size=256,
        steps=4,
        schedule="coarse-to-fine",
        features="random-multiscale",
        allow_download=False,
    )
    events = []
    result = stylise_result(content, style, config, callback=events.append, preview_every=1)
    assert sizes == [((64, 64), 2), ((128, 128), 1), ((256, 256), 1)]
    assert result.image.shape == (256, 256, 3) and result.reason == "done"
    assert result.stages == [(64, 2), (128, 1), (256, 1)]
    assert [e.step for e in events if isinstance(e, Step)] == [1, 2, 3, 4]
    previews = [e.image.shape[0] for e in events if isinstance(e, Samples)]
    assert previews[0] == 64 and previews[-1] == 256
    assert np.isfinite(list(result.losses.values())).all()
