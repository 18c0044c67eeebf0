#!/usr/bin/env python
"""Execute the book's notebooks (notebooks/NN_*.ipynb) with papermill.

Two modes:

* in place (the default, quick profile only): the stored notebooks are re-executed with their
  own default parameters (quick profile, embedded data) on the CPU, and replaced only when they
  ran without error. These stored notebooks are what the book renders and what nbval checks.
* ``--output-dir DIR``: any profile/data source/seeds/device; the executed copies go to DIR and
  their figures to DIR/figures, so the committed quick-profile notebooks and figures stay put.

Examples::

    python scripts/run_notebooks.py --profile quick
    python scripts/run_notebooks.py --profile full --device cuda --only 02 --output-dir _build/full
    python scripts/run_notebooks.py --only 03 -p profile full -p predictor_lr 0.001 --output-dir _build/lr

``--scheduler tcp://HOST:PORT`` sends the notebooks' independent jobs (searches per seed, SD-mini
evaluations) to a Dask cluster (see :mod:`autobuild.executor`); results are the same as in process.

``--jobs N`` executes N stored notebooks at once, each kernel on its fair share of the CPUs: the
kernels get ``AUTOBUILD_CPU_THREADS = max(1, cpus // N)`` (:func:`kernel_env`; ``make book`` runs 2,
so on 2 cores each kernel uses 1 thread), which bounds both their torch work and the predictors they
train at once (:func:`autobuild.predictor.config.available_cpus`). A value already set in the
environment is kept.

``-p NAME VALUE`` passes any parameter of the notebooks' parameters cell (as papermill's own
``-p`` does); a name that some selected notebook does not declare stops the run before anything
executes, instead of being ignored.

Before executing, every notebook is checked against its jupytext pair (NN_name.py); a pair
that has drifted stops the run (fix it with ``jupytext --sync notebooks/NN_name.ipynb``).

A stored notebook records the digest of what its outputs were computed from (:func:`inputs_digest`:
its cells, the package, the embedded data and the long runs' stored results). ``--stale-only``
executes only the notebooks whose inputs changed since (``make book``: a fresh clone renders the
stored, nbval-checked outputs at once; an edited notebook or package is re-executed first).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_NAME = re.compile(r"\d\d_[A-Za-z0-9_]+\.ipynb")
VOLATILE_CELL_METADATA = ("papermill", "execution", "ExecuteTime")
# As a terminal (and nbval) would show them: text before a carriage return or a backspace is overwritten.
CARRIAGE_RETURN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)
BACKSPACE = re.compile("[^\\n]\\x08")
TRAILING_BLANKS = re.compile(r"[ \t\r]+$")
#: The environment of the kernels that execute the stored notebooks (the book) and of nbval's kernels
#: (notebooks/conftest.py), so that both show the same outputs: no tqdm progress bars. TQDM_DISABLE
#: silences the bars whose caller leaves the choice to tqdm; a caller that passes ``disable=False``
#: overrides it, so TQDM_DELAY (a bar appears only after that many seconds) silences those too.
#: Interactive runs and ``--output-dir`` runs keep their bars.
QUIET_PROGRESS = {"TQDM_DISABLE": "1", "TQDM_DELAY": "1e9"}
#: What a stored notebook's outputs depend on besides its own cells (globs under the checkout): the
#: package, the embedded data, and the results that scripts store for the book to read.
INPUTS = ("autobuild/**/*.py", "autobuild/**/*.cpp", "data/**/*", "figures/fig5_nas_hypervolume_full.csv",
          "figures/predictor_variants*.csv", "figures/macro_*.csv")
#: The environment variable that bounds a kernel's CPU threads (autobuild.predictor.config.THREADS_ENV).
THREADS_ENV = "AUTOBUILD_CPU_THREADS"
#: Where a stored notebook keeps :func:`inputs_digest` of its run (notebook metadata).
DIGEST_KEY = "autobuild_inputs_sha256"


def discover(folder: Path = NOTEBOOKS, only: list[str] | None = None) -> list[Path]:
    """The notebooks ``NN_*.ipynb`` in ``folder``, in order; ``only`` keeps names starting with any prefix."""
    found = sorted(p for p in folder.glob("*.ipynb") if NOTEBOOK_NAME.fullmatch(p.name))
    if only:
        found = [p for p in found if any(p.name.startswith(o) for o in only)]
        if not found:
            raise SystemExit(f"no notebook in {folder} starts with any of {only}")
    return found


def _cells(nb) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ()))) for c in nb.cells]


def pair_drift(ipynb: Path, py: Path | None = None) -> list[str]:
    """Differences between a notebook and its jupytext percent pair (empty when in sync)."""
    import jupytext

    py = py or ipynb.with_suffix(".py")
    if not py.is_file():
        return [f"{ipynb.name} has no jupytext pair {py.name}"]
    a, b = _cells(jupytext.read(ipynb)), _cells(jupytext.read(py, fmt="py:percent"))
    problems = []
    if len(a) != len(b):
        problems.append(f"{ipynb.name} has {len(a)} cells, {py.name} has {len(b)}")
    for i, (ca, cb) in enumerate(zip(a, b)):
        if ca != cb:
            what = "type" if ca[0] != cb[0] else "source" if ca[1] != cb[1] else "tags"
            problems.append(f"cell {i}: {what} differs between {ipynb.name} and {py.name}")
    return problems


def inputs_digest(path: Path, root: Path = ROOT) -> str:
    """SHA-256 of a notebook's cells (type, source, tags) and every file of :data:`INPUTS` (path and bytes)."""
    import jupytext

    digest = hashlib.sha256()
    for cell in _cells(jupytext.read(path)):
        digest.update(repr(cell).encode())
    files = sorted({f for pattern in INPUTS for f in root.glob(pattern)
                    if f.is_file() and "__pycache__" not in f.parts})
    for f in files:
        digest.update(str(f.relative_to(root)).encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()


def stale(paths: list[Path], root: Path = ROOT) -> list[Path]:
    """The notebooks whose stored run did not use their current inputs (or records none)."""
    import nbformat

    return [p for p in paths if nbformat.read(p, as_version=4).metadata.get(DIGEST_KEY) != inputs_digest(p, root)]


def tidy(nb) -> None:
    """Drop run-specific metadata (timings, paths) and collapse progress-bar updates, so that a
    stored notebook holds what a reader would see and re-running changes as little as possible."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.outputs)


def _merge_streams(outputs: list) -> list:
    """Join consecutive outputs of the same stream, and every stderr output of the cell into its
    first (progress bars: their last newline may arrive after a print, and nbval joins a cell's
    stderr); then apply carriage returns/backspaces."""
    merged, stderr = [], None
    for out in outputs:
        if out.output_type == "stream" and out.name == "stderr" and stderr is not None:
            stderr.text += out.text
        elif out.output_type == "stream" and merged and merged[-1].output_type == "stream" \
                and merged[-1].name == out.name:
            merged[-1].text += out.text
        else:
            merged.append(out)
            if out.output_type == "stream" and out.name == "stderr":
                stderr = out
    for out in merged:
        if out.output_type == "stream":
            text = None
            while text != out.text:
                text, out.text = out.text, BACKSPACE.sub("", out.text)
            out.text = TRAILING_BLANKS.sub("", CARRIAGE_RETURN.sub("", out.text))
    # What is left of a bar cleared on completion (tqdm's leave=False) is blank: drop it.
    return [out for out in merged if out.output_type != "stream" or out.text.strip()]


def parse_value(text: str):
    """A ``-p`` value as papermill's command line reads it: int, float, True/False/None, else the string."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"True": True, "False": False, "None": None}.get(text, text)


def collect_parameters(args) -> dict:
    """The parameters to inject: ``--profile/--data-source/--seeds/--device`` and every ``-p NAME VALUE``."""
    parameters = {key: getattr(args, key) for key in ("profile", "data_source", "seeds", "device")
                  if getattr(args, key) is not None}
    given = set()
    for name, text in args.parameter or ():
        if name in given:
            raise ValueError(f"parameter {name!r} given twice with -p")
        if name in parameters:
            raise ValueError(f"parameter {name!r} given both as --{name.replace('_', '-')} and with -p")
        given.add(name)
        parameters[name] = parse_value(text)
    parameters.setdefault("profile", "quick")
    return parameters


def undeclared(paths: list[Path], names) -> list[str]:
    """``NAME (notebook)`` for every parameter name a notebook's parameters cell does not declare."""
    import papermill

    return [f"{name} ({path.name})" for path in paths
            for name in names if name not in papermill.inspect_notebook(str(path))]


def execute(path: Path, output: Path, parameters: dict, env: dict, timeout: int) -> float:
    """Run one notebook with papermill (cwd = its folder); returns seconds taken."""
    import papermill

    old = dict(os.environ)
    os.environ.update(env)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(str(path), str(output), parameters=parameters or None,
                                   cwd=str(path.parent), progress_bar=True, execution_timeout=timeout)
    finally:
        os.environ.clear()
        os.environ.update(old)
    return time.perf_counter() - start


def _run_one_in_place(path: Path, timeout: int, env: dict) -> float:
    """Execute ``path`` into a scratch copy and, only if every cell ran, replace the stored notebook."""
    import nbformat

    scratch = ROOT / "_build" / "executed"
    scratch.mkdir(parents=True, exist_ok=True)
    tmp = scratch / f".{path.name}.running.ipynb"
    digest = inputs_digest(path)
    try:
        seconds = execute(path, tmp, {}, env, timeout)
    except Exception as exc:
        failed = scratch / f"{path.stem}.failed.ipynb"
        if tmp.exists():
            os.replace(tmp, failed)
        raise SystemExit(f"{path.name} failed ({type(exc).__name__}); the stored notebook is unchanged, "
                         f"the failed run is in {failed.relative_to(ROOT)}") from exc
    nb = nbformat.read(tmp, as_version=4)
    tidy(nb)
    nb.metadata[DIGEST_KEY] = digest
    nbformat.write(nb, tmp)
    os.replace(tmp, path)
    return seconds


def kernel_env(env: dict, jobs: int, cpus: int | None = None, outer: dict | None = None) -> dict:
    """``env`` plus :data:`THREADS_ENV` for ``jobs`` kernels running at once: each gets
    ``max(1, cpus // jobs)`` threads (``cpus``: the CPUs this process may use), unless ``env`` or the
    environment ``outer`` (default ``os.environ``) already sets it."""
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    outer = os.environ if outer is None else outer
    if THREADS_ENV in env or THREADS_ENV in outer:
        return dict(env)
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return {**env, THREADS_ENV: str(max(1, cpus // jobs))}


def run_in_place(paths: list[Path], timeout: int, env: dict, jobs: int = 1) -> dict[str, float]:
    """Execute and replace every stored notebook, ``jobs`` kernels at a time (each on its share of
    the CPUs, :func:`kernel_env`; every notebook writes its own figures, and the claims ledger is
    written under a lock)."""
    # The stored notebooks are CPU runs: hide any GPU from the kernel, so "auto" means "cpu"; the book
    # shows no progress bars; the kernels share the CPUs.
    env = kernel_env({**env, "CUDA_VISIBLE_DEVICES": "", **QUIET_PROGRESS}, jobs)
    print(f"{jobs} kernel(s) at once, each with {THREADS_ENV}={env.get(THREADS_ENV, os.environ.get(THREADS_ENV))}")
    if jobs == 1:
        return {path.name: _run_one_in_place(path, timeout, env) for path in paths}
    from concurrent.futures import ThreadPoolExecutor

    # Each kernel is its own process; the threads only wait on them. The environment is set once
    # for all of them (execute() would otherwise change it from several threads).
    old = dict(os.environ)
    os.environ.update(env)
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {path.name: pool.submit(_run_one_in_place, path, timeout, {}) for path in paths}
            return {name: future.result() for name, future in futures.items()}
    finally:
        os.environ.clear()
        os.environ.update(old)


def run_to_folder(paths: list[Path], out_dir: Path, parameters: dict, timeout: int, env: dict) -> dict[str, float]:
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {**env, "AUTOBUILD_FIGURES_DIR": str(out_dir.resolve() / "figures")}
    times = {}
    for path in paths:
        try:
            times[path.name] = execute(path, out_dir / path.name, parameters, env, timeout)
        except Exception as exc:
            raise SystemExit(f"{path.name} failed ({type(exc).__name__}); see {out_dir / path.name}") from exc
    return times


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", choices=("quick", "full"), help='"quick" (default) or "full"')
    ap.add_argument("--data-source", help='"embedded" (default in every notebook), "paper" or a path')
    ap.add_argument("--seeds", type=int, help="number of seeds (default: each notebook's own)")
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--only", nargs="+", metavar="PREFIX", help="run only notebooks whose name starts so (e.g. 02)")
    ap.add_argument("--output-dir", type=Path,
                    help="write executed copies here instead of replacing the stored notebooks")
    ap.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                    help="any other notebook parameter, e.g. -p predictor_lr 0.001 (repeatable)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    ap.add_argument("--jobs", type=int, default=1,
                    help=f"stored notebooks executed at once, each kernel with {THREADS_ENV}=max(1, cpus // "
                         "JOBS) CPU threads unless that variable is set already (default 1)")
    ap.add_argument("--stale-only", action="store_true",
                    help="execute only stored notebooks whose inputs changed since their stored run (make book)")
    ap.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                    help="send the notebooks' independent jobs (searches, evaluations) to this Dask scheduler")
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    if args.only is not None and not all(o.strip() for o in args.only):
        ap.error(f"--only needs non-empty name prefixes such as 02, got {args.only!r}")
    if args.timeout < 1 or not 1 <= args.jobs <= (os.cpu_count() or 1):
        ap.error(f"--timeout must be >= 1 and --jobs in [1, {os.cpu_count() or 1}] (this machine's CPUs); "
                 f"got --timeout {args.timeout}, --jobs {args.jobs}")
    try:
        if args.scheduler:
            from autobuild.executor import probe_scheduler

            probe_scheduler(args.scheduler)
        parameters = collect_parameters(args)
        if "seeds" in parameters:
            from autobuild.book.params import check_seeds

            check_seeds(parameters["seeds"])
    except ValueError as exc:
        ap.error(str(exc))
    if args.output_dir is None and parameters != {"profile": "quick"}:
        ap.error("the stored notebooks hold the quick profile with each notebook's default parameters "
                 "(nbval and the book rely on it); give --output-dir for any other run")

    try:
        paths = discover(only=args.only)
    except SystemExit as exc:
        ap.error(str(exc))
    if not paths:
        ap.error(f"no notebooks NN_*.ipynb in {NOTEBOOKS}")
    unknown = undeclared(paths, parameters)
    if unknown:
        ap.error("not a parameter of the notebook: " + ", ".join(unknown))
    drift = [msg for p in paths for msg in pair_drift(p)]
    if drift:
        raise SystemExit("jupytext pairs out of sync (run `jupytext --sync notebooks/NN_name.ipynb` after "
                         "deciding which side is right):\n  " + "\n  ".join(drift))

    if args.stale_only:
        if args.output_dir is not None:
            ap.error("--stale-only picks among the stored notebooks; it cannot go with --output-dir")
        changed = stale(paths)
        current = [p.name for p in paths if p not in changed]
        paths = changed
        if current:
            print("up to date (inputs unchanged since their stored run): " + ", ".join(current))
        if not paths:
            return 0
    env = {"AUTOBUILD_SCHEDULER": args.scheduler} if args.scheduler else {}
    if args.output_dir is None:
        times = run_in_place(paths, args.timeout, env, args.jobs)
    else:
        times = run_to_folder(paths, args.output_dir, parameters, args.timeout, env)
    for name, seconds in times.items():
        print(f"{name:45s} {seconds:7.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
