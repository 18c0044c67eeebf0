"""The stored SD-mini evaluations (``ResultStore``) and the Table 1 report built from them."""
from __future__ import annotations

import contextlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from autobuild._io import atomic_write
from autobuild._paths import sd_mini_dir
from autobuild.experiments.sd_mini import IMAGES, Recipe

try:
    import fcntl
except ImportError:  # not POSIX: adds are not safe across processes there
    fcntl = None


def _write_json(path: Path, body: dict) -> None:
    text = json.dumps(body, indent=1) + "\n"
    with atomic_write(path) as tmp:
        tmp.write_text(text)


class ResultStore:
    """The SD-mini evaluations of one recipe in a folder: ``results.json`` (one record per
    evaluation, tagged with its ``group``), ``samples.npz`` (kept inpaintings) and
    ``recipe.json``. Every write replaces the file atomically.

    Several processes may add to one store at once: :meth:`add` holds an exclusive lock on
    the folder (``fcntl.flock``) while it reads what is stored, merges its record in and
    writes both files, so no record is lost.
    """

    def __init__(self, folder: Path | str | None = None, recipe: Recipe | None = None):
        self.folder = Path(folder) if folder is not None else sd_mini_dir()
        self.results_path = self.folder / "results.json"
        self.samples_path = self.folder / "samples.npz"
        self.recipe_path = self.folder / "recipe.json"
        self.records: list[dict] = []
        stored = self._read()
        if stored is not None:
            self.records, stored_recipe = stored
            if recipe is not None and stored_recipe != recipe and self.records:
                raise ValueError(f"{self.results_path} holds results of recipe {stored_recipe.digest()}, not "
                                 f"{recipe.digest()}; use another --out folder")
            recipe = recipe or stored_recipe
        if recipe is None:
            raise FileNotFoundError(f"no SD-mini results in {self.folder} and no recipe given")
        self.recipe = recipe

    def _read(self) -> tuple[list[dict], Recipe] | None:
        """``(records, recipe)`` stored in ``results.json``, or None when there is none."""
        path = self.results_path
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise ValueError(f"{path} is not valid JSON ({exc}); the file is corrupt: restore it "
                             "(e.g. with git) or move it away to start a new store") from None
        if not isinstance(data, dict) or not isinstance(data.get("records"), list):
            raise ValueError(f"{path}: not an SD-mini results file (no 'records' list)")
        for i, r in enumerate(data["records"]):
            if not isinstance(r, dict) or not {"group", "arch", "seed"} <= set(r):
                raise ValueError(f"{path}: record {i} is not an object with 'group', 'arch' and 'seed'")
        if not isinstance(data.get("recipe"), dict):
            raise ValueError(f"{path}: not an SD-mini results file (no 'recipe' object)")
        try:
            recipe = Recipe.from_dict(data["recipe"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: its 'recipe' is not a valid SD-mini recipe: {exc}") from None
        return data["records"], recipe

    @contextlib.contextmanager
    def _locked(self):
        """Hold an exclusive lock on the store's folder (no lock file is left behind)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if fcntl is None:
            yield
            return
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def reload(self) -> None:
        """Re-read the records other processes may have added."""
        stored = self._read()
        self.records = stored[0] if stored is not None else []

    def has(self, group: str, arch: str, seed: int) -> bool:
        return any(r["group"] == group and r["arch"] == arch and r["seed"] == seed for r in self.records)

    def find(self, arch: str, seed: int = 0) -> dict | None:
        """A record of ``arch`` with ``seed`` in any group (evaluations are group-independent)."""
        return next((r for r in self.records if r["arch"] == arch and r["seed"] == seed), None)

    def add(self, group: str, record: dict, samples: np.ndarray) -> None:
        """Store ``record`` (tagged with ``group``) and its kept ``samples``.

        Under the folder lock: read what is stored now (other processes may have added to
        it), merge, write ``samples.npz`` then ``results.json``. A record that cannot be
        written leaves both files as they were.
        """
        key = f"{group}|{record['seed']}|{record['arch']}"
        with self._locked():
            stored = self._read()
            records = []
            if stored is not None:
                records, recipe = stored
                if recipe != self.recipe and records:
                    raise ValueError(f"{self.results_path} now holds results of recipe {recipe.digest()}, "
                                     f"not {self.recipe.digest()}")
            records = records + [{"group": group, **record}]
            body = {"recipe": self.recipe.to_dict(), "recipe_digest": self.recipe.digest(), "records": records}
            text = json.dumps(body, indent=1) + "\n"  # fails before anything is written
            kept = self.samples()
            kept[key] = samples
            with atomic_write(self.samples_path) as tmp, open(tmp, "wb") as fh:
                np.savez_compressed(fh, **kept)
            with atomic_write(self.results_path) as tmp:
                tmp.write_text(text)
        self.records = records

    def samples(self) -> dict[str, np.ndarray]:
        if not self.samples_path.exists():
            return {}
        try:
            with np.load(self.samples_path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{self.samples_path} is not a readable .npz file ({type(exc).__name__}: {exc}); "
                             "the file is corrupt: restore it or move it away") from None

    def sample_of(self, arch: str, seed: int = 0) -> np.ndarray:
        for k, v in self.samples().items():
            _, s, a = k.split("|", 2)
            if a == arch and int(s) == seed:
                return v
        raise KeyError(f"no stored inpaintings of {arch} (seed {seed}) in {self.samples_path}")

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.records)

    def write_recipe(self, command: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        body = {
            "recipe": self.recipe.to_dict(), "recipe_digest": self.recipe.digest(), "command": command,
            "images": {k: f"skimage.data.{k}() - {v}" for k, v in IMAGES.items()},
            "metric": "Frechet distance (FD) between RandomFeatures(seed=feature_seed) features of all held-out "
                      "real crops and of the inpainted crops; lower is better; not FID",
        }
        _write_json(self.recipe_path, body)


# Summaries for the book ------------------------------------------------------------------------
#: Paper Table 1 (FID, lower is better): (average, best) of each architecture set.
PAPER_TABLE1 = {"Eval Archs (68)": (22.13, 10.54), "Exhaustive Search (4)": (10.82, 10.29),
                "AutoBuild (4)": (10.13, 9.96)}


def seed_noise(frame) -> tuple:
    """Architectures evaluated with more than one seed: per-architecture FD mean/std/range, and
    the pooled standard deviation (root mean of the per-architecture variances)."""
    runs = frame.drop_duplicates(["arch", "seed"])
    per = runs.groupby("arch").fd.agg(n="count", mean="mean", std="std", min="min", max="max")
    per = per[per.n > 1]
    pooled = float(np.sqrt((per["std"] ** 2).mean())) if len(per) else float("nan")
    return per.reset_index(), pooled


def table1(fd_sets: dict, noise_std: float):
    """Table 1 beside the paper: average and best (lowest) FD of each architecture set."""
    import pandas as pd

    rows = []
    for name, fds in fd_sets.items():
        fds = np.asarray(fds, dtype=np.float64)
        paper = PAPER_TABLE1.get(name, (np.nan, np.nan))
        rows.append({"set": name, "n": len(fds), "FD avg (ours)": fds.mean(), "FD best (ours)": fds.min(),
                     "FID avg (paper)": paper[0], "FID best (paper)": paper[1],
                     "seed-noise std (ours)": noise_std})
    return pd.DataFrame(rows).set_index("set")
