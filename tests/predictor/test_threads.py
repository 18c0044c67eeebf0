"""CPU threads of training: one predictor alone on one thread, several at once on every CPU the
process may use, an explicit ``TrainConfig.cpu_threads`` or ``AUTOBUILD_CPU_THREADS`` obeyed, and
``make book``'s kernels each on their share."""
import importlib.util
import os
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from autobuild.book.params import pin_kernel_threads
from autobuild.predictor import config as cfg
from autobuild.predictor.config import THREADS_ENV, TrainConfig, available_cpus, cpu_threads, resolve_threads

ROOT = Path(__file__).resolve().parents[2]
CPUS = max(os.cpu_count() or 1, 1)


def _run_notebooks():
    spec = importlib.util.spec_from_file_location("run_notebooks_under_test", ROOT / "scripts" / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def torch_threads():
    """Restores torch's thread count after a test that changes it."""
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


def test_the_default_is_automatic():
    assert TrainConfig().cpu_threads is None
    assert TrainConfig().to_dict()["cpu_threads"] is None


def test_available_cpus_is_the_affinity_mask_without_the_variable(monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    monkeypatch.setattr(cfg.os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    assert available_cpus() == 3
    monkeypatch.delattr(cfg.os, "sched_getaffinity")
    monkeypatch.setattr(cfg.os, "cpu_count", lambda: 7)
    assert available_cpus() == 7


@pytest.mark.parametrize("value, expected", [("1", 1), (f" {CPUS} ", CPUS)])
def test_the_variable_sets_the_available_cpus(value, expected, monkeypatch):
    monkeypatch.setenv(THREADS_ENV, value)
    monkeypatch.setattr(cfg.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert available_cpus() == expected


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "", str(CPUS + 1), "١"])
def test_a_bad_variable_is_refused_naming_it_and_its_value(value, monkeypatch):
    monkeypatch.setenv(THREADS_ENV, value)
    with pytest.raises(ValueError, match=re.escape(f"{THREADS_ENV}={value!r} must be an integer in [1, {CPUS}]")):
        available_cpus()
    # training refuses it before it changes torch's threads
    before = torch.get_num_threads()
    with pytest.raises(ValueError, match=THREADS_ENV):
        with cpu_threads(TrainConfig(), n_models=2):
            pass
    assert torch.get_num_threads() == before


def test_one_predictor_alone_gets_one_thread_and_several_every_available_cpu(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, str(CPUS))
    assert resolve_threads(TrainConfig(), 1) == 1
    assert resolve_threads(TrainConfig(), 2) == CPUS
    assert resolve_threads(TrainConfig(), 20) == CPUS
    monkeypatch.setenv(THREADS_ENV, "1")
    assert resolve_threads(TrainConfig(), 20) == 1


def test_an_explicit_count_is_obeyed_whatever_the_number_of_models(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "1")
    assert resolve_threads(TrainConfig(cpu_threads=CPUS), 1) == CPUS
    assert resolve_threads(TrainConfig(cpu_threads=1), 20) == 1
    monkeypatch.setenv(THREADS_ENV, "not a number")  # not read when the config says
    assert resolve_threads(TrainConfig(cpu_threads=1), 20) == 1


@pytest.mark.parametrize("n_models", [0, -1, 1.0, True, None])
def test_a_number_of_models_below_one_is_refused(n_models):
    with pytest.raises(ValueError, match="n_models must be an integer >= 1"):
        resolve_threads(TrainConfig(), n_models)


@pytest.mark.parametrize("threads", [0, CPUS + 1, 1.0, "2", True])
def test_impossible_explicit_counts_are_refused(threads):
    with pytest.raises(ValueError, match=r"cpu_threads=.*must be None \(automatic\) or an integer"):
        TrainConfig(cpu_threads=threads)


def test_the_context_manager_sets_and_restores_torchs_threads(monkeypatch, torch_threads):
    monkeypatch.setenv(THREADS_ENV, str(CPUS))
    torch.set_num_threads(CPUS)
    with cpu_threads(TrainConfig()):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == CPUS
    torch.set_num_threads(1)
    with cpu_threads(TrainConfig(), n_models=3):
        assert torch.get_num_threads() == CPUS
    assert torch.get_num_threads() == 1
    with pytest.raises(RuntimeError, match="inside"):
        with cpu_threads(TrainConfig(cpu_threads=CPUS)):
            assert torch.get_num_threads() == CPUS
            raise RuntimeError("inside")
    assert torch.get_num_threads() == 1


def test_train_many_runs_several_dense_predictors_on_the_available_cpus(monkeypatch, torch_threads):
    """What train_many asks for: every available CPU for 2 predictors at once on the dense path, one
    thread for 1, and one for PyG's (which trains them one after another)."""
    from autobuild.graphs.table import GraphTable
    from autobuild.predictor import training

    seen = []
    monkeypatch.setattr(training.dense, "fit", lambda *a: seen.append(("dense", torch.get_num_threads())) or [])
    monkeypatch.setattr(training.pyg, "fit", lambda *a: seen.append(("pyg", torch.get_num_threads())) or [])
    monkeypatch.setenv(THREADS_ENV, str(CPUS))
    n = 8
    chains = GraphTable.from_arrays([np.zeros((3, 1), dtype=np.int64)] * n)
    y = np.arange(n, dtype=float)
    vocab = {"op": [0]}
    torch.set_num_threads(1)
    training.train_many(chains, vocab, [y, y], [TrainConfig(seed=0), TrainConfig(seed=1)])
    training.train_many(chains, vocab, [y], [TrainConfig()])
    training.train_many(chains, vocab, [y, y], [TrainConfig(seed=0), TrainConfig(seed=1)], path="pyg")
    assert seen == [("dense", CPUS), ("dense", 1), ("pyg", 1)]


def test_a_kernel_runs_on_its_share(monkeypatch, torch_threads):
    params = SimpleNamespace(device="cpu")  # all pin_kernel_threads reads of the parameters
    monkeypatch.setenv(THREADS_ENV, "1")
    torch.set_num_threads(CPUS)
    pin_kernel_threads(params)
    assert torch.get_num_threads() == 1
    monkeypatch.setenv(THREADS_ENV, str(CPUS))
    pin_kernel_threads(params)
    assert torch.get_num_threads() == CPUS


@pytest.mark.parametrize("cpus, jobs, share", [(2, 2, "1"), (2, 1, "2"), (16, 2, "8"), (16, 3, "5"), (2, 4, "1")])
def test_make_books_kernels_each_get_their_fair_share(cpus, jobs, share):
    run_notebooks = _run_notebooks()
    assert run_notebooks.THREADS_ENV == THREADS_ENV
    env = run_notebooks.kernel_env({"TQDM_DISABLE": "1"}, jobs, cpus=cpus, outer={})
    assert env == {"TQDM_DISABLE": "1", THREADS_ENV: share}


def test_a_share_the_user_set_is_kept():
    run_notebooks = _run_notebooks()
    assert run_notebooks.kernel_env({}, 2, cpus=16, outer={THREADS_ENV: "3"}) == {}
    assert run_notebooks.kernel_env({THREADS_ENV: "5"}, 2, cpus=16, outer={}) == {THREADS_ENV: "5"}
    with pytest.raises(ValueError, match="jobs must be an integer >= 1"):
        run_notebooks.kernel_env({}, 0, cpus=2, outer={})


def test_make_books_kernels_see_the_share_in_their_environment(monkeypatch, tmp_path):
    """run_in_place hands the share to the kernels (through the environment they inherit)."""
    run_notebooks = _run_notebooks()
    monkeypatch.delenv(THREADS_ENV, raising=False)
    monkeypatch.setattr(run_notebooks.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    seen = {}
    monkeypatch.setattr(run_notebooks, "_run_one_in_place",
                        lambda path, timeout, env: seen.setdefault(path.name, {**os.environ, **env}[THREADS_ENV]))
    run_notebooks.run_in_place([tmp_path / "01_a.ipynb", tmp_path / "02_b.ipynb"], 10, {}, jobs=2)
    assert seen == {"01_a.ipynb": "1", "02_b.ipynb": "1"}
    assert THREADS_ENV not in os.environ  # the runner's own environment is restored


def test_side_by_side_kernels_read_their_share(monkeypatch, tmp_path):
    """End to end: each of two Jupyter kernels run at once sees cpus // 2 threads (at least 1)."""
    import nbformat

    run_notebooks = _run_notebooks()
    monkeypatch.delenv(THREADS_ENV, raising=False)
    cell = "from autobuild.predictor.config import available_cpus\nprint(available_cpus())"
    paths = []
    for i in (1, 2):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        paths.append(tmp_path / f"0{i}_share.ipynb")
        nbformat.write(nb, paths[-1])
    run_notebooks.run_in_place(paths, timeout=120, env={}, jobs=2)
    share = str(max(1, len(os.sched_getaffinity(0)) // 2))
    printed = [[out["text"].strip() for out in nbformat.read(p, as_version=4).cells[0].outputs
                if out.get("name") == "stdout"] for p in paths]
    assert printed == [[share], [share]]


def test_a_scripts_thread_count_reaches_predictors_trained_at_once(monkeypatch, torch_threads):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    cfg.use_threads(1)
    assert torch.get_num_threads() == 1 and os.environ[THREADS_ENV] == "1"
    assert resolve_threads(TrainConfig(), n_models=20) == 1   # not every CPU: the script asked for one
    cfg.use_threads(10 * (os.cpu_count() or 1))              # more than the machine has: capped for training
    assert os.environ[THREADS_ENV] == str(os.cpu_count())
