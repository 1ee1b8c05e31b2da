"""The Hugging Face Hub: hf:// paths, pull, push, model cards and deploy-space, all offline.

The Hub cache is built here the way ``snapshot_download`` lays it out
(``models--OWNER--NAME/{refs,snapshots,blobs}``) in a tmp ``HF_HUB_CACHE``, with
``HF_HUB_OFFLINE=1``. Only huggingface_hub's network boundary is mocked (``HfApi.create_repo``,
``create_branch``, ``upload_folder``, ``repo_info``), and the tests assert the calls it gets.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from huggingface_hub import HfApi, ModelCard, constants
from huggingface_hub.errors import LocalTokenNotFoundError

from trainers import hub, hub_pull
from trainers.checkpoint import META_FILE, TRAIN_STATE_FILE, WEIGHTS_FILE, load_checkpoint
from trainers.cli import main as gan_train
from trainers.pipeline import GANPipeline

ROOT = Path(__file__).resolve().parents[1]
PRETRAINED_CGAN = ROOT / "pretrained" / "cgan-mnist"


# --- a Hub cache laid out like snapshot_download's -------------------------------------------


def add_hub_repo(
    cache: Path,
    repo_id: str,
    files: dict[str, bytes],
    revision: str = "main",
    commit: str | None = None,
) -> Path:
    """Put ``files`` into ``cache`` as snapshot_download would: blobs named by their sha256,
    ``snapshots/<commit>/<name>`` symlinks to them, ``refs/<revision>`` holding the commit."""
    storage = cache / f"models--{repo_id.replace('/', '--')}"
    commit = (
        commit or hashlib.sha1(repr(sorted(files.items())).encode() + revision.encode()).hexdigest()
    )
    for name, data in files.items():
        blob = storage / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = storage / "snapshots" / commit / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    ref = storage / "refs" / revision
    ref.parent.mkdir(parents=True, exist_ok=True)
    ref.write_text(commit)  # snapshot_download writes the bare hash, no newline
    return storage / "snapshots" / commit


def checkpoint_files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in (META_FILE, WEIGHTS_FILE)}


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hub cache, set as HF_HUB_CACHE, with HF_HUB_OFFLINE=1 (here and in children)."""
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))  # read at import time
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return cache


@pytest.fixture
def tiny_cgan(trained_run) -> Path:
    """A tiny trained cGAN run's checkpoint folder (it holds train_state.safetensors too)."""
    return trained_run("cgan") / "checkpoint"


@pytest.fixture
def tiny_dcgan(trained_run) -> Path:
    return trained_run("dcgan") / "checkpoint"


# --- hf:// URIs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("hf://alice/cgan-mnist", ("alice/cgan-mnist", None)),
        ("hf://alice/cgan-mnist@v1", ("alice/cgan-mnist", "v1")),
        ("hf://models/alice/cgan-mnist@main", ("alice/cgan-mnist", "main")),
        ("hf://alice/cgan-mnist@refs/pr/3", ("alice/cgan-mnist", "refs/pr/3")),
        ("alice/cgan-mnist@0123abc", ("alice/cgan-mnist", "0123abc")),
        (Path("hf://alice/cgan-mnist"), ("alice/cgan-mnist", None)),  # Path makes it hf:/alice/...
    ],
)
def test_parse_hub_uri(text, expected):
    assert hub_pull.parse_hub_uri(text) == expected
    if str(text).startswith("hf:"):
        assert hub_pull.is_hub_uri(text)


@pytest.mark.parametrize(
    "text, words",
    [
        ("hf://alice", "expected hf://OWNER/NAME"),
        ("hf://alice/cgan/samples.png", "expected hf://OWNER/NAME"),
        ("hf://datasets/alice/mnist", "not a model repo"),
        ("hf://alice/cgan-mnist@", "empty revision"),
        ("hf://alice/bad name", "not a Hub checkpoint"),
    ],
)
def test_bad_hub_uris_are_refused_in_one_line(text, words):
    with pytest.raises(hub_pull.HubError, match=words) as info:
        hub_pull.parse_hub_uri(text)
    assert "\n" not in str(info.value)


def test_local_paths_are_not_hub_uris():
    for text in ("runs/dcgan", "/abs/hf/x", "pretrained/cgan-mnist", Path("hfx/a")):
        assert not hub_pull.is_hub_uri(text)
        assert hub_pull.resolve_checkpoint_path(text) == Path(text)


# --- resolution against a cache --------------------------------------------------------------


def test_hf_uri_loads_like_the_local_checkpoint(hub_cache, tiny_cgan):
    snapshot = add_hub_repo(hub_cache, "alice/tiny-cgan", checkpoint_files(tiny_cgan))
    assert hub_pull.resolve_checkpoint_path("hf://alice/tiny-cgan") == snapshot
    local = GANPipeline.from_pretrained(tiny_cgan)(n=6, seed=3)
    for path in ("hf://alice/tiny-cgan", Path("hf://alice/tiny-cgan")):
        remote = GANPipeline.from_pretrained(path)(n=6, seed=3)
        np.testing.assert_array_equal(remote.images, local.images)
    loaded = load_checkpoint("hf://alice/tiny-cgan")  # every loader goes through the same door
    assert loaded.path == snapshot and loaded.spec.name == "cgan"


def test_revisions_pick_their_own_snapshot(hub_cache, tiny_cgan, tiny_dcgan):
    main = add_hub_repo(hub_cache, "alice/tiny", checkpoint_files(tiny_cgan))
    v1 = add_hub_repo(hub_cache, "alice/tiny", checkpoint_files(tiny_dcgan), "v1", "b" * 40)
    assert hub_pull.resolve_checkpoint_path("hf://alice/tiny") == main
    assert hub_pull.resolve_checkpoint_path("hf://alice/tiny@main") == main
    assert hub_pull.resolve_checkpoint_path("hf://alice/tiny@v1") == v1
    assert hub_pull.resolve_checkpoint_path(f"hf://alice/tiny@{'b' * 40}") == v1  # a commit
    assert load_checkpoint("hf://alice/tiny@v1").spec.name == "dcgan"
    assert load_checkpoint("hf://alice/tiny").spec.name == "cgan"
    assert hub_pull.snapshot_name(main) == "alice/tiny"
    assert hub_pull.snapshot_name(v1) == "alice/tiny@v1"
    assert hub_pull.snapshot_name(tiny_cgan) is None


class _Sentinel:
    """Unpickling this creates the file ``mark``: proof that something unpickled it."""

    def __init__(self, mark: Path) -> None:
        self.mark = mark

    def __reduce__(self):
        return (open, (str(self.mark), "w"))


@pytest.mark.parametrize(
    "name, kind",
    [
        ("pytorch_model.bin", "a pickle or torch.save file"),
        ("extra/weights.ckpt", "a pickle or torch.save file"),
        ("notes.dat", "a Python pickle"),
        ("state.data", "a zip archive"),
        ("G.safetensors", "not a safetensors file"),
    ],
)
def test_a_repo_holding_a_pickle_is_refused_by_name(hub_cache, tiny_cgan, tmp_path, name, kind):
    mark = tmp_path / "unpickled"
    payload = pickle.dumps(_Sentinel(mark), protocol=4)
    if kind.startswith("a zip"):
        payload = b"PK\x03\x04" + payload  # what torch.save writes first
    files = checkpoint_files(tiny_cgan) | {name: payload}
    add_hub_repo(hub_cache, "mallory/tiny", files)
    for call in (
        lambda: hub_pull.resolve_checkpoint_path("hf://mallory/tiny"),
        lambda: GANPipeline.from_pretrained("hf://mallory/tiny"),
    ):
        with pytest.raises(hub_pull.HubError) as info:
            call()
        message = str(info.value)
        assert f"hf://mallory/tiny holds {name}" in message and kind in message
        assert "\n" not in message
    assert not mark.exists()
    assert gan_train(["pull", "mallory/tiny"]) == 2


def test_offline_and_uncached_fails_in_one_line_naming_the_repo(hub_cache):
    with pytest.raises(hub_pull.HubError) as info:
        hub_pull.resolve_checkpoint_path("hf://nobody/nothing@v2")
    message = str(info.value)
    assert message.startswith("hf://nobody/nothing@v2 is not in the Hugging Face cache")
    assert "HF_HUB_OFFLINE=1" in message and "gan-train pull nobody/nothing@v2" in message
    assert "\n" not in message


def test_offline_message_from_the_command_line_has_no_traceback(hub_cache, tmp_path):
    code = "import sys; from trainers.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "sample",
            "hf://nobody/nothing",
            "--out",
            str(tmp_path / "s.npz"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [lines[-1]] and "Traceback" not in result.stderr
    assert lines[0].startswith("gan-train: error: hf://nobody/nothing is not in the Hugging Face")
    assert "gan-train pull nobody/nothing" in lines[0]


def _connect_error() -> type[Exception]:
    """The transport error huggingface_hub's HTTP client raises when the network is down."""
    for name in ("httpx2", "httpx"):
        try:
            return importlib.import_module(name).ConnectError
        except ImportError:
            continue
    return ConnectionError


def test_no_network_cached_loads_and_uncached_says_so(hub_cache, tiny_cgan, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    calls = []

    def repo_info(self, repo_id, **kwargs):
        calls.append(repo_id)
        raise _connect_error()("[Errno 101] Network is unreachable")

    monkeypatch.setattr(HfApi, "repo_info", repo_info)
    snapshot = add_hub_repo(hub_cache, "alice/tiny-cgan", checkpoint_files(tiny_cgan))
    assert hub_pull.resolve_checkpoint_path("hf://alice/tiny-cgan") == snapshot
    with pytest.raises(hub_pull.HubError, match="the Hub cannot be reached") as info:
        hub_pull.resolve_checkpoint_path("hf://nobody/nothing")
    assert "gan-train pull nobody/nothing" in str(info.value)
    assert calls == ["alice/tiny-cgan", "nobody/nothing"]


def test_pull_prints_the_snapshot(hub_cache, tiny_cgan, capsys):
    snapshot = add_hub_repo(hub_cache, "alice/tiny-cgan", checkpoint_files(tiny_cgan), "v1")
    assert gan_train(["pull", "alice/tiny-cgan@v1"]) == 0
    assert capsys.readouterr().out.strip() == str(snapshot)
    assert gan_train(["pull", "hf://alice/tiny-cgan"]) == 2  # no main branch cached
    assert "hf://alice/tiny-cgan is not in the Hugging Face cache" in capsys.readouterr().err


# --- the explorer's list ---------------------------------------------------------------------


def test_explorer_lists_hub_checkpoints(hub_cache, tiny_cgan, tiny_dcgan, tmp_path, monkeypatch):
    from explorer import checkpoints

    add_hub_repo(hub_cache, "alice/tiny", checkpoint_files(tiny_cgan))
    add_hub_repo(hub_cache, "alice/tiny", checkpoint_files(tiny_dcgan), "v1")
    catalog = checkpoints.discover([Path("hf://alice/tiny")], include_default=False)
    assert catalog.keys() == ["alice/tiny"] and not catalog.problems
    assert catalog.load("alice/tiny").spec.name == "cgan"

    empty = tmp_path / "no-pretrained"
    empty.mkdir()
    monkeypatch.setenv("GAN_EXPLORER_PRETRAINED", str(empty))
    monkeypatch.setenv(hub_pull.CHECKPOINTS_ENV, "hf://alice/tiny@v1, hf://nobody/nothing")
    catalog = checkpoints.discover([], include_default=True)
    assert catalog.keys() == ["alice/tiny@v1"]
    assert catalog.load("alice/tiny@v1").spec.name == "dcgan"
    assert len(catalog.problems) == 1 and "hf://nobody/nothing" in catalog.problems[0]


# --- push ------------------------------------------------------------------------------------


def _front_matter(readme: Path) -> dict:
    text = readme.read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


@pytest.mark.skipif(not PRETRAINED_CGAN.is_dir(), reason="needs pretrained/cgan-mnist")
def test_model_card_of_a_real_checkpoint(tmp_path):
    out = tmp_path / "staged"
    assert (
        gan_train(
            [
                "push",
                str(PRETRAINED_CGAN),
                "--repo",
                "alice/cgan-mnist",
                "--dry-run",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        META_FILE,
        WEIGHTS_FILE,
        hub.SAMPLES_FILE,
    ]
    meta = json.loads((PRETRAINED_CGAN / META_FILE).read_text())
    metrics = meta["metrics"]
    front = _front_matter(out / "README.md")
    assert front["library_name"] == "gan-explorer" and front["license"] == "mit"
    assert {"gan", "cgan", "mnist"} <= set(front["tags"])
    assert front["datasets"] == ["ylecun/mnist"]
    (result,) = front["model-index"][0]["results"]
    figures = {m["type"]: m["value"] for m in result["metrics"]}
    assert figures["classifier-fid"] == pytest.approx(metrics["classifier_fid"])
    assert figures["classifier-fid-floor"] == pytest.approx(
        metrics["classifier_fid_floor_train_vs_test"]
    )
    assert figures["accuracy"] == pytest.approx(metrics["label_accuracy"])
    assert figures["smallest-class-share"] == pytest.approx(metrics["smallest_class_share"])
    card = ModelCard.load(out / "README.md")  # huggingface_hub reads it back
    assert card.data.library_name == "gan-explorer"
    body = card.text
    assert "![Samples of alice/cgan-mnist](samples.png)" in body
    assert (
        f"{metrics['classifier_fid']:.3g} (floor {metrics['classifier_fid_floor_train_vs_test']:.3g})"
        in body
    )
    for run in meta["command"].split("# resumed:"):
        assert run.strip() in body
    assert 'GANPipeline.from_pretrained("hf://alice/cgan-mnist")' in body
    assert "gan-explorer --checkpoint-dir hf://alice/cgan-mnist" in body
    generator = load_checkpoint(PRETRAINED_CGAN).generator
    assert f"G has {sum(p.numel() for p in generator.parameters()):,} parameters" in body
    assert (out / WEIGHTS_FILE).read_bytes() == (PRETRAINED_CGAN / WEIGHTS_FILE).read_bytes()


def test_push_dry_run_of_a_run_leaves_the_train_state_home(tiny_cgan, tmp_path, capsys):
    run = tiny_cgan.parent
    assert (tiny_cgan / TRAIN_STATE_FILE).is_file()
    out = tmp_path / "staged"
    assert (
        gan_train(["push", str(run), "--repo", "alice/tiny", "--dry-run", "--out", str(out)]) == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        META_FILE,
        WEIGHTS_FILE,
        "samples.png",
    ]
    assert "would upload to hf://alice/tiny" in capsys.readouterr().out
    from PIL import Image

    grid = Image.open(out / "samples.png")  # 64 generated 8x8 samples, 8 a row, 2 px gaps, x2
    assert grid.size == (2 * (8 * 10 + 2), 2 * (8 * 10 + 2))
    front = _front_matter(out / "README.md")
    assert "model-index" not in front  # a tiny run has no measured figures
    assert (
        gan_train(["push", str(run), "--repo", "alice/tiny", "--dry-run", "--out", str(out)]) == 2
    )

    with_state = tmp_path / "with-state"
    args = ["push", str(run), "--repo", "alice/tiny", "--include-train-state", "--dry-run"]
    assert gan_train([*args, "--out", str(with_state)]) == 0
    assert (with_state / TRAIN_STATE_FILE).is_file()


def test_push_creates_the_repo_and_uploads_the_staged_folder(tiny_cgan, monkeypatch):
    calls: list[tuple[str, tuple, dict]] = []

    def record(name, result=None):
        def method(self, *args, **kwargs):
            if name == "upload_folder":  # the tmp folder is gone afterwards: look now
                kwargs["files"] = sorted(p.name for p in Path(kwargs["folder_path"]).iterdir())
            calls.append((name, args, kwargs))
            return result

        return method

    commit = SimpleNamespace(commit_url="https://huggingface.co/alice/tiny/commit/0123")
    monkeypatch.setattr(HfApi, "create_repo", record("create_repo"))
    monkeypatch.setattr(HfApi, "create_branch", record("create_branch"))
    monkeypatch.setattr(HfApi, "upload_folder", record("upload_folder", commit))
    url = hub.push(tiny_cgan.parent, "alice/tiny", private=True, revision="v1")
    assert url == commit.commit_url
    assert [c[0] for c in calls] == ["create_repo", "create_branch", "upload_folder"]
    _, args, kwargs = calls[0]
    assert args == ("alice/tiny",)
    assert kwargs == {"private": True, "exist_ok": True, "repo_type": "model"}
    assert calls[1][1:] == (
        ("alice/tiny",),
        {"branch": "v1", "exist_ok": True, "repo_type": "model"},
    )
    upload = calls[2][2]
    assert upload["repo_id"] == "alice/tiny" and upload["repo_type"] == "model"
    assert upload["revision"] == "v1"
    assert upload["files"] == ["README.md", META_FILE, WEIGHTS_FILE, "samples.png"]


def test_push_to_the_default_branch_creates_no_branch(tiny_cgan, monkeypatch):
    made = []
    monkeypatch.setattr(HfApi, "create_repo", lambda self, *a, **k: made.append("repo"))
    monkeypatch.setattr(HfApi, "create_branch", lambda self, *a, **k: made.append("branch"))
    monkeypatch.setattr(HfApi, "upload_folder", lambda self, **k: made.append(k["revision"]))
    hub.push(tiny_cgan, "hf://alice/tiny")
    assert made == ["repo", None]


@pytest.mark.parametrize(
    "error, words",
    [
        (LocalTokenNotFoundError("Token is required"), "not logged in: run `hf auth login`"),
        (_connect_error()("[Errno 101] Network is unreachable"), "the Hub cannot be reached"),
    ],
)
def test_push_and_deploy_failures_are_one_line(tiny_cgan, monkeypatch, capsys, error, words):
    def fail(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(HfApi, "create_repo", fail)
    assert gan_train(["push", str(tiny_cgan), "--repo", "alice/tiny"]) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("gan-train: error: cannot push to hf://alice/tiny: ")
    assert words in message and "\n" not in message

    from explorer import deploy

    assert deploy.main(["alice/x", "--checkpoints", "hf://alice/tiny"]) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("gan-explorer deploy-space: error: cannot deploy to the Space")
    assert words in message and "\n" not in message


# --- deploy-space ----------------------------------------------------------------------------


def test_deploy_space_dry_run_folder(tiny_cgan, tmp_path):
    from explorer import deploy

    out = tmp_path / "space"
    files = deploy.build_space_folder(
        out, "alice/gan-explorer", checkpoints=[str(tiny_cgan.parent), "hf://alice/tiny@v1"]
    )
    for name in (
        "README.md",
        "app.py",
        "requirements.txt",
        "trainers/__init__.py",
        "trainers/hub.py",
        "explorer/gradio_ui/app.py",
        "explorer/deploy.py",
    ):
        assert name in files
    name = tiny_cgan.parent.name
    assert [f for f in files if f.startswith("pretrained/") and f.count("/") > 1] == [
        f"pretrained/{name}/{META_FILE}",
        f"pretrained/{name}/{WEIGHTS_FILE}",
    ]
    assert not any("__pycache__" in f or f.endswith(".pyc") for f in files)
    front = _front_matter(out / "README.md")
    import gradio

    assert front["sdk"] == "gradio" and front["app_file"] == "app.py"
    assert front["sdk_version"] == gradio.__version__
    assert front["models"] == ["alice/tiny"]
    assert front["suggested_hardware"] == "cpu-basic"
    requirements = (out / "requirements.txt").read_text().splitlines()
    assert requirements[0].startswith("--extra-index-url https://download.pytorch.org/whl/cpu")
    packages = [line for line in requirements[1:] if line.strip()]
    assert all(">=" in line for line in packages)
    assert {line.split(">=")[0] for line in packages} >= {
        "torch",
        "gradio",
        "huggingface_hub",
        "safetensors",
    }
    app = (out / "app.py").read_text()
    assert "HUB_CHECKPOINTS = ['hf://alice/tiny@v1']" in app and "ENABLE_TRAINING = False" in app
    assert "alice-gan-explorer.hf.space" in (out / "README.md").read_text()


def test_deploy_space_refusals(tmp_path):
    from explorer import deploy

    with pytest.raises(deploy.DeployError, match="unknown --sdk 'shiny'"):
        deploy.build_space_folder(tmp_path / "a", "alice/x", sdk="shiny")
    with pytest.raises(deploy.DeployError, match="no checkpoint 'nope'"):
        deploy.build_space_folder(tmp_path / "b", "alice/x", checkpoints=["nope"])
    assert deploy.main(["alice/x", "--dry-run"]) == 2


def test_deploy_streamlit_space_dry_run_is_a_docker_space(tiny_cgan, tmp_path, capsys):
    """The Streamlit edition: a Docker Space (sdk: docker, app_port: 8501) whose Dockerfile
    runs `streamlit run` on 8501 with a health check on /_stcore/health."""
    from explorer import deploy

    out = tmp_path / "space"
    args = ["alice/x", "--sdk", "streamlit", "--checkpoints", f"{tiny_cgan},hf://alice/tiny"]
    assert deploy.main([*args, "--enable-training", "--dry-run", "--out", str(out)]) == 0
    assert "docker build" in capsys.readouterr().out
    files = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    for name in ("Dockerfile", "README.md", "requirements.txt", "explorer/streamlit_ui/app.py"):
        assert name in files
    assert "app.py" not in files  # no Gradio entry point
    front = _front_matter(out / "README.md")
    assert front["sdk"] == "docker" and front["app_port"] == 8501
    assert front["app_file"] == "explorer/streamlit_ui/app.py" and "sdk_version" not in front
    dockerfile = (out / "Dockerfile").read_text()
    assert "EXPOSE 8501" in dockerfile and "/_stcore/health" in dockerfile
    assert '"streamlit", "run", "explorer/streamlit_ui/app.py", "--server.port=8501"' in dockerfile
    assert 'GAN_EXPLORER_CHECKPOINTS="hf://alice/tiny"' in dockerfile
    assert "GAN_EXPLORER_ENABLE_TRAINING=1" in dockerfile
    assert "?embed=true" in (out / "README.md").read_text()
    shipped = (ROOT / "spaces" / "streamlit" / "Dockerfile").read_text()
    assert shipped == deploy.streamlit_dockerfile()  # the documented Space is the same


def test_deploy_space_uploads_a_space(tiny_cgan, monkeypatch):
    from explorer import deploy

    calls = []

    def create_repo(self, repo_id, **kwargs):
        calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, **kwargs):
        kwargs["files"] = sorted(p.name for p in Path(kwargs.pop("folder_path")).iterdir())
        calls.append(("upload_folder", kwargs))

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    url = deploy.deploy_space(
        "alice/gan-explorer", checkpoints=[str(tiny_cgan)], hardware="cpu-upgrade"
    )
    assert url == "https://huggingface.co/spaces/alice/gan-explorer"
    assert calls[0] == (
        "create_repo",
        "alice/gan-explorer",
        {
            "repo_type": "space",
            "space_sdk": "gradio",
            "space_hardware": "cpu-upgrade",
            "private": False,
            "exist_ok": True,
        },
    )
    upload = calls[1][1]
    assert upload["repo_id"] == "alice/gan-explorer" and upload["repo_type"] == "space"
    assert upload["files"] == [
        "README.md",
        "app.py",
        "explorer",
        "pretrained",
        "requirements.txt",
        "trainers",
    ]


def test_gan_explorer_has_the_deploy_space_command(tmp_path, capsys):
    from explorer.launcher import main  # the gan-explorer console script

    argv = ["deploy-space", "alice/x", "--checkpoints", "hf://alice/tiny"]
    assert main([*argv, "--dry-run", "--out", str(tmp_path / "s")]) == 0
    assert "dry run: wrote the Space alice/x" in capsys.readouterr().out


CHECK_FROM_THE_FOLDER = """
import json, os, sys
project = os.environ["PROJECT_ROOT"]
# the project is installed (editable) in this venv: take it away, so only the folder is left
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path[:] = [p for p in sys.path if not os.path.abspath(p or ".").startswith(project)]
import gradio
import app
folder = os.path.dirname(os.path.abspath(app.__file__))
foreign = sorted(
    m.__file__ for n, m in list(sys.modules.items())
    if n.split(".")[0] in ("trainers", "explorer") and getattr(m, "__file__", None)
    and not os.path.abspath(m.__file__).startswith(folder)
)
catalog = app.demo.explorer_context.catalog
print(json.dumps({"blocks": isinstance(app.demo, gradio.Blocks), "foreign": foreign,
                  "keys": catalog.keys(), "problems": catalog.problems,
                  "training": app.ENABLE_TRAINING}))
"""


@pytest.mark.slow
def test_the_space_folder_runs_on_its_own(hub_cache, tiny_cgan, tiny_dcgan, tmp_path):
    """Import app.py from the dry-run folder with only that folder on the path: the Blocks
    are built (not launched) from the folder's own packages and checkpoints."""
    from explorer import deploy

    add_hub_repo(hub_cache, "alice/tiny", checkpoint_files(tiny_dcgan))
    out = tmp_path / "space"
    deploy.build_space_folder(out, "alice/x", checkpoints=[str(tiny_cgan), "hf://alice/tiny"])
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GAN_EXPLORER", "PYTHON", "SPACE_"))
    }
    env |= {"PYTHONPATH": str(out), "PROJECT_ROOT": str(ROOT), "HF_HUB_CACHE": str(hub_cache)}
    env |= {"HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    result = subprocess.run(
        [sys.executable, "-c", CHECK_FROM_THE_FOLDER],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["blocks"] and report["foreign"] == []
    assert report["keys"] == [tiny_cgan.parent.name, "alice/tiny"] and report["problems"] == []
    assert report["training"] is False
