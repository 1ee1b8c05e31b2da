"""Finding checkpoints on disk, naming them for a model picker, and loading them once.

Where the explorer looks (in this order):

1. the pretrained folder(s) of :func:`trainers.paths.pretrained_dirs`: the shipped
   ``pretrained/`` package data, or instead every folder in ``$GAN_EXPLORER_PRETRAINED``
   (several may be joined with ``os.pathsep``),
2. every entry of ``$GAN_EXPLORER_CHECKPOINTS`` (comma-separated folders or
   ``hf://OWNER/NAME[@REV]`` Hub checkpoints, see :mod:`trainers.hub_pull`),
3. every ``--checkpoint-dir`` given on the command line (an ``hf://`` URI too).

In each of these roots a checkpoint is any folder holding ``meta.json``: the root itself, a
child folder (``pretrained/dcgan-mnist/``), or a training run's ``checkpoint/`` folder
(``runs/dcgan-mnist/checkpoint/``). Folders that look like checkpoints but do not validate
are not offered; their error messages are kept in :attr:`Catalog.problems` so the app can
show them instead of crashing.

Loaded checkpoints are :class:`trainers.pipeline.GANPipeline` objects, cached in a
module-level dictionary keyed by the folder and the time the weights were written: the
models are used read-only (eval mode, no gradients, a lock around every forward pass), so
sharing them between users is safe, and a training run that writes a newer checkpoint is
reloaded.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainers.checkpoint import META_FILE, WEIGHTS_FILE, CheckpointError, read_meta
from trainers.hub_pull import HubError, checkpoint_sources_from_env, is_hub_uri, snapshot_name
from trainers.hub_pull import resolve_checkpoint_path as resolve_hub_path
from trainers.paths import PRETRAINED_ENV, pretrained_dirs, source_pretrained_dir
from trainers.pipeline import GANPipeline
from trainers.registry import MODELS, family_label, get_spec

__all__ = ["PRETRAINED_ENV", "Catalog", "CheckpointEntry", "discover", "load_cached"]

#: How many loaded checkpoints stay in memory (a 32x32 DCGAN is about 15 MB).
CACHE_SIZE = 8

_DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}


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
        return self.model in MODELS and MODELS[self.model].conditional

    @property
    def convolutional(self) -> bool:
        return self.model in MODELS and MODELS[self.model].convolutional


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
        """``(label, key)`` pairs: what a model picker shows and what it gives back."""
        return [
            (e.label, e.key)
            for e in self.entries
            if (not conditional_only or e.conditional)
            and (not convolutional_only or e.convolutional)
        ]

    def refresh_keeping(self, current: str | None) -> str | None:
        """Look for new checkpoints (:meth:`refresh`); the key a picker shows after it:
        ``current`` while it is still there, else the first one (None when there are none)."""
        self.refresh()
        keys = self.keys()
        return current if current in keys else (keys[0] if keys else None)

    def get(self, key: str | None) -> CheckpointEntry:
        """The entry for a key, or a CheckpointError that lists what is available."""
        for entry in self.entries:
            if entry.key == key:
                return entry
        known = ", ".join(self.keys()) or "none (see the notice at the top of the app)"
        if not key:
            raise CheckpointError(f"no checkpoint chosen; available: {known}")
        raise CheckpointError(
            f"no checkpoint named {str(key)[:60]!r}; available: {known}"
        )  # HARDEN: no echo of a long input

    def default_key(self, conditional: bool | None = None) -> str | None:
        """The first key (of a conditional model if ``conditional`` is True), or None."""
        for entry in self.entries:
            if conditional is None or entry.conditional == conditional:
                return entry.key
        return None

    def load(self, key: str | None) -> GANPipeline:
        """The pipeline of the checkpoint with this key (loaded once, then cached)."""
        return load_cached(self.get(key).path)

    def refresh(self) -> None:
        """Scan the same roots again (e.g. after the Train tab saved a checkpoint).

        The lists are swapped whole, so a request running meanwhile sees the old or the new
        list, never half of one. Keys of checkpoints found before stay the same.
        """
        fresh = discover(self.extra_dirs, self.include_default)
        self.entries, self.problems = fresh.entries, fresh.problems


def checkpoint_roots(extra: list[Path] | None = None, include_default: bool = True) -> list[Path]:
    """The folders to scan: the pretrained folder(s) (or $GAN_EXPLORER_PRETRAINED), then
    ``extra``; no duplicates."""
    roots: list[Path] = list(pretrained_dirs()) if include_default else []
    if include_default:  # $GAN_EXPLORER_CHECKPOINTS: comma-separated hf://OWNER/NAME or folders
        roots += [Path(p) for p in checkpoint_sources_from_env()]
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
    """True for the families this explorer can drive: G(z) from a latent z; False for
    image-to-image models such as CycleGAN."""
    return get_spec(model).samples_from_noise


def _sorted_for_display(folders: list[Path]) -> list[Path]:
    """Small images first (fast, so the first picture is quick), then DCGAN, cGAN, MLP-GAN."""

    def order(folder: Path) -> tuple:
        try:
            meta = json.loads((folder / META_FILE).read_text())
            pixels = math.prod(meta.get("image_shape") or [0])
            return (pixels, getattr(MODELS.get(meta.get("model")), "order", 999), folder.name)
        except (OSError, ValueError, TypeError):
            return (math.inf, 9, folder.name)

    return sorted(folders, key=order)


def _format_metric(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def describe(meta: dict[str, Any], folder_name: str = "") -> str:
    """A one-line label: family, data set, steps and headline metrics, e.g.
    ``"DCGAN · MNIST · 3,000 steps · cFID 4.21 — dcgan-mnist"``."""
    family = family_label(meta.get("model"), meta.get("config"))
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
    if snapshot_name(folder):  # from the Hub: "OWNER/NAME" or "OWNER/NAME@REV"
        return snapshot_name(folder)
    return folder.parent.name if folder.name == "checkpoint" else folder.name


def explorer_catalog(
    extra_dirs: list[Path] | None = None, include_default: bool = True, training: bool = False
) -> Catalog:
    """The checkpoints an explorer shows (either edition): :func:`discover`'s, and when
    ``training`` is on and ``include_default``, the folder where the Train page saves (made
    here, so that a checkpoint saved there later is found by :meth:`Catalog.refresh`)."""
    extra = list(extra_dirs or [])
    if training and include_default:
        from explorer.live_training.places import default_checkpoint_dir

        live_dir = default_checkpoint_dir()
        live_dir.mkdir(parents=True, exist_ok=True)
        extra.append(live_dir)
    return discover(extra, include_default=include_default)


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
        if is_hub_uri(root):  # hf://OWNER/NAME[@REV]: its snapshot in the Hugging Face cache
            try:
                root = resolve_hub_path(root)
            except HubError as error:  # offline and not cached, a pickle in the repo, ...
                catalog.problems.append(str(error))
                continue
        if not root.exists():
            if root != source_pretrained_dir():  # a clone without pretrained/ is no problem
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

_CACHE: OrderedDict[tuple[str, int], GANPipeline] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def load_cached(path: str | Path) -> GANPipeline:
    """``GANPipeline.from_pretrained(path)`` on the CPU, cached by (folder, weights mtime).

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
    loaded = GANPipeline.from_pretrained(path, device="cpu")
    with _CACHE_LOCK:
        _CACHE[key] = loaded
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return loaded
