"""Checkpoints on the Hugging Face Hub: ``hf://OWNER/NAME[@REVISION]`` paths, pull and push.

Every place that takes a checkpoint path also takes ``hf://OWNER/NAME[@REVISION]``:
:func:`resolve_checkpoint_path` turns it into a local folder with
``huggingface_hub.snapshot_download`` (the Hub cache, its revisions and its offline mode are the
library's), then checks it like a local checkpoint: safetensors and JSON only. A repo holding a
pickle or a ``torch.save`` file is refused, whole, with a message that names the file.

    from trainers.hub import resolve_checkpoint_path
    folder = resolve_checkpoint_path("hf://alice/cgan-mnist@v1")   # .../snapshots/<commit>

Pushing writes the checkpoint's weights and metadata, a model card (README.md, see
:mod:`trainers.model_card`) and a sample grid into a staging folder, then uploads that folder with
``HfApi.upload_folder``; ``--dry-run`` stops after staging, so what would be uploaded can be read
offline. Optimiser state (``train_state.safetensors``) stays home unless asked for.

Errors are :class:`HubError`: one line that names the repo and what to do (offline and not
cached, no such repo, a pickle in the repo, ...), never a traceback.
"""

from __future__ import annotations

import importlib
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from huggingface_hub import HfApi, constants, snapshot_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    LocalEntryNotFoundError,
    LocalTokenNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import HFValidationError, validate_repo_id

from trainers.checkpoint import (
    META_FILE,
    TRAIN_STATE_FILE,
    WEIGHTS_FILE,
    CheckpointError,
    load_checkpoint,
    resolve_checkpoint_dir,
)

HF_PREFIX = "hf://"
#: ``library_name`` sent with downloads and written into model cards.
LIBRARY_NAME = "gan-explorer"
#: Extra checkpoints for the explorer: comma-separated ``hf://`` URIs or folders.
CHECKPOINTS_ENV = "GAN_EXPLORER_CHECKPOINTS"
#: File types that are (or usually are) pickles; a repo holding one is refused.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib")
#: The files a push uploads (plus train_state.safetensors when asked).
SAMPLES_FILE = "samples.png"
CARD_FILE = "README.md"


def _network_errors() -> tuple[type[BaseException], ...]:
    """What a failed connection raises: huggingface_hub's offline error, the standard ones and the
    HTTP client's transport errors (httpx2 in huggingface_hub 2, httpx in 1)."""
    errors: list[type[BaseException]] = [OfflineModeIsEnabled, ConnectionError, TimeoutError]
    for name in ("httpx2", "httpx"):
        try:
            errors.append(importlib.import_module(name).TransportError)
        except (ImportError, AttributeError):
            pass
    return tuple(errors)


NETWORK_ERRORS = _network_errors()


class HubError(CheckpointError, RuntimeError):
    """A Hub checkpoint that cannot be used; the one-line message names the repo and the fix.

    A :class:`~trainers.checkpoint.CheckpointError` too, so every caller that reports a bad
    checkpoint path in one line also reports a bad ``hf://`` path in one line.
    """


# --- hf:// URIs ----------------------------------------------------------------------------


def is_hub_uri(text: str | os.PathLike | None) -> bool:
    """True for ``hf://OWNER/NAME[@REV]``; also for what ``Path("hf://a/b")`` makes of it
    (``hf:/a/b``), so arguments parsed with ``type=Path`` still reach the Hub."""
    if text is None:
        return False
    return os.fspath(text).replace("\\", "/").startswith("hf:/")


def parse_hub_uri(text: str | os.PathLike) -> tuple[str, str | None]:
    """``"hf://OWNER/NAME[@REVISION]"`` (or the same without ``hf://``) -> ``("OWNER/NAME", REVISION)``.

    ``hf://models/OWNER/NAME`` is accepted too. The revision is a branch, a tag or a commit
    (``refs/pr/1`` included); None means the default branch.

    Raises:
        HubError: not a model repo id (a dataset or Space, a path inside the repo, bad characters).
    """
    raw = os.fspath(text).replace("\\", "/").strip()
    body = raw
    for prefix in (HF_PREFIX, "hf:/"):
        if body.startswith(prefix):
            body = body[len(prefix) :]
            break
    repo_id, at, revision = body.partition("@")
    if repo_id.startswith("models/"):
        repo_id = repo_id[len("models/") :]
    expected = f"expected {HF_PREFIX}OWNER/NAME[@REVISION]"
    if repo_id.split("/")[0] in ("datasets", "spaces", "buckets"):
        raise HubError(f"{raw!r} is not a model repo; checkpoints live in model repos ({expected})")
    if repo_id.count("/") != 1:
        raise HubError(f"{raw!r} is not a Hub checkpoint: {expected}")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise HubError(f"{raw!r} is not a Hub checkpoint ({error}); {expected}") from None
    if at and not revision:
        raise HubError(f"{raw!r} has an empty revision after '@'; {expected}")
    return repo_id, revision or None


def hub_uri(repo_id: str, revision: str | None = None) -> str:
    """``hf://OWNER/NAME`` or ``hf://OWNER/NAME@REVISION``."""
    return f"{HF_PREFIX}{repo_id}" + (f"@{revision}" if revision else "")


# --- pull and check --------------------------------------------------------------------------


def _offline_message(uri: str, repo_ref: str, cache_dir: str | os.PathLike | None) -> str:
    cache = cache_dir or constants.HF_HUB_CACHE
    if constants.HF_HUB_OFFLINE:
        return (
            f"{uri} is not in the Hugging Face cache ({cache}) and HF_HUB_OFFLINE=1 forbids "
            f"downloading it: run `gan-train pull {repo_ref}` with the network on (or unset "
            "HF_HUB_OFFLINE), or point HF_HUB_CACHE at a cache that holds it"
        )
    return (
        f"{uri} is not in the Hugging Face cache ({cache}) and the Hub cannot be reached: "
        f"connect to the internet and run `gan-train pull {repo_ref}`, or point HF_HUB_CACHE "
        "at a cache that holds it"
    )


def pull(
    repo_id: str, revision: str | None = None, *, cache_dir: str | os.PathLike | None = None
) -> Path:
    """Download a checkpoint repo into the Hub cache (or find it there) and check it.

    Args:
        repo_id: "OWNER/NAME".
        revision: a branch, tag or commit; None for the default branch.
        cache_dir: the Hub cache; None for huggingface_hub's default (``HF_HUB_CACHE``).
    Returns: the snapshot folder (``.../models--OWNER--NAME/snapshots/<commit>``).
    Raises:
        HubError: offline and not cached, no such repo or revision, or files that are not
            safetensors/JSON (see :func:`check_repo_files`).
    """
    uri = hub_uri(repo_id, revision)
    repo_ref = repo_id + (f"@{revision}" if revision else "")
    try:
        folder = snapshot_download(
            repo_id, revision=revision, cache_dir=cache_dir, library_name=LIBRARY_NAME
        )
    except LocalEntryNotFoundError as error:  # also IncompleteSnapshotError
        if type(error).__name__ == "IncompleteSnapshotError":
            raise HubError(
                f"the cached copy of {uri} is incomplete (an interrupted download): run "
                f"`gan-train pull {repo_ref}` with the network on"
            ) from None
        raise HubError(_offline_message(uri, repo_ref, cache_dir)) from None
    except NETWORK_ERRORS:
        raise HubError(_offline_message(uri, repo_ref, cache_dir)) from None
    except RevisionNotFoundError:
        raise HubError(
            f"{uri}: the repo has no branch, tag or commit {revision!r}; list them on "
            f"https://huggingface.co/{repo_id}/tree/main"
        ) from None
    except RepositoryNotFoundError:  # also GatedRepoError
        raise HubError(
            f"{uri}: no such model repo on the Hub, or it is private or gated: check the name, "
            "and log in (`hf auth login` or HF_TOKEN) if it is yours"
        ) from None
    except HfHubHTTPError as error:
        raise HubError(f"{uri}: the Hub refused the download ({_first_line(error)})") from None
    folder = Path(folder)
    check_repo_files(folder, uri)
    return folder


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _foreign_kind(path: Path) -> str | None:
    """What an unsafe file is ("a Python pickle", ...), or None when it is fine to keep."""
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return "a pickle or torch.save file"
    with open(path, "rb") as handle:
        head = handle.read(9)
    if path.suffix == ".safetensors":  # 8-byte little-endian header size, then the JSON header
        if len(head) == 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] > 1:
            return None
        return "not a safetensors file despite its name"
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive (the torch.save format, read only by unpickling)"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle"
    return None


def check_repo_files(folder: str | os.PathLike, uri: str = "") -> None:
    """Refuse a downloaded repo that holds a pickle, a ``torch.save`` zip or a fake safetensors.

    Every file is looked at (by name and by its first bytes); nothing is ever unpickled.

    Raises:
        HubError: naming the first such file and what it is.
    """
    folder = Path(folder)
    where = uri or str(folder)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        kind = _foreign_kind(path)
        if kind:
            name = path.relative_to(folder).as_posix()
            raise HubError(
                f"{where} holds {name}, {kind}: GAN Explorer loads only safetensors + JSON and "
                "never unpickles, so it refuses this repo"
            )


def resolve_checkpoint_path(
    path_or_uri: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None
) -> Path:
    """A local path, unchanged (as a Path); ``hf://OWNER/NAME[@REV]``, its checked snapshot folder.

    Raises:
        HubError: see :func:`pull`.
    """
    if not is_hub_uri(path_or_uri):
        return Path(path_or_uri)
    repo_id, revision = parse_hub_uri(path_or_uri)
    return pull(repo_id, revision, cache_dir=cache_dir)


def snapshot_name(folder: str | os.PathLike) -> str | None:
    """A short name for a folder inside a Hub cache snapshot
    (``models--OWNER--NAME/snapshots/<commit>/...``): "OWNER/NAME" when it is the default
    branch's, "OWNER/NAME@REF" for another branch or tag (or the commit's first 7 characters);
    None for a folder outside the cache. (Repo ids never hold "--".)"""
    parts = Path(folder).parts
    for i in range(len(parts) - 2, 0, -1):
        if parts[i] == "snapshots" and parts[i - 1].startswith("models--"):
            repo_id = parts[i - 1][len("models--") :].replace("--", "/", 1)
            commit = parts[i + 1]
            refs = Path(*parts[:i]) / "refs"
            names = sorted(
                p.relative_to(refs).as_posix()
                for p in refs.rglob("*")
                if p.is_file() and p.read_text().strip() == commit
            )
            if constants.DEFAULT_REVISION in names:
                return repo_id
            return f"{repo_id}@{names[0] if names else commit[:7]}"
    return None


def checkpoint_sources_from_env(environ: dict[str, str] | None = None) -> list[str]:
    """The entries of ``$GAN_EXPLORER_CHECKPOINTS`` (comma-separated hf:// URIs or folders)."""
    environ = os.environ if environ is None else environ
    return [item.strip() for item in environ.get(CHECKPOINTS_ENV, "").split(",") if item.strip()]


# --- push ------------------------------------------------------------------------------------


@contextmanager
def hub_errors(action: str) -> Iterator[None]:
    """Turn huggingface_hub's network, login and HTTP errors inside the block into one-line
    HubErrors that start with ``action`` (e.g. "cannot push to hf://alice/x")."""
    try:
        yield
    except NETWORK_ERRORS:
        raise HubError(
            f"{action}: the Hub cannot be reached (offline?); check with --dry-run --out DIR "
            "meanwhile"
        ) from None
    except LocalTokenNotFoundError:
        raise HubError(f"{action}: not logged in: run `hf auth login` or set HF_TOKEN") from None
    except HfHubHTTPError as error:
        raise HubError(
            f"{action}: {_first_line(error)} (log in with `hf auth login` or set HF_TOKEN, "
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
    from trainers.model_card import model_card, sample_grid

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
