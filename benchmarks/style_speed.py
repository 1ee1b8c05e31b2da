"""How fast is our style-transfer engine compared with the PyTorch tutorial's structure?

Both optimise the same 256 px image with L-BFGS on the same feature network (same weights, same
pooling, same content/style layers, same content/style pair); one "step" is one forward and
backward pass (one closure evaluation). The tutorial re-implementation follows
https://pytorch.org/tutorials/advanced/neural_style_tutorial.html: an ``nn.Sequential`` rebuilt
from the CNN with ``ContentLoss``/``StyleLoss`` modules inserted after the chosen layers, the
style Gram targets computed once, ``optim.LBFGS([input_img])`` and a clamping closure.

The two are measured in alternating blocks (ours, tutorial, ours, ...), each block a fresh run
from the content image, so that a background load hits both alike; the median block is
reported. Then one full default run of our engine gives the seconds to a finished 256 px image.

Last, the two schedules side by side (``--schedules``): single-scale (200 L-BFGS steps at 256 px,
the default) and coarse-to-fine (``--c2f-steps`` steps in all over 64 -> 128 -> 256 px, each
stage started from the previous result upsampled). For each: seconds to the finished image and
the final loss at 256 px, both as the optimiser saw it and re-measured on the returned image with
one float32 objective, so the two are compared on the same scale. Goal: coarse-to-fine <= 60 s
with a final loss no worse than single-scale's.

Measured 2026-12-02 (random-weight VGG19: the ImageNet weights cannot be downloaded here):
``--schedules --threads 1`` single-scale 200 steps 336.6 s, loss 0.3400; coarse-to-fine
133 + 50 + 17 steps at 64/128/256 px 68.2 s, loss 0.3076. On the idle machine with both
threads, ``--schedules --only coarse-to-fine``: 42.1 s, loss 0.3055.

    python benchmarks/style_speed.py                   # defaults: 256 px, 3 blocks of 10 steps
    python benchmarks/style_speed.py --blocks 5 --block-steps 20 --no-full-run
    python benchmarks/style_speed.py --threads 1   # fairer when other jobs share the cores
    python benchmarks/style_speed.py --blocks 0 --no-full-run --schedules   # schedules only
    python benchmarks/style_speed.py --blocks 0 --no-full-run --schedules --only coarse-to-fine
"""

from __future__ import annotations

import argparse
import copy
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from trainers import style  # noqa: E402
from trainers.events import Step  # noqa: E402

# ---- the tutorial's structure, written out as in the tutorial -----------------------------------


class Normalization(nn.Module):
    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.mean = mean.clone().view(-1, 1, 1)
        self.std = std.clone().view(-1, 1, 1)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return (img - self.mean) / self.std


class ContentLoss(nn.Module):
    def __init__(self, target: torch.Tensor) -> None:
        super().__init__()
        self.target = target.detach()

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        self.loss = F.mse_loss(input, self.target)
        return input


def tutorial_gram_matrix(input: torch.Tensor) -> torch.Tensor:
    a, b, c, d = input.size()
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())
    return G.div(a * b * c * d)


class StyleLoss(nn.Module):
    def __init__(self, target_feature: torch.Tensor) -> None:
        super().__init__()
        self.target = tutorial_gram_matrix(target_feature).detach()

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        G = tutorial_gram_matrix(input)
        self.loss = F.mse_loss(G, self.target)
        return input


def get_style_model_and_losses(
    cnn, mean, std, style_img, content_img, content_layers, style_layers
):
    normalization = Normalization(mean, std)
    content_losses, style_losses = [], []
    model = nn.Sequential(normalization)
    i = 0
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = f"conv_{i}"
        elif isinstance(layer, nn.ReLU):
            name = f"relu_{i}"
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d | nn.AvgPool2d):
            name = f"pool_{i}"
        else:
            raise RuntimeError(f"Unrecognized layer: {layer.__class__.__name__}")
        model.add_module(name, layer)
        if name in content_layers:
            target = model(content_img).detach()
            content_loss = ContentLoss(target)
            model.add_module(f"content_loss_{i}", content_loss)
            content_losses.append(content_loss)
        if name in style_layers:
            target_feature = model(style_img).detach()
            style_loss = StyleLoss(target_feature)
            model.add_module(f"style_loss_{i}", style_loss)
            style_losses.append(style_loss)
    for i in range(len(model) - 1, -1, -1):  # trim off the layers after the last loss
        if isinstance(model[i], ContentLoss | StyleLoss):
            break
    model = model[: (i + 1)]
    return model, style_losses, content_losses


def tutorial_steps_per_s(model, style_losses, content_losses, input_img, steps) -> float:
    """Run ``steps`` closure evaluations of the tutorial loop from ``input_img``; steps/s."""
    style_weight, content_weight = 1e6, 1
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = torch.optim.LBFGS([input_img])
    run = [0]

    def closure():
        if run[0] >= steps:
            raise StopIteration
        with torch.no_grad():
            input_img.clamp_(0, 1)
        optimizer.zero_grad()
        model(input_img)
        style_score = sum(sl.loss for sl in style_losses) * style_weight
        content_score = sum(cl.loss for cl in content_losses) * content_weight
        loss = style_score + content_score
        loss.backward()
        run[0] += 1
        return style_score + content_score

    start = time.perf_counter()
    try:
        while True:
            optimizer.step(closure)
    except StopIteration:
        pass
    return steps / (time.perf_counter() - start)


# ---- our engine ---------------------------------------------------------------------------------


def ours_steps_per_s(content, style_img, config: style.StyleConfig) -> tuple[float, float]:
    """Steps/s and CPU-seconds/step of :func:`trainers.style.stylise`, first to last step."""
    marks: list[tuple[float, float]] = []  # (wall time, CPU time) at each step

    def on_event(event) -> None:
        if isinstance(event, Step):
            marks.append((event.wall_time, cpu_seconds()))

    style.stylise(content, style_img, config, callback=on_event, preview_every=10**6)
    n = len(marks) - 1
    return n / (marks[-1][0] - marks[0][0]), (marks[-1][1] - marks[0][1]) / n


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--block-steps", type=int, default=10)
    parser.add_argument("--features", default="auto", choices=style.FEATURE_CHOICES)
    parser.add_argument("--no-full-run", action="store_true", help="skip the full default run")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument(
        "--schedules", action="store_true", help="compare single-scale and coarse-to-fine"
    )
    parser.add_argument(
        "--c2f-steps", type=int, default=200, help="coarse-to-fine steps, all stages together"
    )
    parser.add_argument(
        "--only",
        choices=("single-scale", "coarse-to-fine"),
        help="with --schedules: run one schedule (e.g. the fast one on an otherwise idle machine)",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from skimage import data

    content = style.resize_long_side(data.astronaut(), args.size)
    # The tutorial needs style and content of the same size (it broadcasts the loss modules'
    # targets), so both engines get the style image resized to the content's exact shape.
    h, w = content.shape[:2]
    hubble = Image.fromarray(style.load_image(data.hubble_deep_field()))
    style_rgb = np.asarray(hubble.resize((w, h), Image.Resampling.LANCZOS))
    base = style.StyleConfig(features=args.features, size=args.size, allow_download=False)
    net = style.load_feature_net(base.features, base.pooling, allow_download=False)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"features: {net.description}; pooling {base.pooling}; {args.size} px")

    # The same network as a plain nn.Sequential (shared weights) for the tutorial code.
    # (a copy in the default contiguous memory layout, as the tutorial would have it)
    cnn = copy.deepcopy(nn.Sequential(*net.body)).to(memory_format=torch.contiguous_format)
    # The tutorial names layers conv_i / relu_i by counting convolutions: relu4_2 -> relu_10.
    conv_count, conv_index = 0, {}
    for name in net.names:
        conv_count += name.startswith("conv")
        conv_index[name] = conv_count
    tut_content = [f"relu_{conv_index[style.VGG_CONTENT_LAYER]}"]
    tut_style = [f"relu_{conv_index[n]}" for n in style.VGG_STYLE_LAYERS]
    c = style.to_tensor(content)
    s = style.to_tensor(style_rgb)
    model, style_losses, content_losses = get_style_model_and_losses(
        cnn, torch.tensor(style.IMAGENET_MEAN), torch.tensor(style.IMAGENET_STD), s, c,
        tut_content, tut_style,
    )  # fmt: skip

    variants = {
        "ours (auto precision)": base,
        "ours (fp32)": style.StyleConfig(**{**base.__dict__, "precision": "fp32"}),
    }
    results: dict[str, list[float]] = {name: [] for name in [*variants, "tutorial structure"]}
    cpu_per_step: dict[str, list[float]] = {name: [] for name in results}
    print(f"bf16 autocast in 'auto': {style.use_bf16('auto')}")
    # warm-up (oneDNN primitive creation) for everyone, not timed
    ours_steps_per_s(content, style_rgb, style.StyleConfig(**{**base.__dict__, "steps": 3}))
    tutorial_steps_per_s(model, style_losses, content_losses, c.clone(), 3)
    for block in range(args.blocks):
        for name, cfg in variants.items():
            cfg = style.StyleConfig(**{**cfg.__dict__, "steps": args.block_steps + 1})
            speed, cpu = ours_steps_per_s(content, style_rgb, cfg)
            results[name].append(speed)
            cpu_per_step[name].append(cpu)
        t = cpu_seconds()
        results["tutorial structure"].append(
            tutorial_steps_per_s(model, style_losses, content_losses, c.clone(), args.block_steps)
        )
        cpu_per_step["tutorial structure"].append((cpu_seconds() - t) / args.block_steps)
        print(
            f"block {block + 1}: "
            + ", ".join(f"{n} {v[-1]:.2f} steps/s" for n, v in results.items()),
            flush=True,
        )

    if args.blocks:
        report_blocks(args, results, cpu_per_step, variants)
    if not args.no_full_run:
        stop = threading.Event()
        start = time.perf_counter()
        result = style.stylise_result(content, style_rgb, base, stop=stop)
        seconds = time.perf_counter() - start
        print(
            f"\nfull default run ({base.steps} L-BFGS steps, {args.size} px, features: "
            f"{result.features_in_use}): {seconds:.1f} s to a finished image "
            f"(load average now {os.getloadavg()[0]:.1f})"
        )
    if args.schedules:
        compare_schedules(content, style_rgb, base, net, args.c2f_steps, args.only)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


def compare_schedules(content, style_rgb, base, net, c2f_steps: int, only: str | None) -> None:
    """Single-scale vs coarse-to-fine (or ``only`` one): seconds and final loss at the output
    size."""
    runs = {
        "single-scale": base,
        "coarse-to-fine": style.StyleConfig(
            **{**base.__dict__, "schedule": "coarse-to-fine", "steps": c2f_steps}
        ),
    }
    # One float32 objective at the output size re-measures both returned images.
    judge = style.StyleObjective(
        net,
        style.to_tensor(content),
        style.to_tensor(style_rgb),
        style.StyleConfig(**{**base.__dict__, "precision": "fp32"}),
    )
    print(f"\nschedules at {base.size} px (load average {os.getloadavg()[0]:.1f}):")
    print(
        f"  {'schedule':15s} {'stages (px x steps)':28s} {'seconds':>8s} {'loss':>8s} {'fp32 loss':>10s}"
    )
    for name, config in runs.items():
        if only and name != only:
            continue
        start = time.perf_counter()
        result = style.stylise_result(content, style_rgb, config)
        seconds = time.perf_counter() - start
        with torch.no_grad():
            remeasured = judge(style.to_tensor(result.image))["total"].item()
        stages = " + ".join(f"{side}x{n}" for side, n in result.stages)
        print(
            f"  {name:15s} {stages:28s} {seconds:8.1f} {result.losses['total']:8.4f} "
            f"{remeasured:10.4f}",
            flush=True,
        )


def report_blocks(args, results, cpu_per_step, variants) -> None:
    print(f"\nmedian over {args.blocks} blocks of {args.block_steps} L-BFGS steps, {args.size} px:")
    median = {name: statistics.median(v) for name, v in results.items()}
    for name, value in median.items():
        cpu = statistics.median(cpu_per_step[name])
        print(f"  {name:24s} {value:6.2f} steps/s   ({cpu:.2f} CPU-s per step)")
    tut = median["tutorial structure"]
    for name in variants:
        print(f"  speed-up {name} / tutorial: {median[name] / tut:.2f}x (goal >= 1.2x)")


if __name__ == "__main__":
    raise SystemExit(main())
