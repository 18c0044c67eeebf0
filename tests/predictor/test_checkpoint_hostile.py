"""Checkpoints under hostile edits, kills and concurrent writers (issues 17 and 27)."""
import json
import multiprocessing
import os
import signal
from pathlib import Path

import pytest
import torch

from autobuild.predictor.checkpoint import read_checkpoint
from hostile import assert_refused, cli, race

# 8. score validates before it writes ---------------------------------------------------------

def test_score_with_top_k_0_writes_nothing(run_dir, capsys):
    rc, err = cli(["score", "--checkpoint", run_dir / "predictor.pt", "--top-k", "0"], capsys)
    assert_refused(rc, err, "argument --top-k")
    assert not list(run_dir.glob("top*_subgraphs.csv"))


def _edited(run_dir, tmp_path, edit, name="edited.pt"):
    payload = torch.load(run_dir / "predictor.pt", weights_only=True)
    edit(payload)
    torch.save(payload, tmp_path / name)
    return tmp_path / name


def test_score_of_an_edited_space_writes_nothing(run_dir, tmp_path, capsys):
    path = _edited(run_dir, tmp_path, lambda p: p.update(space="pn"))
    rc, err = cli(["score", "--checkpoint", path, "--top-k", "2"], capsys)
    assert_refused(rc, err, str(path), "checkpoint field", "'pn'")
    assert not list(tmp_path.glob("*.csv"))


def test_score_refuses_an_out_folder_before_work(run_dir, tmp_path, capsys):
    rc, err = cli(["score", "--checkpoint", run_dir / "predictor.pt", "--out", tmp_path], capsys)
    assert_refused(rc, err, "is a folder")


# 10. Checkpoint fields are validated before anything is built -------------------------------

@pytest.mark.parametrize("edit, field", [
    (lambda p: p["config"].update(cpu_threads=100000), "config.cpu_threads"),
    (lambda p: p["config"].update(cpu_threads="2"), "config.cpu_threads"),
    (lambda p: p["config"].update(cpu_threads=0), "config.cpu_threads"),
    (lambda p: p["config"].update(bogus=1), "config"),
    (lambda p: p["config"].pop("lr"), "config"),
    (lambda p: p.pop("model"), "model"),
    (lambda p: p["model"].update(hidden=10**9), "model.hidden"),
    (lambda p: p["model"]["feature_vocab"].update(kernel=[1, 2]), "model.feature_vocab"),
    (lambda p: p.update(space="no-such-space"), "space"),
    (lambda p: p.update(y_std=float("nan")), "y_std"),
    (lambda p: p["scorer_state"].update(label_overall=[0.7, 0.0]), "scorer_state.label_overall"),
    (lambda p: p["scorer_state"].update(context={"resolution": 161}), "scorer_state.context.resolution"),
    (lambda p: p["state_dict"].popitem(), "state_dict"),
])
def test_edited_checkpoint_fields_are_refused_naming_the_field(edit, field, run_dir, tmp_path, capsys):
    path = _edited(run_dir, tmp_path, edit)
    rc, err = cli(["score", "--checkpoint", path, "--out", tmp_path / "top.csv"], capsys)
    assert_refused(rc, err, str(path), f"'{field}'")
    assert not (tmp_path / "top.csv").exists()


def test_cpu_threads_of_new_and_old_checkpoints_load(run_dir, tmp_path):
    """A checkpoint stores cpu_threads None (automatic) since that is the default; one of an older
    version stores the count it trained with, which loads capped at this machine's CPUs."""
    from autobuild.predictor.checkpoint import load_predictor

    assert torch.load(run_dir / "predictor.pt", weights_only=True)["config"]["cpu_threads"] is None
    assert load_predictor(run_dir / "predictor.pt")[0].config.cpu_threads is None
    assert load_predictor(_edited(run_dir, tmp_path, lambda p: p["config"].update(cpu_threads=1)))[0] \
        .config.cpu_threads == 1
    many = _edited(run_dir, tmp_path, lambda p: p["config"].update(cpu_threads=4096), "many.pt")
    assert load_predictor(many)[0].config.cpu_threads == os.cpu_count()


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty (0 bytes)"),
    ("truncated", "a truncated or corrupt PyTorch zip archive"),
    (b"hello world\nthis is text\n", "a text file (it starts with 'hello world"),
])
def test_broken_checkpoint_files_say_what_is_wrong(content, message, run_dir, tmp_path, capsys):
    path = tmp_path / "broken.pt"
    if content == "truncated":
        content = (run_dir / "predictor.pt").read_bytes()[:2000]
    path.write_bytes(content)
    rc, err = cli(["score", "--checkpoint", path], capsys)
    assert_refused(rc, err, str(path), message)


# The checkpoint and metrics.json stay consistent; stray temp files are cleaned ---------------

def _save_then_die(checkpoint, out, hook):
    """In a forked child: ``save_run`` into ``out`` with ``hook`` patched in, which kills the process."""
    import autobuild.predictor.checkpoint as ck

    trained, payload = ck.load_predictor(checkpoint)
    if hook == "between":  # after the checkpoint is in place, before metrics.json
        ck.write_json = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
    else:  # in the middle of torch.save
        def half_save(obj, f):
            Path(f).write_bytes(b"PK\x03\x04 half a checkpoint")
            os.kill(os.getpid(), signal.SIGKILL)
        ck.torch.save = half_save
    ck.save_run(trained, out, {"srcc": 0.5}, scorer_state=payload["scorer_state"])
    os._exit(0)


def _killed_save(run_dir, out, hook):
    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=_save_then_die, args=(str(run_dir / "predictor.pt"), str(out), hook))
    p.start()
    p.join(timeout=300)
    assert p.exitcode == -signal.SIGKILL


def _copy_run(run_dir, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in ("predictor.pt", "metrics.json"):
        (out / name).write_bytes((run_dir / name).read_bytes())
    return out


@pytest.mark.skipif(os.name != "posix", reason="fork and SIGKILL")
def test_a_kill_between_the_two_writes_leaves_no_mismatched_pair(run_dir, tmp_path):
    out = _copy_run(run_dir, tmp_path)
    old_id = json.loads((out / "metrics.json").read_text())["run_id"]
    _killed_save(run_dir, out, "between")
    assert not (out / "metrics.json").exists()  # never the old metrics beside the new checkpoint
    payload = read_checkpoint(out / "predictor.pt")
    assert payload["report"]["run_id"] != old_id
    from autobuild.predictor.checkpoint import write_metrics_json
    write_metrics_json(out / "predictor.pt")
    assert json.loads((out / "metrics.json").read_text())["run_id"] == payload["report"]["run_id"]


@pytest.mark.skipif(os.name != "posix", reason="fork and SIGKILL")
def test_a_kill_inside_torch_save_leaves_the_old_pair_and_the_next_write_cleans_up(run_dir, tmp_path):
    out = _copy_run(run_dir, tmp_path)
    before = read_checkpoint(out / "predictor.pt")["report"]["run_id"]
    _killed_save(run_dir, out, "inside")
    assert read_checkpoint(out / "predictor.pt")["report"]["run_id"] == before
    assert len(list(out.glob(".predictor.pt.*.tmp"))) == 1  # nothing can clean up after SIGKILL ...
    from autobuild.predictor.checkpoint import load_predictor, save_run
    trained, payload = load_predictor(out / "predictor.pt")
    save_run(trained, out, {"srcc": 0.5}, scorer_state=payload["scorer_state"])
    assert not list(out.glob(".*.tmp"))  # ... but the next write does
    m = json.loads((out / "metrics.json").read_text())
    assert m["run_id"] == read_checkpoint(out / "predictor.pt")["report"]["run_id"]


def _save_runs(checkpoint, folders, barrier):
    from autobuild.predictor.checkpoint import load_predictor, save_run

    trained, payload = load_predictor(checkpoint)
    for folder in folders:
        barrier.wait(timeout=60)
        save_run(trained, folder, {"srcc": 0.5}, scorer_state=payload["scorer_state"])


@pytest.mark.skipif(os.name != "posix", reason="fork and flock")
def test_two_processes_saving_runs_into_one_folder_never_leave_a_mismatched_pair(run_dir, tmp_path):
    """Without the folder lock, 9 of 100 rounds left metrics.json of the other run."""
    folders = [tmp_path / f"round{k}" for k in range(30)]
    for folder in folders:
        folder.mkdir()
    race(_save_runs, [(str(run_dir / "predictor.pt"), folders)] * 2)
    for folder in folders:
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["run_id"] == read_checkpoint(folder / "predictor.pt")["report"]["run_id"], folder


# Issue 27: checkpoints that `score` used to accept with exit 0 -------------------------------

def _first_key(p):
    return next(iter(p["state_dict"]))


def _set_weight(p, make):
    key = _first_key(p)
    p["state_dict"][key] = make(p["state_dict"][key])


@pytest.mark.parametrize("edit, field, message", [
    (lambda p: p["scorer_state"]["hop_moments"][1].__setitem__(1, 0.0), "scorer_state.hop_moments[1]", "std"),
    (lambda p: p["scorer_state"]["hop_moments"][2].__setitem__(1, -0.3), "scorer_state.hop_moments[2]", "std"),
    (lambda p: p["scorer_state"]["label_moments"][0].__setitem__(3, -0.01), "scorer_state.label_moments",
     "std must be in"),
    (lambda p: p["scorer_state"]["label_moments"][0].__setitem__(3, 1e308), "scorer_state.label_moments",
     "std must be in"),
    (lambda p: [r.__setitem__(3, 0.0) for r in p["scorer_state"]["label_moments"]], "scorer_state.label_moments",
     "label std 0 in every row"),
    (lambda p: p["scorer_state"]["label_moments"].append(list(p["scorer_state"]["label_moments"][0])),
     "scorer_state.label_moments", "more than once"),
    (lambda p: p["scorer_state"].update(label_overall=[0.7, 1e308]), "scorer_state.label_overall", "at most"),
    (lambda p: p.update(y_std=1e308), "y_std", "at most"),
    (lambda p: p.update(state_dict={k: torch.zeros_like(v) for k, v in p["state_dict"].items()}), "state_dict",
     "only zeros"),
    (lambda p: _set_weight(p, lambda v: v.to(torch.int64)), None, "dtype torch.int64"),
    (lambda p: _set_weight(p, lambda v: v > 0), None, "dtype torch.bool"),
    (lambda p: _set_weight(p, lambda v: v.to(torch.float64)), None, "dtype torch.float64"),
    (lambda p: _set_weight(p, lambda v: torch.full_like(v, float("nan"))), None, "NaN or infinite"),
    (lambda p: _set_weight(p, lambda v: torch.zeros(10**6)[:v.numel()].view_as(v)), "state_dict", "bytes of tensors"),
])
def test_checkpoints_score_used_to_accept_are_refused(edit, field, message, run_dir, tmp_path, capsys):
    payload = torch.load(run_dir / "predictor.pt", weights_only=True)
    field = field or f"state_dict.{_first_key(payload)}"
    edit(payload)
    path = tmp_path / "edited.pt"
    torch.save(payload, path)
    rc, err = cli(["score", "--checkpoint", path, "--out", tmp_path / "top.csv"], capsys)
    assert_refused(rc, err, str(path), f"'{field}'", message)
    assert not (tmp_path / "top.csv").exists()


def test_a_compressed_checkpoint_is_refused_before_it_is_decompressed(run_dir, tmp_path, capsys):
    """Issue 27: a 4 MB file with a deflated 4 GiB storage took `score` to 5.4 GB; here 64 MiB of
    zeros deflate to 64 KB, and nothing is decompressed."""
    import zipfile

    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(run_dir / "predictor.pt") as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), compress_type=zipfile.ZIP_STORED)
        dst.writestr("archive/data/999", b"\0" * 2**26, compress_type=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 2**20
    rc, err = cli(["score", "--checkpoint", path], capsys)
    assert_refused(rc, err, str(path), "compressed", "refusing to decompress")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_a_fifo_checkpoint_is_not_called_a_folder(tmp_path, capsys):
    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    rc, err = cli(["score", "--checkpoint", fifo, "--out", tmp_path / "top.csv"], capsys)
    assert_refused(rc, err, str(fifo), "not a regular file")
    assert "folder" not in err


def test_a_checkpoint_that_reading_would_refuse_is_never_written(run_dir, tmp_path):
    from autobuild.predictor.checkpoint import load_predictor, save_predictor

    trained, payload = load_predictor(run_dir / "predictor.pt")
    state = {**payload["scorer_state"], "label_overall": [0.7, float("nan")]}
    with pytest.raises(ValueError, match="scorer_state.label_overall"):
        save_predictor(trained, tmp_path / "p.pt", scorer_state=state)
    assert list(tmp_path.iterdir()) == []
