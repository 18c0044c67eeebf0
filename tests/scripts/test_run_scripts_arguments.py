"""run_sd_mini.py, run_full_nas.py and run_notebooks.py check every argument before any work."""
import importlib.util
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_sd_mini, run_full_nas, run_notebooks = (_script(n) for n in ("run_sd_mini", "run_full_nas", "run_notebooks"))


def _refused(main, argv, capsys, *fragments):
    start = time.perf_counter()
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert "error:" in err and "Traceback" not in err
    for f in fragments:
        assert f in err, (f, err)
    assert time.perf_counter() - start < 15
    return err


NO_GPU = [] if torch.cuda.is_available() else [(["--device", "cuda"], "no CUDA GPU")]


@pytest.mark.parametrize("argv, message", [
    (["--steps", "-5"], "argument --steps"), (["--steps", "0"], "argument --steps"),
    (["--limit", "-67"], "argument --limit"), (["--limit", "0"], "argument --limit"),
    (["--threads", "-1"], "argument --threads"), (["--threads", "0"], "argument --threads"),
    (["--ensemble-seeds", "0"], "argument --ensemble-seeds"), (["--ensemble-seeds", "100000"], "--ensemble-seeds"),
    (["--extra-seeds", "1,x"], "--extra-seeds"), (["--extra-seeds", "0"], "--extra-seeds"),
    (["--extra-seeds", "4294967296"], "--extra-seeds"), (["--stages", "bogus"], "unknown stage"),
    (["--scheduler", "bogus"], "not of the form tcp://HOST:PORT"),
    (["--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler"),
    (["--scheduler", "tcp://host:99999"], "malformed"),
    (["--device", "bogus"], "device must be one of"),
] + NO_GPU)
def test_run_sd_mini_refuses_bad_arguments_and_writes_no_recipe(argv, message, tmp_path, capsys):
    out = tmp_path / "sd"
    _refused(run_sd_mini.main, ["--out", str(out), "--stages", "random68", *argv], capsys, message)
    assert not (out / "recipe.json").exists() and not (out / "results.json").exists()


def test_run_sd_mini_refuses_an_out_under_a_file(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    _refused(run_sd_mini.main, ["--out", str(tmp_path / "f" / "sd"), "--stages", "random68"], capsys, "is under")


@pytest.mark.parametrize("argv, message", [
    (["--threads", "0"], "--threads"), (["--threads", "-3"], "--threads"),
    (["--first-seed", str(2**32)], "below 2**32"), (["--first-seed", "-1"], "--first-seed"),
    (["--seeds", "0"], "--seeds"), (["--seeds", "100000"], "--seeds"),
    (["--device", "bogus"], "device must be one of"), (["--models", "gcn"], "unknown model"),
    (["--recipes", "fast"], "unknown recipe"), (["--readout", "mean"], "unknown --readout"),
] + NO_GPU)
def test_run_full_nas_refuses_bad_arguments_before_compute(argv, message, tmp_path, capsys):
    out = tmp_path / "hv.csv"
    _refused(run_full_nas.main, ["--out", str(out), *argv], capsys, message)
    assert not out.exists()


def test_run_full_nas_refuses_an_out_it_cannot_write_before_compute(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    _refused(run_full_nas.main, ["--out", str(tmp_path / "f" / "hv.csv")], capsys, "is under", "not a folder")
    _refused(run_full_nas.main, ["--out", str(tmp_path)], capsys, "is a folder")


@pytest.mark.parametrize("argv, message", [
    (["--only", ""], "--only needs non-empty"), (["--only", "99"], "no notebook"),
    (["--jobs", "0"], "--jobs"), (["--timeout", "0"], "--timeout"),
    (["--seeds", "100000", "--output-dir", "x"], "at most 1000"),
    (["-p", "seeds", "0", "--output-dir", "x"], "seeds must be a positive integer"),
    (["--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler"),
])
def test_run_notebooks_refuses_bad_arguments_before_executing(argv, message, capsys):
    _refused(run_notebooks.main, argv, capsys, message)
