"""Pulling checkpoints from the Hugging Face Hub: ``hf://OWNER/NAME[@REVISION]`` -> a local folder.

Every place that takes a checkpoint path also takes ``hf://OWNER/NAME[@REVISION]``, through
one door: :func:`trainers.checkpoint.resolve_checkpoint_dir` calls
:func:`resolve_checkpoint_path` here, which turns the URI into a folder with
``huggingface_hub.snapshot_download`` (the Hub cache, its revisions and its offline mode are the
library's), then checks it: safetensors and JSON only. A repo holding a pickle or a
``torch.save`` file is refused, whole, with a message that names the file.

    from trainers.hub_pull import resolve_checkpoint_path
    folder = resolve_checkpoint_path("hf://alice/cgan-mnist@v1")   # .../snapshots/<commit>

This module only downloads and resolves; pushing (and model cards) is :mod:`trainers.hub`.
It imports nothing of the checkpoint reader (only its error class, :mod:`trainers.errors`), and
``huggingface_hub`` only inside the functions that need it, so the reader can import it freely.

Errors are :class:`HubError`: one line that names the repo and what to do (offline and not
cached, no such repo, a pickle in the repo, ...), never a traceback.
"""

from __future__ import annotations

import functools
import importlib
import os
import struct
from pathlib import Path

from trainers.errors import CheckpointError

HF_PREFIX = "hf://"
#: ``library_name`` sent with downloads and written into model cards.
LIBRARY_NAME = "gan-explorer"
#: Extra checkpoints for the explorer: comma-separated ``hf://`` URIs or folders.
CHECKPOINTS_ENV = "GAN_EXPLORER_CHECKPOINTS"
#: File types that are (or usually are) pickles; a repo holding one is refused.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib")


@functools.cache
def network_errors() -> tuple[type[BaseException], ...]:
    """What a failed connection raises: huggingface_hub's offline error, the standard ones and the
    HTTP client's transport errors (httpx2 in huggingface_hub 2, httpx in 1)."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    errors: list[type[BaseException]] = [OfflineModeIsEnabled, ConnectionError, TimeoutError]
    for name in ("httpx2", "httpx"):
        try:
            errors.append(importlib.import_module(name).TransportError)
        except (ImportError, AttributeError):
            pass
    return tuple(errors)


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
    from huggingface_hub.utils import HFValidationError, validate_repo_id

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
    from huggingface_hub import constants

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


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


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
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

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
    except network_errors():
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
        raise HubError(f"{uri}: the Hub refused the download ({first_line(error)})") from None
    folder = Path(folder)
    check_repo_files(folder, uri)
    return folder


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

    The one place an ``hf://`` path is resolved (the checkpoint reader calls it for every path).

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
            from huggingface_hub import constants

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
