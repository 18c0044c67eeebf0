"""The embedded NAS-Bench-Macro set: the benchmark's values exactly, its licence beside it."""
import json

import numpy as np
import pytest

from autobuild._paths import EMBEDDED_FILES, data_dir, shared_data_dir
from autobuild.data.load import load_dataset
from autobuild.data.nas_bench_macro import BenchmarkFormatError, read_benchmark_json

SOURCE = shared_data_dir() / "nas_bench_macro" / "nas-bench-macro_cifar10.json"


def test_load_dataset_macro_gives_every_network_with_its_measured_labels():
    d = load_dataset("macro")
    assert len(d) == 6561 and len(set(d.arch_strings)) == 6561
    assert d.columns == ["acc", "acc_run0", "acc_run1", "acc_run2", "acc_std", "params", "flops"]
    assert all("NAS-Bench-Macro" in d.provenance[c] for c in d.columns)
    runs = d.labels[["acc_run0", "acc_run1", "acc_run2"]].to_numpy()
    assert np.allclose(runs.mean(1), d.labels.acc)
    best = {d.arch_strings[i] for i in np.flatnonzero(d.labels.acc == d.labels.acc.max())}
    assert "22212220" in best and d.labels.acc.max() == pytest.approx(93.13, abs=0.01)
    assert np.median(d.labels.acc_std) == pytest.approx(0.14, abs=0.005)


def test_the_licence_ships_beside_the_set():
    folder = (data_dir() / EMBEDDED_FILES["macro"]).parent
    text = (folder / "LICENSE").read_text()
    assert "Apache License" in text and "Xiu Su" in text


@pytest.mark.skipif(not SOURCE.is_file(), reason="the benchmark's JSON is not at hand")
def test_the_embedded_set_equals_the_published_file():
    published, embedded = read_benchmark_json(SOURCE), load_dataset("macro")
    assert published.arch_strings == embedded.arch_strings
    assert np.array_equal(published.labels.to_numpy(), embedded.labels.to_numpy())


def test_a_file_that_is_not_the_benchmark_is_refused(tmp_path):
    bad = tmp_path / "bench.json"
    bad.write_text(json.dumps({"22222222": {"mean_acc": 90.0}}))
    with pytest.raises(BenchmarkFormatError, match="sha256"):
        read_benchmark_json(bad)
    with pytest.raises(BenchmarkFormatError, match="one entry for each of the 6561"):
        read_benchmark_json(bad, check_hash=False)
    bad.write_text("{not json")
    with pytest.raises(BenchmarkFormatError, match="is not JSON"):
        read_benchmark_json(bad, check_hash=False)
