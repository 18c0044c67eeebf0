"""Paper caches: restricted unpickling, schema validation, Hugging Face fetch (mocked)."""
import math
import os
import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from autobuild.data import fetch as paper_fetch
from autobuild.data import load as datasets
from autobuild.data import paper_caches
from autobuild.data.labelled import MissingLabelError
from autobuild.data.load import load_dataset
from autobuild.data.paper_caches import CacheFormatError, UnsafePickleError
from autobuild.spaces.ofa import MBV3, PN

SAMPLE = Path(os.environ.get("AUTOBUILD_SHARED_DATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "data")) \
    / "paper_schema_samples" / "mbv3_ofaacc_3k_cache.pkl"


def write_sequence_cache(path, space, n, seed=0, **label_fns):
    """A cache in the paper's sequence schema; ``label_fns[name](i, arch)`` gives each label."""
    archs = space.sample(n, seed)
    entries = []
    for i, a in enumerate(archs):
        entry = {"original config": space.to_cache_config(a)}
        for name, fn in label_fns.items():
            value = fn(i, a)
            if value is not KeyError:
                entry[name] = value
        entries.append(entry)
    with open(path, "wb") as f:
        pickle.dump(entries, f)
    return archs


def _acc(i, a):
    return 0.70 + 0.001 * a.n_layers + 0.0001 * a.resolution


@pytest.fixture
def cache_env(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOBUILD_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


# Refusals -------------------------------------------------------------------------------------

class _Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return self.fn, (self.arg,)


def test_pickle_importing_os_system_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.")
    with pytest.raises(UnsafePickleError, match=r"'os\.system'"):
        load_dataset("mbv3", path)
    assert not marker.exists()


def test_pickle_calling_eval_inside_an_entry_is_refused(tmp_path):
    path = tmp_path / "evil2.pkl"
    with open(path, "wb") as f:
        pickle.dump([{"original config": (224, []), "acc": _Evil(eval, "__import__('os').getpid()")}], f)
    with pytest.raises(UnsafePickleError, match=r"builtins\.eval"):
        paper_caches.read_sequence_cache(path, MBV3)


def test_sequence_unpickler_refuses_onnx_ir_classes(tmp_path, fake_onnx_ir):
    path = tmp_path / "ir.pkl"
    with open(path, "wb") as f:
        pickle.dump([{"graph": fake_onnx_ir.graph(), "acc": 0.5}], f)
    fake_onnx_ir.remove()
    with pytest.raises(UnsafePickleError, match=r"onnx_ir\.graph\.Graph"):
        paper_caches.load_pickle(path, "sequence")


def test_empty_and_truncated_files_are_refused(tmp_path):
    empty = tmp_path / "empty.pkl"
    empty.write_bytes(b"")
    with pytest.raises(CacheFormatError, match="empty"):
        load_dataset("mbv3", empty)
    good = tmp_path / "good.pkl"
    write_sequence_cache(good, MBV3, 5, acc=_acc)
    cut = tmp_path / "cut.pkl"
    cut.write_bytes(good.read_bytes()[:-40])
    with pytest.raises(CacheFormatError, match="truncated or corrupt"):
        load_dataset("mbv3", cut)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset("mbv3", tmp_path / "absent.pkl")


@pytest.mark.parametrize("payload, message", [
    ({"original config": (224, [])}, "list of dicts"),
    ([], "no entries"),
    ([("not", "a dict")], "entry 0 is a tuple"),
    ([{"config": (224, []), "acc": 0.7}], "no 'original config'"),
    ([{"original config": (224, [["mbconv3_e5_k3"]]), "acc": 0.7}], "entry 0"),
    ([{"original config": "224:e3k3"}], "entry 0"),
])
def test_wrong_schema_is_refused(tmp_path, payload, message):
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(payload))
    with pytest.raises(CacheFormatError, match=message):
        load_dataset("mbv3", path)


def test_non_numeric_labels_and_label_free_caches_are_refused(tmp_path):
    path = tmp_path / "strlabel.pkl"
    write_sequence_cache(path, MBV3, 4, acc=lambda i, a: "0.7" if i == 2 else 0.7)
    with pytest.raises(CacheFormatError, match="label 'acc' of entry 2"):
        load_dataset("mbv3", path)
    write_sequence_cache(path, MBV3, 4)
    with pytest.raises(CacheFormatError, match="no numeric label"):
        load_dataset("mbv3", path)


def test_architectures_of_another_space_are_refused(tmp_path):
    path = tmp_path / "pn.pkl"
    write_sequence_cache(path, PN, 3, acc=_acc)
    with pytest.raises(CacheFormatError, match="entry 0"):
        load_dataset("mbv3", path)
    assert len(load_dataset("pn", path)) == 3


def test_nan_and_missing_labels_are_kept_then_refused_or_dropped(tmp_path):
    path = tmp_path / "gaps.pkl"
    write_sequence_cache(path, MBV3, 10, acc=_acc,
                         latency_gpu=lambda i, a: {3: math.nan, 4: None, 5: KeyError}.get(i, 10.0 + i))
    d = load_dataset("mbv3", path)
    assert len(d) == 10 and d.labels["latency_gpu"].isna().sum() == 3
    assert np.isfinite(d.target("acc")).all()
    with pytest.raises(MissingLabelError, match=r"3 of 10 .*latency_gpu.: 3"):
        d.target("acc*100/latency_gpu")
    with pytest.warns(UserWarning, match="dropped 3 of 10"):
        kept = d.defined("acc*100/latency_gpu")
    assert len(kept) == 7 and np.isfinite(kept.target("acc*100/latency_gpu")).all()
    assert [d.arch_strings[i] for i in (0, 1, 2, 6, 7, 8, 9)] == kept.arch_strings


# Reading ----------------------------------------------------------------------------------------

def test_sequence_cache_round_trip_with_numpy_labels(tmp_path):
    path = tmp_path / "c.pkl"
    archs = write_sequence_cache(path, PN, 30, seed=3, acc=lambda i, a: np.float32(_acc(i, a)),
                                 latency_npu=lambda i, a: np.float64(i), flops=lambda i, a: int(100 + i),
                                 note=lambda i, a: f"arch {i}")
    d = load_dataset("pn", path)
    assert d.archs == archs
    assert d.columns == ["acc", "latency_npu", "flops"]            # the string key is metadata, left out
    np.testing.assert_allclose(d.target("acc"), [np.float32(_acc(i, a)) for i, a in enumerate(archs)])
    assert d.target("flops - 100").tolist() == list(range(30))
    assert "Kirin 9000" in d.provenance["latency_npu"] and "c.pkl" in d.provenance["acc"]


def test_paper_source_and_pan_seg_task_read_the_cache_folder(cache_env):
    with pytest.raises(FileNotFoundError, match="autobuild data fetch --only mbv3"):
        load_dataset("mbv3", "paper")
    cache_env.mkdir()
    write_sequence_cache(cache_env / "ofa_mbv3_custom_cache.pkl", MBV3, 8, acc=_acc,
                         latency_gpu=lambda i, a: 5.0 + i)
    write_sequence_cache(cache_env / "ofa_mbv3_pan_seg_custom_cache.pkl", MBV3, 6,
                         pan_seg_PQ=lambda i, a: 40.0 + i, flops_pan_seg=lambda i, a: 1e9 + i)
    d = load_dataset("mbv3", "paper")
    assert len(d) == 8 and d.columns == ["acc", "latency_gpu"]
    seg = load_dataset("mbv3", "paper", task="pan_seg")
    assert seg.columns == ["pan_seg_PQ", "flops_pan_seg"] and len(seg) == 6
    assert seg.target("pan_seg_PQ").tolist() == [40.0 + i for i in range(6)]


@pytest.mark.skipif(not SAMPLE.is_file(), reason=f"real-schema sample {SAMPLE} not present (set AUTOBUILD_SHARED_DATA)")
def test_real_schema_sample_loads():
    import pickle as _p
    d = load_dataset("mbv3", SAMPLE)
    assert len(d) == 3000 and d.columns == ["acc"]
    acc = d.target("acc")
    assert np.isfinite(acc).all() and 0.6 < acc.min() < acc.max() < 0.9
    assert {a.resolution for a in d.archs} == set(MBV3.resolutions)
    with open(SAMPLE, "rb") as f:
        first = _p.load(f)[0]                # the sample is our own file, so plain pickle is fine here
    assert MBV3.to_cache_config(d.archs[0]) == (first["original config"][0],
                                               [list(s) for s in first["original config"][1]])


# ONNX-IR cache ----------------------------------------------------------------------------------

class _FakeOnnxIR:
    """Classes at the authors' import paths ``onnx_ir.graph.Graph`` / ``onnx_ir.node.Node``."""

    def __init__(self):
        self.modules = {name: types.ModuleType(name) for name in ("onnx_ir", "onnx_ir.graph", "onnx_ir.node")}
        graph_cls = type("Graph", (), {"__module__": "onnx_ir.graph"})
        node_cls = type("Node", (), {"__module__": "onnx_ir.node"})
        self.modules["onnx_ir.graph"].Graph, self.modules["onnx_ir.node"].Node = graph_cls, node_cls
        sys.modules.update(self.modules)
        self.Graph, self.Node = graph_cls, node_cls

    def remove(self):
        for name in self.modules:
            sys.modules.pop(name, None)

    def node(self, sid, op, shape=None, attribute=None):
        n = self.Node()
        dims = [{"dimValue": str(d)} for d in shape] if shape else []
        n.__dict__.update(str_id=sid, name=sid, op_type=op, inputs=[], attribute=attribute, initializer=None,
                          outputs=[{"name": sid, "type": {"tensorType": {"shape": {"dim": dims}}}}] if shape else [])
        return n

    def graph(self, hswish=True):
        ops = [("in", "input_dummy", (1, 3, 8, 8)), ("c", "Conv", (1, 16, 4, 4))]
        ops += [("k", "Constant", None), ("a", "Add", (1, 16, 4, 4)), ("r", "Clip", (1, 16, 4, 4)),
                ("d", "Div", (1, 16, 4, 4))] if hswish else [("r", "Clip", (1, 16, 4, 4))]
        ops += [("p", "GlobalAveragePool", (1, 16, 1, 1)), ("out", "output_dummy", None)]
        nodes = [self.node(s, o, sh, [{"name": "kernel_shape", "ints": ["3", "3"]}] if o == "Conv" else None)
                 for s, o, sh in ops]
        chain = [s for s, o, _ in ops if o != "Constant"]
        src2dst = {a: [b] for a, b in zip(chain, chain[1:])}
        if hswish:
            src2dst["k"] = ["a"]
        g = self.Graph()
        g.__dict__.update(onnx_meta_info={"opset": 11}, metadata={}, nodes=nodes, src2dst=src2dst,
                          input_nodes=nodes[:1], output_nodes=nodes[-1:])
        return g


@pytest.fixture
def fake_onnx_ir():
    fake = _FakeOnnxIR()
    yield fake
    fake.remove()


def test_onnx_ir_cache_maps_authors_classes_onto_ours(tmp_path, fake_onnx_ir):
    entries = [{"graph": fake_onnx_ir.graph(hswish=True), "acc": 0.77, "latency_gpu": 9.0},
               {"graph": fake_onnx_ir.graph(hswish=False), "acc": 0.74, "latency_gpu": math.nan},
               {"graph": fake_onnx_ir.graph(hswish=False), "acc": 0.73, "latency_gpu": 7.0}]
    path = tmp_path / "ofa_mbv3_pn_onnx_ir_cache.pkl"
    with open(path, "wb") as f:
        pickle.dump(entries, f)
    fake_onnx_ir.remove()                          # reading must not need the authors' code
    ir_set = datasets.load_ir_dataset(path, progress=False)
    assert ir_set.families == ["mbv3", "pn", "pn"]
    assert [n.op_type for n in ir_set.graphs[0].nodes] == ["Input", "Conv", "Add", "ReLU6", "Div", "GAP", "Output"]
    assert ir_set.graphs[0].nodes[1].kernel == 3 and ir_set.graphs[0].nodes[1].grouping == "dense"
    assert ir_set.target("acc").tolist() == [0.77, 0.74, 0.73]
    with pytest.raises(MissingLabelError):
        ir_set.target("latency_gpu")
    xs, edges = ir_set.arrays()
    assert [x.shape[0] for x in xs] == [7, 5, 5] and all(e.shape[0] == 2 for e in edges)
    sub = ir_set.subset([2, 0])
    assert sub.families == ["pn", "mbv3"] and sub.target("acc").tolist() == [0.73, 0.77]
    one_each = datasets.load_ir_dataset(path, n_per_space=1, progress=False)
    assert sorted(one_each.families) == ["mbv3", "pn"]


def test_onnx_ir_cache_without_graphs_or_with_bad_state_is_refused(tmp_path, fake_onnx_ir):
    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps([{"acc": 0.5}]))
    with pytest.raises(CacheFormatError, match="no onnx_ir graph"):
        datasets.load_ir_dataset(path, progress=False)
    node = fake_onnx_ir.Node()
    node.__dict__.update(str_id="a", op_type=None)
    g = fake_onnx_ir.Graph()
    g.__dict__.update(nodes=[node], src2dst={})
    path.write_bytes(pickle.dumps([{"graph": g, "acc": 0.5}]))
    with pytest.raises(CacheFormatError, match="entry 0: malformed ONNX-IR graph"):
        datasets.load_ir_dataset(path, progress=False)


# Fetching ---------------------------------------------------------------------------------------

def test_fetch_downloads_every_cache_from_the_hf_dataset(cache_env, monkeypatch):
    import huggingface_hub
    calls = []

    def fake_download(repo_id, filename, repo_type, local_dir, force_download):
        calls.append((repo_id, filename, repo_type, Path(local_dir), force_download))
        target = Path(local_dir) / filename
        target.write_bytes(b"x" * 10)
        return str(target)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(paper_fetch, "_check_reachable", lambda: None)  # no network in tests
    paths = paper_caches.fetch()
    assert {c[1] for c in calls} == set(paper_caches.PAPER_CACHES.values())
    assert all(c[0] == "kgmills/AutoBuild" and c[2] == "dataset" and c[3] == cache_env for c in calls)
    assert all(p.parent == cache_env and p.is_file() for p in paths.values())
    assert paper_caches.paper_cache_path("pn") == cache_env / "ofa_pn_custom_cache.pkl"


def test_fetch_failures_and_unknown_names_are_clear(cache_env, monkeypatch):
    import huggingface_hub

    def offline(**kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    monkeypatch.setattr(paper_fetch, "_check_reachable", lambda: None)
    with pytest.raises(RuntimeError, match="ofa_pn_custom_cache.pkl from the Hugging Face dataset kgmills/AutoBuild"):
        paper_caches.fetch(["pn"])
    with pytest.raises(ValueError, match="unknown paper cache"):
        paper_caches.fetch(["imagenet"])
