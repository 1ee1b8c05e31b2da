"""`gan-train`: one command line for every trainer.

gan-train dcgan --dataset fashion-mnist --epochs 5 --out runs/dcgan-fashion
gan-train dcgan --out runs/dcgan-fashion --resume --steps 6000
gan-train sample runs/dcgan-fashion --n 64 --out samples.npz
gan-train export runs/dcgan-fashion pretrained/dcgan-fashion-mnist --half
gan-train dcgan --dataset cifar10 --dry-run

One sub-command per registered model family (trainers/registry.py: its ``cli_command``, run by
its ``trainer``'s CLI module in TRAINER_COMMANDS), then the tools in SUBCOMMANDS. A module adds
a sub-command with one entry there: it provides ``add_arguments(parser)`` and
``run_from_args(args) -> exit status``. Argument parsing lives only in this package.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys

from trainers.checkpoint import CheckpointError
from trainers.cli.common import UserError
from trainers.data import DataUnavailableError
from trainers.loop import TrainingDiverged
from trainers.onnx_export import OnnxExportError
from trainers.registry import ModelSpec, families

__all__ = ["SUBCOMMANDS", "TRAINER_COMMANDS", "UserError", "build_parser", "main"]

#: ModelSpec.trainer -> (module, function adding the arguments, function running them, whether
#: the add function also takes the family's ModelSpec). The name and help come from the registry.
TRAINER_COMMANDS: dict[str, tuple[str, str, str, bool]] = {
    "gan": ("trainers.cli.train", "add_arguments", "run_from_args", True),
    "cyclegan": ("trainers.cli.cyclegan", "add_arguments", "run_from_args", False),
}

#: (sub-command, module, function adding its arguments, function running it, help)
SUBCOMMANDS: list[tuple[str, str, str, str, str]] = [
    (
        "sample",
        "trainers.cli.sample",
        "add_arguments",
        "run_from_args",
        "write samples from a checkpoint (.npz or a folder of PNGs)",
    ),
    (
        "export",
        "trainers.cli.export",
        "add_arguments",
        "run_from_args",
        "make a shipped, inference-only checkpoint from a run",
    ),
    (
        "export-onnx",
        "trainers.cli.export_onnx",
        "add_arguments",
        "run_from_args",
        "write G and D as ONNX files (what the explorer's browser widget runs)",
    ),
    (
        "evaluate",
        "trainers.cli.evaluate",
        "add_arguments",
        "run_from_args",
        "measure checkpoints: classifier-FID vs its floor, mode coverage, cGAN label accuracy",
    ),
    (
        "classifier",
        "trainers.cli.evaluate",
        "add_classifier_arguments",
        "run_classifier_from_args",
        "train the small reference classifier that evaluate uses",
    ),
    (
        "judge",
        "trainers.cli.judge",
        "add_arguments",
        "run_from_args",
        "train the held-out judge (second classifier)",
    ),
    (
        "translate",
        "trainers.cli.cyclegan",
        "add_translate_arguments",
        "run_translate_from_args",
        "translate images with a CycleGAN checkpoint (a2b or b2a)",
    ),
    (
        "evaluate-cyclegan",
        "trainers.cli.cyclegan",
        "add_eval_arguments",
        "run_eval_from_args",
        "CycleGAN: cycle L1 on test images, target-domain rate of a classifier, before/after grid",
    ),
    (
        "export-cyclegan",
        "trainers.cli.cyclegan",
        "add_export_arguments",
        "run_export_from_args",
        "CycleGAN: an inference-only copy of a run (the two generators, optionally float16)",
    ),
    (
        "style",
        "trainers.cli.style",
        "add_arguments",
        "run_from_args",
        "neural style transfer (Gatys et al.): gan-train style --content IMG --style IMG --out IMG",
    ),
    (
        "push",
        "trainers.cli.hub",
        "add_push_arguments",
        "run_push",
        "upload a checkpoint and its model card to the Hugging Face Hub",
    ),
    (
        "pull",
        "trainers.cli.hub",
        "add_pull_arguments",
        "run_pull",
        "download a checkpoint from the Hugging Face Hub: OWNER/NAME[@REVISION]",
    ),
]

#: Errors that are the user's to fix: one line on stderr, exit status 2 (no traceback).
USER_ERRORS: tuple[type[BaseException], ...] = (
    UserError,
    CheckpointError,
    DataUnavailableError,
    TrainingDiverged,
    ValueError,
    FileNotFoundError,
    OnnxExportError,
)


def _add_family(sub: argparse._SubParsersAction, spec: ModelSpec) -> None:
    """The sub-command that trains one registered family (skipped if its trainer has no CLI)."""
    if spec.trainer not in TRAINER_COMMANDS:
        return
    module_name, add_name, run_name, takes_spec = TRAINER_COMMANDS[spec.trainer]
    module = importlib.import_module(module_name)
    p = sub.add_parser(spec.cli_command, help=spec.description, description=spec.description)
    add = getattr(module, add_name)
    add(p, spec) if takes_spec else add(p)
    p.set_defaults(run=getattr(module, run_name), family=spec.name)


def build_parser() -> argparse.ArgumentParser:
    """The ``gan-train`` parser, built from the registry and SUBCOMMANDS at call time."""
    parser = argparse.ArgumentParser(
        prog="gan-train", description="Train and use the GAN Explorer models."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for spec in families():
        _add_family(sub, spec)
    for name, module_name, add_name, run_name, help_text in SUBCOMMANDS:
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_text, description=help_text)
        getattr(module, add_name)(p)
        p.set_defaults(run=getattr(module, run_name))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``gan-train``; returns the exit status (2 for a user error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.command_line = "gan-train " + shlex.join(argv)  # stored in checkpoints
    try:
        return args.run(args)
    except USER_ERRORS as error:
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
