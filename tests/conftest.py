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
