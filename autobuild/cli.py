"""The ``autobuild`` command line: ``train``, ``score`` and ``data``.

Every expected failure (a bad argument, data set, label equation, checkpoint or output
location; no network) ends in one line ``autobuild: error: …`` on stderr and exit status 2,
before anything is written. Anything else is a bug and shows its traceback. ``train`` refuses
an existing non-empty ``--out`` unless ``--overwrite`` is given (then the run folder is
replaced whole, once the new run is complete), and a SIGTERM cleans up as Ctrl-C does.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import signal
import stat
import sys
import time
import uuid
from pathlib import Path

import numpy as np

from autobuild import _paths
from autobuild._io import atomic_write, check_writable_dir
from autobuild._paths import EMBEDDED_FILES, data_dir
from autobuild.data import paper_caches
from autobuild.data.equations import shorten
from autobuild.data.load import load_dataset
from autobuild.data.parquet import _regenerate_hint
from autobuild.predictor.scoring import READOUTS
from autobuild.predictor import TrainConfig
from autobuild.predictor.variants import MODEL_KINDS

#: Failures the CLI reports as ``autobuild: error: …`` (exit 2) rather than with a traceback.
EXPECTED_ERRORS = (ValueError, FileNotFoundError, PermissionError, NotADirectoryError, IsADirectoryError,
                   FileExistsError, paper_caches.FetchError)
MAX_MESSAGE = 2000  #: characters of an error message (user strings inside are shortened too)
MAX_LABEL = 1e150  #: largest |label| and smallest spread: beyond them squares and standardised labels overflow


class UsageError(ValueError):
    """A command-line argument that argparse refused."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        raise UsageError(message)


# Argument types: argparse names the flag in its message ("argument --lr: ...") ---------------

def _int_at_least(low: int, high: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {shorten(text, 40)!r}") from None
        if value < low or (high is not None and value >= high):
            bound = f">= {low}" if high is None else f"in [{low}, {high})"
            raise argparse.ArgumentTypeError(f"must be an integer {bound}, got {value}")
        return value
    return parse


def _positive_finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {shorten(text, 40)!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {shorten(text, 40)!r}")
    return value


# Checks done before any work --------------------------------------------------------------

def _check_output_file(path: Path, what: str) -> Path:
    """``path`` can be written as a file: not a folder, and its folder is (or can be) a writable folder.
    Nothing is created."""
    if path.is_dir():
        raise IsADirectoryError(f"{what} {path} is a folder; give a file name")
    parent = path.parent
    existing = next((p for p in (parent, *parent.parents) if p.exists()), Path("."))
    if existing.exists() and not existing.is_dir():
        raise NotADirectoryError(f"{what} {path} is under {existing}, which is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"{what} {path}: cannot write in {existing}")
    return path


def _check_input_file(path: str, what: str) -> None:
    """An existing ``path`` must be a regular file (not a folder, FIFO or device)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing: the loader names it
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else \
            "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else \
            "not a regular file"
        raise ValueError(f"{what} {path} is {kind}; give a regular file")


def check_labels(y, target: str, source: str) -> None:
    """Refuse labels whose standardisation would overflow float64 (|y| or spread out of range)."""
    scale, spread = float(np.max(np.abs(y))), float(np.max(y) - np.min(y))
    if scale > MAX_LABEL or spread < 1 / MAX_LABEL:
        raise ValueError(f"target {target!r} on {source} ranges over [{float(np.min(y)):.4g}, {float(np.max(y)):.4g}]: "
                         f"labels must be at most {MAX_LABEL:g} in size and spread over more than {1 / MAX_LABEL:g}, "
                         "or standardising them overflows float64; rescale the equation (e.g. divide by a constant)")


def check_finite_metrics(metrics: dict, seed: int) -> None:
    """Refuse a training run whose test metrics are not finite (diverged, or constant predictions)."""
    values = {"srcc": metrics.get("srcc"), "mae": metrics.get("mae"), **{
        f"hop_srcc[{i}]": v for i, v in enumerate(metrics.get("hop_srcc", []))}}
    bad = [k for k, v in values.items() if v is None or not math.isfinite(v)]
    if bad:
        raise ValueError(f"training with seed {seed} gave non-finite test metrics ({', '.join(bad)}): it diverged or "
                         "predicts a constant; lower --lr or rescale the target. Nothing was written")


def min_architectures(test_fraction: float) -> int:
    """The fewest architectures with at least 2 in the test split and 2 in the training split."""
    n = 4
    while round(n * test_fraction) < 2 or n - round(n * test_fraction) < 2:
        n += 1
    return n


def cmd_train(args) -> int:
    if not args.out.strip():
        raise ValueError("argument --out: give a folder name, not an empty string")
    out = Path(args.out)
    if out.is_dir() and any(out.iterdir()) and not args.overwrite:
        raise FileExistsError(f"--out {out} already holds files ({', '.join(sorted(p.name for p in out.iterdir())[:5])}); "
                              "give a new or empty folder, or --overwrite to replace the run folder whole")
    _check_input_file(args.data, "--data")
    staging = out.parent / f".{out.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.new" \
        if out.is_dir() and any(out.iterdir()) else None
    if staging is not None:
        try:
            staging.mkdir()
        except OSError as exc:
            raise PermissionError(f"--out {out} is not writable: --overwrite replaces it whole, and {out.parent} "
                                  f"cannot be written ({exc.strerror or exc})") from None
    created = not out.exists()
    try:
        code = _train(args, staging or out)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        elif created and out.is_dir():  # leave no empty folder of ours behind (nor empty seed<i>/ in it)
            for sub in out.glob("seed*"):
                if sub.is_dir() and not any(sub.iterdir()):
                    sub.rmdir()
            if not any(out.iterdir()):
                out.rmdir()
        raise
    if staging is not None:  # --overwrite: the complete new run replaces the old folder whole
        old = out.parent / f".{out.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.old"
        os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old)
        print(f"replaced the run folder {out}", file=sys.stderr)
    return code


def _train(args, root: Path) -> int:
    from autobuild.graphs.table import GraphTable
    from autobuild.predictor import train_many
    from autobuild.predictor.checkpoint import save_run
    from autobuild.predictor.scoring import SubgraphScorer

    seeds = [args.seed] if args.seeds is None else list(range(args.seeds))
    root = check_writable_dir(root, "--out")  # before any work: an unwritable --out fails now
    outs = [root] if args.seeds is None else [check_writable_dir(root / f"seed{s}", "--out") for s in seeds]
    configs = [TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=s, device=args.device,
                           ranking_loss=not args.mse_only, model=args.model) for s in seeds]
    config = configs[0]
    dataset = load_dataset(args.space, source=args.data)
    y = dataset.target(args.target)
    target = shorten(args.target)
    minimum = min_architectures(config.test_fraction)
    if len(y) < minimum:
        raise ValueError(f"{dataset.source} holds {len(y)} architectures; training needs at least {minimum} "
                         f"(the {config.test_fraction:g} test split must hold 2 or more for the metrics)")
    if float(y.max() - y.min()) == 0:
        raise ValueError(f"target {target!r} is {float(y[0])!r} for every one of the {len(y)} architectures of "
                         f"{dataset.source}: a target with zero spread has nothing to rank")
    check_labels(y, target, dataset.source)
    what = f"{len(seeds)} predictors {config.model!r} (seeds 0..{len(seeds) - 1}, at once)" if args.seeds \
        else f"predictor {config.model!r}"
    print(f"training {what} on {len(y)} {args.space} architectures ({dataset.source}), target {target!r}",
          file=sys.stderr)
    start = time.perf_counter()
    table = GraphTable.from_architectures(dataset.space, dataset.archs)
    trained_all = train_many(table, dataset.space.feature_vocab, [y] * len(configs), configs, space=dataset.space)
    seconds = time.perf_counter() - start
    scorers = []
    for trained, c in zip(trained_all, configs):  # every run is checked before any is written
        check_finite_metrics(trained.metrics, c.seed)
        scorers.append(SubgraphScorer.from_data(trained, dataset.archs, y, args.readout))
    for trained, c, out, scorer in zip(trained_all, configs, outs, scorers):
        report = {**trained.metrics, "target": args.target, "space": args.space, "data_source": dataset.source,
                  "train_seconds": round(seconds, 2), "n_trained_at_once": len(configs), "config": c.to_dict()}
        checkpoint, metrics = save_run(trained, out, report, equation=args.target, scorer_state=scorer.state,
                                       data_source=dataset.source)
        hops = " ".join(f"{v:.3f}" for v in trained.metrics["hop_srcc"])
        seed = f"seed {c.seed}: " if args.seeds else ""
        print(f"{seed}test SRCC head {trained.metrics['srcc']:.3f} | hops 0..{len(trained.metrics['hop_srcc']) - 1}: "
              f"{hops} | MAE {trained.metrics['mae']:.4g} | {seconds:.1f} s")
        shown = Path(args.out) / checkpoint.parent.relative_to(root)  # the final place, also under --overwrite
        print(f"wrote {shown / checkpoint.name} and {shown / metrics.name}")
    return 0


def cmd_score(args) -> int:
    from autobuild.predictor.checkpoint import load_predictor
    from autobuild.predictor.scoring import SubgraphScorer

    out = Path(args.out) if args.out else Path(args.checkpoint).with_name(f"top{args.top_k}_subgraphs.csv")
    _check_output_file(out, "--out")
    trained, payload = load_predictor(args.checkpoint)
    if not payload.get("scorer_state"):
        raise ValueError(f"{args.checkpoint} holds no scorer moments; retrain with `autobuild train`")
    if trained.space is None:
        raise ValueError(f"{args.checkpoint} was trained on pre-built graphs, not on a search space: "
                         "there are no stage subgraphs to score")
    scorer = SubgraphScorer(trained, payload["scorer_state"])
    scores = scorer.score_all()
    if not np.isfinite(scores["score"].to_numpy(dtype=float)).all():
        raise ValueError(f"{args.checkpoint}: some subgraph scores are not finite; the checkpoint's weights or "
                         "moments were edited or are damaged (retrain with `autobuild train`)")
    top = scores[scores["rank"] <= args.top_k].sort_values(["stage", "rank"])
    reduced = scorer.top_k(args.top_k)
    best = reduced.best()
    text = trained.space.to_string(best) if hasattr(trained.space, "to_string") else str(best)
    with atomic_write(out) as tmp:  # everything is computed: only now is anything written
        top.to_csv(tmp, index=False)
    print(f"target {shorten(payload.get('equation'))!r}: top-{args.top_k} space of {reduced.size} architectures")
    print(f"top-1 architecture: {text}")
    print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="autobuild", description=__doc__.split("\n\n")[0],
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a predictor with the hop-level ranking loss (Eq. 4)")
    t.add_argument("--space", required=True, help="search space: mbv3 or pn")
    t.add_argument("--target", required=True, help="label name or equation, e.g. 'acc' or 'acc*100/latency_gpu'")
    t.add_argument("--out", required=True, help="output directory (new or empty, unless --overwrite)")
    t.add_argument("--overwrite", action="store_true",
                   help="replace an existing run folder --out whole, once the new run is complete")
    t.add_argument("--data", default="embedded", help="embedded (default), paper, or a path to a dataset file")
    t.add_argument("--epochs", type=_int_at_least(1), default=TrainConfig.epochs)
    t.add_argument("--batch-size", type=_int_at_least(2), default=TrainConfig.batch_size)
    t.add_argument("--lr", type=_positive_finite_float, default=TrainConfig.lr)
    seeds = t.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=_int_at_least(0, 2**32), default=TrainConfig.seed)
    seeds.add_argument("--seeds", type=_int_at_least(1, 4097), metavar="N",
                       help="train seeds 0..N-1 at once, one checkpoint each in OUT/seed<i>/")
    t.add_argument("--device", default=TrainConfig.device, help="cpu, cuda or auto")
    t.add_argument("--mse-only", action="store_true", help="train with MSE only (ablation of Eq. 4)")
    t.add_argument("--model", choices=MODEL_KINDS, default=TrainConfig.model,
                   help="predictor variant: companion (ours) or authors (the authors' network and loss); "
                        f"default {TrainConfig.model}")
    t.add_argument("--readout", choices=READOUTS, default="pooled",
                   help="how `score` reads a subgraph's score: pooled (ours, default) or root (the paper's last node)")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("score", help="score every stage subgraph and build the top-K reduced space")
    s.add_argument("--checkpoint", required=True, help="predictor.pt written by `autobuild train`")
    s.add_argument("--top-k", type=_int_at_least(1), default=3)
    s.add_argument("--out", help="CSV of the ranked top-K subgraphs per stage (default: beside the checkpoint)")
    s.set_defaults(func=cmd_score)
    register_data_commands(sub)
    return parser


def _message(exc: BaseException) -> str:
    text = str(exc) if str(exc) else type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in text:
        text = f"{exc.filename}: {exc.strerror or text}"
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "…"


def _terminated(signum, frame):
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C: cmd_train removes what it created


def main(argv=None) -> int:
    import threading

    in_main_thread = threading.current_thread() is threading.main_thread()  # only there can handlers be set
    previous = signal.signal(signal.SIGTERM, _terminated) if in_main_thread else None
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except EXPECTED_ERRORS as exc:
        print(f"autobuild: error: {_message(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:  # a failing file (disk full, read-only file system ...): name it
        if exc.filename is None:
            raise
        print(f"autobuild: error: {_message(exc)}", file=sys.stderr)
        return 2
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 1024:.0f} KiB"


def _cmd_list(args) -> int:
    print(f"Embedded sets ({data_dir()}):")
    for name, filename in EMBEDDED_FILES.items():
        path = data_dir() / filename
        if not path.is_file():
            print(f"  {name:16s} MISSING {path}{_regenerate_hint(path)}")
            continue
        try:
            d = load_dataset(name, "embedded")
        except (ValueError, OSError) as exc:
            print(f"  {name:16s} UNREADABLE {path}: {exc}")
            continue
        print(f"  {name:16s} {len(d)} archs, {_size(path)}, {path}")
        for c in d.columns:
            print(f"      {c:22s} {d.provenance[c]}")
    print(f"Paper caches (Hugging Face dataset {paper_caches.HF_REPO_ID}, local folder {_paths.cache_dir()}):")
    for name, filename in paper_caches.PAPER_CACHES.items():
        path = paper_caches.paper_cache_path(name, must_exist=False)
        state = f"present, {_size(path)}" if path.is_file() else "not downloaded"
        print(f"  {name:16s} {state:22s} {filename}: {paper_caches.CACHE_DESCRIPTIONS[name]}")
    return 0


def _cmd_fetch(args) -> int:
    paths = paper_caches.fetch(args.only, args.dest, args.force)  # FetchError: exit 2 via main
    for name, path in paths.items():
        print(f"{name:16s} {path} ({_size(path)})")
    return 0


def register_data_commands(subparsers) -> argparse.ArgumentParser:
    """Add ``autobuild data list|fetch`` to an argparse ``subparsers``; handlers are in ``func``."""
    data = subparsers.add_parser("data", help="list the data sets, or download the paper's caches")
    sub = data.add_subparsers(dest="data_command", required=True)
    lst = sub.add_parser("list", help="what data sets are present and where each comes from")
    lst.set_defaults(func=_cmd_list)
    fetch = sub.add_parser("fetch", help=f"download the paper's caches from {paper_caches.HF_REPO_ID}")
    fetch.add_argument("--only", nargs="+", choices=sorted(paper_caches.PAPER_CACHES), metavar="NAME",
                       help=f"only these caches ({', '.join(paper_caches.PAPER_CACHES)})")
    fetch.add_argument("--dest", type=Path, default=None,
                       help="folder to download into (default: $AUTOBUILD_CACHE or ~/.cache/autobuild)")
    fetch.add_argument("--force", action="store_true", help="download again even when present")
    fetch.set_defaults(func=_cmd_fetch)
    return data



if __name__ == "__main__":
    sys.exit(main())
