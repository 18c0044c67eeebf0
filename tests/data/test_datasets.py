"""LabelledSet, the embedded parquet format, load_dataset sources, and `autobuild data`."""
import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autobuild.data import fetch as paper_fetch
from autobuild import cli
from autobuild.data import load
from autobuild import _paths as paper_caches
from autobuild.data.labelled import LabelledSet, MissingLabelError
from autobuild.data.load import load_dataset
from autobuild.data.parquet import write_parquet
from autobuild.data.equations import EquationError
from autobuild.data.paper_caches import CacheFormatError
from autobuild.spaces.ofa import MBV3, PN

REPO_DATA = Path(__file__).resolve().parents[2] / "data"


def make_set(space=MBV3, n=50, seed=0):
    archs = space.sample(n, seed)
    rng = np.random.default_rng(seed)
    gpu = rng.uniform(5, 20, n)
    gpu[::4] = np.nan                                   # a partially measured column
    labels = pd.DataFrame({"acc": [0.7 + 0.002 * a.n_layers for a in archs], "latency_gpu": gpu,
                           "flops": rng.uniform(2e8, 6e8, n)})
    provenance = {"acc": "test accuracy", "latency_gpu": "test latency (ms)", "flops": "test flops"}
    return LabelledSet(space, archs, labels, provenance, "test")


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOBUILD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AUTOBUILD_CACHE", str(tmp_path / "cache"))
    return tmp_path / "data"


def test_parquet_round_trip_keeps_archs_labels_provenance(data_env):
    original = make_set(PN, 40, seed=2)
    path = write_parquet(original, data_env / "ofa_pn.parquet", {"seed": 2})
    loaded = load_dataset("pn")                              # embedded default, via AUTOBUILD_DATA_DIR
    assert loaded.archs == original.archs and loaded.space is PN
    pd.testing.assert_frame_equal(loaded.labels, original.labels)
    assert loaded.provenance == original.provenance and loaded.source == str(path.resolve())
    meta = json.loads(__import__("pyarrow.parquet").parquet.read_schema(path).metadata[b"autobuild"])
    assert meta["space"] == "pn" and meta["seed"] == 2
    assert load_dataset("pn", path).arch_strings == original.arch_strings


def test_reads_the_generator_scripts_layout(tmp_path):
    """float32 columns, provenance in each field's ``description`` (scripts/make_embedded_data.py)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    archs = MBV3.sample(3, 0)
    schema = pa.schema([pa.field("arch", pa.string(), metadata={"description": "arch text"}),
                        pa.field("acc", pa.float32(), metadata={"description": "ESTIMATE by a predictor"}),
                        pa.field("flops", pa.float32())],
                       metadata={"autobuild": json.dumps({"space": "mbv3", "seed": 0})})
    frame = pd.DataFrame({"arch": [MBV3.to_string(a) for a in archs], "acc": np.float32([0.7, 0.71, 0.72]),
                          "flops": np.float32([1, 2, 3])})
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), tmp_path / "f.parquet")
    d = load_dataset("mbv3", tmp_path / "f.parquet")
    assert d.provenance == {"acc": "ESTIMATE by a predictor", "flops": "no provenance recorded in f.parquet"}
    assert d.labels.dtypes.tolist() == [np.float64, np.float64] and d.archs == archs
    np.testing.assert_allclose(d.target("acc"), [0.7, 0.71, 0.72], rtol=1e-6)


def test_target_subset_and_unknown_labels():
    d = make_set()
    np.testing.assert_allclose(d.target("acc * 100"), d.labels["acc"] * 100)
    with pytest.raises(EquationError, match=r"unknown label\(s\) \['latency_cpu'\].*available"):
        d.target("acc / latency_cpu")
    with pytest.raises(EquationError):
        d.target("__import__('os').system('true')")
    with pytest.raises(MissingLabelError, match="13 of 50"):
        d.target("latency_gpu")
    sub = d.subset([5, 1, 3])
    assert sub.archs == [d.archs[5], d.archs[1], d.archs[3]] and list(sub.labels.index) == [0, 1, 2]
    assert sub.target("flops").tolist() == d.labels["flops"].iloc[[5, 1, 3]].tolist()
    mask = np.zeros(len(d), bool)
    mask[[0, 2]] = True
    assert d.subset(mask).archs == [d.archs[0], d.archs[2]]
    with pytest.raises(IndexError):
        d.subset([50])


def test_labelled_set_validates_its_parts():
    d = make_set(n=5)
    with pytest.raises(ValueError, match="5 architectures but 4 label rows"):
        LabelledSet(MBV3, d.archs, d.labels.iloc[:4], d.provenance, "x")
    with pytest.raises(ValueError, match="no provenance"):
        LabelledSet(MBV3, d.archs, d.labels, {"acc": "a"}, "x")
    with pytest.raises(ValueError, match=r"\['acc'\] are not numeric"):
        LabelledSet(MBV3, d.archs, d.labels.assign(acc="x"), d.provenance, "x")
    made = LabelledSet("pn", PN.sample(2, 0), pd.DataFrame({"flops": [3, 4]}, index=[7, 9]), {"flops": "f"}, "x")
    assert made.space is PN and made.labels["flops"].dtype == np.float64 and list(made.labels.index) == [0, 1]


def test_missing_and_corrupt_embedded_files_say_how_to_restore(data_env):
    with pytest.raises(FileNotFoundError, match=r"ofa_mbv3\.parquet.*data/README\.md"):
        load_dataset("mbv3")
    data_env.mkdir()
    (data_env / "ofa_mbv3.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(CacheFormatError, match=r"ofa_mbv3\.parquet is not a readable parquet.*data/README\.md"):
        load_dataset("mbv3")


def test_wrong_parquet_schemas_are_refused(tmp_path):
    path = tmp_path / "x.parquet"
    pd.DataFrame({"architecture": ["224:e3k3"], "acc": [0.7]}).to_parquet(path)
    with pytest.raises(CacheFormatError, match="expected a string column 'arch'"):
        load_dataset("mbv3", path)
    pd.DataFrame({"arch": [MBV3.to_string(MBV3.sample(1, 0)[0])], "acc": ["high"]}).to_parquet(path)
    with pytest.raises(CacheFormatError, match=r"\['acc'\] are not numeric"):
        load_dataset("mbv3", path)
    write_parquet(make_set(PN, 3), path)
    with pytest.raises(CacheFormatError, match="holds space 'pn', not 'mbv3'"):
        load_dataset("mbv3", path)
    pd.DataFrame({"arch": ["224:e3k9"], "acc": [0.7]}).to_parquet(path)
    with pytest.raises(CacheFormatError, match="bad architecture string"):
        load_dataset("mbv3", path)
    with pytest.raises(ValueError, match="unknown data source 'x.csv'"):
        load_dataset("mbv3", "x.csv")


def test_loads_are_cached_but_independent_and_follow_file_changes(tmp_path):
    path = tmp_path / "c.parquet"
    write_parquet(make_set(n=10), path)
    first = load_dataset("mbv3", path)
    first.labels.loc[0, "acc"] = -1.0
    first.archs.clear()
    second = load_dataset("mbv3", path)
    assert len(second) == 10 and second.labels.loc[0, "acc"] > 0
    write_parquet(make_set(n=12, seed=5), path)
    assert len(load_dataset("mbv3", path)) == 12


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    import pyarrow.parquet as pq
    target = tmp_path / "ofa_mbv3.parquet"

    def broken(table, where, **kwargs):
        Path(where).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    with pytest.raises(OSError, match="disk full"):
        write_parquet(make_set(n=3), target)
    assert list(tmp_path.iterdir()) == []


def test_ir_set_from_labelled_sets_shares_columns():
    pytest.importorskip("ofa")
    mb = make_set(MBV3, 2, seed=1)
    pn = LabelledSet(PN, PN.sample(2, 1), pd.DataFrame({"acc": [0.7, 0.71], "latency_npu": [1.0, 2.0]}),
                     {"acc": "pn acc", "latency_npu": "pn npu"}, "pn test")
    ir_set = load.ir_set_from_labelled([mb, pn], progress=False)
    assert ir_set.families == ["mbv3", "mbv3", "pn", "pn"] and ir_set.columns == ["acc"]
    assert ir_set.target("acc").tolist() == mb.labels["acc"].tolist() + [0.7, 0.71]
    assert "pn: pn acc" in ir_set.provenance["acc"]
    assert ir_set.graphs[2].op_counts()["Div"] == 0 < ir_set.graphs[0].op_counts()["Div"]


@pytest.mark.skipif(not (REPO_DATA / "ofa_mbv3.parquet").is_file() or not (REPO_DATA / "ofa_pn.parquet").is_file(),
                    reason="embedded sets data/ofa_{mbv3,pn}.parquet not generated yet")
def test_embedded_sets_load_with_provenance(monkeypatch):
    monkeypatch.delenv("AUTOBUILD_DATA_DIR", raising=False)
    for name in ("mbv3", "pn"):
        d = load_dataset(name)
        assert len(d) == 3000 and "acc" in d.columns
        assert not any(text.startswith("no provenance") for text in d.provenance.values())
        assert np.isfinite(d.target("acc")).all()


# CLI --------------------------------------------------------------------------------------------

def _run(argv):
    parser = argparse.ArgumentParser(prog="autobuild")
    cli.register_data_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_data_list_shows_presence_and_provenance(data_env, capsys):
    write_parquet(make_set(MBV3, 7), data_env / "ofa_mbv3.parquet")
    cache = paper_caches.cache_dir()
    cache.mkdir(parents=True)
    (cache / "ofa_pn_custom_cache.pkl").write_bytes(b"x" * 2048)
    assert _run(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "mbv3             7 archs" in out and "test latency (ms)" in out
    assert "pn               MISSING" in out
    assert "ofa_pn_custom_cache.pkl" in out and "present, 2 KiB" in out
    assert out.count("not downloaded") == 4
    from autobuild.cli import main                       # the console script wires the same commands
    assert main(["data", "list"]) == 0 and "ofa_pn_custom_cache.pkl" in capsys.readouterr().out


def test_data_fetch_command(data_env, monkeypatch, capsys):
    import huggingface_hub
    seen = []

    def fake_download(repo_id, filename, repo_type, local_dir, force_download):
        seen.append((filename, force_download))
        (Path(local_dir) / filename).write_bytes(b"y" * 100)
        return str(Path(local_dir) / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(paper_fetch, "_check_reachable", lambda: None)  # no network in tests
    assert _run(["data", "fetch", "--only", "mbv3", "pn_pan_seg", "--force"]) == 0
    assert seen == [("ofa_mbv3_custom_cache.pkl", True), ("ofa_pn_pan_seg_custom_cache.pkl", True)]
    assert "ofa_pn_pan_seg_custom_cache.pkl" in capsys.readouterr().out

    def offline(**kwargs):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    with pytest.raises(cli.paper_caches.FetchError, match="no route to host"):
        _run(["data", "fetch", "--only", "pn"])
    from autobuild.cli import main                       # the console script reports it on stderr, exit 2
    assert main(["data", "fetch", "--only", "pn"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "autobuild: error: could not download" in captured.err
    assert "no route to host" in captured.err
    with pytest.raises(SystemExit):
        _run(["data", "fetch", "--only", "imagenet"])
