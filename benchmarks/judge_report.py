"""The shipped GAN checkpoints as the held-out judge reads them (pretrained/judges/<dataset>).

    python benchmarks/judge_report.py                       # every mlp-gan/dcgan/cgan in pretrained/
    python benchmarks/judge_report.py pretrained/cgan-mnist --n 2000

Per checkpoint: 10,000 samples (seed 0; a cGAN is asked for labels 0, 1, ..., 9, 0, 1, ...),
judge-FID beside its floor (real train vs real test), the rarest class's share, the share read
with top probability >= 0.9, and for a cGAN the label accuracy and a per-class table. The
reference classifier's figures (from meta.json "metrics", written by `gan-train evaluate
--write-meta`) are shown beside them for comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trainers.checkpoint import CheckpointError  # noqa: E402
from trainers.judge_report import format_per_class_table, judge_report  # noqa: E402
from trainers.pipeline import GANPipeline  # noqa: E402

FAMILIES = ("mlp-gan", "dcgan", "cgan")


def samples(checkpoint: Path, n: int, seed: int) -> tuple[np.ndarray, np.ndarray | None, str]:
    """uint8 (N, H, W, C) samples, the asked labels (cGAN: 0, 1, ..., 9, 0, ...) and the data
    set's name: exactly what `gan-train sample CKPT --n N --seed S` writes."""
    pipe = GANPipeline.from_pretrained(checkpoint)
    out = pipe(n=n, seed=seed, with_scores=False)
    labels = None if out.labels is None else out.labels.numpy()
    return out.images, labels, pipe.meta["dataset"]


def shipped_checkpoints() -> list[Path]:
    found = []
    for meta_path in sorted((ROOT / "pretrained").glob("*/meta.json")):
        meta = json.loads(meta_path.read_text())
        if meta.get("kind") == "gan-explorer-checkpoint" and meta.get("model") in FAMILIES:
            found.append(meta_path.parent)
    return found


def fmt(value, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="*", type=Path, help="default: all shipped GANs")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write every report to this JSON file")
    args = parser.parse_args()
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    reports, tables = {}, []
    rows = [
        "| checkpoint | judge-FID (floor, FID / floor) | rarest class (share) | confident share "
        "| label accuracy (worst class) | reference classifier: FID (floor, FID / floor) "
        "| reference: rarest share | reference: label accuracy |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for checkpoint in args.checkpoints or shipped_checkpoints():
        start = time.perf_counter()
        images, labels, dataset = samples(checkpoint, args.n, args.seed)
        try:
            report = judge_report(images, labels, dataset)
        except CheckpointError as error:
            print(f"{checkpoint.name}: skipped: {error}", file=sys.stderr)
            continue
        report["seconds"] = round(time.perf_counter() - start, 1)
        reports[checkpoint.name] = report
        ref = json.loads((checkpoint / "meta.json").read_text()).get("metrics", {})
        accuracy = "–"
        if "label_accuracy" in report:
            accuracy = f"{report['label_accuracy']:.2%} ({report['worst_class_accuracy']:.1%})"
            tables.append(
                f"\n`{checkpoint.name}` per class (judge):\n\n{format_per_class_table(report)}"
            )
        ref_fid, ref_floor = (
            ref.get("classifier_fid"),
            ref.get("classifier_fid_floor_train_vs_test"),
        )
        ref_ratio = ref_fid / ref_floor if ref_fid is not None and ref_floor else None
        rows.append(
            f"| `{checkpoint.name}` | {report['judge_fid']:.3f} ({report['judge_fid_floor']:.3f}, "
            f"{fmt(report.get('judge_fid_over_floor'), '.1f')}x) "
            f"| {report['rarest_class']} ({report['smallest_class_share']:.3f}) "
            f"| {report['confident_share']:.1%} | {accuracy} "
            f"| {fmt(ref_fid, '.2f')} ({fmt(ref_floor, '.2f')}, {fmt(ref_ratio, '.1f')}x) "
            f"| {fmt(ref.get('smallest_class_share'), '.3f')} | {fmt(ref.get('label_accuracy'), '.2%')} |"
        )
        print(f"{checkpoint.name}: done in {report['seconds']} s", file=sys.stderr, flush=True)
    print(f"Held-out judge, {args.n} samples per checkpoint, seed {args.seed}\n")
    print("\n".join(rows))
    print("\n".join(tables))
    real = {r["judge"]: r["real_test_confident_share"] for r in reports.values()}
    print(
        "\nreal test images read confidently by each judge: "
        + ", ".join(f"{Path(k).name} {v:.1%}" for k, v in real.items() if v is not None)
    )
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
