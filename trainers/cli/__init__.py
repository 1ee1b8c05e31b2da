"""`gan-train`: one command line for every trainer.

gan-train dcgan --dataset fashion-mnist --epochs 5 --out runs/dcgan-fashion
gan-train dcgan --out runs/dcgan-fashion --resume --steps 6000
gan-train sample runs/dcgan-fashion --n 64 --out samples.npz
gan-train export runs/dcgan-fashion pretrained/dcgan-fashion-mnist --half
gan-train dcgan --dataset cifar10 --dry-run
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trainers.checkpoint import (
    CheckpointError,
    load_checkpoint,
    read_meta,
    read_safetensors,
    run_has_checkpoint,
    save_checkpoint,
)
from trainers.data import (
    DATASETS,
    DataUnavailableError,
    load_dataset,
    parse_dataset_name,
    synthetic_dataset,
)
from trainers.device import DEVICES, PRECISIONS, pick_device
from trainers.engine import (
    GANTrainer,
    JsonlLogger,
    SampleSaver,
    TrainConfig,
    TrainingDiverged,
    write_run_options,
)
from trainers.events import CallbackList, Finished, Step
from trainers.losses import LOSSES
from trainers.models.blocks import UPSAMPLE_MODES
from trainers.registry import MODELS, get_spec

GAN_FAMILIES = ("mlp-gan", "dcgan", "cgan")
DRY_RUN_SHAPES = {"mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28), "cifar10": (3, 32, 32)}


class UserError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


# --- argument parsing --------------------------------------------------------------------------


def _add_train_arguments(parser: argparse.ArgumentParser, family: str) -> None:
    spec = MODELS[family]
    data = parser.add_argument_group("data")
    data.add_argument(
        "--dataset",
        default="mnist",
        help=f"{', '.join(DATASETS)} or folder:PATH (one sub-folder per class). Default: mnist",
    )
    data.add_argument(
        "--data-dir",
        default=None,
        help="where data sets live or are downloaded to (default $GAN_EXPLORER_DATA or "
        "~/.cache/gan-explorer/data). Offline, point it at a copy, e.g. ../shared/data",
    )
    data.add_argument("--no-download", action="store_true", help="never try to download data")
    data.add_argument(
        "--image-size", type=int, default=None, help="side for folder:PATH images (default 64)"
    )
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="total G updates to train to (default 1000)")
    length.add_argument("--epochs", type=float, help="passes over the data (converted to steps)")
    run = parser.add_argument_group("run")
    run.add_argument(
        "--out",
        type=Path,
        help="run folder: checkpoint/, log.jsonl, samples/ (default runs/<model>-<dataset>)",
    )
    run.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )
    run.add_argument(
        "--device", default="auto", choices=DEVICES, help="auto = CUDA, then MPS, then CPU"
    )
    run.add_argument(
        "--precision",
        default="auto",
        choices=PRECISIONS,
        help="auto = bf16 autocast for conv models on CPUs with AVX-512 BF16 and on CUDA",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="train 3 steps on synthetic data, save, reload; seconds",
    )
    run.add_argument("--seed", type=int, default=0, help="seeds weights, data order and noise")
    run.add_argument(
        "--sample-every", type=int, default=500, help="save the fixed-noise grid every N steps"
    )
    run.add_argument(
        "--checkpoint-every", type=int, default=500, help="write the checkpoint every N steps"
    )
    run.add_argument("--log-every", type=int, default=10, help="append to log.jsonl every N steps")
    opt = parser.add_argument_group("optimisation")
    opt.add_argument(
        "--batch-size", type=int, default=64, help="real images per D update (default 64)"
    )
    opt.add_argument(
        "--loss",
        default="non-saturating",
        choices=LOSSES,
        help="the GAN objective (default non-saturating: G maximises log D(G(z)))",
    )
    opt.add_argument(
        "--d-steps", type=int, default=1, help="D updates per G update (Goodfellow's k)"
    )
    opt.add_argument("--lr-g", type=float, default=2e-4, help="G's Adam learning rate")
    opt.add_argument(
        "--lr-d",
        type=float,
        default=2e-4,
        help="D's Adam learning rate (differs from --lr-g: TTUR)",
    )
    opt.add_argument("--beta1", type=float, default=0.5, help="Adam beta1 (0.5 as in DCGAN)")
    opt.add_argument("--beta2", type=float, default=0.999, help="Adam beta2")
    opt.add_argument(
        "--ema",
        type=float,
        default=0.0,
        dest="ema_decay",
        help="EMA decay of G's weights, e.g. 0.999 (0 = off)",
    )
    opt.add_argument("--gp-weight", type=float, default=10.0, help="WGAN-GP penalty weight")
    model = parser.add_argument_group("model")
    model.add_argument("--preset", choices=sorted(spec.presets), help="a named model variant")
    model.add_argument("--latent-dim", type=int, help="size of z (default depends on the model)")
    model.add_argument("--spectral-norm", action="store_true", help="spectral normalisation in D")
    model.add_argument(
        "--minibatch-std",
        action="store_true",
        help="minibatch discrimination (std-dev feature) in D",
    )
    if family != "mlp-gan":
        model.add_argument(
            "--upsample",
            choices=UPSAMPLE_MODES,
            help="G's upsampling: convtranspose (default) or resize-conv",
        )
    model.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other model-config field, JSON value, e.g. --set 'channels=[256,128]'",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gan-train", description="Train and use the GAN Explorer models."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for family in GAN_FAMILIES:
        p = sub.add_parser(
            family, help=MODELS[family].description, description=MODELS[family].description
        )
        _add_train_arguments(p, family)
    p = sub.add_parser("sample", help="write samples from a checkpoint (.npz or a folder of PNGs)")
    p.add_argument("checkpoint", type=Path, help="a checkpoint folder (or a run folder)")
    p.add_argument("--n", type=int, default=64, help="number of images")
    p.add_argument(
        "--label", type=int, help="cGAN: the class to ask for (default: cycle through classes)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--truncation", type=float, default=None, help="clip |z| to this value (truncation trick)"
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="FILE.npz (uint8 images (N,H,W,C), labels) or a folder for PNGs",
    )
    p.add_argument("--device", default="auto", choices=DEVICES)
    p = sub.add_parser("export", help="make a shipped, inference-only checkpoint from a run")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--half", action="store_true", help="store weights as float16 (half the size)")
    p.add_argument("--name", help="display name stored in meta.json")
    p.add_argument(
        "--no-ema", action="store_true", help="ship the raw G even when an EMA G was kept"
    )
    _add_optional_subcommands(sub)
    return parser


def _add_optional_subcommands(sub: argparse._SubParsersAction) -> None:
    """Subcommands whose modules own their own arguments (evaluate, style, ...)."""
    import importlib

    for name, module_name, add_name, run_name, help_text in OPTIONAL_SUBCOMMANDS:
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_text, description=help_text)
        getattr(module, add_name)(p)
        p.set_defaults(run=getattr(module, run_name))


# (subcommand, module, function adding its arguments, function running it, help)
OPTIONAL_SUBCOMMANDS: list[tuple[str, str, str, str, str]] = [
    (
        "evaluate",
        "trainers.evaluate",
        "add_arguments",
        "run_from_args",
        "measure checkpoints: classifier-FID vs its floor, mode coverage, cGAN label accuracy",
    ),
    (
        "classifier",
        "trainers.evaluate",
        "add_classifier_arguments",
        "run_classifier_from_args",
        "train the small reference classifier that evaluate uses",
    ),
    (
        "cyclegan",
        "trainers.cyclegan",
        "add_arguments",
        "run_from_args",
        "CycleGAN (Zhu et al. 2017): unpaired image-to-image translation between two image folders",
    ),
    (
        "translate",
        "trainers.cyclegan",
        "add_translate_arguments",
        "run_translate_from_args",
        "translate images with a CycleGAN checkpoint (a2b or b2a)",
    ),
    (
        "evaluate-cyclegan",
        "trainers.cyclegan",
        "add_cyclegan_eval_arguments",
        "run_cyclegan_eval_from_args",
        "CycleGAN: cycle L1 on test images, target-domain rate of a classifier, before/after grid",
    ),
    (
        "style",
        "trainers.style",
        "add_arguments",
        "run_from_args",
        "neural style transfer (Gatys et al.): gan-train style --content IMG --style IMG --out IMG",
    ),
]


# --- training ----------------------------------------------------------------------------------


def _model_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if args.latent_dim:
        overrides["latent_dim"] = args.latent_dim
    if args.spectral_norm:
        overrides["spectral_norm"] = True
    if args.minibatch_std:
        overrides["minibatch_std"] = True
    if getattr(args, "upsample", None):
        overrides["upsample"] = args.upsample
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


class ProgressBar:
    """The CLI's view of the event stream: a tqdm bar with the losses and images/s."""

    def __init__(self, total: int, initial: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=total, initial=initial, unit="step", dynamic_ncols=True, mininterval=0.5
        )

    def __call__(self, event: Any) -> None:
        if isinstance(event, Step):
            self.bar.update(event.step - self.bar.n)
            if event.step % 5 == 0:
                self.bar.set_postfix(
                    d=f"{event.losses['d']:.3f}",
                    g=f"{event.losses['g']:.3f}",
                    Dx=f"{event.d_real:.2f}",
                    DGz=f"{event.d_fake:.2f}",
                    img_s=f"{event.images_per_s:.0f}",
                    refresh=False,
                )
        elif isinstance(event, Finished):
            self.bar.close()


def run_training(args: argparse.Namespace, argv: list[str]) -> int:
    family = args.command
    spec = get_spec(family)
    command = "gan-train " + shlex.join(argv)
    device = pick_device(args.device)
    dataset = parse_dataset_name(args.dataset)
    if args.dry_run:
        return _dry_run(args, spec, dataset, device)

    out = args.out or Path("runs") / f"{family}-{dataset.replace(':', '-').replace('/', '_')}"
    has_checkpoint = run_has_checkpoint(out)
    if args.resume:
        if not has_checkpoint:
            raise UserError(f"--resume: no checkpoint in {out}/checkpoint to resume from")
        meta = read_meta(out)
        if meta["model"] != family:
            raise UserError(f"--resume: {out} holds a {meta['model']} run, not {family}")
        data = load_dataset(
            meta["dataset"],
            args.data_dir,
            download=not args.no_download,
            image_size=meta["image_shape"][1],
        )
        steps = _steps_from_args(args, data, meta["train_config"]["batch_size"])
        trainer = GANTrainer.resume(
            out, data, device, steps=steps, command=meta.get("command") or command
        )
        trainer.command = meta.get("command", command) + (
            f"  # resumed: {command}" if meta.get("command") != command else ""
        )
    else:
        if has_checkpoint:
            raise UserError(
                f"{out} already holds a checkpoint; pass --resume to continue it or choose another --out"
            )
        data = load_dataset(
            dataset, args.data_dir, download=not args.no_download, image_size=args.image_size
        )
        model_config = _make_config(spec, data.image_shape, len(data.class_names), args)
        config = _train_config(args, family, data)
        trainer = GANTrainer(spec, model_config, config, data, device, out, command)
        write_run_options(out, command, config, model_config)
    print(
        f"gan-train: {family} on {data.name} ({len(data)} images {data.image_shape}), device {device}, "
        f"precision {trainer.precision}, steps {trainer.step} -> {trainer.config.steps}, run folder {out}",
        file=sys.stderr,
    )
    callback = CallbackList(
        [
            ProgressBar(trainer.config.steps, trainer.step),
            JsonlLogger(out / "log.jsonl", trainer.config.log_every),
            SampleSaver(out / "samples"),
        ]
    )
    finished = trainer.run(callback)
    print(
        f"gan-train: {finished.reason} at step {finished.step}; checkpoint in {out / 'checkpoint'}",
        file=sys.stderr,
    )
    return 0


def _make_config(spec, image_shape, num_classes, args):
    try:
        return spec.make_config(
            image_shape, num_classes, preset=args.preset, **_model_overrides(args)
        )
    except TypeError as error:
        raise UserError(f"bad model option: {error}") from None


def _steps_from_args(args: argparse.Namespace, data, batch_size: int) -> int | None:
    if args.epochs is not None:
        return max(1, round(args.epochs * len(data) / batch_size))
    return args.steps


def _train_config(args: argparse.Namespace, family: str, data) -> TrainConfig:
    steps = _steps_from_args(args, data, args.batch_size) or 1000
    return TrainConfig(
        model=family,
        dataset=data.name,
        steps=steps,
        batch_size=args.batch_size,
        loss=args.loss,
        d_steps=args.d_steps,
        lr_g=args.lr_g,
        lr_d=args.lr_d,
        beta1=args.beta1,
        beta2=args.beta2,
        ema_decay=args.ema_decay,
        gp_weight=args.gp_weight,
        seed=args.seed,
        precision=args.precision,
        sample_every=args.sample_every,
        checkpoint_every=args.checkpoint_every,
        log_every=args.log_every,
    )


def _dry_run(args: argparse.Namespace, spec, dataset: str, device: torch.device) -> int:
    """3 steps on synthetic data of the data set's shape, then save, reload and compare outputs."""
    shape = DRY_RUN_SHAPES.get(dataset, (3, 32, 32))
    data = synthetic_dataset(shape, num_classes=10, n=64, seed=args.seed)
    model_config = _make_config(spec, shape, 10, args)
    args.batch_size = min(args.batch_size, 16)
    config = _train_config(args, spec.name, data)
    config.steps, config.sample_every, config.checkpoint_every = 3, 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        if args.out is not None and run_has_checkpoint(args.out):
            raise UserError(
                f"--dry-run would overwrite the checkpoint in {args.out}; choose another --out"
            )
        out = args.out or Path(tmp) / "run"
        trainer = GANTrainer(spec, model_config, config, data, device, out, "gan-train --dry-run")
        losses: list[dict[str, float]] = []
        trainer.run(lambda e: losses.append(e.losses) if isinstance(e, Step) else None)
        loaded = load_checkpoint(out / "checkpoint", device)
        z = torch.randn(4, model_config.latent_dim, device=device)
        labels = torch.arange(4, device=device) if spec.conditional else None
        trainer.generator.eval()
        with torch.no_grad():
            same = torch.allclose(
                trainer.generator(z, labels), loaded.generator(z, labels), atol=1e-5
            )
        if not same:
            raise UserError("dry run: the reloaded checkpoint gives different images")
        print(
            f"dry run OK: {spec.name} {shape}, 3 steps, last losses {losses[-1]}, checkpoint round trip identical"
        )
    return 0


# --- sample and export -------------------------------------------------------------------------


def sample_images(
    loaded,
    n: int,
    seed: int = 0,
    label: int | None = None,
    truncation: float | None = None,
    device: torch.device | str = "cpu",
) -> tuple[np.ndarray, np.ndarray | None]:
    """uint8 (N, H, W, C) samples and, for cGAN, the asked labels (N,)."""
    from trainers.data import to_uint8_images

    if not hasattr(loaded.config, "latent_dim"):
        raise UserError(
            f"{loaded.path} is a {loaded.spec.name} checkpoint: it translates images rather than "
            "sampling from noise; use `gan-train translate`"
        )
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, loaded.latent_dim, generator=gen)
    if truncation is not None:
        z = z.clamp(-truncation, truncation)
    labels = None
    if loaded.conditional:
        k = len(loaded.class_names) or loaded.config.num_classes
        if label is not None and not 0 <= label < k:
            raise UserError(f"--label {label} is out of range: this model has classes 0..{k - 1}")
        labels = torch.full((n,), label) if label is not None else torch.arange(n) % k
    elif label is not None:
        raise UserError(f"--label only works with a cGAN checkpoint; this is {loaded.spec.name}")
    images = []
    with torch.no_grad():
        for start in range(0, n, 500):
            zb = z[start : start + 500].to(device)
            lb = labels[start : start + 500].to(device) if labels is not None else None
            images.append(to_uint8_images(loaded.generator(zb, lb)))
    return np.concatenate(images), (labels.numpy() if labels is not None else None)


def run_sample(args: argparse.Namespace) -> int:
    device = pick_device(args.device)
    loaded = load_checkpoint(args.checkpoint, device)
    images, labels = sample_images(loaded, args.n, args.seed, args.label, args.truncation, device)
    out: Path = args.out
    if out.suffix == ".npz":
        out.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"images": images} | ({"labels": labels} if labels is not None else {})
        np.savez_compressed(out, **arrays)
    else:
        from PIL import Image

        out.mkdir(parents=True, exist_ok=True)
        for i, image in enumerate(images):
            suffix = f"_label{labels[i]}" if labels is not None else ""
            Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
                out / f"sample_{i:05d}{suffix}.png"
            )
    print(f"wrote {len(images)} images {images.shape[1:]} to {out}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Inference-only copy: the EMA generator (when there is one) becomes G; no optimiser state."""
    from trainers.checkpoint import WEIGHTS_FILE, resolve_checkpoint_dir

    source = resolve_checkpoint_dir(args.checkpoint)
    meta = read_meta(source)
    weights = read_safetensors(source / WEIGHTS_FILE)
    has_ema = any(k.startswith("G_ema.") for k in weights)
    g_prefix = "G_ema." if has_ema and not args.no_ema else "G."
    exported = {"G." + k[len(g_prefix) :]: v for k, v in weights.items() if k.startswith(g_prefix)}
    exported |= {k: v for k, v in weights.items() if k.startswith("D.")}
    if args.half:
        exported = {k: v.half() if v.is_floating_point() else v for k, v in exported.items()}
    meta = {k: v for k, v in meta.items() if k not in ("format", "kind", "optimizer_param_groups")}
    meta["exported_from_ema"] = g_prefix == "G_ema."
    meta["weights_dtype"] = "float16" if args.half else "float32"
    if args.name:
        meta["name"] = args.name
    save_checkpoint(args.out, meta, exported)
    load_checkpoint(args.out)  # refuse to leave behind something we cannot read
    print(f"exported {source} -> {args.out}")
    return 0


# --- entry point -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in GAN_FAMILIES:
            return run_training(args, argv)
        if args.command == "sample":
            return run_sample(args)
        if args.command == "export":
            return run_export(args)
        return args.run(args)
    except (
        UserError,
        CheckpointError,
        DataUnavailableError,
        TrainingDiverged,
        ValueError,
        FileNotFoundError,
    ) as error:
        print(f"gan-train: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "gan-train: interrupted; the checkpoint was saved: continue with --resume",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
