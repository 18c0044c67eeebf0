import json
import pickle

import pandas as pd
import pytest

from autobuild.cli import main
from autobuild.spaces.ofa import MBV3


@pytest.fixture()
def cache_file(tmp_path):
    """A small labelled set in the paper caches' sequence schema."""
    archs = MBV3.sample(120, seed=5)
    rows = [{"original config": MBV3.to_cache_config(a),
             "acc": 0.7 + 0.01 * sum(l.expand == 6 for s in a.stages for l in s),
             "latency_gpu": 5.0 + a.n_layers * 0.3} for a in archs]
    path = tmp_path / "cache.pkl"
    path.write_bytes(pickle.dumps(rows))
    return path


def test_train_then_score(cache_file, tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", "--space", "mbv3", "--target", "acc*100/latency_gpu", "--data", str(cache_file),
               "--epochs", "3", "--out", str(out)])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["hop_srcc"]) == 5 and {"srcc", "mae"} <= set(metrics)
    assert metrics["target"] == "acc*100/latency_gpu"
    rc = main(["score", "--checkpoint", str(out / "predictor.pt"), "--top-k", "2"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "top-2 space of 32 architectures" in printed
    top1 = printed.split("top-1 architecture: ")[1].split()[0]
    assert MBV3.from_string(top1).space == "mbv3"
    table = pd.read_csv(out / "top2_subgraphs.csv")
    assert len(table) == 10 and sorted(table["rank"].unique()) == [1, 2]


def test_unknown_label_is_a_clear_error(cache_file, tmp_path, capsys):
    out = tmp_path / "bad"
    rc = main(["train", "--space", "mbv3", "--target", "acc/latency_tpu", "--data", str(cache_file),
               "--epochs", "1", "--out", str(out)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "latency_tpu" in err and "latency_gpu" in err
    assert not (out / "predictor.pt").exists()


def test_score_refuses_a_foreign_file(tmp_path, capsys):
    (tmp_path / "x.pt").write_bytes(b"\x80\x04junk")
    assert main(["score", "--checkpoint", str(tmp_path / "x.pt")]) == 2
    assert "not a readable AutoBuild checkpoint" in capsys.readouterr().err


def test_train_many_seeds_at_once_writes_one_checkpoint_per_seed(cache_file, tmp_path, capsys):
    out = tmp_path / "seeds"
    rc = main(["train", "--space", "mbv3", "--target", "acc", "--data", str(cache_file), "--epochs", "4",
               "--seeds", "3", "--out", str(out)])
    assert rc == 0
    metrics = [json.loads((out / f"seed{i}" / "metrics.json").read_text()) for i in range(3)]
    assert [m["config"]["seed"] for m in metrics] == [0, 1, 2] and all(m["n_trained_at_once"] == 3 for m in metrics)
    alone = tmp_path / "alone"
    assert main(["train", "--space", "mbv3", "--target", "acc", "--data", str(cache_file), "--epochs", "4",
                 "--seed", "2", "--out", str(alone)]) == 0
    single = json.loads((alone / "metrics.json").read_text())
    assert abs(single["srcc"] - metrics[2]["srcc"]) <= 0.01   # seed 2 trained alone or with two others
    assert main(["score", "--checkpoint", str(out / "seed1" / "predictor.pt"), "--top-k", "1"]) == 0


def test_seed_and_seeds_together_are_refused(cache_file, tmp_path, capsys):
    rc = main(["train", "--space", "mbv3", "--target", "acc", "--data", str(cache_file), "--seed", "1",
               "--seeds", "2", "--out", str(tmp_path / "x")])
    assert rc == 2 and "not allowed with argument" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_train_keeps_the_chosen_readout_for_score(cache_file, tmp_path):
    from autobuild.predictor.checkpoint import read_checkpoint

    for readout in ("root", "pooled"):
        out = tmp_path / readout
        assert main(["train", "--space", "mbv3", "--target", "acc", "--data", str(cache_file), "--epochs", "2",
                     "--readout", readout, "--out", str(out)]) == 0
        assert read_checkpoint(out / "predictor.pt")["scorer_state"]["readout"] == readout
        assert main(["score", "--checkpoint", str(out / "predictor.pt"), "--top-k", "1"]) == 0
