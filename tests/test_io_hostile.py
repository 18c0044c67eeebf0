"""Atomic writes: strict JSON, the user's file mode, other writers' temporary files."""
import json
import os
import stat

import numpy as np
import pytest

from autobuild import _io
from autobuild.cli import main
from hostile import train_args

def test_metrics_are_strict_json(tmp_path):
    _io.write_json(tmp_path / "m.json", {"srcc": float("nan"), "hops": [1.0, float("inf")]})
    assert json.loads((tmp_path / "m.json").read_text(), parse_constant=lambda c: pytest.fail(c)) == \
        {"srcc": None, "hops": [1.0, None]}


def test_live_writers_temp_files_are_kept(tmp_path):
    mine = tmp_path / f".x.json.{os.getpid()}.abc.tmp"
    dead = tmp_path / ".x.json.999999999.abc.tmp"
    mine.write_text("")
    dead.write_text("")
    _io.write_json(tmp_path / "x.json", {})
    assert mine.exists() and not dead.exists()


# 13. Outputs get the user's mode, not mkstemp's 0600 -----------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_get_the_umask_mode(umask, run_dir, tmp_path, cache_file):
    old = os.umask(umask)
    try:
        out = tmp_path / "run"
        assert main(train_args(cache_file, out)) == 0
        assert main(["score", "--checkpoint", str(out / "predictor.pt"), "--top-k", "2"]) == 0
        from autobuild.experiments.sd_mini import SDRecipe
        from autobuild.experiments.sd_results import ResultStore
        ResultStore(tmp_path / "sd", SDRecipe(steps=7)).add("g", {"arch": "a", "seed": 0}, np.zeros((1, 2, 2, 3), np.uint8))
    finally:
        os.umask(old)
    for path in [out / "predictor.pt", out / "metrics.json", out / "top2_subgraphs.csv",
                 tmp_path / "sd" / "results.json", tmp_path / "sd" / "samples.npz"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path
