"""Finding checkpoints on disk, naming them for the dropdown, and loading them once.

Where the explorer looks (in this order):

1. ``pretrained/`` next to the ``explorer`` package (the shipped checkpoints),
2. every folder in ``$GAN_EXPLORER_PRETRAINED`` (several may be joined with ``os.pathsep``),
3. every ``--checkpoint-dir`` given on the command line.

In each of these roots a checkpoint is any folder holding ``meta.json``: the root itself, a
child folder (``pretrained/dcgan-mnist/``), or a training run's ``checkpoint/`` folder
(``runs/dcgan-mnist/checkpoint/``). Folders that look like checkpoints but do not validate
are not offered; their error messages are kept in :attr:`Catalog.problems` so the app can
show them instead of crashing.

Loaded models are cached in a module-level dictionary keyed by the folder and the time the
weights were written: the models are used read-only (eval mode, no gradients), so sharing
them between users is safe, and a training run that writes a newer checkpoint is reloaded.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import explorer
from trainers.checkpoint import (
    META_FILE,
    WEIGHTS_FILE,
    CheckpointError,
    LoadedCheckpoint,
    load_checkpoint,
    read_meta,
)
from trainers.registry import get_spec

#: Environment variable with extra checkpoint roots (``os.pathsep``-separated).
PRETRAINED_ENV = "GAN_EXPLORER_PRETRAINED"

#: How many loaded checkpoints stay in memory (a 32x32 DCGAN is about 15 MB).
CACHE_SIZE = 8

_DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
_FAMILY_NAMES = {"mlp-gan": "MLP-GAN", "dcgan": "DCGAN", "cgan": "cGAN"}


def default_pretrained_dir() -> Path:
    """``pretrained/`` at the repository root (the folder above the ``explorer`` package)."""
    return Path(explorer.__file__).resolve().parents[1] / "pretrained"


@dataclass(frozen=True)
class CheckpointEntry:
    """One checkpoint the app can offer.

    Attributes:
        key: the short, unique name used as the dropdown value and in the API, e.g. "dcgan-mnist".
        path: the checkpoint folder (the one with meta.json).
        meta: its validated metadata.
        label: the human-readable dropdown text.
    """

    key: str
    path: Path
    meta: dict[str, Any]
    label: str

    @property
    def model(self) -> str:
        return str(self.meta.get("model", "?"))

    @property
    def conditional(self) -> bool:
        return self.model == "cgan"

    @property
    def convolutional(self) -> bool:
        return self.model in ("dcgan", "cgan")


@dataclass
class Catalog:
    """The checkpoints found at start-up.

    Attributes:
        entries: valid checkpoints, in discovery order (pretrained first).
        problems: one message per folder that looked like a checkpoint but failed to validate.
        roots: the folders that were scanned.
    """

    entries: list[CheckpointEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    roots: list[Path] = field(default_factory=list)
    extra_dirs: list[Path] = field(default_factory=list)
    include_default: bool = True

    def __bool__(self) -> bool:
        return bool(self.entries)

    def keys(self) -> list[str]:
        return [e.key for e in self.entries]

    def choices(
        self, conditional_only: bool = False, convolutional_only: bool = False
    ) -> list[tuple[str, str]]:
        """``(label, key)`` pairs for a ``gr.Dropdown``."""
        return [
            (e.label, e.key)
            for e in self.entries
            if (not conditional_only or e.conditional)
            and (not convolutional_only or e.convolutional)
        ]

    def get(self, key: str | None) -> CheckpointEntry:
        """The entry for a key, or a CheckpointError that lists what is available."""
        for entry in self.entries:
            if entry.key == key:
                return entry
        known = ", ".join(self.keys()) or "none (see the notice at the top of the app)"
        if not key:
            raise CheckpointError(f"no checkpoint chosen; available: {known}")
        raise CheckpointError(f"no checkpoint named {key!r}; available: {known}")

    def default_key(self, conditional: bool | None = None) -> str | None:
        """The first key (of a conditional model if ``conditional`` is True), or None."""
        for entry in self.entries:
            if conditional is None or entry.conditional == conditional:
                return entry.key
        return None

    def load(self, key: str | None) -> LoadedCheckpoint:
        """Load (or fetch from the cache) the checkpoint with this key."""
        return load_cached(self.get(key).path)

    def refresh(self) -> None:
        """Scan the same roots again (e.g. after the Train tab saved a checkpoint).

        The lists are swapped whole, so a request running meanwhile sees the old or the new
        list, never half of one. Keys of checkpoints found before stay the same.
        """
        fresh = discover(self.extra_dirs, self.include_default)
        self.entries, self.problems = fresh.entries, fresh.problems


def checkpoint_roots(extra: list[Path] | None = None, include_default: bool = True) -> list[Path]:
    """The folders to scan: pretrained/, $GAN_EXPLORER_PRETRAINED, then ``extra``; no duplicates."""
    roots: list[Path] = []
    if include_default:
        roots.append(default_pretrained_dir())
    roots += [Path(p) for p in os.environ.get(PRETRAINED_ENV, "").split(os.pathsep) if p.strip()]
    roots += [Path(p) for p in extra or []]
    unique: list[Path] = []
    for root in roots:
        if root.resolve() not in [u.resolve() for u in unique]:
            unique.append(root)
    return unique


def _candidate_folders(root: Path) -> list[Path]:
    """Folders under ``root`` (depth <= 2) holding meta.json; hidden folders (.x.tmp) skipped."""
    if not root.is_dir():
        return []
    if (root / META_FILE).is_file():
        return [root]
    found: list[Path] = []
    for child in sorted(root.iterdir()):
        if child.name.startswith(".") or not child.is_dir():
            continue
        if (child / META_FILE).is_file():
            found.append(child)
        elif (child / "checkpoint" / META_FILE).is_file():  # a training run's folder
            found.append(child / "checkpoint")
    return found


def samples_from_noise(model: str) -> bool:
    """True for the families this explorer can drive: G(z) from a latent z (their config has
    ``latent_dim``); False for image-to-image models such as CycleGAN."""
    config_cls = get_spec(model).config_cls
    return any(f.name == "latent_dim" for f in dataclasses.fields(config_cls))


_FAMILY_ORDER = {"dcgan": 0, "cgan": 1, "mlp-gan": 2}


def _sorted_for_display(folders: list[Path]) -> list[Path]:
    """Small images first (fast, so the first picture is quick), then DCGAN, cGAN, MLP-GAN."""

    def order(folder: Path) -> tuple:
        try:
            meta = json.loads((folder / META_FILE).read_text())
            pixels = math.prod(meta.get("image_shape") or [0])
            return (pixels, _FAMILY_ORDER.get(meta.get("model"), 9), folder.name)
        except (OSError, ValueError, TypeError):
            return (math.inf, 9, folder.name)

    return sorted(folders, key=order)


def _format_metric(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def describe(meta: dict[str, Any], folder_name: str = "") -> str:
    """A one-line label: family, data set, steps and headline metrics, e.g.
    ``"DCGAN · MNIST · 3,000 steps · cFID 4.21 — dcgan-mnist"``."""
    family = _FAMILY_NAMES.get(str(meta.get("model")), str(meta.get("model")))
    upsample = (meta.get("config") or {}).get("upsample")
    if upsample == "resize-conv":
        family += " (resize-conv)"
    parts = [family, _DATASET_NAMES.get(str(meta.get("dataset")), str(meta.get("dataset", "?")))]
    if meta.get("step") is not None:
        parts.append(f"{int(meta['step']):,} steps")
    metrics = meta.get("metrics") or {}
    if "classifier_fid" in metrics:
        parts.append(f"cFID {_format_metric(metrics['classifier_fid'])}")
    if "label_accuracy" in metrics:
        parts.append(f"label acc {_format_metric(metrics['label_accuracy'])}")
    label = " · ".join(parts)
    return f"{label} — {folder_name}" if folder_name else label


def _key_for(folder: Path) -> str:
    """``pretrained/dcgan-mnist`` -> "dcgan-mnist"; ``runs/dcgan-mnist/checkpoint`` -> "dcgan-mnist"."""
    return folder.parent.name if folder.name == "checkpoint" else folder.name


def discover(extra_dirs: list[Path] | None = None, include_default: bool = True) -> Catalog:
    """Scan the roots (see the module docstring) and validate every candidate's meta.json.

    Args:
        extra_dirs: ``--checkpoint-dir`` folders.
        include_default: also scan ``pretrained/`` and ``$GAN_EXPLORER_PRETRAINED`` (tests turn it off).
    """
    catalog = Catalog(
        roots=checkpoint_roots(extra_dirs, include_default),
        extra_dirs=list(extra_dirs or []),
        include_default=include_default,
    )
    seen: set[Path] = set()
    for root in catalog.roots:
        if not root.exists():
            if root != default_pretrained_dir():
                catalog.problems.append(f"checkpoint folder {root} does not exist")
            continue
        for folder in _sorted_for_display(_candidate_folders(root)):
            if folder.resolve() in seen:
                continue
            seen.add(folder.resolve())
            try:
                meta = read_meta(folder)
                if not (folder / WEIGHTS_FILE).is_file():
                    raise CheckpointError(f"{folder / WEIGHTS_FILE} is missing")
            except CheckpointError as error:
                catalog.problems.append(str(error))
                continue
            if not samples_from_noise(meta["model"]):
                continue  # e.g. a CycleGAN: an image-to-image model, used by the Translate tab
            key = base = _key_for(folder)
            number = 2
            while key in catalog.keys():
                key, number = f"{base}#{number}", number + 1
            catalog.entries.append(CheckpointEntry(key, folder, meta, describe(meta, key)))
    return catalog


# --- the loader cache ------------------------------------------------------------------------

_CACHE: OrderedDict[tuple[str, int], LoadedCheckpoint] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def load_cached(path: str | Path) -> LoadedCheckpoint:
    """``trainers.checkpoint.load_checkpoint`` on the CPU, cached by (folder, weights mtime).

    Raises:
        CheckpointError: the folder is missing, not a checkpoint, or corrupt (clear message).
    """
    path = Path(path)
    try:
        stamp = (path / WEIGHTS_FILE).stat().st_mtime_ns
    except OSError:
        stamp = -1  # let load_checkpoint produce the precise error
    key = (str(path.resolve()), stamp)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    loaded = load_checkpoint(path, device="cpu")
    for module in (loaded.generator, loaded.discriminator):
        if module is not None:
            module.requires_grad_(False)  # inference only; saves autograd bookkeeping
    with _CACHE_LOCK:
        _CACHE[key] = loaded
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return loaded


def summary_markdown(entry: CheckpointEntry) -> str:
    """A few lines about a checkpoint for the app: what, how long, with which loss, how good."""
    meta = entry.meta
    train = meta.get("train_config") or {}
    config = meta.get("config") or {}
    shape = "×".join(str(v) for v in meta.get("image_shape", []))
    bits = [
        f"**{describe(meta)}** · images {shape} · z in {meta.get('latent_dim', '?')} dimensions"
    ]
    details = []
    if train.get("loss"):
        details.append(f"loss {train['loss']}")
    if config.get("upsample"):
        details.append(f"upsampling {config['upsample']}")
    if train.get("ema_decay"):
        details.append(f"EMA generator ({train['ema_decay']})")
    if meta.get("epoch") is not None:
        details.append(f"{float(meta['epoch']):.1f} epochs")
    if details:
        bits.append(" · ".join(details))
    metrics = {k: v for k, v in (meta.get("metrics") or {}).items() if isinstance(v, int | float)}
    if metrics:
        bits.append(
            "metrics: "
            + ", ".join(f"{k} {_format_metric(v)}" for k, v in list(metrics.items())[:6])
        )
    return "  \n".join(bits)
