#!/usr/bin/env python
"""Try hostile inputs on the `autobuild` command and the scripts, each as a subprocess with a timeout.

Every case runs in a scratch folder and ends in one verdict:

* clean: a refusal with exit status 2 whose message names the problem, or a correct result;
* payload: a marker file that the input tried to create exists (code or shell injection ran);
* hang: the process outlived its timeout;
* garbage: exit 0 where a refusal was due, or a result that fails its check;
* data loss: a file that must survive changed, or a refusal left a partial output behind;
* traceback: a Python traceback on stderr;
* weak: refused, but not with exit 2, or without naming the problem.

    .venv/bin/python scripts/hostile_inputs.py             # all cases, 2 at a time; exit 1 unless all are clean
    .venv/bin/python scripts/hostile_inputs.py --only stamp --jobs 4 --verbose
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
VERDICTS = ("clean", "payload", "hang", "garbage", "data loss", "traceback", "weak")
MARKER = "pwned"  #: the file every injection payload tries to create


@dataclass
class Case:
    """One hostile input: ``argv`` run in a scratch folder prepared by ``setup``."""

    area: str
    name: str
    argv: list[str]
    refuse: tuple[str, ...] | None = None  #: fragments the refusal names; None: success is expected
    check: Callable[[Path, str], bool] | None = None  #: for a success: does the result hold up?
    setup: Callable[[Path], None] | None = None
    keep: tuple[str, ...] = ()  #: files (relative to the scratch folder) that must not change
    absent: tuple[str, ...] = ()  #: paths that must not exist after a refusal
    env: dict = field(default_factory=dict)
    timeout: float = 180


def _digest(path: Path) -> str | None:
    if path.is_dir():
        return json.dumps({str(p.relative_to(path)): _digest(p) for p in sorted(path.rglob("*")) if p.is_file()})
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def run_case(case: Case, shared: Path) -> tuple[str, str]:
    """``(verdict, detail)`` of one case."""
    with tempfile.TemporaryDirectory(prefix="hostile.") as scratch:
        work = Path(scratch)
        (work / "shared").symlink_to(shared)
        if case.setup:
            case.setup(work)
        before = {k: _digest(work / k) for k in case.keep}
        env = {**os.environ, "PYTHONPATH": str(ROOT), "AUTOBUILD_FIGURES_DIR": str(work / "figures"), **case.env}
        argv = [a.replace("{work}", str(work)) for a in case.argv]
        proc = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=case.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return "hang", f"still running after {case.timeout:g} s"
        last = (err.strip().splitlines() or [""])[-1][:200]
        if (work / MARKER).exists() or Path(ROOT / MARKER).exists():
            return "payload", f"{MARKER} was created (exit {proc.returncode})"
        if "Traceback (most recent call last)" in err:
            return "traceback", last
        changed = [k for k in case.keep if _digest(work / k) != before[k]]
        if changed:
            return "data loss", f"changed: {changed} (exit {proc.returncode}; {last})"
        if case.refuse is None:
            if proc.returncode != 0:
                return "weak", f"exit {proc.returncode} where success was due: {last}"
            ok = case.check is None or case.check(work, out)
            return ("clean", "ok") if ok else ("garbage", "exit 0 but the result fails its check")
        if proc.returncode == 0:
            return "garbage", f"exit 0 where a refusal naming {case.refuse} was due"
        left = [a for a in case.absent if (work / a).exists()]
        if left:
            return "data loss", f"a refusal left {left} behind ({last})"
        missing = [f for f in case.refuse if f not in err]
        if proc.returncode != 2 or missing:
            return "weak", f"exit {proc.returncode}, message lacks {missing}: {last}"
        return "clean", last


# Scratch-folder set-ups -----------------------------------------------------------------------

def _cache_rows(n: int = 40, nan_rows: int = 0) -> list[dict]:
    from autobuild.spaces.registry import get_space

    space = get_space("mbv3")
    rows = []
    for i, a in enumerate(space.sample(n, seed=3)):
        acc = 0.7 + 0.01 * sum(l.expand == 6 for s in a.stages for l in s) + 0.001 * i
        rows.append({"original config": space.to_cache_config(a), "acc": math.nan if i < nan_rows else acc,
                     "latency_gpu": 5.0 + a.n_layers * 0.3})
    return rows


def _write(name: str, data: bytes | str):
    def setup(work: Path) -> None:
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return setup


def _fifo(name: str):
    return lambda work: os.mkfifo(work / name)


def _folder(name: str):
    return lambda work: (work / name).mkdir(parents=True)


def _book(url_line: str | None, broken: str | None = None):
    """A book root: the repository's notebooks and a `_config.yml` whose url line is ``url_line``."""
    def setup(work: Path) -> None:
        shutil.copytree(ROOT / "notebooks", work / "book" / "notebooks",
                        ignore=shutil.ignore_patterns("*.ipynb_checkpoints", "__pycache__"))
        text = (ROOT / "_config.yml").read_text()
        if url_line is not None:
            text = text.replace("  url: https://github.com/YOUR-ORG/autobuild-companion", url_line)
        (work / "book" / "_config.yml").write_text(text)
        if broken:
            (work / "book" / "notebooks" / broken).write_text('{"cells": [')
    return setup


# The cases ---------------------------------------------------------------------------------------

def _autobuild(*args: str) -> list[str]:
    return [PYTHON, "-m", "autobuild.cli", *args]


def _train(target: str = "acc", *extra: str, data: str = "shared/cache.pkl", out: str = "out") -> list[str]:
    return _autobuild("train", "--space", "mbv3", f"--target={target}", "--data", data, "--epochs", "1",
                      f"--out={out}", *extra)


def _metrics_ok(work: Path, out: str) -> bool:
    metrics = json.loads((work / "out" / "metrics.json").read_text())
    values = [metrics["srcc"], metrics["mae"], *metrics["hop_srcc"]]
    return all(isinstance(v, float) and math.isfinite(v) for v in values)


def train_cases() -> list[Case]:
    cases = []
    injections = ["__import__('os').system('touch pwned')", "open('pwned', 'w')", "acc.__class__",
                  "(lambda: 1)()", "[c for c in ()]", "f'{acc}'", "acc if acc else 0", "acc[0]", "acc.real",
                  "exec('1')", "eval('1')", "globals()", "__builtins__", "acc; import os", "acc\nimport os",
                  "breakpoint()", "getattr(acc, 'x')", "{'a': 1}", "acc @ acc", "not acc", "acc and acc",
                  "acc | 1", "~acc", "acc << 2", "(yield)", "await acc", "acc := 1", "*acc", "'acc'", "b'acc'"]
    for text in injections:
        cases.append(Case("train", f"equation {text!r}", _train(text), ("label equation",), absent=("out",)))
    for text, fragment in [("ａｃｃ", "NFKC"), ("𝑎𝑐𝑐*2", "NFKC"), ("ℯxp(acc)", "NFKC"), ("ﬂops", "NFKC"),
                           ("acc*1e200", "rescale"), ("acc*1e300", "rescale"), ("acc*1e307", "rescale"),
                           ("acc*1e-310", "rescale"), ("acc*10**10**10", "infinite"), ("1/0+acc", "infinite"),
                           ("log(acc-0.75)", "not finite"), ("nosuch", "unknown label"), ("1", "zero spread"),
                           ("acc" + "+acc" * 400, "characters long"), ("-" * 300 + "acc", "too large"),
                           ("clip(acc, 0)", "exactly 3"), ("exp(acc, acc)", "exactly 1"), ("", "non-empty"),
                           ("acc > 2", "zero spread")]:
        cases.append(Case("train", f"equation {text[:40]!r}", _train(text), (fragment,), absent=("out",)))
    nan = _write("nan.pkl", pickle.dumps(_cache_rows(40, nan_rows=5)))
    for text in ("acc > 0.75", "acc == acc", "maximum(acc, 0) < 1", "(acc < 0.8) * latency_gpu"):
        cases.append(Case("train", f"NaN labels through {text!r}", _train(text, data="nan.pkl"),
                          ("undefined (NaN/inf) for 5 of 40",), setup=nan, absent=("out",)))
    for flag, value, fragment in [
            ("--lr", "1e300", "non-finite test metrics"), ("--lr", "nan", "--lr"), ("--lr", "inf", "--lr"),
            ("--lr", "-1", "--lr"), ("--lr", "0", "--lr"), ("--lr", "x", "--lr"), ("--epochs", "0", "--epochs"),
            ("--epochs", "-1", "--epochs"), ("--epochs", "1.5", "--epochs"), ("--batch-size", "1", "--batch-size"),
            ("--batch-size", "0", "--batch-size"), ("--seed", "-1", "--seed"), ("--seed", str(2**32), "--seed"),
            ("--seeds", "0", "--seeds"), ("--seeds", "100000", "--seeds"), ("--device", "bogus", "bogus"),
            ("--model", "gcn", "--model"), ("--readout", "mean", "--readout")]:
        cases.append(Case("train", f"{flag} {value}", _train("acc", flag, value), (fragment,), absent=("out",)))
    cases += [
        Case("train", "--space unet", _autobuild("train", "--space", "unet", "--target", "acc", "--out", "out"),
             ("unet",), absent=("out",)),
        Case("train", "--out an existing run", _train(out="run"), ("already holds files", "--overwrite"),
             setup=lambda w: shutil.copytree(w / "shared" / "run", w / "run"), keep=("run",)),
        Case("train", "--out ''", _train(out=""), ("--out", "empty")),
        Case("train", "--out under a file", _train(out="f/o"), ("is under",), setup=_write("f", "x")),
        Case("train", "--out a file", _train(out="f"), ("is a file",), setup=_write("f", "x"), keep=("f",)),
        Case("train", "--out /dev/null", _train(out="/dev/null"), ("--out /dev/null",)),
        Case("train", "--out /proc/self", _train(out="/proc/self"), ("--out /proc/self",)),
        Case("train", "--data a FIFO", _train(data="fifo.pkl"), ("is a FIFO",), setup=_fifo("fifo.pkl"),
             absent=("out",)),
        Case("train", "--data a folder", _train(data="d.pkl"), ("is a folder",), setup=_folder("d.pkl"),
             absent=("out",)),
        Case("train", "--data /dev/zero", _train(data="/dev/zero"), ("is a device",), absent=("out",)),
        Case("train", "--data missing", _train(data="nope.pkl"), ("nope.pkl",), absent=("out",)),
        Case("train", "--data a text file", _train(data="t.pkl"), ("t.pkl",), setup=_write("t.pkl", "hello"),
             absent=("out",)),
        Case("train", "--data an empty file", _train(data="e.pkl"), ("e.pkl",), setup=_write("e.pkl", b""),
             absent=("out",)),
        Case("train", "--data a pickle bomb", _train(data="b.pkl"), ("refusing to unpickle",),
             setup=_write("b.pkl", b"\x80\x02cbuiltins\nbytearray\n\x8a\x05" + (3 * 10**9).to_bytes(5, "little")
                          + b"\x85R."), absent=("out",)),
        Case("train", "--data a pickle calling os.system", _train(data="x.pkl"), ("x.pkl",),
             setup=_write("x.pkl", b"cos\nsystem\n(S'touch pwned'\ntR."), absent=("out",)),
        Case("train", "--data a 2M-row parquet", _train(data="big.parquet"), ("declares 2000000 rows",),
             setup=_big_parquet, absent=("out",)),
        Case("train", "--data a parquet of another space", _train(data="pn.parquet"), ("not 'mbv3'",),
             setup=lambda w: shutil.copy(ROOT / "data" / "ofa_pn.parquet", w / "pn.parquet"), absent=("out",)),
        Case("train", "AUTOBUILD_CACHE=~nosuchuser/c, --data paper", _train(data="paper"), ("names no user",),
             env={"AUTOBUILD_CACHE": "~nosuchuser-hostile/c"}),
        Case("train", "a good run", _train(), None, check=_metrics_ok),
        Case("train", "--overwrite replaces the run whole", _train("acc", "--overwrite"), None,
             setup=lambda w: (shutil.copytree(w / "shared" / "run", w / "out"),
                              (w / "out" / "top2_subgraphs.csv").write_text("stale")),
             check=lambda w, o: sorted(p.name for p in (w / "out").iterdir()) == ["metrics.json", "predictor.pt"]
             and _metrics_ok(w, o)),
    ]
    return cases


def _big_parquet(work: Path) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from autobuild.spaces.registry import get_space

    space = get_space("mbv3")
    n = 2_000_000
    arch = pa.array([space.to_string(space.sample(1, seed=0)[0])]).dictionary_encode()
    table = pa.table({"arch": arch.take(pa.array(np.zeros(n, dtype=np.int32))), "acc": pa.array(np.full(n, 0.5))})
    pq.write_table(table.replace_schema_metadata({b"autobuild": b'{"space": "mbv3"}'}), work / "big.parquet")


def _edited_checkpoint(edit: Callable[[dict], None], name: str = "edited.pt"):
    def setup(work: Path) -> None:
        import torch

        payload = torch.load(work / "shared" / "run" / "predictor.pt", weights_only=True)
        edit(payload)
        torch.save(payload, work / name)
    return setup


def _first(payload: dict) -> str:
    return next(iter(payload["state_dict"]))


def _compressed(work: Path) -> None:
    with zipfile.ZipFile(work / "shared" / "run" / "predictor.pt") as src, zipfile.ZipFile(work / "edited.pt", "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        dst.writestr("archive/data/999", b"\0" * 2**26, compress_type=zipfile.ZIP_DEFLATED)


def score_cases() -> list[Case]:
    import torch

    def score(path: str = "edited.pt", *extra: str) -> list[str]:
        return _autobuild("score", "--checkpoint", path, "--out", "top.csv", *extra)

    edits = {
        "hop std 0": (lambda p: p["scorer_state"]["hop_moments"][1].__setitem__(1, 0.0), "hop_moments[1]"),
        "hop std < 0": (lambda p: p["scorer_state"]["hop_moments"][1].__setitem__(1, -1.0), "hop_moments[1]"),
        "label std < 0": (lambda p: p["scorer_state"]["label_moments"][0].__setitem__(3, -0.1), "label_moments"),
        "label std 1e308": (lambda p: p["scorer_state"]["label_moments"][0].__setitem__(3, 1e308), "label_moments"),
        "every label std 0": (lambda p: [r.__setitem__(3, 0.0) for r in p["scorer_state"]["label_moments"]],
                              "label_moments"),
        "duplicated label row": (lambda p: p["scorer_state"]["label_moments"].append(
            list(p["scorer_state"]["label_moments"][0])), "more than once"),
        "overall std 1e308": (lambda p: p["scorer_state"].update(label_overall=[0.7, 1e308]), "label_overall"),
        "overall std 0": (lambda p: p["scorer_state"].update(label_overall=[0.7, 0.0]), "label_overall"),
        "y_std 1e308": (lambda p: p.update(y_std=1e308), "y_std"),
        "y_std nan": (lambda p: p.update(y_std=float("nan")), "y_std"),
        "all-zero weights": (lambda p: p.update(state_dict={k: torch.zeros_like(v) for k, v in
                                                           p["state_dict"].items()}), "only zeros"),
        "int weights": (lambda p: p["state_dict"].update({_first(p): p["state_dict"][_first(p)].to(torch.int64)}),
                        "dtype torch.int64"),
        "bool weights": (lambda p: p["state_dict"].update({_first(p): p["state_dict"][_first(p)] > 0}),
                         "dtype torch.bool"),
        "float64 weights": (lambda p: p["state_dict"].update(
            {_first(p): p["state_dict"][_first(p)].double()}), "dtype torch.float64"),
        "NaN weights": (lambda p: p["state_dict"].update(
            {_first(p): torch.full_like(p["state_dict"][_first(p)], float("nan"))}), "NaN or infinite"),
        "padded storage": (lambda p: p["state_dict"].update({_first(p): torch.zeros(2 * 10**6)[
            :p["state_dict"][_first(p)].numel()].view_as(p["state_dict"][_first(p)])}), "bytes of tensors"),
        "missing weight": (lambda p: p["state_dict"].popitem(), "does not fit"),
        "space pn": (lambda p: p.update(space="pn"), "'pn'"),
        "unknown space": (lambda p: p.update(space="../../etc"), "not a known search space"),
        "cpu_threads 1e5": (lambda p: p["config"].update(cpu_threads=100000), "cpu_threads"),
        "hidden 1e9": (lambda p: p["model"].update(hidden=10**9), "model.hidden"),
        "resolution 161": (lambda p: p["scorer_state"].update(context={"resolution": 161}), "resolution"),
        "extra field": (lambda p: p.update(evil="x"), "not a checkpoint field"),
        "format tag": (lambda p: p.update(format="x"), "format tag missing"),
        "version 2": (lambda p: p.update(version=2), "checkpoint version 2"),
    }
    cases = [Case("score", name, score(), (fragment, "edited.pt"), setup=_edited_checkpoint(edit), absent=("top.csv",))
             for name, (edit, fragment) in edits.items()]
    cases += [
        Case("score", "compressed 64 MiB entry", score(), ("compressed",), setup=_compressed, absent=("top.csv",)),
        Case("score", "a FIFO", score("p.pt"), ("not a regular file",), setup=_fifo("p.pt"), absent=("top.csv",)),
        Case("score", "/dev/zero", score("/dev/zero"), ("/dev/zero",), absent=("top.csv",)),
        Case("score", "a folder", score("d"), ("is a folder",), setup=_folder("d"), absent=("top.csv",)),
        Case("score", "an empty file", score("e.pt"), ("empty",), setup=_write("e.pt", b""), absent=("top.csv",)),
        Case("score", "a text file", score("t.pt"), ("a text file",), setup=_write("t.pt", "hello"), absent=("top.csv",)),
        Case("score", "a pickle calling os.system", score("x.pt"), ("x.pt",),
             setup=_write("x.pt", b"cos\nsystem\n(S'touch pwned'\ntR."), absent=("top.csv",)),
        Case("score", "--top-k 0", _autobuild("score", "--checkpoint", "shared/run/predictor.pt", "--top-k", "0",
                                              "--out", "top.csv"), ("--top-k",), absent=("top.csv",)),
        Case("score", "--out a folder", _autobuild("score", "--checkpoint", "shared/run/predictor.pt", "--out", "d"),
             ("is a folder",), setup=_folder("d")),
        Case("score", "a good checkpoint", _autobuild("score", "--checkpoint", "shared/run/predictor.pt", "--out",
                                                      "top.csv", "--top-k", "2"), None,
             check=lambda w, o: (w / "top.csv").is_file() and "top-1 architecture" in o),
    ]
    return cases


STAMP_URLS = [
    "https://github.com/o/r$(touch${IFS}pwned)", "https://github.com/o/r`touch pwned`",
    "https://github.com/o/{__import__('os').mkdir('pwned')}", "https://github.com/o/r$HOME",
    'https://github.com/o/r" ; touch pwned ; "', "https://github.com/o/r'x", "https://github.com/o/r;touch pwned",
    "https://github.com/o/r|touch pwned", "https://github.com/o/r&&touch pwned", "https://github.com/o/r>pwned",
    "https://github.com/o/r?x=1", "https://github.com/o/r#f", "https://u:p@github.com/o/r", "http://github.com/o/r",
    "git://github.com/o/r", "file:///etc/passwd", "https://github.com", "https://github.com/../../etc",
    "https://gith$ub.com/o/r", "https:///o/r", "https://github.com/" + "a" * 300, "https://github.com/o/r\\",
    "https://github.com/o/r%22", "https://github.com/o/r!x", "https://github.com/o/r*", "javascript:alert(1)",
]


def stamp_cases() -> list[Case]:
    stamp = [PYTHON, str(ROOT / "scripts" / "stamp_repo_url.py"), "--root", "book"]
    cases = [Case("stamp", f"url {url[:50]!r}", stamp, ("repository.url must be an https URL",),
                  setup=_book(f"  url: {json.dumps(url)}"), keep=("book/notebooks",)) for url in STAMP_URLS]
    cases += [
        Case("stamp", "yaml \\u0022", stamp, ("repository.url",), setup=_book('  url: "https://github.com/o/r\\u0022"'),
             keep=("book/notebooks",)),
        Case("stamp", "url with a newline", stamp, ("repository.url",),
             setup=_book('  url: "https://github.com/o/r\\nimport os"'), keep=("book/notebooks",)),
        Case("stamp", "url a number", stamp, ("repository.url",), setup=_book("  url: 42"), keep=("book/notebooks",)),
        Case("stamp", "repository: foo", stamp, ("repository.url",),
             setup=lambda w: (_book(None)(w), (w / "book" / "_config.yml").write_text("repository: foo\n")),
             keep=("book/notebooks",)),
        Case("stamp", "bad yaml", stamp, ("not readable YAML",),
             setup=lambda w: (_book(None)(w), (w / "book" / "_config.yml").write_text("a: [b\n")),
             keep=("book/notebooks",)),
        Case("stamp", "no _config.yml", stamp, ("does not exist",),
             setup=lambda w: (_book(None)(w), (w / "book" / "_config.yml").unlink()), keep=("book/notebooks",)),
        Case("stamp", "a broken notebook", stamp, ("is not a valid notebook",),
             setup=_book("  url: https://github.com/someone/fork", broken="05_sd_inpainting.ipynb"),
             keep=("book/notebooks",)),
        Case("stamp", "a good url", stamp, None, setup=_book("  url: https://github.com/someone/fork"),
             check=lambda w, o: all(json.loads(p.read_text()) and "git+https://github.com/someone/fork\""
                                    in p.read_text().replace('\\"', '"')
                                    for p in (w / "book" / "notebooks").glob("*.ipynb"))),
    ]
    return cases


def script_cases() -> list[Case]:
    sd = [PYTHON, str(ROOT / "scripts" / "run_sd_mini.py"), "--out", "sd", "--stages", "random68"]
    nas = [PYTHON, str(ROOT / "scripts" / "run_full_nas.py"), "--out", "hv.csv"]
    nb = [PYTHON, str(ROOT / "scripts" / "run_notebooks.py")]
    cases = []
    for args, fragment in [(["--steps", "-5"], "--steps"), (["--steps", "0"], "--steps"), (["--limit", "-67"], "--limit"),
                           (["--threads", "-1"], "--threads"), (["--ensemble-seeds", "0"], "--ensemble-seeds"),
                           (["--extra-seeds", "0"], "--extra-seeds"), (["--extra-seeds", "a"], "--extra-seeds"),
                           (["--stages", "x"], "unknown stage"), (["--scheduler", "bogus"], "tcp://HOST:PORT"),
                           (["--scheduler", "tcp://127.0.0.1:9"], "cannot reach"),
                           (["--scheduler", "tcp://10.255.255.1:8786"], "did not greet"),
                           (["--device", "bogus"], "device must be one of"), (["--device", "cuda"], "cuda")]:
        cases.append(Case("run_sd_mini", " ".join(args), sd + args, (fragment,), absent=("sd/recipe.json",),
                          timeout=60))
    for args, fragment in [(["--threads", "0"], "--threads"), (["--first-seed", str(2**32)], "2**32"),
                           (["--seeds", "0"], "--seeds"), (["--device", "bogus"], "device must be one of"),
                           (["--device", "cuda"], "cuda"), (["--models", "gcn"], "unknown model"),
                           (["--recipes", "x"], "unknown recipe")]:
        cases.append(Case("run_full_nas", " ".join(args), nas + args, (fragment,), absent=("hv.csv",), timeout=60))
    cases.append(Case("run_full_nas", "--out under a file", nas[:-1] + ["f/hv.csv"], ("is under",),
                      setup=_write("f", "x"), timeout=60))
    for args, fragment in [(["--only", ""], "--only"), (["--only", "99"], "no notebook"), (["--jobs", "0"], "--jobs"),
                           (["--seeds", "100000", "--output-dir", "o"], "at most 1000"),
                           (["-p", "bogus", "1", "--output-dir", "o"], "bogus"),
                           (["--scheduler", "tcp://127.0.0.1:9"], "cannot reach")]:
        cases.append(Case("run_notebooks", " ".join(args), nb + args, (fragment,), absent=("o",), timeout=60))
    return cases


AREAS = {"stamp": stamp_cases, "train": train_cases, "score": score_cases, "scripts": script_cases}


def prepare_shared(shared: Path) -> None:
    """A small cache (40 MBv3 architectures) and one trained run that the cases read."""
    (shared / "cache.pkl").write_bytes(pickle.dumps(_cache_rows(40)))
    subprocess.run(_train(data=str(shared / "cache.pkl"), out=str(shared / "run")), check=True, cwd=shared,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=sorted(AREAS), help="run only these areas")
    ap.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    ap.add_argument("--verbose", action="store_true", help="print every case, not only the bad ones")
    args = ap.parse_args(argv)
    if not 1 <= args.jobs <= 64:
        ap.error(f"--jobs must be in [1, 64], got {args.jobs}")
    cases = [c for area in (args.only or AREAS) for c in AREAS[area]()]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hostile-shared.") as shared:
        prepare_shared(Path(shared))
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda c: run_case(c, Path(shared)), cases))
    tally = {v: 0 for v in VERDICTS}
    for case, (verdict, detail) in zip(cases, results):
        tally[verdict] += 1
        if verdict != "clean" or args.verbose:
            print(f"{verdict:9s} {case.area:13s} {case.name[:60]:60s} {detail[:160]}")
    refusals = [r for c, r in zip(cases, results) if c.refuse is not None]
    print(f"\n{len(cases)} hostile inputs in {time.perf_counter() - start:.0f} s "
          f"({', '.join(f'{a}: {sum(c.area == a for c in cases)}' for a in dict.fromkeys(c.area for c in cases))})")
    print("tally: " + ", ".join(f"{v} {n}" for v, n in tally.items()))
    print(f"refusals: {sum(r[0] == 'clean' for r in refusals)} of {len(refusals)} exit 2 naming the problem")
    return 0 if tally["clean"] == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
