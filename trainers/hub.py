"""Pushing checkpoints to the Hugging Face Hub, with their model card and sample grid.

Pulling (``hf://OWNER/NAME[@REVISION]`` paths into local folders) is :mod:`trainers.hub_pull`,
which the checkpoint reader uses; this module only pushes.

Pushing writes the checkpoint's weights and metadata, a model card (README.md, see
:mod:`trainers.model_card`) and a sample grid into a staging folder, then uploads that folder with
``HfApi.upload_folder``; ``--dry-run`` stops after staging, so what would be uploaded can be read
offline. Optimiser state (``train_state.safetensors``) stays home unless asked for.

Errors are :class:`~trainers.hub_pull.HubError`: one line that names the repo and what to do
(not logged in, offline, the Hub refused, ...), never a traceback.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError

from trainers.checkpoint import (
    META_FILE,
    TRAIN_STATE_FILE,
    WEIGHTS_FILE,
    load_checkpoint,
    resolve_checkpoint_dir,
)
from trainers.hub_pull import HubError, first_line, hub_uri, network_errors, parse_hub_uri
from trainers.model_card import model_card, sample_grid

#: The files a push uploads (plus train_state.safetensors when asked).
SAMPLES_FILE = "samples.png"
CARD_FILE = "README.md"


# --- push ------------------------------------------------------------------------------------


@contextmanager
def hub_errors(action: str) -> Iterator[None]:
    """Turn huggingface_hub's network, login and HTTP errors inside the block into one-line
    HubErrors that start with ``action`` (e.g. "cannot push to hf://alice/x")."""
    try:
        yield
    except network_errors():
        raise HubError(
            f"{action}: the Hub cannot be reached (offline?); check with --dry-run --out DIR "
            "meanwhile"
        ) from None
    except LocalTokenNotFoundError:
        raise HubError(f"{action}: not logged in: run `hf auth login` or set HF_TOKEN") from None
    except HfHubHTTPError as error:
        raise HubError(
            f"{action}: {first_line(error)} (log in with `hf auth login` or set HF_TOKEN, "
            "with write access to OWNER)"
        ) from None


def stage_push(
    checkpoint: str | os.PathLike,
    out: str | os.PathLike,
    repo_id: str,
    *,
    include_train_state: bool = False,
    license: str = "mit",
) -> list[Path]:
    """Write exactly what :func:`push` uploads into the empty folder ``out``.

    ``model.safetensors`` and ``meta.json`` copied from the checkpoint, ``README.md`` (the model
    card), ``samples.png`` (the sample grid, when the family samples from noise or a grid was
    shipped) and, only with ``include_train_state``, ``train_state.safetensors``.

    Returns: the files written, sorted.
    Raises:
        CheckpointError: the checkpoint does not load (nothing broken is ever pushed).
        HubError: ``out`` is not empty, or the train state was asked for but is missing.
    """
    repo_id, _ = parse_hub_uri(repo_id)
    source = resolve_checkpoint_dir(checkpoint)
    loaded = load_checkpoint(source)  # refuse to push something that cannot be read back
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise HubError(f"{out} is not empty: choose a new folder for the files to upload")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / WEIGHTS_FILE, out / WEIGHTS_FILE)
    shutil.copy2(source / META_FILE, out / META_FILE)
    if include_train_state:
        if not (source / TRAIN_STATE_FILE).is_file():
            raise HubError(f"{source} has no {TRAIN_STATE_FILE} (an exported checkpoint?)")
        shutil.copy2(source / TRAIN_STATE_FILE, out / TRAIN_STATE_FILE)
    grid = sample_grid(loaded)
    if grid is not None:
        grid.save(out / SAMPLES_FILE)
    card = model_card(loaded, repo_id, license=license, grid_file=SAMPLES_FILE if grid else None)
    card.save(out / CARD_FILE)
    return sorted(p for p in out.iterdir() if p.is_file())


def push(
    checkpoint: str | os.PathLike,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    include_train_state: bool = False,
    license: str = "mit",
    commit_message: str | None = None,
    token: str | None = None,
) -> str:
    """Upload a checkpoint (and its card and sample grid) to the model repo ``repo_id``.

    Creates the repo when needed (``HfApi.create_repo(exist_ok=True)``) and the branch
    ``revision`` when given, then uploads the staged folder with ``HfApi.upload_folder``.

    Returns: the URL of the commit.
    Raises:
        HubError: not logged in, no network, or the Hub refused (one line).
    """
    repo_id, _ = parse_hub_uri(repo_id)
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="gan-explorer-push-") as tmp:
        files = stage_push(
            checkpoint, tmp, repo_id, include_train_state=include_train_state, license=license
        )
        names = ", ".join(p.name for p in files)
        with hub_errors(f"cannot push to {hub_uri(repo_id)}"):
            api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
            if revision:
                api.create_branch(repo_id, branch=revision, exist_ok=True, repo_type="model")
            info = api.upload_folder(
                repo_id=repo_id,
                folder_path=tmp,
                repo_type="model",
                revision=revision,
                commit_message=commit_message or f"Upload GAN Explorer checkpoint ({names})",
            )
    return str(getattr(info, "commit_url", info))
