"""The embedded labelled sets against their data card, and their regeneration."""
import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy.stats import spearmanr

from autobuild import _paths as ev
from autobuild.spaces.registry import get_space

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
CARD = (DATA / "README.md").read_text()
SHARED = ev.shared_data_dir()
needs_shared = pytest.mark.skipif(
    not (SHARED / "autobuild_l1_models").is_dir() or not (SHARED / "ofa").is_dir(),
    reason=f"third-party files not found at {SHARED} (set ${ev.SHARED_ENV} to the shared data directory)")

# | `ofa_mbv3.parquet` | mbv3 | 3000 | 2024 |
FILES = {m[1]: (m[2], int(m[3]), int(m[4]))
         for m in re.finditer(r"^\| `(ofa_\w+\.parquet)` \| (\w+) \| (\d+) \| (\d+) \|", CARD, re.M)}
# | `acc` | mbv3, pn | estimate | ... | `0.6 – 0.9` |
COLUMNS = {m[1]: (set(m[2].split(", ")), m[3], float(m[4]), float(m[5]))
           for m in re.finditer(r"^\| `(\w+)` \| ([\w, ]+) \| (\w+) \|.*\| `?([\d.]+) – ([\d.]+)`? \|$", CARD, re.M)}


def documented(space: str) -> dict:
    return {c: v for c, v in COLUMNS.items() if space in v[0]}


def read(name: str) -> tuple[pd.DataFrame, dict, pq.ParquetFile]:
    pf = pq.ParquetFile(DATA / name)
    return pf.read().to_pandas(), json.loads(pf.schema_arrow.metadata[b"autobuild"]), pf


def test_card_documents_both_sets():
    assert set(FILES) == {"ofa_mbv3.parquet", "ofa_pn.parquet"}
    assert {"acc", "latency_gpu", "flops", "n_params", "latency_cpu_measured"} <= set(COLUMNS)


@pytest.mark.parametrize("name", ["ofa_mbv3.parquet", "ofa_pn.parquet"])
def test_set_matches_its_card(name):
    space_name, rows, seed = FILES[name]
    frame, meta, pf = read(name)
    cols = documented(space_name)
    assert len(frame) == rows and meta["n"] == rows and meta["seed"] == seed and meta["space"] == space_name
    assert frame.columns[0] == "arch" and set(frame.columns) == {"arch", *cols}
    # the architectures are exactly the documented seeded sample
    space = get_space(space_name)
    assert frame["arch"].tolist() == [space.to_string(a) for a in space.sample(rows, seed=seed)]
    schema = pf.schema_arrow
    for col, (_, kind, low, high) in cols.items():
        values = frame[col].to_numpy()
        assert frame[col].dtype == np.float32, col
        assert not np.isnan(values).any(), col
        assert low <= values.min() and values.max() <= high, (col, values.min(), values.max())
        assert meta["kinds"][col] == kind, col
        description = schema.field(col).metadata[b"description"].decode()
        assert description.upper().startswith(kind.upper()[:7]), (col, description)


def test_mbv3_estimates_rank_agree_with_ofa_and_the_card_names_the_stored_figure():
    frame, meta, _ = read("ofa_mbv3.parquet")
    srcc = spearmanr(frame["acc"], frame["acc_ofa"]).statistic
    assert srcc >= 0.8
    # the card names the stored figure instead of typing it
    assert "`srcc_acc_vs_acc_ofa`" in CARD and meta["srcc_acc_vs_acc_ofa"] == pytest.approx(srcc, abs=5e-4)
    fitting = [r for r in meta["specialized_nets"] if r["fits"]]
    assert fitting and all(abs(r["difference"]) < 2 for r in fitting)


@pytest.mark.parametrize("name", ["ofa_mbv3.parquet", "ofa_pn.parquet"])
def test_measured_latency_follows_the_counted_work(name):
    # a measurement drowned in the shared machine's noise would not rank-agree with FLOPs
    frame, _, _ = read(name)
    assert spearmanr(frame["flops"], frame["latency_cpu_measured"]).statistic > 0.5


def _run(tmp_path, *args):
    env = os.environ | {ev.SHARED_ENV: str(SHARED)}
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "make_embedded_data.py"), "--out-dir",
                           str(tmp_path), "--n", "3", "--warmup", "0", "--repeats", "1", *args],
                          capture_output=True, text=True, env=env, timeout=600)


@needs_shared
def test_regeneration_reproduces_the_first_rows_and_resumes(tmp_path):
    # plant a checkpoint row for PN: the run must resume from it rather than re-measure it
    pn_first = get_space("pn").sample(1, seed=FILES["ofa_pn.parquet"][2])[0]
    with open(tmp_path / "ofa_pn.partial.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["index", "arch", "flops", "n_params", "latency_cpu_measured"])
        writer.writerow([0, get_space("pn").to_string(pn_first), 1.0, 2.0, 1234.5])
    result = _run(tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not list(tmp_path.glob("*.partial.csv")) and not list(tmp_path.glob("*.tmp"))
    for name in FILES:
        new = pd.read_parquet(tmp_path / name)
        old = pd.read_parquet(DATA / name).iloc[:3]
        assert new["arch"].tolist() == old["arch"].tolist()
        for col in new.columns[1:]:
            if col == "latency_cpu_measured" or (name == "ofa_pn.parquet" and col in ("flops", "n_params")):
                continue
            np.testing.assert_allclose(new[col], old[col], rtol=1e-5, err_msg=col)
    pn = pd.read_parquet(tmp_path / "ofa_pn.parquet")
    assert pn.loc[0, ["flops", "n_params", "latency_cpu_measured"]].tolist() == [1.0, 2.0, 1234.5]
    np.testing.assert_allclose(pn["flops"][1:], pd.read_parquet(DATA / "ofa_pn.parquet")["flops"][1:3], rtol=1e-5)


@needs_shared
def test_regeneration_refuses_a_foreign_checkpoint(tmp_path):
    (tmp_path / "ofa_pn.partial.csv").write_text("index,arch,flops,n_params,latency_cpu_measured\n"
                                                 "0,224:e3k3,1,2,3\n")
    result = _run(tmp_path, "--spaces", "pn")
    assert result.returncode != 0 and "belongs to another run" in result.stderr
    assert not (tmp_path / "ofa_pn.parquet").exists()


@pytest.mark.parametrize("name", ["ofa_mbv3.parquet", "ofa_pn.parquet"])
def test_package_writer_reproduces_the_committed_files(name, tmp_path):
    """scripts/make_embedded_data.py writes through autobuild.data.write_parquet(dtype="float32")."""
    from autobuild.data.load import load_dataset
    from autobuild.data.parquet import write_parquet

    committed = pq.read_table(DATA / name)
    meta = json.loads(committed.schema.metadata[b"autobuild"])
    data = load_dataset(meta["space"], source=str(DATA / name))
    out = write_parquet(data, tmp_path / name, {k: v for k, v in meta.items() if k != "space"}, dtype="float32")
    rewritten = pq.read_table(out)
    assert rewritten.schema.equals(committed.schema, check_metadata=True)
    assert rewritten.equals(committed)
    assert pq.ParquetFile(out).metadata.row_group(0).column(1).compression == "ZSTD"
    assert oct(out.stat().st_mode & 0o777) == "0o644" and list(tmp_path.iterdir()) == [out]
