"""The Runs page's core: find training runs, read them robustly, compare two or more.

A run is a folder with a ``log.jsonl`` (written by ``gan-train`` and by the Train tab's live
runs), usually with ``samples/step_*.png`` and ``options.json`` (or ``checkpoint/meta.json``).
Everything here reads those files only, so it works for any run, offline, with no tracker::

    runs = discover_runs([Path("runs")], live_root=default_runs_dir())
    view = compare_runs([runs[0], runs[1]], step=500)
    view.figure        # plotly: the runs' curves overlaid, one colour per run
    view.grids         # [(caption, uint8 picture)]: each run's sample grid nearest the step
    view.differences   # rows [option, value in run 1, value in run 2, ...]
    view.notes         # what was skipped and why (a broken log line is a note, never an error)

On a hosted Space (``own`` given) the page lists the shipped runs (the explorer's checkpoint
folders) and only the visitor's own live runs; keys never hold server paths.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from explorer import charts

LOG_FILE = "log.jsonl"
SAMPLES_FOLDER = "samples"
SAMPLE_PATTERN = re.compile(r"step_(\d+)\.png")
#: One colour per run (plotly's qualitative "D3" set); runs beyond ten reuse them.
RUN_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
#: Line styles by what is drawn: each run has one colour, each quantity one dash.
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
#: Fields of a log line that are not losses.
NOT_LOSSES = frozenset({"step", "epoch", "d_real", "d_fake", "images_per_s", "wall_time"})
#: How a loss is named in the legend.
LOSS_LABELS = {"d": "L_D", "g": "L_G"}
#: Options never worth listing as a difference.
IGNORED_OPTIONS = frozenset({"command"})
MAX_DEPTH = 2  # a run folder is a root, a child or a grandchild of one
MAX_RUNS = 500  # never list more than this many runs (a huge folder stays fast)

INTRO_MD = (
    "Compare training runs side by side: pick two or more, and their loss and D(x) / D(G(z)) "
    "curves are drawn on the same axes (one colour per run; hover a step to read every run's "
    "values), their fixed-noise sample grids are shown at the same step (one slider for all), "
    "and the options in which they differ are listed. Classic comparisons: minimax against "
    "non-saturating loss, with and without spectral norm, k = 1 against k = 5 D steps. The page "
    "reads each run's `log.jsonl` and `samples/`, so it works for any run, offline."
)
HOSTED_MD = "On this shared explorer the list holds the shipped runs and your own live runs."
PICK_MORE = "Pick two or more runs to compare them (one run is drawn on its own)."
NO_RUNS_MD = (
    "No runs found. Train one with `gan-train dcgan --dataset mnist --out runs/dcgan-mnist` "
    "and start the explorer with `--checkpoint-dir runs/`, or start a run in the Train tab."
)
NO_RUNS_HOSTED_MD = "No runs yet: start one in the Train tab, then refresh this list."
NO_DIFFERENCES = "The chosen runs have the same options."
DIFFERENCES_TITLE = "Options that differ"
STEP_LABEL = "step of the sample grids"
TITLE = "Runs, side by side"
RUNS_LABEL = "runs"


@dataclass(frozen=True)
class RunInfo:
    """One run folder as the page lists it.

    Attributes:
        key: how a page refers to it: "<source>/<path inside the source>" (no server path).
        label: what a page shows, e.g. "dcgan-mnist · dcgan on mnist · 4,000 steps".
        path: the run folder.
        source: "live" (the Train tab's runs) or "runs" (a checkpoint folder's runs).
        name: the folder's name.
    """

    key: str
    label: str
    path: Path
    source: str
    name: str


@dataclass
class RunLog:
    """A run's log.jsonl, read robustly: the good lines, and a note for each bad one."""

    records: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def steps(self) -> list[int]:
        return [int(record["step"]) for record in self.records]

    def series(self, name: str) -> list[float]:
        """One field over the steps (NaN where a line lacks it or it is not a number)."""
        return [_number(record.get(name)) for record in self.records]

    def loss_names(self) -> list[str]:
        """The loss fields, in first-seen order ("d", "g", or a trainer's own names)."""
        names: dict[str, None] = {}
        for record in self.records:
            for key, value in record.items():
                if key not in NOT_LOSSES and isinstance(value, int | float):
                    names.setdefault(key, None)
        return list(names)


@dataclass
class RunsView:
    """What the Runs page shows for the chosen runs (plain data, no front end).

    Attributes:
        figure: the curves of every chosen run, overlaid (plotly).
        grids: (caption, uint8 (H, W, C) picture) per run that has sample grids.
        differences: rows ``[option, value in run 1, value in run 2, ...]``.
        headers: the column names of ``differences``: "option" and the runs' names.
        steps: every step at which some chosen run has a sample grid (the slider's stops).
        step: the step the grids are shown at (the nearest stop to the one asked for).
        notes: what was skipped and why, one sentence each.
    """

    figure: go.Figure
    grids: list[tuple[str, np.ndarray]]
    differences: list[list[str]]
    headers: list[str]
    steps: list[int]
    step: int | None
    notes: list[str]

    @property
    def step_range(self) -> tuple[int, int, int, bool]:
        """The step slider: (lowest, highest, value, whether it can move)."""
        low, high = (self.steps[0], self.steps[-1]) if self.steps else (0, 1)
        return low, max(high, low + 1), self.step or low, len(self.steps) > 1

    @property
    def notes_markdown(self) -> str:
        """The notes as a Markdown list ("" when there are none)."""
        return "\n".join(f"- {note}" for note in self.notes)


# ---------------------------------------------------------------------------------------------
# Finding runs
# ---------------------------------------------------------------------------------------------


def is_run(folder: Path) -> bool:
    """A folder with a ``log.jsonl`` is a run."""
    return (folder / LOG_FILE).is_file()


def _run_folders(root: Path) -> list[Path]:
    """Run folders at ``root`` or up to :data:`MAX_DEPTH` levels below it, sorted."""
    found, level = [], [root]
    for depth in range(MAX_DEPTH + 1):
        following = []
        for folder in level:
            if is_run(folder):
                found.append(folder)
                continue  # a run's own sub-folders (samples/, checkpoint/) are not runs
            if depth < MAX_DEPTH:
                try:
                    following += sorted(p for p in folder.iterdir() if p.is_dir())
                except OSError:
                    continue
        level = following
    return found


def discover_runs(
    roots: Sequence[str | Path],
    live_root: str | Path | None = None,
    own: Collection[str | Path] | None = None,
) -> list[RunInfo]:
    """The runs under the explorer's checkpoint folders ``roots`` and its live-runs folder.

    Args:
        roots: the checkpoint folders (``--checkpoint-dir``, pretrained/): their runs are
            listed as source "runs" (a hosted explorer's shipped runs).
        live_root: where the Train tab's runs go (listed as source "live").
        own: None lists every live run; a collection (a hosted visitor's own run folders)
            lists only those.
    """
    runs: dict[Path, RunInfo] = {}
    live = Path(live_root).resolve() if live_root is not None else None
    mine = None if own is None else {Path(p).resolve() for p in own}
    sources: list[tuple[str, Path]] = [(f"runs{i}", Path(r)) for i, r in enumerate(roots)]
    if live is not None:
        sources.append(("live", live))
    for source, root in sources:
        if not root.is_dir():
            continue
        for folder in _run_folders(root):
            resolved = folder.resolve()
            in_live = live is not None and resolved.is_relative_to(live)
            if resolved in runs or (in_live and source != "live"):
                continue  # the live folder's runs are listed once, as live runs
            if in_live and mine is not None and resolved not in mine:
                continue  # a hosted visitor sees only their own live runs
            inside = (
                resolved.relative_to(root.resolve()).as_posix()
                if resolved != root.resolve()
                else "."
            )
            kind = "live" if in_live else "runs"
            runs[resolved] = RunInfo(
                key=f"{source}/{inside}",
                label=_label(folder, kind),
                path=folder,
                source=kind,
                name=folder.name if inside != "." else root.name,
            )
            if len(runs) >= MAX_RUNS:
                return list(runs.values())
    return list(runs.values())


def _label(folder: Path, kind: str) -> str:
    """ "dcgan-mnist · dcgan on mnist · step 4,000 (live)"."""
    options = read_options(folder)
    train = options.get("train_config", {}) if isinstance(options, dict) else {}
    parts = [folder.name]
    if train.get("model") and train.get("dataset"):
        parts.append(f"{train['model']} on {train['dataset']}")
    last = _last_step(folder / LOG_FILE)
    if last is not None:
        parts.append(f"step {last:,}")
    return " · ".join(parts) + (" (live)" if kind == "live" else "")


def _last_step(path: Path) -> int | None:
    """The step of the log's last readable line (reads only the file's end)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 4096))
            tail = handle.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(tail):
        try:
            return int(json.loads(line)["step"])
        except (ValueError, KeyError, TypeError):
            continue
    return None


def find_run(runs: Sequence[RunInfo], key: str) -> RunInfo | None:
    """The listed run with ``key`` (never a path built from what a page sent)."""
    return next((run for run in runs if run.key == key), None)


def own_live_runs(owner_id: str | None) -> list[Path]:
    """The run folders of the live runs this browser session started (and the explorer still
    remembers): what a hosted visitor may see besides the shipped runs."""
    if not owner_id:
        return []
    from explorer.live_training.job import TRAINING_SLOT

    return [job.run_dir for job in TRAINING_SLOT.recent() if job.owned_by(owner_id)]


# ---------------------------------------------------------------------------------------------
# Reading one run
# ---------------------------------------------------------------------------------------------


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def read_log(folder: str | Path, name: str | None = None) -> RunLog:
    """A run's ``log.jsonl``: every line that is a JSON object with a whole-number ``step``;
    any other line is skipped with a note naming the run and the line (never an exception).
    Lines are sorted by step; a step logged twice keeps its last line (a resumed run)."""
    folder = Path(folder)
    name = name or folder.name
    log = RunLog()
    try:
        text = (folder / LOG_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        log.notes.append(f"{name}: its log.jsonl could not be read ({error.strerror or error}).")
        return log
    by_step: dict[int, dict[str, Any]] = {}
    bad: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            step = record["step"]
            if isinstance(step, bool) or not float(step).is_integer():
                raise ValueError
        except (ValueError, KeyError, TypeError, OverflowError):
            bad.append(number)
            continue
        if not isinstance(record, dict):
            bad.append(number)
            continue
        record["step"] = int(step)
        by_step[int(step)] = record
    if bad:
        shown = ", ".join(map(str, bad[:5])) + (" ..." if len(bad) > 5 else "")
        lines = "line" if len(bad) == 1 else "lines"
        log.notes.append(
            f"{name}: skipped {len(bad)} unreadable {lines} of log.jsonl ({lines} {shown})."
        )
    log.records = [by_step[step] for step in sorted(by_step)]
    if not log.records and not bad:
        log.notes.append(f"{name}: its log.jsonl is empty (no step logged yet).")
    return log


def read_options(folder: str | Path) -> dict[str, Any]:
    """A run's ``options.json`` ({"command", "train_config", "model_config"}), else the same
    fields from ``checkpoint/meta.json``; {} when neither can be read."""
    folder = Path(folder)
    try:
        options = json.loads((folder / "options.json").read_text())
        if isinstance(options, dict):
            return options
    except (OSError, ValueError):
        pass
    try:
        meta = json.loads((folder / "checkpoint" / "meta.json").read_text())
        return {
            "command": meta.get("command", ""),
            "train_config": meta.get("train_config", {}),
            "model_config": meta.get("config", {}),
        }
    except (OSError, ValueError, AttributeError):
        return {}


def flat_options(options: dict[str, Any]) -> dict[str, Any]:
    """Train options by name, model options as "model.<name>" (the command left out)."""
    flat: dict[str, Any] = {}
    for key, value in (options.get("train_config") or {}).items():
        flat[key] = value
    for key, value in (options.get("model_config") or {}).items():
        flat[f"model.{key}"] = value
    return {k: v for k, v in flat.items() if k not in IGNORED_OPTIONS}


def sample_steps(folder: str | Path) -> dict[int, Path]:
    """{step: picture} of a run's ``samples/step_000500.png`` files."""
    found = {}
    samples = Path(folder) / SAMPLES_FOLDER
    if samples.is_dir():
        for path in samples.iterdir():
            match = SAMPLE_PATTERN.fullmatch(path.name)
            if match:
                found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def load_picture(path: Path) -> np.ndarray:
    """A PNG as uint8 (H, W, 3) (grey grids become RGB)."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------
# Comparing runs
# ---------------------------------------------------------------------------------------------


def nearest_step(steps: Sequence[int], wanted: int | None) -> int | None:
    """The stop of ``steps`` closest to ``wanted`` (the last one when ``wanted`` is None)."""
    if not steps:
        return None
    if wanted is None:
        return steps[-1]
    return min(steps, key=lambda s: (abs(s - wanted), s))


def grid_at(samples: dict[int, Path], step: int) -> int | None:
    """The step of the run's grid to show at ``step``: the last one at or before it, else its
    first grid."""
    if not samples:
        return None
    before = [s for s in samples if s <= step]
    return before[-1] if before else next(iter(samples))


def curves_figure(runs: Sequence[tuple[str, RunLog]], *, height: int = 340) -> go.Figure:
    """The runs' curves overlaid: losses (left) and D(x) / D(G(z)) (right, when logged).

    One colour per run and one dash per quantity (L_D solid, L_G dashed; D(x) solid, D(G(z))
    dashed); hovering a step lists every run's values there.
    """
    has_d = any(
        any(math.isfinite(v) for v in log.series("d_real") + log.series("d_fake"))
        for _, log in runs
    )
    titles = ["losses"] + (["D(x) solid, D(G(z)) dashed"] if has_d else [])
    traces: list[dict[str, Any]] = []
    loss_ys: list[float] = []
    for i, (name, log) in enumerate(runs):
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        steps = log.steps
        for j, loss in enumerate(log.loss_names()):
            values = log.series(loss)
            loss_ys += values
            label = f"{name} · {LOSS_LABELS.get(loss, loss)}"
            traces.append(_styled(charts._line(steps, values, label, colour, 1), j, name))
        if has_d:
            for j, (field_name, label) in enumerate((("d_real", "D(x)"), ("d_fake", "D(G(z))"))):
                values = log.series(field_name)
                if any(math.isfinite(v) for v in values):
                    line = charts._line(steps, values, f"{name} · {label}", colour, 2)
                    traces.append(_styled(line, j, name))
    layout = charts._panels(titles, x={"title": {"text": "step"}})
    layout["yaxis"]["range"] = charts.robust_range(loss_ys)
    layout["legend"] = {"orientation": "v", "x": 1.02, "y": 1}
    layout["margin"] = {"l": 50, "r": 10, "t": 40, "b": 40}
    note = None if traces else "pick runs to draw their curves"
    return charts._figure(traces, layout, height, "runs", note)


def _styled(trace: dict[str, Any], index: int, group: str) -> dict[str, Any]:
    """A run's trace with the dash of its quantity, grouped by run in the legend."""
    trace["line"] = {**trace["line"], "dash": DASHES[index % len(DASHES)]}
    trace["legendgroup"] = group
    trace["hovertemplate"] = "%{y:.4g}"
    return trace


def option_differences(
    runs: Sequence[tuple[str, dict[str, Any]]],
) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of the options whose values differ between the runs; a run without
    an option (an older run) shows "-"."""
    headers = ["option", *(name for name, _ in runs)]
    names: dict[str, None] = {}
    for _, options in runs:
        names.update(dict.fromkeys(options))
    rows = []
    for option in names:
        values = [options.get(option, _MISSING) for _, options in runs]
        if len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1:
            rows.append([option, *(_shown(v) for v in values)])
    return headers, rows


_MISSING = object()


def _shown(value: Any) -> str:
    if value is _MISSING:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return value if isinstance(value, str) else json.dumps(value)


def compare_runs(runs: Sequence[RunInfo], step: int | None = None) -> RunsView:
    """The Runs page's view of the chosen runs: overlaid curves, the sample grids at (about)
    ``step`` (None: the latest step any run has a grid at), the options that differ, notes."""
    notes: list[str] = []
    names = _unique_names(runs)
    logs = []
    for run, name in zip(runs, names, strict=True):
        log = read_log(run.path, name)
        notes += log.notes
        logs.append((name, log))
    figure = curves_figure(logs)
    samples = {name: sample_steps(run.path) for run, name in zip(runs, names, strict=True)}
    steps = sorted({s for found in samples.values() for s in found})
    shown = nearest_step(steps, step)
    grids = []
    for name, found in samples.items():
        at = grid_at(found, shown) if shown is not None else None
        if at is None:
            notes.append(f"{name}: no sample grids (samples/step_*.png) to show.")
            continue
        try:
            picture = load_picture(found[at])
        except (OSError, ValueError) as error:
            notes.append(f"{name}: the grid of step {at} could not be read ({error}).")
            continue
        grids.append((f"{name} · step {at:,}", picture))
    options = []
    for run, name in zip(runs, names, strict=True):
        read = read_options(run.path)
        if not read:
            notes.append(
                f"{name}: no options.json or checkpoint/meta.json; its options are unknown."
            )
        options.append((name, flat_options(read)))
    headers, rows = option_differences(options) if len(runs) > 1 else (["option"], [])
    if len(runs) < 2:
        notes.insert(0, PICK_MORE)
    elif not rows:
        notes.append(NO_DIFFERENCES)
    return RunsView(figure, grids, rows, headers, steps, shown, notes)


def _unique_names(runs: Sequence[RunInfo]) -> list[str]:
    """The runs' folder names, numbered where two are the same."""
    names, seen = [], {}
    for run in runs:
        count = seen.get(run.name, 0)
        seen[run.name] = count + 1
        names.append(run.name if not count else f"{run.name} ({count + 1})")
    return names


def view_for_keys(
    listed: Sequence[RunInfo], keys: Sequence[str] | None, step: int | None = None
) -> RunsView:
    """:func:`compare_runs` for the keys a page sent (unknown keys become a note)."""
    chosen, notes = [], []
    for key in keys or []:
        run = find_run(listed, key)
        if run is None:
            notes.append(f"{key}: no such run any more (refresh the list).")
        elif run not in chosen:
            chosen.append(run)
    view = compare_runs(chosen, step)
    view.notes = notes + view.notes
    return view


def grid_steps(listed: Sequence[RunInfo], keys: Sequence[str] | None) -> list[int]:
    """Every step at which one of the chosen runs has a sample grid (the step slider's stops)."""
    chosen = [run for key in keys or [] if (run := find_run(listed, key)) is not None]
    return sorted({step for run in chosen for step in sample_steps(run.path)})


def intro_markdown(hosted: bool = False) -> str:
    """The page's opening paragraph (hosted: plus which runs are listed)."""
    return INTRO_MD + (f"\n\n{HOSTED_MD}" if hosted else "")


def empty_markdown(hosted: bool = False) -> str:
    """What the page says when there is no run to list."""
    return NO_RUNS_HOSTED_MD if hosted else NO_RUNS_MD


def visible_runs(
    roots: Sequence[str | Path], hosted: bool = False, owner_id: str | None = None
) -> list[RunInfo]:
    """The runs a visitor may see: every run here, or on a hosted page the shipped ones and
    the live runs of ``owner_id`` (the visitor's browser session)."""
    from explorer.live_training.places import default_runs_dir

    own = own_live_runs(owner_id) if hosted else None
    return discover_runs(roots, default_runs_dir(), own)
