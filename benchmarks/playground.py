"""The 2-D playground's figures: speed of a step and of a UI update, and mode coverage on the ring.

    python benchmarks/playground.py                      # 1000 rounds, seeds 0-4, 2 processes
    python benchmarks/playground.py --rounds 500 --seeds 3 --workers 1

Prints two tables:

1. time per 2-D round (k_D D-updates + k_G G-updates) for the default settings, the collapse
   preset and its cure, and time per UI update (what one Play tick draws: D's heatmap, points,
   arrows, the figures and their chart; and the Train tab's plotly curve chart of a 5,000- and
   a 50,000-step run, figure and JSON);
2. on the ring of 8 Gaussians, modes covered after N/2 and N rounds for every seed, for the
   default settings, the collapse preset and the cure (the collapse preset with one switch:
   the loss becomes WGAN-GP), with the mean high-quality share and JS estimate at N.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import torch

CONFIGS = ("default", "collapse", "cure")


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def speed_table(repeats: int) -> list[tuple[str, float]]:
    """(what, median milliseconds)."""
    import numpy as np

    from explorer import charts
    from explorer import playground_plot as plot
    from explorer.jobs import History
    from trainers.toy2d import Toy2DTrainer, preset_config

    rows = []
    for name in CONFIGS:
        trainer = Toy2DTrainer(preset_config(name, seed=0))
        trainer.step_both(20)  # warm-up
        rows.append(
            (
                f"one round, {name} ({trainer.config.loss}, k_D={trainer.config.d_steps})",
                _median_ms(lambda t=trainer: t.step_both(1), repeats),
            )
        )
    trainer = Toy2DTrainer(preset_config("default", seed=0))
    trainer.step_both(100)
    history = plot.FigureHistory()

    def ui_update() -> None:
        metrics = trainer.metrics()
        history.add(trainer.g_updates, metrics)
        plot.render(trainer)
        plot.figures_markdown(trainer, metrics, trainer.last_stats(), plot.mean_push(trainer))
        plot.history_chart(history).to_json()

    rows.append(
        (
            "playground UI update (heatmap, points, arrows, figures, chart)",
            _median_ms(ui_update, max(5, repeats // 10)),
        )
    )
    rows.append(
        (
            "  of which the figures alone (modes, quality, JS on 2000 samples)",
            _median_ms(trainer.metrics, max(5, repeats // 10)),
        )
    )
    rng = np.random.default_rng(0)
    for steps in (5_000, 50_000):
        curves = History()
        for step in range(1, steps + 1):
            curves.append(step, d=1 + rng.normal(0, 0.1), g=0.8 + rng.normal(0, 0.1))
        data = curves.copy()
        rows.append(
            (
                f"Train tab UI update: curve chart of a {steps:,}-step run (figure + JSON)",
                _median_ms(
                    lambda data=data: charts.training_curves(data).to_json(), max(5, repeats // 20)
                ),
            )
        )
    return rows


def coverage_run(args: tuple[str, int, int]) -> dict:
    """Train one config for ``rounds`` rounds; modes covered at rounds/2 and at the end."""
    torch.set_num_threads(1)
    from trainers.toy2d import Toy2DTrainer, preset_config

    name, seed, rounds = args
    trainer = Toy2DTrainer(preset_config(name, seed=seed))
    start = time.perf_counter()
    trainer.step_both(rounds // 2)
    half = trainer.metrics().modes_covered
    trainer.step_both(rounds - rounds // 2)
    metrics = trainer.metrics()
    return {
        "name": name,
        "seed": seed,
        "half": half,
        "end": metrics.modes_covered,
        "quality": metrics.high_quality_share,
        "js": metrics.js,
        "seconds": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rounds", type=int, default=1000, help="rounds (G updates) per run; N in the table"
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="processes for the coverage runs")
    parser.add_argument("--repeats", type=int, default=200, help="timed rounds per config")
    args = parser.parse_args()
    torch.set_num_threads(1)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread per process\n")
    print("| what | median ms |\n| --- | ---: |")
    for what, ms in speed_table(args.repeats):
        print(f"| {what} | {ms:.1f} |")

    tasks = [(name, seed, args.rounds) for name in CONFIGS for seed in range(args.seeds)]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(coverage_run, tasks))
    n, half = args.rounds, args.rounds // 2
    print(
        f"\nRing of 8 Gaussians: modes covered (of 8) after {half} / {n} rounds, seeds 0-{args.seeds - 1}\n"
    )
    print(
        f"| config | modes at {half} | modes at {n} | mean at {n} | high-quality share | JS (bits) | s per run |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for name in CONFIGS:
        rows = [r for r in results if r["name"] == name]
        print(
            f"| {name} | {' '.join(str(r['half']) for r in rows)} | {' '.join(str(r['end']) for r in rows)} "
            f"| {statistics.mean(r['end'] for r in rows):.1f} | {statistics.mean(r['quality'] for r in rows):.2f} "
            f"| {statistics.mean(r['js'] for r in rows):.2f} | {statistics.mean(r['seconds'] for r in rows):.0f} |"
        )
    print(
        "\ndefault: non-saturating, k=1, lr 1e-3/1e-3, 2x64 MLPs. collapse: non-saturating, k_D=5, lr_D 1e-3, "
        "lr_G 5e-4, 3x64 MLPs. cure: collapse with loss = wgan-gp."
    )


if __name__ == "__main__":
    main()
