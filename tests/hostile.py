"""Helpers of the hostile-input tests: small labelled caches, CLI calls, writers racing each other."""
import multiprocessing
import pickle

from autobuild.cli import main
from autobuild.spaces.registry import get_space

MBV3 = get_space("mbv3")


def cache_rows(n=60, seed=5, label=None):
    """``n`` rows of a paper-style cache of MBv3 architectures with ``acc`` and ``latency_gpu``."""
    archs = MBV3.sample(n, seed=seed)
    label = label or (lambda i, a: 0.7 + 0.01 * sum(l.expand == 6 for s in a.stages for l in s) + 0.001 * i)
    return [{"original config": MBV3.to_cache_config(a), "acc": label(i, a), "latency_gpu": 5.0 + a.n_layers * 0.3}
            for i, a in enumerate(archs)]


def write_pickle(path, obj):
    path.write_bytes(pickle.dumps(obj))
    return path


def cli(args, capsys):
    """``(exit status, stderr)`` of ``autobuild ARGS``; an unexpected exception propagates."""
    rc = main([str(a) for a in args])
    return rc, capsys.readouterr().err


def train_args(data, out, target="acc", *extra):
    return [str(a) for a in ["train", "--space", "mbv3", "--target", target, "--data", data, "--epochs", "1",
                             "--out", out, *extra]]


def assert_refused(rc, err, *fragments):
    """Exit status 2, one ``autobuild: error:`` line naming every fragment, no traceback."""
    assert rc == 2, err
    assert err.strip().splitlines()[-1].startswith("autobuild: error: "), err
    assert "Traceback" not in err
    for f in fragments:
        assert f in err, (f, err)


def race(target, args_per_process, timeout: float = 300) -> None:
    """Run ``target(*args, barrier)`` in one forked process per ``args``, released together by the
    barrier; every process must exit 0."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(args_per_process))
    procs = [ctx.Process(target=target, args=(*args, barrier)) for args in args_per_process]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=timeout)
    assert [p.exitcode for p in procs] == [0] * len(procs)
