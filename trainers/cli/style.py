"""``gan-train style --content IMG --style IMG --out IMG``: neural style transfer from the shell."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from PIL import Image

from trainers.events import Step
from trainers.options import add_option
from trainers.style import (
    FEATURE_CHOICES,
    SCHEDULES,
    StyleConfig,
    describe_features,
    load_image,
    stylise,
)
from trainers.tracking import report_to_option, start_trackers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``style`` subcommand's options to ``parser``."""
    d = StyleConfig()
    parser.add_argument("--content", required=True, help="content photo (any PIL-readable file)")
    parser.add_argument("--style", required=True, help="style image (painting, texture, ...)")
    parser.add_argument("--out", required=True, help="where to write the result (.png, .jpg)")
    parser.add_argument("--steps", type=int, default=d.steps, help="optimisation steps")
    parser.add_argument("--size", type=int, default=d.size, help="output long side in pixels")
    parser.add_argument("--content-weight", type=float, default=d.content_weight)
    parser.add_argument("--style-weight", type=float, default=d.style_weight)
    parser.add_argument("--tv-weight", type=float, default=d.tv_weight)
    parser.add_argument("--style-scale", type=float, default=d.style_scale)
    parser.add_argument("--init", choices=("content", "noise"), default=d.init)
    parser.add_argument("--optimizer", choices=("lbfgs", "adam"), default=d.optimizer)
    parser.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate")
    parser.add_argument("--preserve-color", action="store_true", help="keep the content colours")
    parser.add_argument("--features", choices=FEATURE_CHOICES, default=d.features)
    parser.add_argument("--pooling", choices=("avg", "max"), default=d.pooling)
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default=d.precision)
    parser.add_argument("--weights", default=None, help="explicit VGG19 weights file")
    parser.add_argument("--offline", action="store_true", help="never try to download weights")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default=d.schedule,
        help="single: every step at --size; coarse-to-fine: the steps spread over "
        "size/4 -> size/2 -> size (several times faster)",
    )
    add_option(parser, report_to_option())  # --report-to, declared once on TrainConfig


def config_from_args(args: argparse.Namespace) -> StyleConfig:
    """Build a :class:`StyleConfig` from parsed ``add_arguments`` options."""
    return StyleConfig(
        content_weight=args.content_weight,
        style_weight=args.style_weight,
        tv_weight=args.tv_weight,
        init=args.init,
        optimizer=args.optimizer,
        steps=args.steps,
        lr=args.lr,
        size=args.size,
        style_scale=args.style_scale,
        preserve_color=args.preserve_color,
        seed=args.seed,
        features=args.features,
        pooling=args.pooling,
        precision=args.precision,
        weights_path=args.weights,
        allow_download=not args.offline,
        schedule=args.schedule,
    )


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``gan-train style``: stylise with a tqdm bar and write ``--out``. Returns 0 or 2."""
    from tqdm import tqdm

    try:
        config = config_from_args(args)
        config.validate()
        out = Path(args.out)
        if out.suffix.lower() not in Image.registered_extensions():
            raise ValueError(f"--out {out}: unknown image extension {out.suffix!r}")
        content = load_image(args.content, "content image")  # bad files fail here, early
        style = load_image(args.style, "style image")
        features = describe_features(
            config.features, config.pooling, config.weights_path, config.allow_download
        )
        print(f"features: {features}")
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    tracker = start_trackers(  # --report-to: events in <out folder>/tensorboard/<out name>
        getattr(args, "report_to", None),
        out.parent,
        out.stem,
        options={"style": asdict(config), "content": args.content, "style_image": args.style},
        tensorboard_dir=out.parent / "tensorboard" / out.stem,
    )
    bar = tqdm(total=config.steps, unit="step", desc="style")

    def on_event(event: object) -> None:
        if isinstance(event, Step):
            bar.update(event.step - bar.n)
            bar.set_postfix({k: f"{v:.3g}" for k, v in event.losses.items()})
        if tracker is not None:
            tracker(event)

    try:
        image = stylise(content, style, config, callback=on_event)
    except (ValueError, FileNotFoundError) as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if tracker is not None:
            tracker.close()
    bar.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(out)
    print(f"wrote {out} ({image.shape[1]}x{image.shape[0]})")
    return 0
