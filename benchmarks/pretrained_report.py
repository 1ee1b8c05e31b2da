"""Print the table of shipped checkpoints for pretrained/README.md from their meta.json files.

    python benchmarks/pretrained_report.py            # markdown table on stdout

Figures come from `gan-train evaluate ... --write-meta`, which stores them in each meta.json.
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


def main() -> None:
    rows = []
    for meta_path in sorted(PRETRAINED.glob("*/meta.json")):
        meta = json.loads(meta_path.read_text())
        if meta.get("kind") != "gan-explorer-checkpoint" or meta["model"] == "cyclegan":
            continue  # CycleGAN has its own figures (gan-train evaluate-cyclegan)
        m = meta.get("metrics", {})
        weights = meta_path.parent / "model.safetensors"
        g_params = parameter_count(weights, "G.")
        d_params = parameter_count(weights, "D.")
        minutes = meta.get("wall_time_s", 0) / 60
        rows.append(
            f"| `{meta_path.parent.name}` | {meta['model']} | {meta['dataset']} | {g_params / 1e6:.2f}M / {d_params / 1e6:.2f}M "
            f"| {meta['step']} | {minutes:.0f} min ({meta.get('device', '?')}) "
            f"| {fmt(m.get('classifier_fid'), '.2f')} (floor {fmt(m.get('classifier_fid_floor_train_vs_test'), '.2f')}) "
            f"| {fmt(m.get('smallest_class_share'), '.3f')} | {fmt(m.get('label_accuracy'), '.4f')} "
            f"| `{meta.get('command', '')}` |"
        )
    print(
        "| checkpoint | model | data | params G / D | steps | training time | classifier-FID (floor) "
        "| smallest class share | cGAN label accuracy | command |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
