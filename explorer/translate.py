"""Plain functions behind the Translate tab (no gradio here, so they can be tested directly).

    upload / example  ->  load_image()   ->  RGB PIL image, sensibly sized
                      ->  translate()    ->  (translation, cycle reconstruction) as uint8 arrays

A CycleGAN (Zhu et al. 2017) has two generators: G_AB (A -> B, e.g. horse -> zebra) and G_BA.
"Cycle reconstruction" sends the translation back: G_BA(G_AB(x)) for A -> B. Training pushes it
to equal x (the cycle-consistency loss), so it shows how much of the input the translation kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from explorer.params import page_specs
from trainers import images
from trainers.checkpoint import CheckpointError, read_meta
from trainers.cyclegan import (
    CycleGANUserError,
    default_translate_size,
    load_cyclegan,
    pil_to_tensor,
    prepare_image,
    translate_tensor,
)
from trainers.data import to_uint8_images
from trainers.options import option
from trainers.paths import pretrained_dir
from trainers.registry import families

PRETRAINED_DIR = pretrained_dir()  # trainers.paths: package data or $GAN_EXPLORER_PRETRAINED
MAX_SIDE = 512  # the longer side is capped here: CPU time grows with the pixel count

# name -> (skimage.data function, what it is). skimage ships no horse or zebra *photo*
# (skimage.data.horse is a black-and-white silhouette), so upload your own horse or zebra.
EXAMPLES: dict[str, tuple[str, str]] = {
    "chelsea (a cat)": ("chelsea", "a tabby cat: stripes already, try B -> A"),
    "astronaut": ("astronaut", "Eileen Collins, NASA portrait"),
    "coffee": ("coffee", "a cup of coffee"),
    "rocket": ("rocket", "a rocket on its launch pad"),
    "horse (silhouette)": ("horse", "a binary horse silhouette, not a photo"),
}


def translation_models() -> frozenset[str]:
    """The families this page translates with: the registry's image-to-image ones."""
    return frozenset(spec.name for spec in families() if spec.image_to_image)


def list_cyclegan_checkpoints(root: str | Path = PRETRAINED_DIR) -> list[tuple[str, str]]:
    """(label, folder) for every ``root/*/`` checkpoint of an image-to-image family
    (:func:`translation_models`: CycleGAN)."""
    root = Path(root)
    found: list[tuple[str, str]] = []
    if not root.is_dir():
        return found
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            meta = read_meta(folder)
        except (CheckpointError, OSError):
            continue
        if meta.get("model") not in translation_models():
            continue
        label = meta.get("name") or folder.name
        found.append(
            (
                f"{label} ({meta.get('step', '?')} steps, {meta['config'].get('image_size')} px)",
                str(folder),
            )
        )
    return found


def cyclegan_choices(root: str | Path = PRETRAINED_DIR) -> list[tuple[str, str]]:
    """(label, key) for a dropdown: the key is the checkpoint's folder name, never a path
    (a hosted page shows no server path; :func:`checkpoint_folder` turns it back)."""
    return [(label, Path(folder).name) for label, folder in list_cyclegan_checkpoints(root)]


def checkpoint_folder(key: str | None, root: str | Path = PRETRAINED_DIR) -> str:
    """The folder of a CycleGAN checkpoint key from :func:`cyclegan_choices`.

    Raises:
        ValueError: no such CycleGAN checkpoint (a key is never taken as a path).
    """
    for _, folder in list_cyclegan_checkpoints(root):
        if Path(folder).name == key:
            return folder
    raise ValueError(f"There is no CycleGAN checkpoint called {str(key)[:80]!r} here.")


def example_names() -> list[str]:
    return list(EXAMPLES)


def example_image(name: str):
    """An example as an RGB PIL image (from scikit-image's bundled data, no download)."""
    from skimage import data

    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; choose one of {', '.join(EXAMPLES)}")
    return images.load_image(getattr(data, EXAMPLES[name][0])(), name=name)  # bool -> 0/255


def load_image(source: Any, size: int, max_side: int = MAX_SIDE):
    """Turn an upload into an RGB PIL image the generator can take.

    Args:
        source: a file path, a PIL image or a numpy array (H, W[, C]); checked by
            :func:`trainers.images.load_image` (not an image, too many pixels, too thin).
        size: the shorter side after resizing (the aspect ratio is kept).
        max_side: cap for the longer side (huge or very long uploads are downscaled further).
    Returns:
        an RGB image whose sides are multiples of 4 (centre-cropped by at most 3 pixels).
    Raises:
        ValueError (``ImageInputError``): not usable, with a message saying why.
    """
    name = Path(source).name if isinstance(source, str | Path) else "image"
    img = images.load_image(source, name=name, max_side=2 * max_side)  # decode a big JPEG small
    return prepare_image(img, size, max_side=max_side)


@dataclass
class Translation:
    """One translation: uint8 (H, W, 3) arrays plus a short description."""

    input: np.ndarray
    translated: np.ndarray
    reconstruction: np.ndarray
    cycle_l1: float
    summary: str


@lru_cache(maxsize=2)
def _cached_model(folder: str):
    # the loaded networks are read-only, so sharing them between users is safe
    return load_cyclegan(folder, "cpu")


def translate(
    checkpoint: str | Path, image: Any, direction: str, size: int | None = None
) -> Translation:
    """Translate an image A -> B ("a2b") or B -> A ("b2a") and send it back for the cycle.

    Args:
        checkpoint: a CycleGAN checkpoint folder.
        image: anything :func:`load_image` takes.
        direction: "a2b" or "b2a".
        size: shorter side to work at (default: twice the model's training size, up to 256).
    """
    try:
        loaded = _cached_model(str(checkpoint))
    except (CheckpointError, CycleGANUserError) as error:
        raise ValueError(str(error)) from None
    size = size or default_translate_size(loaded.config)
    img = load_image(image, size)
    x = pil_to_tensor(img)  # (1, 3, H, W) in [-1, 1]
    try:
        fake, rec = translate_tensor(loaded.generator, x, direction)
    except CycleGANUserError as error:
        raise ValueError(str(error)) from None
    l1 = (rec - x).abs().mean().item()  # cycle L1 in [-1, 1] units
    names = {"a2b": "A → B", "b2a": "B → A"}
    back = "b2a" if direction == "a2b" else "a2b"
    summary = (
        f"{names[direction]} at {img.width}×{img.height} px. Cycle reconstruction {names[back]}: "
        f"mean |G(F(x)) − x| = {l1:.3f} (pixels in [−1, 1]; 0 = perfect, {l1 * 127.5:.0f} grey levels of 255)."
    )
    return Translation(
        input=np.asarray(img),
        translated=to_uint8_images(fake)[0],
        reconstruction=to_uint8_images(rec)[0],
        cycle_l1=l1,
        summary=summary,
    )


def checkpoint_info(checkpoint: str | Path) -> str:
    """A Markdown line about a CycleGAN checkpoint: data, size, steps, time, command."""
    try:
        meta = read_meta(checkpoint)
    except CheckpointError as error:
        return f"⚠️ {error}"
    cfg = meta.get("config", {})
    domains = meta.get("domains", {})
    hours = float(meta.get("wall_time_s", 0)) / 3600
    return (
        f"**{meta.get('name') or Path(checkpoint).name}** on {meta.get('dataset') or '?'}: "
        f"A = `{Path(domains.get('a', 'A')).name}`, "
        f"B = `{Path(domains.get('b', 'B')).name}`; trained at {cfg.get('image_size')} px, ngf {cfg.get('ngf')}, "
        f"{cfg.get('n_residual_blocks')} residual blocks, {meta.get('step')} steps ({hours:.1f} h on {meta.get('device')})."
    )


# ---------------------------------------------------------------------------------------------
# The page: its words and its one view (both editions; no front end here)
# ---------------------------------------------------------------------------------------------

TITLE = "Translate: CycleGAN (Zhu et al. 2017)"
INTRO_MD = """
Two generators learn to map between two sets of photos **without any pairs**:
`G_AB: A → B` (horse → zebra) and `G_BA: B → A`. Two PatchGAN discriminators judge 70×70
patches of each domain. What keeps a horse the *same* horse once it has stripes is the
**cycle-consistency loss**

`L_cyc = λ · ( |G_BA(G_AB(a)) − a|₁ + |G_AB(G_BA(b)) − b|₁ )`,  λ = 10

so the page shows the translation **and** its cycle reconstruction (sent back again).
Upload a photo, or pick an example. scikit-image ships no horse or zebra photo (its `horse`
is a silhouette), so upload your own horse or zebra to see the model on its home ground;
on other pictures you see what a texture-transfer model does out of its domain.
Any size or aspect works: the shorter side is resized (the longer one capped at 512 px).
"""
NO_CHECKPOINT_MD = (
    "No CycleGAN checkpoint in `pretrained/` yet: train one with "
    "`gan-train cyclegan --data-a DIR --data-b DIR` and export it there."
)
DIRECTIONS = {"a2b": "A → B  (horse → zebra)", "b2a": "B → A  (zebra → horse)"}
UPLOAD_LABEL = "Upload an image"


@dataclass
class TranslateParams:
    """The page's choices (the checkpoints are found at run time: :func:`cyclegan_choices`)."""

    checkpoint: str = option("", "", ui_label="CycleGAN checkpoint", widget="choice")
    example: str = option("", "", choices=list(EXAMPLES), ui_label="…or an example (scikit-image)")
    direction: str = option(
        "a2b", "", choices=list(DIRECTIONS), ui_label="Direction", widget="radio"
    )


SPECS = page_specs(TranslateParams)
#: Captions of the three pictures a translation shows.
CAPTIONS = ("Input (resized / cropped)", "Translation", "Cycle reconstruction")
PICK_A_PICTURE = "Upload an image or pick an example first."
UNREADABLE_UPLOAD = "The uploaded image could not be read; please upload it again."


def checkpoint_markdown(key: str | None) -> str:
    """The chosen checkpoint (a key of :func:`cyclegan_choices`) in one line, or what to do
    when there is none."""
    if not key:
        return NO_CHECKPOINT_MD
    try:
        return checkpoint_info(checkpoint_folder(key))
    except ValueError as error:
        return f"⚠️ {error}"


def translate_choice(key: str | None, kind: str, value: Any, direction: str) -> Translation:
    """Translate the visitor's picture with the checkpoint ``key`` (of :func:`cyclegan_choices`).

    Args:
        kind: "upload" (``value``: a file path or the file's bytes) or "example" (a name).
        direction: "a2b" or "b2a".
    Raises:
        ValueError: in one sentence (no checkpoint, no picture, not a picture, ...).
    """
    if not key:
        raise ValueError(
            "Choose a CycleGAN checkpoint first." if cyclegan_choices() else NO_CHECKPOINT_MD
        )
    if not value:
        raise ValueError(PICK_A_PICTURE)
    if direction not in DIRECTIONS:
        raise ValueError("Choose a direction: A → B or B → A.")
    folder = checkpoint_folder(key)
    if kind == "example":
        image = example_image(value)
    elif isinstance(value, str | Path):  # a path: its bytes, so a message names no server path
        try:
            image = Path(value).read_bytes()
        except OSError:
            raise ValueError(UNREADABLE_UPLOAD) from None
    else:
        image = value
    return translate(folder, image, direction)
