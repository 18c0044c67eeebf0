"""Fixtures shared across the test folders (which mirror the package's subpackages)."""
import numpy as np
import pytest

from autobuild.predictor import TrainConfig, train_predictor
from autobuild.spaces.ofa import MBV3


def good_blocks(arch) -> float:
    """A known ground truth: wide (e6) and large-kernel (k7) layers are good."""
    return float(sum((l.expand == 6) + 0.5 * (l.kernel == 7) for s in arch.stages for l in s))


@pytest.fixture(scope="session")
def synthetic_label():
    """The known ground truth ``good_blocks(arch)``: wide (e6) and large-kernel (k7) layers are good."""
    return good_blocks


@pytest.fixture(scope="session")
def synthetic_mbv3():
    """600 MBv3 architectures labelled by :func:`good_blocks`."""
    archs = MBV3.sample(600, seed=0)
    return archs, np.array([good_blocks(a) for a in archs], dtype=float)


@pytest.fixture(scope="session")
def tiny_trained(synthetic_mbv3):
    """A small companion predictor trained on :func:`synthetic_mbv3`: ``(trained, archs, y)``."""
    archs, y = synthetic_mbv3
    config = TrainConfig(epochs=25, lr=3e-3, batch_size=64, seed=0, progress=False)
    return train_predictor(MBV3, archs, y, config), archs, y


@pytest.fixture(scope="module")
def cache_file(tmp_path_factory):
    """A paper-style cache of 60 MBv3 architectures (``hostile.cache_rows``)."""
    from hostile import cache_rows, write_pickle

    return write_pickle(tmp_path_factory.mktemp("data") / "cache.pkl", cache_rows())


@pytest.fixture(scope="module")
def run_dir(cache_file, tmp_path_factory):
    """A trained run (1 epoch) on :func:`cache_file`: predictor.pt and metrics.json."""
    from autobuild.cli import main
    from hostile import train_args

    out = tmp_path_factory.mktemp("run")
    assert main(train_args(cache_file, out)) == 0
    return out
