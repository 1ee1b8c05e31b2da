"""Stylise plans its stages from the output size: every size the sliders offer runs."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import stylise as core
from explorer.context import HOSTED_LIMITS, LOCAL_LIMITS
from trainers.style import COARSE_MIN_SIDE, MIN_SIZE, StyleConfig, pictures, stage_plan, transfer

#: Every output size the Stylise sliders offer (both editions: 64 px up, steps of 32).
SIZES = range(64, max(LOCAL_LIMITS.stylise_size, HOSTED_LIMITS.stylise_size) + 1, 32)
#: Content pictures: square, benchmarks/soak.py's 96x64 (W x H), portrait, a 3:1 panorama.
SHAPES = [(64, 64), (64, 96), (96, 64), (100, 300)]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("steps", [1, 10, 200])
def test_every_slider_size_has_a_plan_whose_stages_all_fit(size: int, steps: int) -> None:
    for shape in SHAPES:
        plan = stage_plan(StyleConfig(size=size, steps=steps, schedule="coarse-to-fine"), shape)
        sides = [side for side, _ in plan]
        assert sum(n for _, n in plan) == steps and plan[-1] == (size, plan[-1][1])
        assert sides == sorted(set(sides)) and all(n > 0 for _, n in plan)
        for side in sides[:-1]:  # coarse stages: big enough for VGG19, and the picture fits
            assert side >= COARSE_MIN_SIDE and pictures.fits(*shape, side)
        for side in sides:  # the resize the optimiser does never raises "too thin"
            content = np.zeros((*shape, 3), np.uint8)
            assert min(pictures.resize_long_side(content, side).shape[:2]) >= MIN_SIZE
    square = stage_plan(StyleConfig(size=size, steps=200, schedule="coarse-to-fine"))
    assert len(square) == (
        1 if size < 2 * COARSE_MIN_SIDE else 2 if size < 4 * COARSE_MIN_SIDE else 3
    )


def test_small_outputs_use_fewer_stages_and_the_summary_says_so() -> None:
    assert core.schedule_summary(200, 64, "coarse-to-fine") == "200 steps at 64 px"
    assert core.schedule_summary(200, 128, "coarse-to-fine") == "183 steps at 64 px → 17 at 128 px"
    assert core.schedule_summary(200, 256, "coarse-to-fine") == (
        "133 steps at 64 px → 50 at 128 px → 17 at 256 px"
    )  # unchanged where every stage fits
    # a thin picture drops the coarse stage it would not fit
    assert stage_plan(StyleConfig(size=256, steps=12, schedule="coarse-to-fine"), (60, 256)) == [
        (128, 11),
        (256, 1),
    ]


@pytest.mark.parametrize("size", [64, 96, 128])
@pytest.mark.parametrize("features", ["random", "random-multiscale"])
def test_the_soak_s_small_run_now_finishes(
    size: int, features: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """96x64 content at the small sizes a teacher picks: a picture, not "too thin"."""
    seen: list[tuple[int, int]] = []
    real = transfer._optimise

    def spy(objective, x, config, steps, *rest):
        seen.append(tuple(x.shape[-2:]))
        return real(objective, x, config, steps, *rest)

    monkeypatch.setattr(transfer, "_optimise", spy)
    rng = np.random.default_rng(0)
    content = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
    style = rng.integers(0, 256, (20, 120, 3), dtype=np.uint8)  # a thin style picture too
    config = core.make_config(steps=3, size=size, features=features, optimizer="adam")
    config.allow_download = False
    result = transfer.stylise_result(content, style, config)
    assert result.image.shape[:2] == pictures.resized_shape(64, 96, size)
    assert result.reason == "done" and min(min(s) for s in seen) >= MIN_SIZE
