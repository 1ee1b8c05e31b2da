"""The model card (README.md) of a checkpoint pushed to the Hugging Face Hub, and its sample grid.

The card is a ``huggingface_hub.ModelCard``: YAML front matter (``ModelCardData``) with
``library_name: gan-explorer``, the license, tags (gan, the family, the data set), the data set's
Hub id, and the measured figures from ``meta.json`` as a ``model-index`` (classifier-FID beside
its floor, cGAN label accuracy, mode coverage); then a body with the sample grid, the
architecture in one paragraph, the exact command that trained it and how to load it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData
from PIL import Image

from trainers.checkpoint import LoadedCheckpoint

#: Hub ids of the data sets the trainers download (for the card's ``datasets:``).
HUB_DATASETS = {
    "mnist": "ylecun/mnist",
    "fashion-mnist": "zalando-datasets/fashion_mnist",
    "cifar10": "uoft-cs/cifar10",
}
DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}

#: meta["metrics"] key -> (model-index metric type, readable name). In this order on the card.
CARD_METRICS: list[tuple[str, str, str]] = [
    ("classifier_fid", "classifier-fid", "classifier-FID (not Inception FID), lower is better"),
    (
        "classifier_fid_floor_train_vs_test",
        "classifier-fid-floor",
        "classifier-FID floor: real train vs real test images",
    ),
    ("label_accuracy", "accuracy", "cGAN label accuracy: samples classified as the asked class"),
    (
        "smallest_class_share",
        "smallest-class-share",
        "mode coverage: share of the rarest class among samples",
    ),
    ("inception_fid", "fid", "Inception FID"),
    ("cycle_l1_a", "cycle-l1-a", "cycle L1 A -> B -> A on test images"),
    ("cycle_l1_b", "cycle-l1-b", "cycle L1 B -> A -> B on test images"),
    ("a2b_target_rate", "a2b-target-rate", "A -> B images the domain classifier calls B"),
    ("b2a_target_rate", "b2a-target-rate", "B -> A images the domain classifier calls A"),
]


def dataset_tag(dataset: str) -> str:
    """ "mnist" -> "mnist"; "folder:/data/faces" -> "faces"."""
    if dataset.startswith("folder:"):
        return Path(dataset.split(":", 1)[1].rstrip("/")).name or "images"
    return dataset


def _metric_value(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def measured(meta: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    """``(key, metric type, name, value)`` for every numeric figure of :data:`CARD_METRICS`."""
    metrics = meta.get("metrics") or {}
    rows = []
    for key, metric_type, name in CARD_METRICS:
        value = _metric_value(metrics.get(key))
        if value is not None:
            rows.append((key, metric_type, name, value))
    return rows


def card_data(loaded: LoadedCheckpoint, repo_id: str, license: str = "mit") -> ModelCardData:
    """The front matter: library, license, tags, data set and the measured figures."""
    meta = loaded.meta
    dataset = str(meta.get("dataset", "unknown"))
    tag = dataset_tag(dataset)
    hub_dataset = HUB_DATASETS.get(dataset)
    noise = loaded.spec.samples_from_noise
    task = "unconditional-image-generation" if noise else "image-to-image"
    results = [
        EvalResult(
            task_type=task,
            dataset_type=hub_dataset or tag,
            dataset_name=DATASET_NAMES.get(dataset, tag),
            dataset_split="test",
            metric_type=metric_type,
            metric_name=name,
            metric_value=round(value, 4),
        )
        for _, metric_type, name, value in measured(meta)
    ]
    return ModelCardData(
        library_name="gan-explorer",
        license=license,
        tags=list(dict.fromkeys(["gan", loaded.spec.name, tag])),
        datasets=[hub_dataset] if hub_dataset else None,
        pipeline_tag=task,
        model_name=repo_id.split("/")[-1],
        eval_results=results or None,
    )


def _parameters(module: Any) -> int:
    return sum(p.numel() for p in module.parameters()) if module is not None else 0


def architecture(loaded: LoadedCheckpoint) -> str:
    """One paragraph: the family, what G and D map, their sizes, the stored config and loss."""
    config = loaded.meta.get("config") or {}
    spec = loaded.spec
    shape = "×".join(
        str(v) for v in loaded.meta.get("image_shape") or config.get("image_shape", [])
    )
    sentences = [f"{spec.description or spec.name}."]
    if loaded.spec.samples_from_noise:
        label = (
            f" and a class label (one of {config.get('num_classes')}, embedded in "
            f"{config.get('embed_dim')} dimensions)"
            if spec.conditional
            else ""
        )
        given = " given the label" if spec.conditional else ""
        sentences.append(
            f"G maps a {config.get('latent_dim')}-dimensional standard normal z{label} to a "
            f"{shape} image in [-1, 1] (tanh); D returns one realness logit per image{given}."
        )
    sentences.append(
        f"G has {_parameters(loaded.generator):,} parameters, "
        f"D {_parameters(loaded.discriminator):,}."
    )
    settings = ", ".join(f"`{k}={_short(v)}`" for k, v in config.items() if k != "image_shape")
    if settings:
        sentences.append(f"Model config: {settings}.")
    loss = (loaded.meta.get("train_config") or {}).get("loss")
    if loss:
        sentences.append(f"Trained with the {loss} loss.")
    ema = " (the exponential moving average of G)" if loaded.meta.get("exported_from_ema") else ""
    sentences.append(f"Weights stored as {loaded.meta.get('weights_dtype', 'float32')}{ema}.")
    return " ".join(sentences)


def _short(value: Any) -> str:
    return "x".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def _format(key: str, value: float) -> str:
    if key in ("label_accuracy", "smallest_class_share", "a2b_target_rate", "b2a_target_rate"):
        return f"{value:.1%}"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _figures_table(meta: dict[str, Any]) -> str:
    rows = measured(meta)
    if not rows:
        return (
            "No figures were measured for this checkpoint (`gan-train evaluate CKPT --write-meta`)."
        )
    lines = ["| figure | value |", "| --- | --- |"]
    values = {key: value for key, _, _, value in rows}
    floor = values.get("classifier_fid_floor_train_vs_test")
    classes = len(meta.get("class_names") or [])
    for key, _, name, value in rows:
        text = _format(key, value)
        if key == "classifier_fid_floor_train_vs_test" and "classifier_fid" in values:
            continue  # shown beside the FID
        if key == "classifier_fid" and floor is not None:
            text += f" (floor {floor:.3g})"
        if key == "smallest_class_share" and classes:
            text += f" ({1 / classes:.1%} is an even spread over {classes} classes)"
        lines.append(f"| {name} | {text} |")
    metrics = meta.get("metrics") or {}
    if metrics.get("samples"):
        lines.append("")
        lines.append(
            f"Measured on {int(metrics['samples']):,} samples with the project's reference "
            "classifier (`gan-train evaluate`); the floor is the distance between the real "
            "train and test images, the best a model can hope for."
        )
    return "\n".join(lines)


def _command_block(meta: dict[str, Any]) -> str:
    command = str(meta.get("command") or "").strip()
    if not command:
        return "The command was not recorded."
    steps = [part.strip() for part in command.split("# resumed:")]
    lines = [steps[0]] + [f"{step}   # resumed" for step in steps[1:]]
    return "```bash\n" + "\n".join(lines) + "\n```"


def _usage(loaded: LoadedCheckpoint, uri: str) -> str:
    if not loaded.spec.samples_from_noise:
        return (
            "```bash\n"
            f"gan-train translate {uri} --direction a2b --input photo.jpg --out out.png\n"
            f"gan-explorer --checkpoint-dir {uri}   # the Translate tab\n```"
        )
    label = ", labels=3" if loaded.spec.conditional else ""
    label_flag = " --label 3" if loaded.spec.conditional else ""
    return (
        "```python\nfrom trainers.pipeline import GANPipeline\n\n"
        f'pipe = GANPipeline.from_pretrained("{uri}")\n'
        f"out = pipe(n=16, seed=0{label})\n"
        "out.images   # uint8 (16, H, W, C)\nout.scores   # D's realness of each image\n```\n\n"
        "```bash\n"
        f"gan-train sample {uri} --n 64 --seed 0{label_flag} --out samples.npz\n"
        f"gan-explorer --checkpoint-dir {uri}\n"
        f"GAN_EXPLORER_CHECKPOINTS={uri} gan-explorer   # the same, as a setting\n```"
    )


def model_card(
    loaded: LoadedCheckpoint, repo_id: str, license: str = "mit", grid_file: str | None = None
) -> ModelCard:
    """The model card of a checkpoint for the repo ``repo_id`` ("OWNER/NAME")."""
    meta = loaded.meta
    data = card_data(loaded, repo_id, license)
    uri = f"hf://{repo_id}"
    dataset = str(meta.get("dataset", "?"))
    steps = f"{int(meta['step']):,} steps" if meta.get("step") is not None else "an unknown time"
    epochs = f" ({float(meta['epoch']):.1f} epochs)" if meta.get("epoch") is not None else ""
    grid = (
        f"![Samples of {repo_id}]({grid_file})\n\n"
        if grid_file
        else "_This family translates images; it has no sample grid._\n\n"
    )
    body = f"""
# {repo_id.split("/")[-1]}

A **{getattr(loaded.spec, "display_name", "") or loaded.spec.name}** trained on **{DATASET_NAMES.get(dataset, dataset)}** for {steps}{epochs} with
GAN Explorer's `gan-train`. Weights are safetensors and metadata JSON: nothing
here is ever unpickled.

{grid}## Measured

{_figures_table(meta)}

## Architecture

{architecture(loaded)}

## The command that trained it

{_command_block(meta)}

## Use it

With the GAN Explorer project installed (`pip install -e .` in its source tree):

{_usage(loaded, uri)}

Files: `model.safetensors` (G and D), `meta.json` (config, data set, class names, the command,
the figures above){", `samples.png`" if grid_file else ""}. Pin a version with `{uri}@REVISION`;
`gan-train pull {repo_id}` downloads it into the Hugging Face cache for offline use.
"""
    return ModelCard(f"---\n{data.to_yaml()}\n---\n{body}")


def find_grid(folder: Path, name: str) -> Path | None:
    """A sample grid shipped beside the checkpoint: ``samples.png`` in it, or
    ``grids/<name>.png`` next to it (how ``pretrained/`` keeps them)."""
    for candidate in (
        folder / "samples.png",
        folder.parent / "grids" / f"{folder.name}.png",
        folder.parent / "grids" / f"{name}.png",
    ):
        if candidate.is_file():
            return candidate
    return None


def sample_grid(loaded: LoadedCheckpoint, n: int = 64, seed: int = 0) -> Image.Image | None:
    """The checkpoint's shipped grid, else ``n`` samples of ``seed`` in an 8-wide grid (scaled
    2x); None for a family that does not sample from noise."""
    name = str(loaded.meta.get("name") or loaded.path.name)
    shipped = find_grid(loaded.path, name)
    if shipped is not None:
        return Image.open(shipped).copy()
    if not loaded.spec.samples_from_noise:
        return None
    from trainers.images import make_grid
    from trainers.pipeline import GANPipeline

    pipe = GANPipeline(loaded)  # the checkpoint already loaded, wrapped
    grid = make_grid(pipe(n=n, seed=seed).images, nrow=8)  # uint8 (H', W', C)
    image = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    return image.resize((image.width * 2, image.height * 2), Image.Resampling.NEAREST)
