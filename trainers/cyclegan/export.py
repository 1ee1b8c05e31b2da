"""Exporting a CycleGAN run for shipping: the two generators only, optionally in float16."""

from __future__ import annotations

from pathlib import Path

from trainers import checkpoint as ckpt
from trainers.cyclegan.data import MODEL_NAME, CycleGANUserError
from trainers.cyclegan.translate import load_cyclegan


def export_generators(
    source: str | Path,
    out: str | Path,
    half: bool = True,
    name: str | None = None,
    note: str | None = None,
) -> Path:
    """An inference-only copy of a CycleGAN run: G_AB and G_BA only (no discriminators, no
    optimiser state), optionally in float16 (loaded back into float32 modules). The meta keeps
    the exact command, total steps, wall time and device of the run.

        gan-train export-cyclegan runs/cyclegan-horse2zebra pretrained/cyclegan-horse2zebra --half
    """
    from safetensors.torch import load_file

    directory = ckpt.resolve_checkpoint_dir(source)
    meta = ckpt.read_meta(directory)
    if meta.get("model") != MODEL_NAME:
        raise CycleGANUserError(f"{directory} is a {meta.get('model')} checkpoint, not a CycleGAN")
    weights = load_file(str(directory / ckpt.WEIGHTS_FILE))
    exported = {
        k: (v.half() if half and v.is_floating_point() else v)
        for k, v in weights.items()
        if k.startswith("G.")
    }
    meta = {
        k: v
        for k, v in meta.items()
        if k not in ("format", "kind", "optimizer_param_groups", "pool_sizes")
    }
    meta["weights_dtype"] = "float16" if half else "float32"
    meta["contents"] = (
        "generators only: G.a2b (A -> B) and G.b2a (B -> A); no discriminators, no train state"
    )
    meta["exported_from"] = str(directory)
    meta["total_steps"] = meta.get("step")
    meta["wall_time_h"] = round(float(meta.get("wall_time_s", 0.0)) / 3600, 2)
    meta["cpu"] = _cpu_name() if meta.get("device") == "cpu" else None
    if name:
        meta["name"] = name
    if note:
        meta["note"] = note
    ckpt.save_checkpoint(out, meta, exported)
    load_cyclegan(out)  # refuse to leave behind something we cannot read
    return Path(out)


def _cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else the platform's processor string."""
    import os
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} logical CPUs)"
    except OSError:
        pass
    return platform.processor() or platform.machine()
