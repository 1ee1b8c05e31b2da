"""Data-parallel training over several processes with Hugging Face Accelerate.

    accelerate launch --multi_gpu --num_processes 2 -m trainers.cli dcgan --dataset mnist
    torchrun --standalone --nproc_per_node 2 -m trainers.cli dcgan --dataset mnist

Each process holds a copy of G and D; DistributedDataParallel (DDP, set up by Accelerate's
``Accelerator.prepare_model``) averages their gradients after every backward, so the copies stay
identical. ``Distributed`` is what a trainer asks about it: how many processes, which one this
is, wrap a network, this process's rows of a global batch, average the logged numbers, agree on
stopping. Without a launcher (``WORLD_SIZE`` unset or 1) it is a do-nothing stand-in: Accelerate
is not even imported and the training step runs exactly as it did before this module existed.

The GAN-specific choices (each explained again where it is made):
- G and D are wrapped in DDP separately and each wrapper is only called in its own half-step:
  D's wrapper in the D update, G's in the G update. G's no-grad forward in the D update and D's
  frozen forward in the G update use the unwrapped modules: nothing to all-reduce there, so
  DDP never waits for gradients that do not come ("Expected to have finished reduction in the
  prior iteration" cannot happen).
- ``broadcast_buffers=False`` (``DDP_KWARGS``): D runs on the real batch and on the fake batch
  in two forwards, then one backward. With buffer broadcasting, DDP copies rank 0's buffers
  into BatchNorm's running statistics at the start of each forward, an in-place write to
  tensors the first forward saved for backward ("one of the variables needed for gradient
  computation has been modified by an inplace operation", pytorch issues 22095, 110363). We
  keep the two forwards (not one forward on torch.cat([real, fake])) because a joint batch
  would change what BatchNorm normalises by, i.e. what is learned, compared with one process.
  Consequence: BatchNorm running statistics are per process (each from its own shard);
  checkpoints keep rank 0's. Spectral norm's power-iteration vectors u, v are buffers too, but
  they depend only on the weights, which are identical on every rank, so every rank computes
  the same u, v as one process would (checked by tests/test_distributed.py).
- SyncBatchNorm (batch statistics over the global batch) only on CUDA: it has no CPU kernels.
- Every process loads the data, the main process first (a download happens once).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from trainers.device import pick_device

#: Environment variables in which launchers put the number of processes (torchrun and
#: ``accelerate launch --multi_gpu`` set WORLD_SIZE; mpirun the others).
WORLD_SIZE_VARIABLES = ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")

#: Debugging aid: with ``GAN_EXPLORER_CHECKSUMS=DIR`` every process appends one line per step,
#: "step sha1(G's parameters) sha1(D's parameters)", to ``DIR/rank<r>.txt``. Identical files
#: mean the copies never drifted apart (tests/test_distributed.py compares them).
CHECKSUM_VARIABLE = "GAN_EXPLORER_CHECKSUMS"

#: DDP settings for every wrapped network; see the module docstring for why.
DDP_KWARGS: dict[str, Any] = {"broadcast_buffers": False}


def launched_world_size() -> int:
    """How many processes a launcher started (1 when run as a plain command)."""
    for name in WORLD_SIZE_VARIABLES:
        value = os.environ.get(name)
        if value:
            return int(value)
    return 1


@dataclass
class Distributed:
    """The processes of one training run, as the trainers see them.

    ``Distributed()`` is the one-process stand-in; :meth:`from_environment` builds the real one
    under ``accelerate launch`` or ``torchrun``.

    Args:
        world_size: number of processes.
        rank: this process's index (0 is the main process: it alone writes files).
        device: where this process trains (``cuda:<local rank>`` on a GPU machine).
        accelerator: the ``accelerate.Accelerator`` (None for one process).
        sync_batchnorm: convert BatchNorm to SyncBatchNorm (CUDA only).
    """

    world_size: int = 1
    rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    accelerator: Any = None
    sync_batchnorm: bool = False

    @property
    def enabled(self) -> bool:
        """True with more than one process."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True in the process that writes logs, samples and checkpoints."""
        return self.rank == 0

    @classmethod
    def from_environment(cls, device: str = "auto", sync_batchnorm: bool = False) -> Distributed:
        """The processes started by the launcher, or the one-process stand-in.

        Args:
            device: "auto", "cpu" or "cuda" (several processes on Apple MPS are not supported).
            sync_batchnorm: use SyncBatchNorm when training on several GPUs.
        Raises:
            ValueError: an unusable device for several processes (one line for the user).
        """
        world_size = launched_world_size()
        if world_size <= 1:
            _warn_if_accelerate_started_one_process()
            return cls(device=pick_device(device))
        if device == "mps":
            raise ValueError("several processes train on CUDA GPUs or CPUs, not on Apple MPS")
        if device == "cuda" and not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for but no CUDA GPU is available")
        from accelerate import Accelerator, DistributedDataParallelKwargs

        mixed = os.environ.get("ACCELERATE_MIXED_PRECISION", "no")
        if mixed not in ("no", "") and launched_rank() == 0:
            print(
                f"gan-train: accelerate's --mixed_precision {mixed} is not used; "
                "precision comes from --precision (bf16 autocast where fast)",
                file=sys.stderr,
            )
        cpu = device == "cpu" or (device == "auto" and not torch.cuda.is_available())
        # mixed_precision="no": the trainers run their own autocast (trainers/device.py), so
        # Accelerate must not wrap forward() in a second one. cpu=True makes Accelerate use gloo
        # (without it, a CPU-only machine under torchrun would be seen as one process).
        handler = DistributedDataParallelKwargs(**DDP_KWARGS)  # the BatchNorm trap, see above
        accelerator = Accelerator(cpu=cpu, mixed_precision="no", kwargs_handlers=[handler])
        run_on = accelerator.device
        if run_on.type == "cpu":
            run_on = torch.device("cpu")  # "cpu:0" -> "cpu", as one process prints it
        return cls(
            world_size=accelerator.num_processes,
            rank=accelerator.process_index,
            device=run_on,
            accelerator=accelerator,
            sync_batchnorm=sync_batchnorm,
        )

    # --- networks -------------------------------------------------------------------------------

    def convert_batchnorm(self, module: nn.Module) -> nn.Module:
        """BatchNorm -> SyncBatchNorm when asked for and on CUDA; else ``module`` unchanged.

        Call before building optimisers and the EMA copy (the conversion makes new modules that
        reuse the parameters but not the class)."""
        if not (self.enabled and self.sync_batchnorm):
            return module
        if self.device.type != "cuda":  # SyncBatchNorm has no CPU (gloo) implementation
            if self.is_main:
                print(
                    "gan-train: --sync-batchnorm needs CUDA; BatchNorm statistics stay per process",
                    file=sys.stderr,
                )
            return module
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)

    def wrap(self, module: nn.Module) -> nn.Module:
        """``module`` in DDP (one process: ``module`` itself). Wrap G and D separately."""
        if not self.enabled:
            return module
        with warnings.catch_warnings():
            # newer torch (2.14 here) renames broadcast_buffers to forward_sync_buffers (which syncs
            # buffers once at construction); Accelerate 1.16 only knows the old name. Our buffers
            # start equal (same seed, or the same checkpoint): both spellings do the same here.
            warnings.filterwarnings(
                "ignore", message=".*broadcast_buffers.*", category=FutureWarning
            )
            return self.accelerator.prepare_model(module, device_placement=False)

    # --- batches --------------------------------------------------------------------------------

    def local(self, rows: torch.Tensor) -> torch.Tensor:
        """This process's block of a global batch: rows [rank * b, (rank + 1) * b) of
        (world_size * b, ...). One process: ``rows`` itself."""
        if not self.enabled:
            return rows
        return rows.tensor_split(self.world_size)[self.rank]

    # --- agreeing -------------------------------------------------------------------------------

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Every value averaged over the processes (one all-reduce): the global batch's loss, as
        one process with that batch would log it. One process: ``values`` unchanged."""
        if not self.enabled:
            return values
        t = torch.tensor(list(values.values()), dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(t)
        return dict(zip(values, (t / self.world_size).tolist(), strict=True))

    def any(self, flag: bool) -> bool:
        """True on every process if it is True on one (e.g. "stop now"), so all stop together."""
        if not self.enabled:
            return flag
        t = torch.tensor([int(flag)], device=self.device)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return bool(t.item())

    def barrier(self) -> None:
        """Wait until every process gets here."""
        if self.enabled:
            self.accelerator.wait_for_everyone()

    def main_process_first(self) -> contextlib.AbstractContextManager:
        """Run a block in the main process first, then in the others (e.g. a data download)."""
        if not self.enabled:
            return contextlib.nullcontext()
        return self.accelerator.main_process_first()

    def close(self) -> None:
        """Tear the process group down (nothing to do for one process)."""
        if self.enabled:
            self.accelerator.end_training()

    def describe(self, batch_size: int) -> dict[str, Any]:
        """The meta.json fields: ``world_size`` and ``global_batch_size`` (= per-process
        ``batch_size`` x ``world_size``, the batch one process would need for the same run)."""
        return {"world_size": self.world_size, "global_batch_size": batch_size * self.world_size}


def launched_rank() -> int:
    """This process's rank from the launcher's environment (0 without a launcher)."""
    return int(os.environ.get("RANK", os.environ.get("PMI_RANK", "0")) or 0)


def _warn_if_accelerate_started_one_process() -> None:
    """On a machine without GPUs, ``accelerate launch --num_processes 2`` (without --multi_gpu)
    starts ONE process: say so instead of silently training on one."""
    if (
        "ACCELERATE_MIXED_PRECISION" in os.environ  # set by accelerate launch
        and "MASTER_ADDR" in os.environ  # set when --num_processes > 1 was asked for
        and "WORLD_SIZE" not in os.environ
    ):
        print(
            "gan-train: accelerate launch started a single process; on a machine without GPUs "
            "add --multi_gpu (several processes via torchrun, gloo on CPUs) or use torchrun",
            file=sys.stderr,
        )


def resume_batch_size(global_batch_size: int, world_size: int) -> int:
    """The per-process batch that keeps a run's global batch on ``world_size`` processes.

    A checkpoint written by N processes resumes on M: the global batch (the optimisation's
    batch, and the unit of the data position) stays, the per-process batch changes.
    Raises:
        ValueError: the global batch does not split evenly over ``world_size`` processes.
    """
    per_process, rest = divmod(global_batch_size, world_size)
    if rest or per_process < 1:
        raise ValueError(
            f"the run's global batch of {global_batch_size} does not split evenly over "
            f"{world_size} processes; resume it on a number of processes that divides it"
        )
    return per_process


class ChecksumLog:
    """Writes "step sha1(G) sha1(D)" per step to ``DIR/rank<r>.txt`` when ``CHECKSUM_VARIABLE``
    names a folder (see its comment); :meth:`from_environment` returns None otherwise."""

    def __init__(self, folder: str | Path, rank: int) -> None:
        self.path = Path(folder) / f"rank{rank}.txt"
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_environment(cls, rank: int) -> ChecksumLog | None:
        folder = os.environ.get(CHECKSUM_VARIABLE)
        return cls(folder, rank) if folder else None

    def write(self, step: int, players: dict[str, nn.Module]) -> None:
        digests = [f"{name}={parameter_digest(players[name])}" for name in ("G", "D")]
        with self.path.open("a") as handle:
            handle.write(f"{step} {' '.join(digests)}\n")


def parameter_digest(module: nn.Module) -> str:
    """sha1 of every parameter's bytes (in a fixed memory layout): equal means bit-identical."""
    digest = hashlib.sha1()
    for tensor in module.parameters():
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()
