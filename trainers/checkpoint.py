"""Checkpoints: weights in safetensors, everything else in JSON. Nothing is ever unpickled.

One checkpoint is one folder:

    meta.json                  {"format": 1, "kind": "gan-explorer-checkpoint", "model": "dcgan",
                                "config": {...}, "dataset": ..., "image_shape": [1, 28, 28],
                                "class_names": [...], "latent_dim": 100, "step": ..., ...}
    model.safetensors          "G.*", "D.*" and, with EMA, "G_ema.*"
    train_state.safetensors    optimiser states and RNG states (training runs only; not shipped)

The folder is written next to its final place and renamed into it, so a killed process leaves
either the old checkpoint or the new one, never half of each. A write that fails (a full disk)
removes its half-written copy, keeps the previous checkpoint as it was and raises
:class:`CheckpointWriteError` saying so.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from trainers.errors import CheckpointError
from trainers.hub_pull import resolve_checkpoint_path
from trainers.registry import ModelSpec, config_from_dict, get_spec

FORMAT_VERSION = 1
KIND = "gan-explorer-checkpoint"
META_FILE = "meta.json"
WEIGHTS_FILE = "model.safetensors"
TRAIN_STATE_FILE = "train_state.safetensors"


class CheckpointWriteError(CheckpointError):
    """Writing a checkpoint failed (disk full, no permission); the previous one is untouched."""


def library_versions() -> dict[str, str]:
    import numpy
    import safetensors

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "safetensors": safetensors.__version__,
    }


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def _detached(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # safetensors wants contiguous CPU tensors that share no storage
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}


def save_checkpoint(
    directory: str | Path,
    meta: dict[str, Any],
    weights: dict[str, torch.Tensor],
    train_state: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Atomically write a checkpoint folder.

    Args:
        directory: the checkpoint folder to create or replace.
        meta: JSON-ready metadata; ``format`` and ``kind`` are added here.
        weights: "G.*", "D.*", "G_ema.*" tensors.
        train_state: optimiser/RNG tensors for resuming, or None for an inference-only file.
    """
    directory = Path(directory)
    tmp = directory.with_name(f".{directory.name}.tmp")
    old = directory.with_name(f".{directory.name}.old")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        save_file(
            _detached(weights),
            str(tmp / WEIGHTS_FILE),
            metadata={"kind": KIND, "step": str(meta.get("step", 0))},
        )
        if train_state is not None:
            save_file(_detached(train_state), str(tmp / TRAIN_STATE_FILE), metadata={"kind": KIND})
        _write_json(tmp / META_FILE, {"format": FORMAT_VERSION, "kind": KIND, **meta})
        for f in tmp.iterdir():  # make the bytes durable before the rename makes them visible
            with open(f, "rb") as handle:
                os.fsync(handle.fileno())
    except OSError as error:  # disk full, read-only, quota: nothing of the old one was touched
        shutil.rmtree(tmp, ignore_errors=True)
        kept = (
            "the previous checkpoint there is kept" if directory.exists() else "nothing was saved"
        )
        reason = error.strerror or str(error) or type(error).__name__
        raise CheckpointWriteError(
            f"could not write checkpoint {directory} ({reason}); {kept}"
        ) from error
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        os.replace(directory, old)
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)
    return directory


def _sniff_foreign_file(path: Path) -> str:
    head = path.read_bytes()[:4]
    if head.startswith(b"PK"):
        return "a zip archive (torch.save format) that could only be read by unpickling"
    if head[:1] == b"\x80":
        return "a Python pickle"
    return "not a GAN Explorer checkpoint"


def resolve_checkpoint_dir(path: str | Path) -> Path:
    """The checkpoint folder for a path that names it, its meta.json, its weights or a run folder;
    ``hf://OWNER/NAME[@REV]`` is downloaded into (or found in) the Hugging Face cache first
    (:func:`trainers.hub_pull.resolve_checkpoint_path`: every loader goes through this door)."""
    path = resolve_checkpoint_path(path)  # a local path comes back unchanged
    if path.is_file():
        if path.name in (META_FILE, WEIGHTS_FILE):
            return path.parent
        raise CheckpointError(
            f"{path} is {_sniff_foreign_file(path)}. GAN Explorer loads only a folder with "
            f"{META_FILE} + {WEIGHTS_FILE}, and never unpickles files."
        )
    for inner in ("checkpoint", ".checkpoint.old"):  # a training run's output folder
        if (path / inner / META_FILE).is_file():
            return path / inner
    if not path.exists():
        old = path.with_name(f".{path.name}.old")  # killed between the two renames of a save
        if (old / META_FILE).is_file():
            return old
        raise CheckpointError(f"checkpoint {path} does not exist")
    if not (path / META_FILE).is_file():
        raise CheckpointError(f"{path} is not a GAN Explorer checkpoint: it has no {META_FILE}")
    return path


def run_has_checkpoint(run_dir: str | Path) -> bool:
    """True when a training run folder holds a checkpoint (also one left mid-save)."""
    try:
        return resolve_checkpoint_dir(run_dir) != Path(run_dir)
    except CheckpointError:
        return False


def read_meta(path: str | Path) -> dict[str, Any]:
    """The validated metadata of a checkpoint (format, kind and model are checked)."""
    directory = resolve_checkpoint_dir(path)
    meta_path = directory / META_FILE
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(
            f"{meta_path} is not valid JSON ({error}); the file is corrupt or truncated"
        ) from None
    if not isinstance(meta, dict) or meta.get("kind") != KIND:
        raise CheckpointError(
            f"{meta_path} is not a GAN Explorer checkpoint (kind is not {KIND!r})"
        )
    if meta.get("format") != FORMAT_VERSION:
        raise CheckpointError(
            f"{meta_path} has format {meta.get('format')!r}; this version reads format {FORMAT_VERSION}"
        )
    try:
        get_spec(meta.get("model", "<missing>"))
    except ValueError as error:
        raise CheckpointError(f"{meta_path}: {error}") from None
    return meta


def read_safetensors(path: Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing")
    try:
        return load_file(str(path), device=str(device))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(
            f"{path} is truncated or corrupt and cannot be read: {error}"
        ) from None


def save_helper_model(module: nn.Module, directory: str | Path, meta: dict[str, Any]) -> None:
    """Save a small helper network (a reference or domain classifier): ``model.safetensors`` with
    its state dict and ``meta.json`` with ``meta`` (which names its ``kind`` and how to rebuild it)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_file(_detached(module.state_dict()), str(directory / WEIGHTS_FILE))
    _write_json(directory / META_FILE, meta)


def read_helper_model(
    directory: str | Path, kind: str, what: str, hint: str = ""
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Read what ``save_helper_model`` wrote, checking ``meta["kind"] == kind``.

    Args:
        directory: the folder with meta.json and model.safetensors.
        kind: the ``kind`` the meta must name, e.g. "gan-explorer-classifier".
        what: words for errors, e.g. "reference classifier".
        hint: appended to the error when nothing readable is there, e.g. how to make one.
    Returns: (meta, state dict). Raises CheckpointError, never unpickles.
    """
    directory = Path(directory)
    try:
        meta = json.loads((directory / META_FILE).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CheckpointError(
            f"no readable {what} in {directory} ({error}){'; ' + hint if hint else ''}"
        ) from None
    if not isinstance(meta, dict) or meta.get("kind") != kind:
        raise CheckpointError(f"{directory} is not a GAN Explorer {what}")
    return meta, read_safetensors(directory / WEIGHTS_FILE)


def load_into(
    module: nn.Module, tensors: dict[str, torch.Tensor], prefix: str, source: Path
) -> None:
    """Load ``prefix.*`` tensors into a module strictly, or explain the mismatch."""
    state = {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        detail = " ".join(str(error).split())[:400]
        raise CheckpointError(
            f"{source}: the {prefix} weights do not fit the stored config: {detail}"
        ) from None


@dataclass
class LoadedCheckpoint:
    """A checkpoint ready for inference.

    Attributes:
        path: the checkpoint folder.
        meta: its metadata (see the module docstring).
        spec: the registry entry of its model family.
        config: the family's config dataclass, rebuilt from meta["config"].
        generator / discriminator: modules in eval mode (the EMA generator when one was saved).
    """

    path: Path
    meta: dict[str, Any]
    spec: ModelSpec
    config: Any
    generator: nn.Module
    discriminator: nn.Module | None

    @property
    def name(self) -> str:
        return self.meta.get("name") or self.path.name

    @property
    def latent_dim(self) -> int:
        return int(self.config.latent_dim)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.config.image_shape)  # type: ignore[return-value]

    @property
    def class_names(self) -> list[str]:
        return list(self.meta.get("class_names") or [])

    @property
    def conditional(self) -> bool:
        return self.spec.conditional


def load_checkpoint(
    path: str | Path, device: str | torch.device = "cpu", use_ema: bool = True
) -> LoadedCheckpoint:
    """Load a checkpoint for inference, validating everything on the way.

    Raises:
        CheckpointError: not ours, a pickle, truncated/corrupt, or weights that do not fit the config.
    """
    directory = resolve_checkpoint_dir(path)
    meta = read_meta(directory)
    spec = get_spec(meta["model"])
    try:
        config = config_from_dict(spec, meta.get("config", {}))
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{directory / META_FILE}: bad model config: {error}") from None
    weights = read_safetensors(directory / WEIGHTS_FILE, device)
    generator, discriminator = spec.build(config)
    has_ema = any(k.startswith("G_ema.") for k in weights)
    load_into(generator, weights, "G_ema" if (use_ema and has_ema) else "G", directory)
    if any(k.startswith("D.") for k in weights):
        load_into(discriminator, weights, "D", directory)
    else:
        discriminator = None
    generator.to(device).eval()
    if discriminator is not None:
        discriminator.to(device).eval()
    return LoadedCheckpoint(directory, meta, spec, config, generator, discriminator)


def load_weights_and_state(
    directory: str | Path,
) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(meta, weights, train_state) of a training checkpoint, for ``--resume``."""
    directory = resolve_checkpoint_dir(directory)
    meta = read_meta(directory)
    weights = read_safetensors(directory / WEIGHTS_FILE)
    train_state = read_safetensors(directory / TRAIN_STATE_FILE)
    groups = meta.get("optimizer_param_groups") or {} if int(meta.get("step") or 0) > 0 else {}
    for prefix in groups:  # checked here, before a trainer is built or a file is touched
        if not any(key.startswith(f"{prefix}/") for key in train_state):
            raise CheckpointError(
                f"{directory / TRAIN_STATE_FILE} holds no {prefix} state: it does not belong to "
                f"this checkpoint (or is damaged), so the run cannot be resumed from it"
            )
    return meta, weights, train_state


# --- optimiser state <-> flat tensors -------------------------------------------------------


def flatten_optimizer(
    optimizer: torch.optim.Optimizer, prefix: str
) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """Adam's nested state dict as flat ``prefix/state/<param>/<key>`` tensors + JSON param groups."""
    state = optimizer.state_dict()
    tensors = {
        f"{prefix}/state/{index}/{key}": value if torch.is_tensor(value) else torch.tensor(value)
        for index, entry in state["state"].items()
        for key, value in entry.items()
    }
    return tensors, state["param_groups"]


def unflatten_optimizer(
    optimizer: torch.optim.Optimizer,
    prefix: str,
    tensors: dict[str, torch.Tensor],
    param_groups: list[dict],
) -> None:
    nested: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "/state/"):
            index, key = name[len(prefix) + len("/state/") :].split("/", 1)
            nested.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": nested, "param_groups": param_groups})
