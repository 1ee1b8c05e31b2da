"""Print the table of shipped checkpoints for pretrained/README.md from their meta.json files.

    python benchmarks/pretrained_report.py            # two markdown tables on stdout

Figures come from `gan-train evaluate ... --write-meta`, which stores them in each meta.json:
the reference classifier's (used to choose checkpoints and tune recipes) and the held-out
judge's (never used for either), side by side.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from safetensors import safe_open

PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained"


def parameter_count(weights: Path, prefix: str) -> int:
    with safe_open(str(weights), "pt") as f:
        return sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys() if k.startswith(prefix))


def fmt(value, spec: str = "") -> str:
    return "–" if value is None else format(value, spec)


def label_cell(figures: dict) -> str:
    """cGAN label accuracy with its worst class, e.g. "97.9% (8: 95.1%)"; "–" for the others."""
    if figures.get("label_accuracy") is None:
        return "–"
    rows = [row for row in figures.get("per_class", []) if row.get("asked")]
    worst = min(rows, key=lambda row: row["accuracy"], default=None)
    tail = f" ({worst['name']}: {worst['accuracy']:.1%})" if worst else ""
    return f"{figures['label_accuracy']:.1%}{tail}"


def quality_cells(figures: dict, fid: str, floor: str) -> str:
    """FID (floor) | rarest class share | confident share | label accuracy (worst class)."""
    return (
        f"{fmt(figures.get(fid), '.2f')} ({fmt(figures.get(floor), '.2f')}) "
        f"| {fmt(figures.get('smallest_class_share'), '.1%')} "
        f"| {fmt(figures.get('confident_share'), '.1%')} | {label_cell(figures)}"
    )


def main() -> None:
    quality, made = [], []
    for meta_path in sorted(PRETRAINED.glob("*/meta.json")):
        meta = json.loads(meta_path.read_text())
        if meta.get("kind") != "gan-explorer-checkpoint" or meta["model"] == "cyclegan":
            continue  # CycleGAN has its own figures (gan-train evaluate-cyclegan)
        m = meta.get("metrics", {})
        judge = m.get("judge", {})
        name = f"`{meta_path.parent.name}`"
        weights = meta_path.parent / "model.safetensors"
        g_params = parameter_count(weights, "G.")
        d_params = parameter_count(weights, "D.")
        minutes = meta.get("wall_time_s", 0) / 60
        quality.append(
            f"| {name} | {quality_cells(m, 'classifier_fid', 'classifier_fid_floor_train_vs_test')} "
            f"| {quality_cells(judge, 'judge_fid', 'judge_fid_floor')} |"
        )
        made.append(
            f"| {name} | {meta['model']} | {meta['dataset']} | {g_params / 1e6:.2f}M / {d_params / 1e6:.2f}M "
            f"| {meta['step']} | {minutes:.0f} min ({meta.get('device', '?')}) "
            f"| `{meta.get('command', '')}` |"
        )
    print(
        "| checkpoint | reference: classifier-FID (floor) | rarest class | confident | "
        "cGAN label accuracy (worst class) | judge: judge-FID (floor) | rarest class | confident "
        "| cGAN label accuracy (worst class) |"
    )
    print("| --- " * 9 + "|")
    print("\n".join(quality))
    print()
    print("| checkpoint | model | data | params G / D | steps | training time | command |")
    print("| --- " * 7 + "|")
    print("\n".join(made))


if __name__ == "__main__":
    main()
