"""``gan-explorer deploy-space OWNER/NAME``: the explorer as a Hugging Face Space, in one command.

    gan-explorer deploy-space alice/gan-explorer                       # every shipped checkpoint
    gan-explorer deploy-space alice/gan-explorer --checkpoints cgan-mnist,hf://bob/dcgan-faces
    gan-explorer deploy-space alice/gan-explorer --dry-run --out space/   # write it, upload nothing

The Space folder runs on its own: ``app.py``, ``requirements.txt`` (the project's dependencies
with their floors), ``README.md`` (the Space's front matter), the project's packages
(``trainers/``, ``explorer/``) copied as source, and the chosen checkpoints in ``pretrained/``
(weights and meta.json only). A checkpoint given as ``hf://OWNER/NAME[@REV]`` is not copied: the
Space downloads it at start (``GAN_EXPLORER_CHECKPOINTS``). Training is off unless
``--enable-training``. The folder is uploaded with ``HfApi.create_repo(repo_type="space")`` and
``HfApi.upload_folder``.

One :class:`SpaceTemplate` per SDK says what differs between front ends. Gradio Spaces use
``sdk: gradio`` and an ``app.py``; the Streamlit edition (``--sdk streamlit``) is a Docker Space
since Hugging Face dropped its Streamlit SDK in 2025: ``sdk: docker``, ``app_port: 8501`` and a
``Dockerfile`` (:func:`streamlit_dockerfile`) that runs ``streamlit run`` with a health check.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi, SpaceCard, SpaceCardData, SpaceHardware

import explorer
import trainers
from trainers.checkpoint import (
    META_FILE,
    WEIGHTS_FILE,
    CheckpointError,
    read_meta,
    resolve_checkpoint_dir,
)
from trainers.hub import hub_errors
from trainers.hub_pull import CHECKPOINTS_ENV, hub_uri, is_hub_uri, parse_hub_uri
from trainers.paths import pretrained_dir

SDKS = ("gradio", "streamlit")
HARDWARE = tuple(h.value for h in SpaceHardware)
#: The project's source packages, copied into the Space.
PACKAGES = (trainers, explorer)
#: CPU-only torch wheels: a fraction of the CUDA wheels' size, for CPU hardware.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


class DeployError(CheckpointError):
    """Bad deploy-space input; printed as one line."""


@dataclass(frozen=True)
class SpaceSettings:
    """What the user chose, for the templates.

    Attributes:
        repo_id: "OWNER/NAME" of the Space.
        hub_checkpoints: ``hf://`` URIs the Space downloads at start.
        local_checkpoints: names of the checkpoint folders copied into ``pretrained/``.
        enable_training: show the training features on the Space.
        hardware: the Space hardware, e.g. "cpu-basic".
    """

    repo_id: str
    hub_checkpoints: list[str] = field(default_factory=list)
    local_checkpoints: list[str] = field(default_factory=list)
    enable_training: bool = False
    hardware: str = "cpu-basic"


@dataclass(frozen=True)
class SpaceTemplate:
    """What one front end needs in a Space.

    Attributes:
        sdk: the front matter's ``sdk`` ("gradio", or "docker" for Streamlit).
        app_file: the file the Space starts (front matter ``app_file``).
        front_matter: extra front matter keys (``sdk_version``, ``app_port``, ...).
        write_files: writes ``app_file`` (and e.g. a Dockerfile) into the Space folder.
        embed: the HTML that embeds the running Space in a page, given its URL.
    """

    sdk: str
    app_file: str
    front_matter: Callable[[], dict[str, Any]]
    write_files: Callable[[Path, SpaceSettings], None]
    embed: Callable[[str], str]


GRADIO_APP = '''"""GAN Explorer on a Hugging Face Space (written by `gan-explorer deploy-space`).

The Space runs `python app.py` after `pip install -r requirements.txt`. The project's packages
(trainers/, explorer/) and the chosen checkpoints (pretrained/) are in this folder, so nothing
else is needed; HUB_CHECKPOINTS are downloaded from the Hugging Face Hub at start.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # this folder's trainers/, explorer/

#: Checkpoints pulled from the Hub at start; the Space variable {env}
#: (comma-separated) replaces them.
HUB_CHECKPOINTS = {hub!r}
#: Training features (they take the shared machine); the Space variable
#: GAN_EXPLORER_ENABLE_TRAINING=1 turns them on too.
ENABLE_TRAINING = {training!r}

os.environ.setdefault("{env}", ",".join(HUB_CHECKPOINTS))

import torch  # noqa: E402

from explorer.gradio_ui.app import build_app  # noqa: E402
from explorer.launcher import limit_malloc_arenas  # noqa: E402

limit_malloc_arenas()  # before Gradio's worker threads exist
torch.set_num_threads(max(1, int(os.environ.get("GAN_EXPLORER_THREADS", "1"))))
demo = build_app(
    enable_training=ENABLE_TRAINING or os.environ.get("GAN_EXPLORER_ENABLE_TRAINING") == "1"
)

if __name__ == "__main__":
    demo.launch(show_error=True)
'''


def _write_gradio_app(folder: Path, settings: SpaceSettings) -> None:
    source = GRADIO_APP.format(
        env=CHECKPOINTS_ENV, hub=settings.hub_checkpoints, training=settings.enable_training
    )
    (folder / "app.py").write_text(source)


def gradio_version() -> str:
    """The installed Gradio's version: the Space runs the version this was tested with."""
    return importlib.metadata.version("gradio")


def gradio_embed(space_url: str) -> str:
    """The web component that embeds a Gradio Space in any HTML page."""
    return (
        f'<script type="module" src="https://gradio.s3-us-west-2.amazonaws.com/'
        f'{gradio_version()}/gradio.js"></script>\n'
        f'<gradio-app src="{space_url}"></gradio-app>'
    )


#: The Streamlit edition's port in a Docker Space (front matter ``app_port``).
STREAMLIT_PORT = 8501
#: The Python of the Streamlit Space's image (the version the project is tested with).
STREAMLIT_PYTHON = "3.11"
#: The Streamlit edition's entry script, relative to the Space folder.
STREAMLIT_APP = "explorer/streamlit_ui/app.py"
#: The Streamlit server's options in the Space: XSRF protection off, or uploads fail inside
#: the Space page's iframe (Hugging Face, "Cookie limitations in Spaces"); no file watcher and
#: no full garbage collection after every rerun (both cost CPU per interaction).
STREAMLIT_OPTIONS = (
    f"--server.port={STREAMLIT_PORT}",
    "--server.address=0.0.0.0",
    "--server.headless=true",
    "--server.enableXsrfProtection=false",
    "--server.fileWatcherType=none",
    "--server.maxUploadSize=16",
    "--browser.gatherUsageStats=false",
    "--client.toolbarMode=minimal",
    "--runner.postScriptGC=false",
)


def streamlit_dockerfile(settings: SpaceSettings | None = None) -> str:
    """The Dockerfile of a Streamlit Space: the Space folder (requirements.txt, trainers/,
    explorer/, pretrained/) in an image that runs ``streamlit run`` on port 8501, as the
    Space's user (uid 1000), with a health check on Streamlit's ``/_stcore/health``."""
    settings = settings or SpaceSettings("OWNER/NAME")
    env = ["HOME=/home/user", "PATH=/home/user/.local/bin:$PATH", "PYTHONUNBUFFERED=1"]
    if settings.hub_checkpoints:  # downloaded from the Hub at start
        env.append(f'{CHECKPOINTS_ENV}="{",".join(settings.hub_checkpoints)}"')
    if settings.enable_training:
        env.append("GAN_EXPLORER_ENABLE_TRAINING=1")
    command = ", ".join(
        f'"{part}"' for part in ("streamlit", "run", STREAMLIT_APP, *STREAMLIT_OPTIONS)
    )
    env_lines = " \\\n    ".join(env)  # one ENV instruction, one variable a line
    return f"""\
# GAN Explorer, Streamlit edition, as a Hugging Face Docker Space (sdk: docker, app_port: {STREAMLIT_PORT}).
# Written by `gan-explorer deploy-space OWNER/NAME --sdk streamlit`. Try it on your machine:
#   docker build -t gan-explorer-streamlit . && docker run -p {STREAMLIT_PORT}:{STREAMLIT_PORT} gan-explorer-streamlit
FROM python:{STREAMLIT_PYTHON}-slim

RUN useradd -m -u 1000 user
USER user
ENV {env_lines}
WORKDIR $HOME/app

COPY --chown=user requirements.txt .
RUN pip install --no-cache-dir --user -r requirements.txt
COPY --chown=user . .

EXPOSE {STREAMLIT_PORT}
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \\
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{STREAMLIT_PORT}/_stcore/health', timeout=4)"
CMD [{command}]
"""


def _write_streamlit_files(folder: Path, settings: SpaceSettings) -> None:
    (folder / "Dockerfile").write_text(streamlit_dockerfile(settings))
    (folder / ".dockerignore").write_text("**/__pycache__\n**/*.pyc\n.git\n")


def streamlit_embed(space_url: str) -> str:
    """An iframe that embeds a Streamlit Space in any HTML page (``?embed=true``: no menu)."""
    return (
        f'<iframe src="{space_url}/?embed=true" width="100%" height="900" frameborder="0"></iframe>'
    )


TEMPLATES: dict[str, SpaceTemplate | None] = {
    "gradio": SpaceTemplate(
        sdk="gradio",
        app_file="app.py",
        front_matter=lambda: {"sdk_version": gradio_version()},
        write_files=_write_gradio_app,
        embed=gradio_embed,
    ),
    # Hugging Face dropped the built-in Streamlit SDK in 2025: a Docker Space running
    # `streamlit run` (sdk: docker, app_port: 8501).
    "streamlit": SpaceTemplate(
        sdk="docker",
        app_file=STREAMLIT_APP,
        front_matter=lambda: {"app_port": STREAMLIT_PORT},
        write_files=_write_streamlit_files,
        embed=streamlit_embed,
    ),
}


def template_for(sdk: str) -> SpaceTemplate:
    """The template of an SDK, or a DeployError saying it is not there yet."""
    if sdk not in TEMPLATES:
        raise DeployError(f"unknown --sdk {sdk!r}; choose one of {', '.join(TEMPLATES)}")
    template = TEMPLATES[sdk]
    if template is None:
        ready = ", ".join(name for name, t in TEMPLATES.items() if t is not None)
        raise DeployError(
            f"the {sdk} edition of the explorer does not exist yet, so it cannot be deployed; "
            f"use --sdk {ready} for now"
        )
    return template


def space_url(repo_id: str) -> str:
    """The address a Space is served at: https://OWNER-NAME.hf.space."""
    host = repo_id.lower().replace("/", "-").replace("_", "-").replace(".", "-")
    return f"https://{host}.hf.space"


# --- the folder ------------------------------------------------------------------------------


def requirements(hardware: str = "cpu-basic") -> list[str]:
    """The project's dependencies with their floors (from its installed metadata); on CPU
    hardware torch comes from the CPU-only wheel index."""
    try:
        declared = importlib.metadata.requires("gan-explorer") or []
    except importlib.metadata.PackageNotFoundError:
        raise DeployError(
            "gan-explorer is not installed, so its dependencies are unknown: `pip install -e .`"
        ) from None
    lines = [r for r in declared if "extra ==" not in r]
    if hardware.startswith("cpu"):
        lines.insert(0, f"--extra-index-url {TORCH_CPU_INDEX}")
    return lines


def _local_checkpoint(item: str) -> Path:
    """A checkpoint folder for a path, a run folder or the name of a shipped checkpoint."""
    path = Path(item).expanduser()
    if not path.exists() and (pretrained_dir() / item).is_dir():
        path = pretrained_dir() / item
    if not path.exists():
        shipped = ", ".join(sorted(p.name for p in _shipped_checkpoints())) or "none"
        raise DeployError(
            f"no checkpoint {item!r}: give a folder, hf://OWNER/NAME or a shipped name ({shipped})"
        )
    folder = resolve_checkpoint_dir(path)
    read_meta(folder)
    if not (folder / WEIGHTS_FILE).is_file():
        raise DeployError(f"{folder / WEIGHTS_FILE} is missing")
    return folder


def _shipped_checkpoints() -> list[Path]:
    root = pretrained_dir()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / META_FILE).is_file())


def _copy_packages(out: Path) -> None:
    for package in PACKAGES:
        source = Path(package.__file__).resolve().parent
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".*")
        shutil.copytree(source, out / source.name, ignore=ignore)


def _copy_checkpoints(out: Path, items: list[str] | None, enable_training: bool) -> list[str]:
    """Copy the local checkpoints into ``out/pretrained/<name>/``; return their names."""
    folders = (
        _shipped_checkpoints()
        if items is None
        else [_local_checkpoint(i) for i in items if not is_hub_uri(i)]
    )
    names: list[str] = []
    for folder in folders:
        base = folder.parent.name if folder.name == "checkpoint" else folder.name
        name, number = base, 2
        while name in names:
            name, number = f"{base}-{number}", number + 1
        target = out / "pretrained" / name
        target.mkdir(parents=True)
        for file in (META_FILE, WEIGHTS_FILE):  # never train_state.safetensors
            shutil.copy2(folder / file, target / file)
        names.append(name)
    classifiers = pretrained_dir() / "classifiers"
    if enable_training and classifiers.is_dir():  # the live quality probe of the Train tab
        shutil.copytree(classifiers, out / "pretrained" / "classifiers")
    marker = pretrained_dir() / "__init__.py"  # pretrained/ is a package (of data) in the project
    if (out / "pretrained").is_dir() and marker.is_file():
        shutil.copy2(marker, out / "pretrained" / "__init__.py")
    return names


def _space_card(template: SpaceTemplate, settings: SpaceSettings) -> SpaceCard:
    models = [parse_hub_uri(uri)[0] for uri in settings.hub_checkpoints]
    data = SpaceCardData(
        title="GAN Explorer",
        sdk=template.sdk,
        app_file=template.app_file,
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
        license="mit",
        models=sorted(set(models)) or None,
        tags=["gan", "gan-explorer", "education"],
        emoji="🎛️",
        colorFrom="indigo",
        colorTo="pink",
        pinned=False,
        suggested_hardware=settings.hardware,
        short_description="Touch a trained GAN: latents, classes, layers, training",
        **template.front_matter(),
    )
    listed = [f"- `{name}` (in `pretrained/`)" for name in settings.local_checkpoints]
    listed += [f"- `{uri}` (downloaded at start)" for uri in settings.hub_checkpoints]
    training = (
        "on" if settings.enable_training else "off (`GAN_EXPLORER_ENABLE_TRAINING=1` turns it on)"
    )
    body = f"""
# GAN Explorer

Learn generative adversarial networks by touching them: slide latent vectors, pick class
labels, interpolate, open up the generator layer by layer and watch transposed convolutions.

Checkpoints:

{chr(10).join(listed) or "- none (the Transposed convolution tab works without one)"}

Training features: {training}. Made with `gan-explorer deploy-space {settings.repo_id}`.

Embed it in a page:

```html
{template.embed(space_url(settings.repo_id))}
```
"""
    return SpaceCard(f"---\n{data.to_yaml()}\n---\n{body}")


def build_space_folder(
    out: str | Path,
    repo_id: str,
    *,
    sdk: str = "gradio",
    checkpoints: list[str] | None = None,
    hardware: str = "cpu-basic",
    enable_training: bool = False,
) -> list[str]:
    """Write a self-contained Space into the empty folder ``out``.

    Args:
        repo_id: "OWNER/NAME" of the Space.
        sdk: "gradio" or "streamlit" (a Docker Space).
        checkpoints: folders, shipped names (e.g. "cgan-mnist") or ``hf://OWNER/NAME[@REV]``;
            None for every shipped checkpoint.
        hardware: Space hardware, e.g. "cpu-basic" (see ``huggingface_hub.SpaceHardware``).
        enable_training: show the training features on the Space.
    Returns: the files written, relative to ``out``, sorted.
    Raises:
        DeployError / CheckpointError / HubError: one-line reasons.
    """
    template = template_for(sdk)
    repo_id, _ = parse_hub_uri(repo_id)
    if hardware not in HARDWARE:
        raise DeployError(f"unknown --hardware {hardware!r}; choose one of {', '.join(HARDWARE)}")
    hub = [hub_uri(*parse_hub_uri(item)) for item in checkpoints or [] if is_hub_uri(item)]
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise DeployError(f"{out} is not empty: choose a new folder for the Space")
    out.mkdir(parents=True, exist_ok=True)
    local = _copy_checkpoints(out, checkpoints, enable_training)
    settings = SpaceSettings(repo_id, hub, local, enable_training, hardware)
    _copy_packages(out)
    (out / "requirements.txt").write_text("\n".join(requirements(hardware)) + "\n")
    template.write_files(out, settings)
    _space_card(template, settings).save(out / "README.md")
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())


def deploy_space(
    repo_id: str,
    *,
    sdk: str = "gradio",
    checkpoints: list[str] | None = None,
    hardware: str = "cpu-basic",
    enable_training: bool = False,
    private: bool = False,
    token: str | None = None,
) -> str:
    """Build the Space folder in a tmp folder and upload it; returns the Space's page URL."""
    template = template_for(sdk)
    repo_id, _ = parse_hub_uri(repo_id)
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="gan-explorer-space-") as tmp:
        build_space_folder(
            tmp,
            repo_id,
            sdk=sdk,
            checkpoints=checkpoints,
            hardware=hardware,
            enable_training=enable_training,
        )
        with hub_errors(f"cannot deploy to the Space {repo_id}"):
            api.create_repo(
                repo_id,
                repo_type="space",
                space_sdk=template.sdk,
                space_hardware=hardware,
                private=private,
                exist_ok=True,
            )
            api.upload_folder(
                repo_id=repo_id,
                folder_path=tmp,
                repo_type="space",
                commit_message="Deploy GAN Explorer (gan-explorer deploy-space)",
            )
    return f"https://huggingface.co/spaces/{repo_id}"


# --- command line ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The arguments of ``gan-explorer deploy-space``."""
    parser = argparse.ArgumentParser(
        prog="gan-explorer deploy-space",
        description="Build the explorer as a Hugging Face Space and upload it.",
    )
    parser.add_argument("repo", help="the Space: OWNER/NAME")
    parser.add_argument("--sdk", choices=SDKS, default="gradio", help="front end (default gradio)")
    parser.add_argument(
        "--checkpoints",
        help="comma-separated folders, shipped names (cgan-mnist) or hf://OWNER/NAME[@REV] "
        "(downloaded by the Space at start); default: every shipped checkpoint",
    )
    parser.add_argument(
        "--hardware",
        default="cpu-basic",
        choices=HARDWARE,
        metavar="HARDWARE",
        help="Space hardware (default cpu-basic; e.g. cpu-upgrade, t4-small)",
    )
    parser.add_argument(
        "--enable-training", action="store_true", help="show the training features on the Space"
    )
    parser.add_argument("--private", action="store_true", help="create the Space as private")
    parser.add_argument(
        "--dry-run", action="store_true", help="write the Space folder into --out; upload nothing"
    )
    parser.add_argument("--out", type=Path, help="with --dry-run: an empty or new folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    """``gan-explorer deploy-space ...``; returns the exit status (2 for a user error)."""
    args = build_parser().parse_args(argv)
    items = (
        [i.strip() for i in args.checkpoints.split(",") if i.strip()] if args.checkpoints else None
    )
    options = dict(
        sdk=args.sdk,
        checkpoints=items,
        hardware=args.hardware,
        enable_training=args.enable_training,
    )
    try:
        if args.dry_run:
            if args.out is None:
                raise DeployError("--dry-run needs --out DIR: the folder to write the Space into")
            files = build_space_folder(args.out, args.repo, **options)
            top = sorted({f.split("/")[0] + ("/" if "/" in f else "") for f in files})
            print(f"dry run: wrote the Space {args.repo} into {args.out} ({len(files)} files): ")
            print("  " + "  ".join(top))
            if args.sdk == "streamlit":
                print(
                    f"try it: docker build -t gan-explorer-space {args.out} && docker run -p 8501:8501 gan-explorer-space"
                )
            else:
                print(f"try it: cd {args.out} && python app.py")
            return 0
        if args.out is not None:
            raise DeployError("--out is only for --dry-run (a deploy builds the folder in tmp)")
        url = deploy_space(args.repo, private=args.private, **options)
        print(f"deployed: {url} (it builds for a few minutes)")
        print(f"embed it:\n{template_for(args.sdk).embed(space_url(args.repo))}")
        return 0
    except CheckpointError as error:  # DeployError, HubError: one line
        print(f"gan-explorer deploy-space: error: {error}", file=sys.stderr)
        return 2
