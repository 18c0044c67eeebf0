"""The ``autobuild`` command line: ``train``, ``score`` and ``data``."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from autobuild import _paths
from autobuild.data import paper_caches
from autobuild._io import atomic_write
from autobuild._paths import EMBEDDED_FILES, data_dir
from autobuild.data.load import load_dataset
from autobuild.data.parquet import _regenerate_hint
from autobuild.predictor.training import TrainConfig


def _write_json(path: Path, obj) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2))


def cmd_train(args) -> int:
    from autobuild.predictor.checkpoint import save_predictor
    from autobuild.predictor.scoring import SubgraphScorer
    from autobuild.predictor.training import train_predictor

    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         device=args.device, ranking_loss=not args.mse_only)
    dataset = load_dataset(args.space, source=args.data)
    y = dataset.target(args.target)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"training on {len(y)} {args.space} architectures ({dataset.source}), target {args.target!r}",
          file=sys.stderr)
    start = time.perf_counter()
    trained = train_predictor(dataset.space, dataset.archs, y, config)
    seconds = time.perf_counter() - start
    scorer = SubgraphScorer.from_data(trained, dataset.archs, y)
    save_predictor(trained, out / "predictor.pt", equation=args.target, scorer_state=scorer.state,
                   data_source=dataset.source)
    metrics = {**trained.metrics, "target": args.target, "space": args.space, "data_source": dataset.source,
               "train_seconds": round(seconds, 2), "config": config.to_dict()}
    _write_json(out / "metrics.json", metrics)
    hops = " ".join(f"{v:.3f}" for v in trained.metrics["hop_srcc"])
    print(f"test SRCC head {trained.metrics['srcc']:.3f} | hops 0..{len(trained.metrics['hop_srcc']) - 1}: "
          f"{hops} | MAE {trained.metrics['mae']:.4g} | {seconds:.1f} s")
    print(f"wrote {out / 'predictor.pt'} and {out / 'metrics.json'}")
    return 0


def cmd_score(args) -> int:
    from autobuild.predictor.checkpoint import load_predictor
    from autobuild.predictor.scoring import SubgraphScorer

    trained, payload = load_predictor(args.checkpoint)
    if not payload.get("scorer_state"):
        raise ValueError(f"{args.checkpoint} holds no scorer moments; retrain with `autobuild train`")
    scorer = SubgraphScorer(trained, payload["scorer_state"])
    scores = scorer.score_all()
    top = scores[scores["rank"] <= args.top_k].sort_values(["stage", "rank"])
    out = Path(args.out) if args.out else Path(args.checkpoint).with_name(f"top{args.top_k}_subgraphs.csv")
    with atomic_write(out) as tmp:
        top.to_csv(tmp, index=False)
    reduced = scorer.top_k(args.top_k)
    best = reduced.best()
    text = trained.space.to_string(best) if hasattr(trained.space, "to_string") else str(best)
    print(f"target {payload.get('equation')!r}: top-{args.top_k} space of {reduced.size} architectures")
    print(f"top-1 architecture: {text}")
    print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autobuild", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a predictor with the hop-level ranking loss (Eq. 4)")
    t.add_argument("--space", required=True, help="search space: mbv3 or pn")
    t.add_argument("--target", required=True, help="label name or equation, e.g. 'acc' or 'acc*100/latency_gpu'")
    t.add_argument("--out", required=True, help="output directory")
    t.add_argument("--data", default="embedded", help="embedded (default), paper, or a path to a dataset file")
    t.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    t.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    t.add_argument("--lr", type=float, default=TrainConfig.lr)
    t.add_argument("--seed", type=int, default=TrainConfig.seed)
    t.add_argument("--device", default=TrainConfig.device, help="cpu, cuda or auto")
    t.add_argument("--mse-only", action="store_true", help="train with MSE only (ablation of Eq. 4)")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("score", help="score every stage subgraph and build the top-K reduced space")
    s.add_argument("--checkpoint", required=True, help="predictor.pt written by `autobuild train`")
    s.add_argument("--top-k", type=int, default=3)
    s.add_argument("--out", help="CSV of the ranked top-K subgraphs per stage (default: beside the checkpoint)")
    s.set_defaults(func=cmd_score)
    register_data_commands(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"autobuild: error: {exc}", file=sys.stderr)
        return 2


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
    try:
        paths = paper_caches.fetch(args.only, args.dest, args.force)
    except (RuntimeError, ValueError) as exc:
        print(f"autobuild data fetch: {exc}")
        return 1
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
