"""``gan-train push`` and ``gan-train pull``: share checkpoints through the Hugging Face Hub.

    gan-train push pretrained/cgan-mnist --repo alice/cgan-mnist [--private] [--revision v1]
    gan-train push runs/dcgan-mnist --repo alice/dcgan-mnist --dry-run --out staged/
    gan-train pull alice/cgan-mnist@v1

Every other command then takes ``hf://alice/cgan-mnist[@v1]`` wherever it takes a checkpoint.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trainers import hub
from trainers.checkpoint import TRAIN_STATE_FILE
from trainers.hub_pull import HubError, hub_uri, parse_hub_uri, pull


def add_push_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-train push``."""
    parser.add_argument("checkpoint", type=Path, help="a checkpoint folder (or a run folder)")
    parser.add_argument("--repo", required=True, help="the model repo to push to: OWNER/NAME")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    parser.add_argument("--revision", help="push to this branch (created when missing)")
    parser.add_argument(
        "--include-train-state",
        action="store_true",
        help=f"also upload {TRAIN_STATE_FILE} (optimiser and RNG state, to resume elsewhere)",
    )
    parser.add_argument("--license", default="mit", help="license in the model card (default mit)")
    parser.add_argument("--message", help="commit message")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="write exactly what would be uploaded into --out and stop (works offline)",
    )
    parser.add_argument("--out", type=Path, help="with --dry-run: an empty or new folder")


def run_push(args: argparse.Namespace) -> int:
    """Stage (``--dry-run``) or upload a checkpoint with its model card."""
    if args.dry_run:
        if args.out is None:
            raise HubError("--dry-run needs --out DIR: the folder to write the upload into")
        files = hub.stage_push(
            args.checkpoint,
            args.out,
            args.repo,
            include_train_state=args.include_train_state,
            license=args.license,
        )
        print(f"dry run: would upload to {hub_uri(args.repo)} these files (in {args.out}):")
        for path in files:
            print(f"  {path.name:<26} {path.stat().st_size:>12,} bytes")
        return 0
    if args.out is not None:
        raise HubError("--out is only for --dry-run (a push stages its files in a tmp folder)")
    url = hub.push(
        args.checkpoint,
        args.repo,
        private=args.private,
        revision=args.revision,
        include_train_state=args.include_train_state,
        license=args.license,
        commit_message=args.message,
    )
    repo_id, _ = parse_hub_uri(args.repo)
    print(f"pushed {args.checkpoint} -> {url}")
    print(f"load it anywhere with: gan-train sample {hub_uri(repo_id, args.revision)} ...")
    return 0


def add_pull_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gan-train pull``."""
    parser.add_argument(
        "repo",
        help="OWNER/NAME[@REVISION] (or hf://OWNER/NAME[@REVISION]): a branch, tag or commit",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="the Hugging Face cache to fill (default $HF_HUB_CACHE or ~/.cache/huggingface/hub)",
    )


def run_pull(args: argparse.Namespace) -> int:
    """Download (or find in the cache) a checkpoint repo, check it and print where it is."""
    repo_id, revision = parse_hub_uri(args.repo)
    folder = pull(repo_id, revision, cache_dir=args.cache_dir)
    from trainers.checkpoint import read_meta  # the same checks as a local checkpoint

    meta = read_meta(folder)
    uri = hub_uri(repo_id, revision)
    print(f"{uri}: {meta.get('model')} on {meta.get('dataset')}, in {folder}", file=sys.stderr)
    print(f"use it as {uri} (works offline from now on)", file=sys.stderr)
    print(folder)
    return 0
