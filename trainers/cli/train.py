"""`gan-train FAMILY ...`: train a GAN-engine family (one sub-command per registered family).

    gan-train dcgan --dataset fashion-mnist --epochs 5 --out runs/dcgan-fashion
    gan-train dcgan --out runs/dcgan-fashion --resume --steps 6000
    gan-train dcgan --dataset cifar10 --dry-run
    torchrun --standalone --nproc_per_node 2 -m trainers.cli dcgan --dataset mnist

The flags are generated from the option fields of ``TrainConfig`` and of the family's model
config (trainers/options.py); only what is not a config field (where the data lives, the run
folder, --resume, --dry-run, --epochs, --preset, --set) is written out here.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

from trainers.checkpoint import load_checkpoint, read_meta, run_has_checkpoint
from trainers.cli.common import UserError
from trainers.data import ImageData, load_dataset, parse_dataset_name, synthetic_dataset
from trainers.device import DEVICES
from trainers.distributed import Distributed
from trainers.engine import GANTrainer, TrainConfig
from trainers.events import CallbackList, Step
from trainers.loop import JsonlLogger, SampleSaver, write_run_options
from trainers.options import (
    GROUPS,
    add_option,
    argument_group,
    option_defaults,
    option_specs,
    values_from_args,
)
from trainers.options import add_arguments as add_option_arguments
from trainers.progress import ProgressBar
from trainers.registry import ModelSpec, get_spec
from trainers.runlock import hold_run_lock, release_run_locks  # HARDEN (issue 17): run lock
from trainers.tracking import start_for_trainer

DRY_RUN_SHAPES = {"mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
DRY_RUN_STEPS = 3

#: TrainConfig options that a ``--resume`` may change: they do not alter what is learned.
RESUME_OPTIONS = frozenset(
    {"steps", "max_seconds", "sample_every", "checkpoint_every", "log_every", "report_to"}
)


# --- arguments --------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser, spec: ModelSpec) -> None:
    """The flags of ``gan-train FAMILY``: TrainConfig's options, the family's model options and
    the run's own (data folder, run folder, resume, dry run)."""
    for title in GROUPS:  # sections in this order in --help
        argument_group(parser, title)
    add_option_arguments(parser, TrainConfig, exclude={"steps"})
    data = argument_group(parser, "data")
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
    add_option(length, _spec_of(TrainConfig, "steps"))
    length.add_argument("--epochs", type=float, help="passes over the data (converted to steps)")
    run = argument_group(parser, "run")
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
        "--sync-batchnorm",
        action="store_true",
        help="on several GPUs: BatchNorm statistics over the global batch (SyncBatchNorm; "
        "CUDA only, ignored on CPUs)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help=f"train {DRY_RUN_STEPS} steps (or --steps) on synthetic data, save, reload; seconds",
    )
    model = argument_group(parser, "model")
    model.add_argument("--preset", choices=sorted(spec.presets), help="a named model variant")
    add_option_arguments(parser, spec.config_cls)
    model.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other model-config field, JSON value, e.g. --set 'channels=[256,128]'",
    )


def _spec_of(config_cls: type, name: str):
    return next(spec for spec in option_specs(config_cls) if spec.name == name)


def model_overrides(args: argparse.Namespace, spec: ModelSpec) -> dict[str, Any]:
    """The model-config values the user set: generated flags first, then ``--set KEY=VALUE``."""
    overrides = values_from_args(args, spec.config_cls)
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def make_model_config(spec: ModelSpec, image_shape, num_classes: int, args: argparse.Namespace):
    """The family's config for this data: defaults, then --preset, then the user's values."""
    try:
        return spec.make_config(
            image_shape, num_classes, preset=args.preset, **model_overrides(args, spec)
        )
    except TypeError as error:
        raise UserError(f"bad model option: {error}") from None


def steps_from_args(args: argparse.Namespace, data, batch_size: int) -> int | None:
    """--steps, or --epochs converted to steps, or None when neither was given."""
    if args.epochs is not None:
        return max(1, round(args.epochs * len(data) / batch_size))
    return args.steps


def train_config(args: argparse.Namespace, family: str, data, world_size: int = 1) -> TrainConfig:
    """TrainConfig from the declared defaults, the preset's training values and the flags the
    user set (in that order). --epochs counts global batches (``world_size`` processes)."""
    values = get_spec(family).preset_train_values(args.preset) | values_from_args(args, TrainConfig)
    batch_size = values.get("batch_size", option_defaults(TrainConfig)["batch_size"])
    values.update(model=family, dataset=data.name)
    values["steps"] = steps_from_args(args, data, batch_size * world_size) or values.get(
        "steps", TrainConfig.steps
    )  # QUALITY: a preset may set the steps too
    return TrainConfig(**values)


# --- running ----------------------------------------------------------------------------------


def run_from_args(args: argparse.Namespace) -> int:
    """Train (or resume, or dry-run) ``args.family`` with the CLI callbacks."""
    spec = get_spec(args.family)
    command = args.command_line
    dataset = args.dataset or TrainConfig.dataset
    if not is_synthetic(dataset):
        dataset = parse_dataset_name(dataset)
    # One process: the device asked for. Under accelerate launch / torchrun: this process's
    # device and the process group (trainers/distributed.py).
    dist = Distributed.from_environment(args.device, sync_batchnorm=args.sync_batchnorm)
    try:
        if args.dry_run:
            return dry_run(args, spec, dataset, dist)
        return _train(args, spec, dataset, dist, command)
    finally:
        release_run_locks()  # HARDEN (issue 17): the --out lock taken in _train
        dist.close()


def _train(
    args: argparse.Namespace, spec: ModelSpec, dataset: str, dist: Distributed, command: str
) -> int:
    """Train or resume; every process runs this, only the main one prints and writes files."""
    device = dist.device

    out = args.out or Path("runs") / f"{spec.name}-{dataset.replace(':', '-').replace('/', '_')}"
    # HARDEN (issue 17): one gan-train per run folder; a second one refuses (trainers/runlock.py)
    if note := hold_run_lock(out, command):
        print(f"gan-train: {note}", file=sys.stderr)
    has_checkpoint = run_has_checkpoint(out)
    if args.resume:
        trainer, data = _resume(args, spec, out, dist, command)
    else:
        if has_checkpoint:
            raise UserError(
                f"{out} already holds a checkpoint; pass --resume to continue it or choose another --out"
            )
        with dist.main_process_first():  # a download happens once, in the main process
            data = load_training_data(
                dataset, args.data_dir, download=not args.no_download, image_size=args.image_size
            )
        model_config = make_model_config(spec, data.image_shape, len(data.class_names), args)
        config = train_config(args, spec.name, data, dist.world_size)
        trainer = GANTrainer(spec, model_config, config, data, device, out, command, dist)
        if dist.is_main:
            write_run_options(out, command, config, model_config)
    if not dist.is_main:  # the others train in step, silently; the main process writes
        trainer.run()
        return 0
    processes = (
        f", {dist.world_size} processes (global batch {trainer.global_batch})"
        if dist.enabled
        else ""
    )
    print(
        f"gan-train: {spec.name} on {data.name} ({len(data)} images {data.image_shape}), "
        f"device {device}, precision {trainer.precision}{processes}, steps {trainer.step} -> "
        f"{trainer.config.steps}, run folder {out}",
        file=sys.stderr,
    )
    tracker = start_for_trainer(trainer, trainer.config.report_to, out)  # --report-to
    with ProgressBar(trainer.config.steps, trainer.step) as progress:  # closed on errors too
        log = JsonlLogger(out / "log.jsonl", trainer.config.log_every)
        callbacks = [progress, log, SampleSaver(out / "samples"), *([tracker] if tracker else [])]
        try:
            finished = trainer.run(CallbackList(callbacks))
        finally:
            if tracker is not None:
                tracker.close()
    why = f" ({finished.message})" if finished.message else ""
    print(
        f"gan-train: {finished.reason}{why} at step {finished.step}; "
        f"checkpoint in {out / 'checkpoint'}",
        file=sys.stderr,
    )
    return 0


def is_synthetic(name: str) -> bool:
    """``synthetic`` or ``synthetic:N``: made-up images for smoke tests and benchmarks."""
    return name == "synthetic" or name.startswith("synthetic:")


def load_training_data(
    name: str, data_dir: str | None, download: bool, image_size: int | None
) -> ImageData:
    """``load_dataset``, plus ``synthetic[:N]``: N (default 512) labelled 28x28 (or
    --image-size) grayscale squares from trainers.data.synthetic_dataset, always the same."""
    if not is_synthetic(name):
        return load_dataset(name, data_dir, download=download, image_size=image_size)
    count = name.partition(":")[2]
    if count and not count.isdigit():
        raise UserError(f"--dataset synthetic:N needs a whole number N, got {name!r}")
    side = image_size or 28
    data = synthetic_dataset((1, side, side), num_classes=10, n=int(count or 512), seed=0)
    data.name = name  # resume rebuilds the same images from this name
    return data


def _resume(
    args: argparse.Namespace, spec: ModelSpec, out: Path, dist: Distributed, command: str
) -> tuple[GANTrainer, Any]:
    """The trainer of the run in ``out``; only RESUME_OPTIONS of the flags change its options.
    It may have been written by another number of processes (the global batch is kept)."""
    if not run_has_checkpoint(out):
        raise UserError(f"--resume: no checkpoint in {out}/checkpoint to resume from")
    meta = read_meta(out)
    if meta["model"] != spec.name:
        raise UserError(f"--resume: {out} holds a {meta['model']} run, not {spec.name}")
    with dist.main_process_first():
        data = load_training_data(
            meta["dataset"],
            args.data_dir,
            download=not args.no_download,
            image_size=meta["image_shape"][1],
        )
    stored = meta["train_config"]
    values = values_from_args(args, TrainConfig)
    ignored = [
        _spec_of(TrainConfig, name).flag
        for name, value in values.items()
        if name not in RESUME_OPTIONS | {"dataset"} and stored.get(name) != value
    ]
    if ignored and dist.is_main:
        print(
            f"gan-train: --resume keeps the run's options; ignoring {', '.join(ignored)}",
            file=sys.stderr,
        )
    overrides = {k: v for k, v in values.items() if k in RESUME_OPTIONS and k != "steps"}
    steps = steps_from_args(args, data, meta.get("global_batch_size", stored["batch_size"]))
    trainer = GANTrainer.resume(
        out,
        data,
        dist.device,
        steps=steps,
        command=meta.get("command") or command,
        overrides=overrides,
        dist=dist,
    )
    trainer.command = meta.get("command", command) + (
        f"  # resumed: {command}" if meta.get("command") != command else ""
    )
    return trainer, data


def dry_run(args: argparse.Namespace, spec: ModelSpec, dataset: str, dist: Distributed) -> int:
    """A few steps on synthetic data of the data set's shape, then save, reload and compare
    (under a launcher: on every process, the main one saves and compares)."""
    device = dist.device
    shape = DRY_RUN_SHAPES.get(dataset, (3, 32, 32))
    n = max(64, 16 * dist.world_size)  # at least one global batch
    data = synthetic_dataset(shape, num_classes=10, n=n, seed=args.seed or 0)
    model_config = make_model_config(spec, shape, 10, args)
    values = spec.preset_train_values(args.preset) | values_from_args(args, TrainConfig)
    values.update(
        model=spec.name,
        dataset=data.name,
        steps=args.steps or DRY_RUN_STEPS,
        batch_size=min(values.get("batch_size", TrainConfig.batch_size), 16),
        sample_every=0,
        checkpoint_every=0,
        max_seconds=0.0,
    )
    config = TrainConfig(**values)
    with tempfile.TemporaryDirectory() as tmp:
        if args.out is not None and run_has_checkpoint(args.out):
            raise UserError(
                f"--dry-run would overwrite the checkpoint in {args.out}; choose another --out"
            )
        out = args.out or Path(tmp) / "run"
        trainer = GANTrainer(
            spec, model_config, config, data, device, out, "gan-train --dry-run", dist
        )
        losses: list[dict[str, float]] = []
        trainer.run(lambda e: losses.append(e.losses) if isinstance(e, Step) else None)
        if not dist.is_main:  # only the main process wrote a checkpoint
            return 0
        loaded = load_checkpoint(out / "checkpoint", device)
        z = torch.randn(4, model_config.latent_dim, device=device)  # (4, latent_dim)
        labels = torch.arange(4, device=device) if spec.conditional else None
        trainer.generator.eval()
        with torch.no_grad():
            same = torch.allclose(
                trainer.generator(z, labels), loaded.generator(z, labels), atol=1e-5
            )
        if not same:
            raise UserError("dry run: the reloaded checkpoint gives different images")
        print(
            f"dry run OK: {spec.name} {shape}, {config.steps} steps, last losses {losses[-1]}, "
            "checkpoint round trip identical"
        )
    return 0
