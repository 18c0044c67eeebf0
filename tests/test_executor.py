"""The executor: the same results in process and on a Dask LocalCluster of 2 worker processes."""
import numpy as np
import pytest

from autobuild.executor import DaskExecutor, Executor, get_executor
from autobuild.experiments.nas import compare_searches
from autobuild.search import Reference, layer_full, stage_full
from autobuild.spaces import MBV3


def synthetic_objectives(archs):
    """Deterministic performance and cost of MBv3 architectures (depth and expand ratios)."""
    perf = np.array([sum(l.expand * l.kernel for s in a.stages for l in s) / 100 for a in archs])
    cost = np.array([a.n_layers * a.resolution / 224 for a in archs])
    return perf, cost


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as c:
        yield c


def test_searches_on_a_dask_cluster_equal_the_in_process_run(cluster):
    spaces = {"Stage-Full": stage_full(MBV3), "Layer-Full": layer_full(MBV3)}
    ref = Reference(0.0, 30.0, "below every performance, above every cost")
    kwargs = dict(budget=60, n_initial=20, per_round=20, progress=False)
    local, local_summary = compare_searches(spaces, synthetic_objectives, [0, 1, 2], ref, **kwargs)
    with get_executor(cluster.scheduler_address) as ex:
        assert isinstance(ex, DaskExecutor)
        remote, remote_summary = compare_searches(spaces, synthetic_objectives, [0, 1, 2], ref, executor=ex, **kwargs)
        assert ex.map(abs, [-3, 2, -1]) == [3, 2, 1]   # input order, whatever finishes first
        assert sorted(ex.as_completed(abs, [-3, 2, -1])) == [(0, 3), (1, 2), (2, 1)]  # each result with its index
    assert len(local) == len(remote) == 6
    for a, b in zip(local, remote):
        assert (a.method, a.seed) == (b.method, b.seed)
        assert np.array_equal(a.perf, b.perf) and np.array_equal(a.cost, b.cost)
        assert [str(x) for x in a.archs] == [str(x) for x in b.archs]
    assert local_summary.equals(remote_summary)


def test_in_process_by_default_and_unreachable_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("AUTOBUILD_SCHEDULER", raising=False)
    assert type(get_executor()) is Executor
    assert Executor().map(lambda v: v * 2, range(3), progress=False) == [0, 2, 4]
    assert list(Executor().as_completed(lambda v: v * 2, [5, 6])) == [(0, 10), (1, 12)]
    pytest.importorskip("dask.distributed")
    monkeypatch.setenv("AUTOBUILD_SCHEDULER", "tcp://127.0.0.1:9")   # nothing listens on the discard port
    with pytest.raises(ValueError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        DaskExecutor("tcp://127.0.0.1:9", timeout=2)
