"""ONNX copies of a checkpoint's G and D, for running them in a visitor's browser.

The explorer's latent widget (``explorer/web/``) runs G and D with onnxruntime-web on the
visitor's CPU, so a slider step costs the server nothing. This module writes what it runs::

    <folder>/G.onnx       inputs  z (N, latent_dim) float32 [, label (N,) int64 for a cGAN]
                          output  image (N, C, H, W) float32 in [-1, 1]
    <folder>/D.onnx       inputs  image (N, C, H, W) float32 [, label (N,) int64]
                          output  logit (N,) float32: D's realness is sigmoid(logit)
    <folder>/export.json  what was exported: shapes, class names, the checkpoint's content key,
                          the largest difference from PyTorch measured at export time

The graphs are exactly the modules :class:`trainers.pipeline.GANPipeline` runs (the EMA G when
the checkpoint kept one, in eval mode; spectral normalisation's W / sigma traced as a few ops), so
``uint8(G.onnx(z))`` equals the pipeline's pixels within one grey level and the widget shows the
same pictures as ``gan-train sample`` for the same seed.

``gan-train export-onnx CKPT --out DIR`` writes a folder anywhere; the explorer uses
:func:`cached_export`, which keys the folder by the checkpoint's *content* (a SHA-256 of its
meta.json and weights) under the cache folder (:func:`trainers.paths.cache_dir`), never beside a
user's checkpoint, and reuses it while the content is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from trainers.checkpoint import META_FILE, WEIGHTS_FILE
from trainers.paths import cache_dir
from trainers.pipeline import GANPipeline

#: Bumped when the files this module writes change shape, so old cache entries are not reused.
EXPORT_VERSION = 1
OPSET = 17
G_FILE, D_FILE, INFO_FILE = "G.onnx", "D.onnx", "export.json"
#: The largest |ONNX - PyTorch| accepted at export time (float32 round-off is ~1e-6).
TOLERANCE = 1e-4


class OnnxExportError(RuntimeError):
    """A checkpoint could not be exported (the explorer then draws on the server, and says so)."""


@dataclass(frozen=True)
class OnnxExport:
    """One exported checkpoint.

    Attributes:
        folder: where G.onnx, D.onnx (when the checkpoint has a D) and export.json are.
        key: the checkpoint's content key (also the cache folder's name).
        info: export.json's content.
    """

    folder: Path
    key: str
    info: dict[str, Any]

    @property
    def generator(self) -> Path:
        return self.folder / G_FILE

    @property
    def discriminator(self) -> Path | None:
        return self.folder / D_FILE if self.info.get("has_discriminator") else None


# --- what is exported --------------------------------------------------------------------------


class _Generator(nn.Module):
    """G(z[, label]) with the signature ONNX sees."""

    def __init__(self, generator: nn.Module, conditional: bool) -> None:
        super().__init__()
        self.generator, self.conditional = generator, conditional

    def forward(self, z: Tensor, label: Tensor | None = None) -> Tensor:
        return self.generator(z, label if self.conditional else None)  # (N, C, H, W)


class _Discriminator(nn.Module):
    """D(image[, label]) -> (N,) logits."""

    def __init__(self, discriminator: nn.Module, conditional: bool) -> None:
        super().__init__()
        self.discriminator, self.conditional = discriminator, conditional

    def forward(self, image: Tensor, label: Tensor | None = None) -> Tensor:
        return self.discriminator(image, label if self.conditional else None).reshape(-1)


def _vdot(g: Any, a: Any, b: Any) -> Any:
    """ONNX for aten::vdot (real vectors): sum(a * b). Spectral norm's sigma = u · (W v) uses it."""
    return g.op("ReduceSum", g.op("Mul", a, b), keepdims_i=0)


def _export(module: nn.Module, args: tuple[Tensor, ...], names: list[str], out: str, path: Path):
    """torch.onnx.export with a dynamic batch axis on every input and the output."""
    axes = {name: {0: "batch"} for name in [*names, out]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.register_custom_op_symbolic("aten::vdot", _vdot, OPSET)
        torch.onnx.export(
            module,
            args,
            str(path),
            input_names=names,
            output_names=[out],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )


def _run_onnx(path: Path, feeds: dict[str, np.ndarray]) -> np.ndarray | None:
    """Run a graph with onnxruntime when it is installed (it is in [dev]); None otherwise."""
    try:
        import onnxruntime
    except ImportError:
        return None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


def export_onnx(pipe: GANPipeline, out: str | os.PathLike, *, check: bool = True) -> OnnxExport:
    """Write G.onnx, D.onnx and export.json for a loaded checkpoint into ``out``.

    Args:
        pipe: the checkpoint (its G is the one the pipeline samples with: the EMA G if kept).
        out: the folder to write (created; files in it are replaced).
        check: run both graphs with onnxruntime on 4 samples of seed 0 and refuse an export
            whose outputs differ from PyTorch's by more than ``TOLERANCE``.
    Raises:
        OnnxExportError: the model could not be exported, or its ONNX copy computes something else.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    z = pipe.latents(0, 4)  # (4, d)
    labels = pipe.class_labels(4)  # (4,) or None
    g_args = (z, labels) if pipe.conditional else (z,)
    names = ["z", "label"] if pipe.conditional else ["z"]
    if pipe.device.type != "cpu":
        raise OnnxExportError(
            f"{pipe.name}: export from a CPU pipeline (this one is on {pipe.device})"
        )
    generator = _Generator(pipe.generator, pipe.conditional).eval()
    d = pipe.discriminator
    discriminator = _Discriminator(d, pipe.conditional).eval() if d is not None else None
    try:
        with pipe.lock:  # the pipeline's modules, read-only, as every forward pass holds it
            with torch.inference_mode():
                image = generator(*g_args)  # (4, C, H, W)
                logit = discriminator(image, labels) if discriminator is not None else None
            _export(generator, g_args, names, "image", folder / G_FILE)
            if discriminator is not None:
                d_args = (image, labels) if pipe.conditional else (image,)
                _export(discriminator, d_args, ["image", *names[1:]], "logit", folder / D_FILE)
    except Exception as error:  # torch.onnx raises many kinds; name the model in one message
        raise OnnxExportError(f"{pipe.name}: ONNX export failed: {error}") from error

    difference = None
    if check:
        feeds = {"z": z.numpy()} | ({"label": labels.numpy()} if labels is not None else {})
        onnx_image = _run_onnx(folder / G_FILE, feeds)
        if onnx_image is not None:
            difference = float(np.abs(onnx_image - image.numpy()).max())
            if discriminator is not None:
                d_feeds = {"image": image.numpy()} | {k: v for k, v in feeds.items() if k != "z"}
                onnx_logit = _run_onnx(folder / D_FILE, d_feeds)
                difference = max(difference, float(np.abs(onnx_logit - logit.numpy()).max()))
            if difference > TOLERANCE:
                raise OnnxExportError(
                    f"{pipe.name}: the ONNX copy differs from PyTorch by {difference:.2g} "
                    f"(more than {TOLERANCE:g}); not using it"
                )
    c, h, w = pipe.image_shape
    info = {
        "export_version": EXPORT_VERSION,
        "name": pipe.name,
        "model": pipe.spec.name,
        "image_shape": [c, h, w],
        "latent_dim": pipe.latent_dim,
        "conditional": pipe.conditional,
        "class_names": list(pipe.class_names),
        "has_discriminator": discriminator is not None,
        "inputs": {"G": names, "D": ["image", *names[1:]] if discriminator is not None else []},
        "outputs": {"G": "image", "D": "logit" if discriminator is not None else None},
        "max_abs_difference_from_pytorch": difference,
        "opset": OPSET,
        "torch": torch.__version__,
        "key": content_key(pipe.path) if (pipe.path / META_FILE).is_file() else None,
    }
    (folder / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return OnnxExport(folder, str(info["key"] or ""), info)


# --- the cache ---------------------------------------------------------------------------------


_KEYS: dict[tuple, str] = {}


def content_key(checkpoint_folder: str | os.PathLike) -> str:
    """A short SHA-256 of a checkpoint's meta.json and weights (and the export format), so an
    export is reused exactly while those bytes are unchanged. Remembered per file size and
    modification time, so asking again (every new seed asks) does not read the weights again."""
    folder = Path(checkpoint_folder).resolve()
    stats = tuple(
        (stat.st_size, stat.st_mtime_ns)
        for stat in ((folder / name).stat() for name in (META_FILE, WEIGHTS_FILE))
    )
    if (folder, stats) not in _KEYS:
        _KEYS[(folder, stats)] = _hash_files(folder)
    return _KEYS[(folder, stats)]


def _hash_files(folder: Path) -> str:
    digest = hashlib.sha256(f"onnx-export-{EXPORT_VERSION}".encode())
    for name in (META_FILE, WEIGHTS_FILE):
        with open(folder / name, "rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:20]


def onnx_cache_root() -> Path:
    """``<cache>/onnx``: one folder per exported checkpoint content."""
    return cache_dir() / "onnx"


_EXPORT_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _read_cached(folder: Path, key: str) -> OnnxExport | None:
    try:
        info = json.loads((folder / INFO_FILE).read_text())
    except (OSError, ValueError):
        return None
    if info.get("export_version") != EXPORT_VERSION or not (folder / G_FILE).is_file():
        return None
    return OnnxExport(folder, key, info)


def cached_export(pipe: GANPipeline, root: str | os.PathLike | None = None) -> OnnxExport:
    """The ONNX export of a checkpoint, made on first use and kept under ``root``
    (default :func:`onnx_cache_root`) in a folder named by its content key.

    Safe across threads and processes: the files are written to a temporary folder beside the
    final one and renamed into place, so a reader never sees half a model.
    """
    key = content_key(pipe.path)
    base = Path(root) if root is not None else onnx_cache_root()
    folder = base / key
    found = _read_cached(folder, key)
    if found is not None:
        return found
    with _LOCKS_GUARD:
        lock = _EXPORT_LOCKS.setdefault(key, threading.Lock())
    with lock:
        found = _read_cached(folder, key)
        if found is not None:
            return found
        base.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=base))
        try:
            export = export_onnx(pipe, tmp)
            try:
                tmp.rename(folder)
            except OSError:  # another process got there first: use its copy
                shutil.rmtree(tmp, ignore_errors=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        found = _read_cached(folder, key)
        if found is None:
            raise OnnxExportError(f"{pipe.name}: the ONNX export in the cache cannot be read")
        return OnnxExport(folder, key, found.info | {"key": export.info.get("key", key)})


__all__ = [
    "EXPORT_VERSION",
    "OnnxExport",
    "OnnxExportError",
    "cached_export",
    "content_key",
    "export_onnx",
    "onnx_cache_root",
]
