"""Safe checkpoints: exact round trips, exact resume, and clear refusals of bad files."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
from conftest import FAMILIES, build_trainer, state_equal, tiny_data, train_run
from safetensors.torch import load_file

from trainers.checkpoint import (
    KIND,
    CheckpointError,
    load_checkpoint,
    read_meta,
    resolve_checkpoint_dir,
    save_checkpoint,
)
from trainers.cli import main
from trainers.engine import GANTrainer
from trainers.events import Step
from trainers.loop import JsonlLogger

# --- a pickle payload that leaves a mark if anything ever unpickles it --------------------------

UNPICKLED_MARKS: list[str] = []


def _mark_unpickled(path: str) -> str:
    UNPICKLED_MARKS.append(path)
    Path(path).write_text("unpickled!")
    return "pwned"


class Sentinel:
    def __init__(self, mark: Path) -> None:
        self.mark = str(mark)

    def __reduce__(self):
        return (_mark_unpickled, (self.mark,))


def test_sentinel_payload_really_fires_when_unpickled(tmp_path):
    """The sanity check that makes the refusal tests meaningful."""
    mark = tmp_path / "mark"
    assert pickle.loads(pickle.dumps(Sentinel(mark))) == "pwned"
    assert mark.exists()


# --- round trip ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", FAMILIES)
def test_round_trip_gives_identical_outputs(model, tmp_path):
    trainer = train_run(tmp_path, model, steps=2)
    loaded = load_checkpoint(tmp_path)  # a run folder resolves to its checkpoint/
    assert loaded.path == tmp_path / "checkpoint"
    assert loaded.spec.name == model
    assert loaded.config == trainer.model_config
    assert not loaded.generator.training and not loaded.discriminator.training
    trainer.generator.eval()
    trainer.discriminator.eval()
    z = torch.randn(6, trainer.model_config.latent_dim)
    labels = torch.tensor([0, 1, 0, 1, 1, 0]) if loaded.conditional else None
    # The weights come back bit for bit ...
    assert state_equal(loaded.generator, trainer.generator)
    assert state_equal(loaded.discriminator, trainer.discriminator)
    # ... and compute the same outputs (to float32 round-off: a trained module's weights may sit
    # in another memory layout than freshly loaded ones, which picks another conv kernel).
    with torch.no_grad():
        images = trainer.generator(z, labels)
        torch.testing.assert_close(loaded.generator(z, labels), images, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(
            loaded.discriminator(images, labels),
            trainer.discriminator(images, labels),
            rtol=1e-5,
            atol=1e-6,
        )


def test_meta_records_what_the_issue_asks_for(trained_run):
    run = trained_run("cgan", steps=2)
    meta = read_meta(run)
    assert meta["kind"] == KIND and meta["format"] == 1
    assert meta["model"] == "cgan"
    assert meta["config"]["image_shape"] == [1, 8, 8] and meta["image_shape"] == [1, 8, 8]
    assert meta["class_names"] == ["class 0", "class 1"]
    assert meta["latent_dim"] == 8 and meta["step"] == 2 and meta["seed"] == 0
    assert meta["dataset"] == "synthetic" and meta["command"] == "pytest"
    assert "[-1, 1]" in meta["normalisation"]
    assert {"torch", "safetensors", "python", "numpy"} <= set(meta["versions"])
    for key in ("epoch", "metrics", "train_config"):
        assert key in meta
    loaded = load_checkpoint(run)
    assert loaded.class_names == ["class 0", "class 1"] and loaded.latent_dim == 8
    assert loaded.image_shape == (1, 8, 8) and loaded.conditional


def test_checkpoint_holds_only_safetensors_and_json(trained_run):
    ckpt = trained_run("mlp-gan", steps=2) / "checkpoint"
    assert sorted(p.name for p in ckpt.iterdir()) == [
        "meta.json",
        "model.safetensors",
        "train_state.safetensors",
    ]
    weights = load_file(str(ckpt / "model.safetensors"))
    assert any(k.startswith("G.") for k in weights) and any(k.startswith("D.") for k in weights)
    state = load_file(str(ckpt / "train_state.safetensors"))
    assert any(k.startswith("opt_g/") for k in state) and any(k.startswith("opt_d/") for k in state)
    assert "rng/noise" in state


def test_ema_generator_is_loaded_by_default(tmp_path):
    trainer = train_run(tmp_path, "mlp-gan", steps=3, ema_decay=0.5)
    z = torch.randn(4, 8)
    trainer.generator.eval()
    with torch.no_grad():
        ema_out = load_checkpoint(tmp_path).generator(z)
        raw_out = load_checkpoint(tmp_path, use_ema=False).generator(z)
        assert torch.equal(ema_out, trainer.generator_ema(z))
        assert torch.equal(raw_out, trainer.generator(z))
    assert not torch.equal(ema_out, raw_out)


# --- resume --------------------------------------------------------------------------------------


def _log_steps(path: Path) -> list[int]:
    return [json.loads(line)["step"] for line in path.read_text().splitlines()]


def _log_records(path: Path) -> dict[int, dict]:
    return {r["step"]: r for r in map(json.loads, path.read_text().splitlines())}


RESUME_CASES = {
    "mlp-gan": {"model": "mlp-gan"},
    "cgan-ema-k2": {"model": "cgan", "ema_decay": 0.9, "d_steps": 2},
    "mlp-gan-wgan-gp": {"model": "mlp-gan", "loss": "wgan-gp"},
}


@pytest.mark.parametrize("case", list(RESUME_CASES))
def test_resume_is_exact_and_continues_the_log(case, tmp_path):
    """Train to N=4 with a checkpoint, 'crash' after logging past it, resume to M=8: the step
    counter and log continue with no gap and no duplicate, and everything equals a run to 8
    that was never interrupted (the engine replays data order and noise; fp32 for exactness)."""
    kwargs = dict(RESUME_CASES[case])
    model = kwargs.pop("model")
    common = {"log_every": 2, "checkpoint_every": 4, "precision": "fp32", **kwargs}

    straight = train_run(tmp_path / "straight", model, steps=8, **common)

    run = tmp_path / "interrupted"
    train_run(run, model, steps=4, **common)
    # the crashed process had logged steps after its last checkpoint
    with (run / "log.jsonl").open("a") as log:
        log.write(json.dumps({"step": 6, "d": 0.0, "g": 0.0}) + "\n")
        log.write('{"step": 8, "d": 0.')  # and a half-written line
    resumed = GANTrainer.resume(run, tiny_data(), "cpu", steps=8)
    assert resumed.step == 4 and resumed.batches_drawn == 4 * resumed.config.d_steps
    assert _log_steps(run / "log.jsonl") == [2, 4]  # cut back to the checkpoint
    steps_seen: list[int] = []
    logger = JsonlLogger(run / "log.jsonl", every=2)
    resumed.run(lambda e: (logger(e), steps_seen.append(e.step) if isinstance(e, Step) else None))
    assert steps_seen == [5, 6, 7, 8]  # the counter continues, it does not restart

    # the log: every second step up to M, once each, no gap, no restart
    assert _log_steps(run / "log.jsonl") == [2, 4, 6, 8]
    # the same numbers as the run that was never interrupted (data order and noise replayed)
    ours, theirs = (
        _log_records(run / "log.jsonl"),
        _log_records(tmp_path / "straight" / "log.jsonl"),
    )
    for step in (2, 4, 6, 8):
        assert (ours[step]["d"], ours[step]["g"]) == (theirs[step]["d"], theirs[step]["g"])
    # and the same weights, optimiser moments and EMA
    assert state_equal(resumed.generator, straight.generator)
    assert state_equal(resumed.discriminator, straight.discriminator)
    if straight.generator_ema is not None:
        assert state_equal(resumed.generator_ema, straight.generator_ema)
    for name in ("opt_g", "opt_d"):
        ours_state = getattr(resumed, name).state_dict()["state"]
        theirs_state = getattr(straight, name).state_dict()["state"]
        assert ours_state.keys() == theirs_state.keys()
        for index, entry in theirs_state.items():
            assert all(
                torch.equal(torch.as_tensor(entry[k]), torch.as_tensor(ours_state[index][k]))
                for k in entry
            )
    assert read_meta(run)["step"] == 8


# --- refusals ------------------------------------------------------------------------------------


@pytest.fixture
def run_copy(trained_run, copy_run) -> Path:
    return copy_run(trained_run("mlp-gan", steps=2))


def test_truncated_weights_are_refused(run_copy):
    weights = run_copy / "checkpoint" / "model.safetensors"
    data = weights.read_bytes()
    for cut in (len(data) // 2, len(data) - 1, 20, 3, 0):
        weights.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=r"model\.safetensors.*(truncated|corrupt)"):
            load_checkpoint(run_copy)


def test_truncated_train_state_is_refused_on_resume(run_copy):
    state = run_copy / "checkpoint" / "train_state.safetensors"
    state.write_bytes(state.read_bytes()[:50])
    with pytest.raises(CheckpointError, match=r"train_state\.safetensors.*(truncated|corrupt)"):
        GANTrainer.resume(run_copy, tiny_data())


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_pickle_file_handed_in_directly_is_refused_without_unpickling(writer, tmp_path):
    mark = tmp_path / "mark"
    path = tmp_path / "model.pt"
    payload = {"G": Sentinel(mark), "weights": torch.zeros(3)}
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)
    with pytest.raises(CheckpointError, match="pickle|unpickl") as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)
    assert not mark.exists() and str(mark) not in UNPICKLED_MARKS


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_pickle_disguised_as_safetensors_is_refused_without_unpickling(writer, run_copy, tmp_path):
    mark = tmp_path / "mark"
    weights = run_copy / "checkpoint" / "model.safetensors"
    payload = {"G.net.0.weight": Sentinel(mark)}
    if writer == "pickle":
        weights.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, weights)
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_checkpoint(run_copy)
    with pytest.raises(CheckpointError):
        GANTrainer.resume(run_copy, tiny_data())
    assert not mark.exists() and str(mark) not in UNPICKLED_MARKS


def test_pickle_handed_to_the_cli_is_refused(tmp_path, capsys):
    mark = tmp_path / "mark"
    path = tmp_path / "generator.pkl"
    path.write_bytes(pickle.dumps(Sentinel(mark)))
    assert (
        main(["sample", str(path), "--n", "2", "--out", str(tmp_path / "s.npz"), "--device", "cpu"])
        == 2
    )
    assert "pickle" in capsys.readouterr().err
    assert not mark.exists()


def _edit_meta(run: Path, **changes) -> None:
    meta_path = run / "checkpoint" / "meta.json"
    meta = json.loads(meta_path.read_text())
    for key, value in changes.items():
        if isinstance(value, dict):
            meta[key] = {**meta[key], **value}
        else:
            meta[key] = value
    meta_path.write_text(json.dumps(meta))


def test_other_kind_is_refused(run_copy):
    _edit_meta(run_copy, kind="someone-elses-checkpoint")
    with pytest.raises(CheckpointError, match="not a GAN Explorer checkpoint"):
        load_checkpoint(run_copy)


def test_other_format_is_refused(run_copy):
    _edit_meta(run_copy, format=99)
    with pytest.raises(CheckpointError, match="format 99"):
        load_checkpoint(run_copy)


def test_bad_json_is_refused(run_copy):
    meta_path = run_copy / "checkpoint" / "meta.json"
    meta_path.write_text(meta_path.read_text()[:40])  # truncated JSON
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(run_copy)
    meta_path.write_bytes(b"\x80\x04\x95 binary junk \xff")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(run_copy)
    meta_path.write_text("[1, 2, 3]")
    with pytest.raises(CheckpointError, match="not a GAN Explorer checkpoint"):
        load_checkpoint(run_copy)


def test_unknown_model_name_is_refused(run_copy):
    _edit_meta(run_copy, model="biggan")
    with pytest.raises(CheckpointError, match="unknown model 'biggan'"):
        load_checkpoint(run_copy)


@pytest.mark.parametrize(
    "change",
    [{"latent_dim": 9}, {"g_hidden": [32]}, {"d_hidden": [16, 16]}, {"image_shape": [1, 4, 4]}],
    ids=["latent_dim", "g_hidden", "d_hidden", "image_shape"],
)
def test_config_mismatch_is_refused(change, run_copy):
    _edit_meta(run_copy, config=change)
    with pytest.raises(CheckpointError, match="do not fit the stored config"):
        load_checkpoint(run_copy)
    with pytest.raises(CheckpointError, match="do not fit the stored config"):
        GANTrainer.resume(run_copy, tiny_data())


def test_config_with_unknown_field_is_refused(run_copy):
    _edit_meta(run_copy, config={"depth": 5})
    with pytest.raises(CheckpointError, match="bad model config.*depth"):
        load_checkpoint(run_copy)


def test_missing_pieces_are_refused(run_copy, tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="no meta.json"):
        load_checkpoint(empty)
    (run_copy / "checkpoint" / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(run_copy)


# --- atomic writes -------------------------------------------------------------------------------


def test_atomic_write_leaves_no_temporary_folders(tmp_path):
    trainer = build_trainer("mlp-gan", out_dir=tmp_path, steps=3, checkpoint_every=1)
    stale = tmp_path / ".checkpoint.tmp"  # left by a process killed mid-write
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half")
    trainer.run()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]
    assert read_meta(tmp_path)["step"] == 3


def test_save_checkpoint_replaces_the_old_one(tmp_path):
    target = tmp_path / "ckpt"
    meta = {"model": "mlp-gan", "step": 1}
    save_checkpoint(target, meta, {"G.w": torch.ones(2)})
    save_checkpoint(target, {**meta, "step": 2}, {"G.w": torch.zeros(2)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
    assert sorted(p.name for p in target.iterdir()) == ["meta.json", "model.safetensors"]
    assert read_meta(target)["step"] == 2
    assert torch.equal(load_file(str(target / "model.safetensors"))["G.w"], torch.zeros(2))


def test_kill_between_the_two_renames_keeps_the_old_checkpoint(run_copy):
    """save_checkpoint moves checkpoint/ to .checkpoint.old, then .checkpoint.tmp to checkpoint/.
    Killed in between, the loader must still find the old checkpoint."""
    ckpt = run_copy / "checkpoint"
    ckpt.rename(run_copy / ".checkpoint.old")
    assert resolve_checkpoint_dir(ckpt) == run_copy / ".checkpoint.old"
    assert load_checkpoint(ckpt).meta["step"] == 2


def test_resume_after_kill_between_the_two_renames(run_copy):
    """The same crash, seen by --resume: the run folder still has a usable (old) checkpoint."""
    (run_copy / "checkpoint").rename(run_copy / ".checkpoint.old")
    trainer = GANTrainer.resume(run_copy, tiny_data(), steps=3)
    assert trainer.step == 2


# --- export --------------------------------------------------------------------------------------


def test_export_half_is_loadable_and_close(trained_run, tmp_path):
    run = trained_run("dcgan", steps=2)
    out = tmp_path / "exported"
    assert main(["export", str(run), str(out), "--half", "--name", "tiny dcgan"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "meta.json",
        "model.safetensors",
    ]  # no optimiser state
    stored = load_file(str(out / "model.safetensors"))
    assert {v.dtype for v in stored.values() if v.is_floating_point()} == {torch.float16}
    original, shipped = load_checkpoint(run), load_checkpoint(out)
    assert shipped.name == "tiny dcgan" and shipped.meta["weights_dtype"] == "float16"
    assert shipped.meta["step"] == 2 and "optimizer_param_groups" not in shipped.meta
    z = torch.randn(4, original.latent_dim)
    with torch.no_grad():
        a, b = original.generator(z), shipped.generator(z)
        torch.testing.assert_close(b, a, atol=2e-2, rtol=0)
        assert not torch.equal(a, b)  # it really was rounded to float16
        torch.testing.assert_close(
            shipped.discriminator(a), original.discriminator(a), atol=2e-2, rtol=1e-2
        )


def test_export_ships_the_ema_generator(tmp_path):
    run = tmp_path / "run"
    train_run(run, "mlp-gan", steps=3, ema_decay=0.5)
    assert main(["export", str(run), str(tmp_path / "out")]) == 0
    shipped = load_checkpoint(tmp_path / "out")
    assert shipped.meta["exported_from_ema"] is True
    z = torch.randn(3, 8)
    with torch.no_grad():
        assert torch.equal(shipped.generator(z), load_checkpoint(run, use_ema=True).generator(z))


def test_export_of_a_corrupt_checkpoint_is_a_clean_error(run_copy, tmp_path, capsys):
    weights = run_copy / "checkpoint" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    assert main(["export", str(run_copy), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "model.safetensors" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
