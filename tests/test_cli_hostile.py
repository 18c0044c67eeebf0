"""The ``autobuild`` command under hostile arguments and data (issues 17 and 27): exit 2 with a
message naming the problem, nothing half-written left behind."""
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autobuild.cli import main
from autobuild.data.equations import MAX_LENGTH
from autobuild.predictor import TrainConfig
from hostile import assert_refused, cache_rows, cli, train_args, write_pickle

def test_cli_refuses_an_unbounded_equation_at_once(cache_file, tmp_path, capsys):
    start = time.perf_counter()
    rc, err = cli(train_args(cache_file, tmp_path / "o", "acc*10**10**10"), capsys)
    assert_refused(rc, err, "infinite")
    assert time.perf_counter() - start < 10 and not (tmp_path / "o" / "predictor.pt").exists()



@pytest.mark.parametrize("flag, value, message", [
    ("--lr", "inf", "argument --lr: must be a finite number > 0"),
    ("--lr", "nan", "argument --lr: must be a finite number > 0"),
    ("--lr", "-1", "argument --lr"),
    ("--seed", "-1", "argument --seed: must be an integer in [0, 4294967296)"),
    ("--epochs", "0", "argument --epochs"),
    ("--batch-size", "1", "argument --batch-size"),
])
def test_impossible_arguments_are_refused(flag, value, message, cache_file, tmp_path, capsys):
    rc, err = cli(train_args(cache_file, tmp_path / "o", "acc", flag, value), capsys)
    assert_refused(rc, err, message)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("kwargs, name", [({"lr": math.inf}, "lr"), ({"weight_decay": math.nan}, "weight_decay"),
                                          ({"rank_strength": math.inf}, "rank_strength"), ({"seed": -1}, "seed"),
                                          ({"cpu_threads": 100000}, "cpu_threads"), ({"hidden": 2.5}, "hidden"),
                                          ({"progress": "no"}, "progress")])
def test_train_config_refuses_non_finite_and_impossible_values(kwargs, name):
    with pytest.raises(ValueError, match=rf"{name}=.*must be"):
        TrainConfig(**kwargs)


@pytest.mark.parametrize("case", ["constant", "duplicates"])
def test_zero_spread_targets_are_refused(case, tmp_path, capsys):
    if case == "constant":
        data, target = write_pickle(tmp_path / "c.pkl", cache_rows(40)), "1"
    else:
        rows = cache_rows(1) * 200
        data, target = write_pickle(tmp_path / "d.pkl", rows), "acc"
    rc, err = cli(train_args(data, tmp_path / "o", target), capsys)
    assert_refused(rc, err, "zero spread")
    assert not (tmp_path / "o").exists()  # the --out folder it created is removed again


@pytest.mark.parametrize("n", [1, 5, 14])
def test_too_few_architectures_are_refused_before_training(n, tmp_path, capsys):
    data = write_pickle(tmp_path / "few.pkl", cache_rows(n))
    rc, err = cli(train_args(data, tmp_path / "o"), capsys)
    assert_refused(rc, err, f"holds {n} architectures; training needs at least 15")
    assert "training on" not in err


def test_unwritable_or_invalid_out_is_refused_before_training(cache_file, tmp_path, capsys):
    afile = tmp_path / "file"
    afile.write_text("x")
    for out, message in [(afile, "is a file"), (afile / "sub", "is under"), (tmp_path / "o" / "predictor.pt", None)]:
        if message is None:  # predictor.pt is a folder inside --out
            out.mkdir(parents=True)
            out, message = out.parent, "already holds files (predictor.pt)"
        rc, err = cli(train_args(cache_file, out), capsys)
        assert_refused(rc, err, "--out", message)
        assert "training on" not in err
    if Path("/sys/kernel").is_dir():
        rc, err = cli(train_args(cache_file, "/sys/kernel"), capsys)
        assert_refused(rc, err, "--out /sys/kernel", "already holds files")
        rc, err = cli(train_args(cache_file, "/sys/kernel", "acc", "--overwrite"), capsys)
        assert_refused(rc, err, "--out /sys/kernel", "not writable")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_out_is_refused_before_training(cache_file, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        rc, err = cli(train_args(cache_file, ro), capsys)
        assert_refused(rc, err, "not writable")
    finally:
        ro.chmod(0o700)


def test_a_huge_label_name_is_not_echoed_in_full(cache_file, tmp_path, capsys):
    rc, err = cli(train_args(cache_file, tmp_path / "o", "a" * 10**6), capsys)
    assert_refused(rc, err, f"at most {MAX_LENGTH}")
    assert len(err) < 2000


def test_unexpected_exceptions_still_show_a_traceback(monkeypatch, run_dir):
    import autobuild.predictor.checkpoint as ck

    def bug(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(ck, "load_predictor", bug)
    with pytest.raises(KeyError, match="a bug"):
        main(["score", "--checkpoint", str(run_dir / "predictor.pt")])


# Issue 27: runs that used to exit 0 with a wrong or broken result ----------------------------

def test_a_non_empty_out_is_refused_and_kept(run_dir, cache_file, capsys):
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    rc, err = cli(train_args(cache_file, run_dir), capsys)
    assert_refused(rc, err, f"--out {run_dir} already holds files", "--overwrite")
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before


def test_overwrite_replaces_the_run_folder_whole(run_dir, cache_file, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in ("predictor.pt", "metrics.json"):
        (out / name).write_bytes((run_dir / name).read_bytes())
    (out / "top2_subgraphs.csv").write_text("stale scores of the old model\n")
    old_id = json.loads((out / "metrics.json").read_text())["run_id"]
    assert main(train_args(cache_file, out, "acc", "--overwrite")) == 0
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "predictor.pt"]
    assert json.loads((out / "metrics.json").read_text())["run_id"] != old_id
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging folder left beside it


def test_an_empty_out_is_refused(cache_file, capsys):
    rc, err = cli(train_args(cache_file, ""), capsys)
    assert_refused(rc, err, "--out", "empty")


@pytest.mark.parametrize("target", ["ａｃｃ", "𝑎𝑐𝑐*2", "ℯxp(acc)"])
def test_a_target_python_would_normalise_is_refused(target, cache_file, tmp_path, capsys):
    rc, err = cli(train_args(cache_file, tmp_path / "o", target), capsys)
    assert_refused(rc, err, "NFKC")
    assert not (tmp_path / "o").exists()


def test_nan_labels_stay_nan_through_comparisons(tmp_path, capsys):
    rows = cache_rows(60)
    for row in rows[:7]:
        row["acc"] = math.nan
    data = write_pickle(tmp_path / "nan.pkl", rows)
    rc, err = cli(train_args(data, tmp_path / "o", "acc > 0.75"), capsys)
    assert_refused(rc, err, "undefined (NaN/inf) for 7 of 60")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("target", ["acc*1e200", "acc*1e300", "acc*1e307", "acc*1e-310"])
def test_labels_that_overflow_when_standardised_are_refused_before_training(target, cache_file, tmp_path, capsys):
    rc, err = cli(train_args(cache_file, tmp_path / "o", target), capsys)
    assert_refused(rc, err, "rescale the equation")
    assert "training predictor" not in err and not (tmp_path / "o").exists()


def test_a_diverged_run_writes_nothing(cache_file, tmp_path, capsys):
    rc, err = cli(train_args(cache_file, tmp_path / "o", "acc", "--lr", "1e300"), capsys)
    assert_refused(rc, err, "non-finite test metrics", "lower --lr")
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_data_that_is_no_file_is_named_for_what_it_is(kind, tmp_path, capsys):
    data = tmp_path / "data.pkl"
    os.mkfifo(data) if kind == "fifo" else data.mkdir()
    rc, err = cli(train_args(data, tmp_path / "o"), capsys)
    assert_refused(rc, err, f"--data {data} is a {'FIFO' if kind == 'fifo' else 'folder'}")
    assert "does not exist" not in err


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_sigterm_cleans_up_like_ctrl_c(cache_file, tmp_path):
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "autobuild.cli", *train_args(cache_file, out, "acc", "--seeds", "2"),
                             "--epochs", "100000"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out / "seed1").is_dir() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert not out.exists()  # neither --out nor its empty seed<i>/ folders stay behind
