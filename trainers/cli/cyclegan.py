"""The CycleGAN command lines: ``gan-train cyclegan``, ``translate``, ``evaluate-cyclegan`` and
``export-cyclegan`` (argument parsing and the runs; the work is in trainers/cyclegan/).

    gan-train cyclegan --data-a horse2zebra/trainA --data-b horse2zebra/trainB --steps 6000
    gan-train translate pretrained/cyclegan-horse2zebra --direction a2b --input horse.jpg --out zebra.png
    gan-train evaluate-cyclegan pretrained/cyclegan-horse2zebra --data horse2zebra --out runs/eval
    gan-train export-cyclegan runs/cyclegan-horse2zebra pretrained/cyclegan-horse2zebra --half
    torchrun --standalone --nproc_per_node 2 -m trainers.cli cyclegan --data-a ... --data-b ...
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import torch

from trainers import checkpoint as ckpt
from trainers.cyclegan import (
    MODEL_NAME,
    CycleGANTrainConfig,
    CycleGANTrainer,
    CycleGANUserError,
    default_classifier_dir,
    default_sample_folder,
    default_translate_size,
    evaluate_cyclegan,
    export_generators,
    list_images,
    load_cyclegan,
    load_domain_classifier,
    load_training_images,
    resume_trainer,
    steps_for_epochs,
    to_model_range,
    translate_file,
)
from trainers.cyclegan.evaluate import store_metrics, train_and_save_classifier
from trainers.data import IMAGE_EXTENSIONS
from trainers.device import DEVICES, PRECISIONS, pick_device
from trainers.distributed import Distributed
from trainers.events import Step
from trainers.loop import write_run_options
from trainers.models.blocks import UPSAMPLE_MODES
from trainers.models.cyclegan import DIRECTIONS, CycleGANConfig
from trainers.options import add_option
from trainers.runlock import hold_run_lock, release_run_locks
from trainers.tracking import report_to_option, start_for_trainer

# --- gan-train cyclegan -------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-train cyclegan``."""
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data-a", type=Path, help="folder of domain A images (e.g. horse2zebra/trainA)"
    )
    data.add_argument(
        "--data-b", type=Path, help="folder of domain B images (e.g. horse2zebra/trainB)"
    )
    data.add_argument(
        "--sample-a",
        type=Path,
        help="fixed A images for the sample grid (default: sibling testA if any)",
    )
    data.add_argument(
        "--sample-b",
        type=Path,
        help="fixed B images for the sample grid (default: sibling testB if any)",
    )
    data.add_argument(
        "--dataset-name", help="name recorded in the checkpoint (default: the parent folder's name)"
    )
    data.add_argument(
        "--image-size",
        type=int,
        default=64,
        help="side of the training crops (default 64; paper 256)",
    )
    data.add_argument(
        "--load-size",
        type=int,
        help="images are resized to this, then cropped (default 1.125 x size)",
    )
    data.add_argument("--no-flip", action="store_true", help="no random horizontal flips")
    length = parser.add_mutually_exclusive_group()
    length.add_argument(
        "--steps", type=int, help="total steps (default 1000); with --resume, a new target"
    )
    length.add_argument(
        "--epochs", type=float, help="passes over the larger domain (converted to steps)"
    )
    parser.add_argument(
        "--decay-start", type=int, help="step where the linear LR decay starts (default steps/2)"
    )
    run = parser.add_argument_group("run")
    run.add_argument("--out", type=Path, help="run folder (default runs/cyclegan-<dataset>)")
    run.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="2 steps on tiny random images, save, reload; seconds",
    )
    run.add_argument("--device", default="auto", choices=DEVICES)
    run.add_argument("--precision", default="auto", choices=PRECISIONS)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--sample-every", type=int, default=250)
    run.add_argument("--checkpoint-every", type=int, default=250)
    run.add_argument("--log-every", type=int, default=10)
    add_option(run, report_to_option())  # --report-to, declared once on TrainConfig
    run.add_argument(
        "--num-samples", type=int, default=4, help="fixed test images per direction in the grid"
    )
    opt = parser.add_argument_group("optimisation")
    opt.add_argument("--batch-size", type=int, default=1)
    opt.add_argument("--lr", type=float, default=2e-4)
    opt.add_argument("--beta1", type=float, default=0.5)
    opt.add_argument("--lambda-cycle", type=float, default=10.0)
    opt.add_argument(
        "--lambda-identity", type=float, default=0.5, help="fraction of lambda-cycle (0 = off)"
    )
    opt.add_argument("--pool-size", type=int, default=50)
    model = parser.add_argument_group("model")
    model.add_argument("--ngf", type=int, default=32, help="generator width (paper 64)")
    model.add_argument("--ndf", type=int, default=64, help="discriminator width (paper 64)")
    model.add_argument(
        "--n-blocks", type=int, default=6, help="residual blocks (paper 9 at 256 px, 6 at 128 px)"
    )
    model.add_argument("--upsample", choices=UPSAMPLE_MODES, default="convtranspose")


def _command_line(args: argparse.Namespace) -> str:
    if getattr(args, "command_line", None):
        return args.command_line
    argv = sys.argv[1:]
    if argv and argv[0] == MODEL_NAME:
        return "gan-train " + shlex.join(argv)
    return "CycleGANTrainer via run_from_args (" + shlex.join(str(a) for a in argv) + ")"


def _steps(args: argparse.Namespace, n_a: int, n_b: int, batch_size: int) -> int | None:
    if args.epochs is not None:
        return steps_for_epochs(args.epochs, n_a, n_b, batch_size)
    return args.steps


def run_from_args(args: argparse.Namespace) -> int:
    """``gan-train cyclegan ...``: build (or resume) a trainer and run it with the CLI callbacks."""
    # One process: the device asked for. Under accelerate launch / torchrun: this process's
    # device and the process group (trainers/distributed.py); only the main process writes.
    dist = Distributed.from_environment(args.device)
    try:
        return _train(args, dist)
    finally:
        release_run_locks()  # the --out lock taken in _train
        dist.close()


def _lock(out: Path, command: str) -> None:
    """One gan-train per run folder, as for the GAN families: a second one refuses, naming the
    first's PID; a killed run's stale lock is taken over with a note (trainers/runlock.py)."""
    if note := hold_run_lock(out, command):
        print(f"gan-train: {note}", file=sys.stderr)


def _train(args: argparse.Namespace, dist: Distributed) -> int:
    """Train, resume or dry-run in this process (one of several under a launcher)."""
    from trainers.events import CallbackList
    from trainers.loop import JsonlLogger, SampleSaver
    from trainers.progress import ProgressBar

    device = dist.device
    command = _command_line(args)
    if args.dry_run:
        return _dry_run(args, dist)
    if args.resume:
        if args.out is None:
            raise CycleGANUserError("--resume needs --out, the run folder to continue")
        _lock(Path(args.out), command)
        trainer = resume_trainer(
            args.out,
            device,
            steps=args.steps,
            epochs=args.epochs,
            decay_start=args.decay_start,
            command=command,
            dist=dist,
        )
        out = Path(args.out)
    else:
        if args.data_a is None or args.data_b is None:
            raise CycleGANUserError(
                "gan-train cyclegan needs --data-a DIR and --data-b DIR (or --resume / --dry-run)"
            )
        name = args.dataset_name or Path(args.data_a).resolve().parent.name
        out = Path(args.out) if args.out else Path("runs") / f"cyclegan-{name}"
        _lock(out, command)
        if (out / "checkpoint" / ckpt.META_FILE).is_file():
            raise CycleGANUserError(
                f"{out} already holds a checkpoint; pass --resume to continue it or choose another --out"
            )
        model_config = CycleGANConfig(
            image_size=args.image_size,
            ngf=args.ngf,
            ndf=args.ndf,
            n_residual_blocks=args.n_blocks,
            upsample=args.upsample,
        )
        n_a, n_b = len(list_images(args.data_a)), len(list_images(args.data_b))
        steps = _steps(args, n_a, n_b, args.batch_size * dist.world_size) or 1000
        train = CycleGANTrainConfig(
            data_a=str(args.data_a),
            data_b=str(args.data_b),
            sample_a=str(args.sample_a or default_sample_folder(args.data_a)),
            sample_b=str(args.sample_b or default_sample_folder(args.data_b)),
            steps=steps,
            decay_start=args.decay_start,
            batch_size=args.batch_size,
            load_size=args.load_size or int(round(args.image_size * 1.125)),
            flip=not args.no_flip,
            lr=args.lr,
            beta1=args.beta1,
            lambda_cycle=args.lambda_cycle,
            lambda_identity=args.lambda_identity,
            pool_size=args.pool_size,
            seed=args.seed,
            precision=args.precision,
            sample_every=args.sample_every,
            checkpoint_every=args.checkpoint_every,
            log_every=args.log_every,
            num_samples=args.num_samples,
        )
        trainer = CycleGANTrainer(
            model_config,
            train,
            *load_training_images(train, model_config),
            device,
            out,
            command,
            name,
            dist,
        )
        if dist.is_main:
            write_run_options(out, command, train, model_config)
    cfg = trainer.config
    if not dist.is_main:  # the others train in step, silently
        trainer.run()
        return 0
    print(
        f"gan-train: cyclegan {trainer.model_config.image_size}px ngf {trainer.model_config.ngf} "
        f"blocks {trainer.model_config.n_residual_blocks} on {len(trainer.images_a)} A + {len(trainer.images_b)} B images, "
        f"device {trainer.device}, precision {trainer.precision}, "
        + (
            f"{dist.world_size} processes (global batch {trainer.global_batch}), "
            if dist.enabled
            else ""
        )
        + f"steps {trainer.step} -> {cfg.steps} "
        f"(LR decay from {cfg.decay_start}), run folder {out}",
        file=sys.stderr,
    )
    tracker = start_for_trainer(trainer, getattr(args, "report_to", None), out)  # --report-to
    with ProgressBar(cfg.steps, trainer.step) as progress:  # closed on errors too
        log = JsonlLogger(out / "log.jsonl", cfg.log_every)
        callbacks = [progress, log, SampleSaver(out / "samples"), *([tracker] if tracker else [])]
        try:
            finished = trainer.run(CallbackList(callbacks))
        finally:
            if tracker is not None:
                tracker.close()
    print(
        f"gan-train: {finished.reason} at step {finished.step}; checkpoint in {out / 'checkpoint'}",
        file=sys.stderr,
    )
    return 0


def _dry_run(args: argparse.Namespace, dist: Distributed) -> int:
    """2 steps on tiny random images (32 px), save, reload, compare outputs (under a launcher:
    every process trains, the main one saves and compares)."""
    import tempfile

    device = dist.device
    gen = torch.Generator().manual_seed(args.seed)
    images_a = torch.randint(0, 256, (6, 3, 36, 36), dtype=torch.uint8, generator=gen)
    images_b = torch.randint(0, 256, (6, 3, 36, 36), dtype=torch.uint8, generator=gen)
    model_config = CycleGANConfig(
        image_size=32, ngf=8, ndf=8, n_residual_blocks=2, upsample=args.upsample
    )
    train = CycleGANTrainConfig(
        steps=2, sample_every=0, checkpoint_every=0, precision=args.precision, num_samples=2
    )
    with tempfile.TemporaryDirectory() as tmp:
        trainer = CycleGANTrainer(
            model_config,
            train,
            images_a,
            images_b,
            device=device,
            out_dir=Path(tmp) / "run",
            dist=dist,
        )
        losses: list[dict[str, float]] = []
        trainer.run(lambda e: losses.append(e.losses) if isinstance(e, Step) else None)
        if not dist.is_main:
            return 0
        loaded = ckpt.load_checkpoint(Path(tmp) / "run" / "checkpoint", device)
        x = to_model_range(images_a[:2, :, :32, :32]).to(device)
        trainer.generators.eval()
        with torch.no_grad():
            same = torch.allclose(
                trainer.generators(x, "a2b"), loaded.generator(x, "a2b"), atol=1e-5
            )
        if not same:
            raise CycleGANUserError("dry run: the reloaded checkpoint gives different images")
    print(
        f"dry run OK: cyclegan 32px, 2 steps, last losses {losses[-1]}, checkpoint round trip identical"
    )
    return 0


# --- gan-train translate ------------------------------------------------------------------------


def add_translate_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-train translate``."""
    parser.add_argument(
        "checkpoint", type=Path, help="a CycleGAN checkpoint folder (or run folder)"
    )
    parser.add_argument(
        "--direction", choices=DIRECTIONS, default="a2b", help="a2b (e.g. horse -> zebra) or b2a"
    )
    parser.add_argument(
        "--input", type=Path, required=True, help="an image file or a folder of images"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="an image file (for one input) or a folder"
    )
    parser.add_argument(
        "--size",
        type=int,
        help="shorter side to translate at (default: the training size x 2, at most 256)",
    )
    parser.add_argument("--device", default="auto", choices=DEVICES)


def run_translate_from_args(args: argparse.Namespace) -> int:
    """``gan-train translate``: one file -> one file, or a folder -> a folder of PNGs."""
    device = pick_device(args.device)
    loaded = load_cyclegan(args.checkpoint, device)
    size = args.size or default_translate_size(loaded.config)
    source: Path = args.input
    if not source.exists():
        raise CycleGANUserError(f"--input {source} does not exist")
    if source.is_dir():
        paths = list_images(source)
        out: Path = args.out
        if out.suffix.lower() in IMAGE_EXTENSIONS:
            raise CycleGANUserError(
                f"--input {source} is a folder, so --out must be a folder, not {out}"
            )
        for path in paths:
            translate_file(
                loaded, path, out / f"{path.stem}_{args.direction}.png", args.direction, size
            )
        print(f"translated {len(paths)} images {args.direction} at {size} px into {out}")
        return 0
    out = args.out
    if out.is_dir() or out.suffix.lower() not in IMAGE_EXTENSIONS:
        out = out / f"{source.stem}_{args.direction}.png"
    translate_file(loaded, source, out, args.direction, size)
    print(f"translated {source} {args.direction} at {size} px -> {out}")
    return 0


# --- gan-train evaluate-cyclegan ----------------------------------------------------------------


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-train evaluate-cyclegan``."""
    parser.add_argument(
        "checkpoint", type=Path, help="a CycleGAN checkpoint folder (or run folder)"
    )
    parser.add_argument(
        "--data", type=Path, help="folder with testA/testB (and trainA/trainB for the classifier)"
    )
    parser.add_argument("--test-a", type=Path, help="test images of domain A (default DATA/testA)")
    parser.add_argument("--test-b", type=Path, help="test images of domain B (default DATA/testB)")
    parser.add_argument(
        "--classifier",
        type=Path,
        help="A-vs-B classifier folder (default pretrained/classifiers/<dataset>)",
    )
    parser.add_argument(
        "--train-classifier",
        action="store_true",
        help="(re)train the classifier on DATA/trainA, trainB",
    )
    parser.add_argument(
        "--size", type=int, help="side the test images are evaluated at (default: the model's)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output folder (before/after grids, results.json); keep it outside git",
    )
    parser.add_argument(
        "--grid-n", type=int, default=8, help="test images per direction in the before/after grid"
    )
    parser.add_argument(
        "--write-meta", action="store_true", help="store the figures in the checkpoint's meta.json"
    )
    parser.add_argument("--seed", type=int, default=0)


def run_eval_from_args(args: argparse.Namespace) -> int:
    """``gan-train evaluate-cyclegan``: train or load the classifier, evaluate, print and save figures."""
    if args.data is None and (args.test_a is None or args.test_b is None):
        raise CycleGANUserError("pass --data DIR (with testA/testB) or both --test-a and --test-b")
    test_a = args.test_a or args.data / "testA"
    test_b = args.test_b or args.data / "testB"
    meta = ckpt.read_meta(args.checkpoint)
    dataset = meta.get("dataset") or "cyclegan"
    classifier_dir = args.classifier or default_classifier_dir(dataset)
    size = args.size or int(meta["config"]["image_size"])
    if args.train_classifier:
        if args.data is None:
            raise CycleGANUserError("--train-classifier needs --data DIR with trainA/trainB")
        accuracy = train_and_save_classifier(
            args.data,
            (test_a, test_b),
            size,
            classifier_dir,
            dataset=dataset,
            seed=args.seed,
            command="gan-train " + shlex.join(sys.argv[1:]),
            log=lambda m: print(m, file=sys.stderr),
        )
        print(
            f"domain classifier: test accuracy {accuracy:.4f} -> {classifier_dir}", file=sys.stderr
        )
    classifier, _ = load_domain_classifier(classifier_dir)
    result = evaluate_cyclegan(
        args.checkpoint, test_a, test_b, classifier, args.out, size, args.grid_n, args.seed
    )
    print(json.dumps(result, indent=2))
    if args.write_meta:
        store_metrics(result)
    print(f"before/after grids and results.json in {args.out}", file=sys.stderr)
    return 0


# --- gan-train export-cyclegan ------------------------------------------------------------------


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-train export-cyclegan``."""
    parser.add_argument("source", type=Path, help="a run folder or checkpoint folder")
    parser.add_argument(
        "out", type=Path, help="the folder to write, e.g. pretrained/cyclegan-horse2zebra"
    )
    parser.add_argument(
        "--half", action="store_true", help="store weights as float16 (half the size)"
    )
    parser.add_argument("--name", help="display name stored in meta.json")
    parser.add_argument(
        "--note", help="free text stored in meta.json (e.g. how the CPU was shared)"
    )


def run_export_from_args(args: argparse.Namespace) -> int:
    """``gan-train export-cyclegan``: an inference-only copy of a run (generators only)."""
    out = export_generators(args.source, args.out, args.half, args.name, args.note)
    print(f"exported {args.source} -> {out}")
    return 0
