"""The stored SD-mini evaluations (``ResultStore``) and the Table 1 report built from them."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from autobuild._io import atomic_write
from autobuild._paths import sd_mini_dir
from autobuild.experiments.sd_mini import IMAGES, Recipe

def _write_json(path: Path, body: dict) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(body, indent=1) + "\n")


class ResultStore:
    """The SD-mini evaluations of one recipe in a folder: ``results.json`` (one record per
    evaluation, tagged with its ``group``), ``samples.npz`` (kept inpaintings) and
    ``recipe.json``. Every write replaces the file atomically."""

    def __init__(self, folder: Path | str | None = None, recipe: Recipe | None = None):
        self.folder = Path(folder) if folder is not None else sd_mini_dir()
        self.results_path = self.folder / "results.json"
        self.samples_path = self.folder / "samples.npz"
        self.recipe_path = self.folder / "recipe.json"
        self.records: list[dict] = []
        if self.results_path.exists():
            data = json.loads(self.results_path.read_text())
            if not isinstance(data, dict) or not isinstance(data.get("records"), list):
                raise ValueError(f"{self.results_path}: not an SD-mini results file (no 'records' list)")
            self.records = data["records"]
            stored = Recipe.from_dict(data["recipe"])
            if recipe is not None and stored != recipe and self.records:
                raise ValueError(f"{self.results_path} holds results of recipe {stored.digest()}, not "
                                 f"{recipe.digest()}; use another --out folder")
            recipe = recipe or stored
        if recipe is None:
            raise FileNotFoundError(f"no SD-mini results in {self.folder} and no recipe given")
        self.recipe = recipe

    def has(self, group: str, arch: str, seed: int) -> bool:
        return any(r["group"] == group and r["arch"] == arch and r["seed"] == seed for r in self.records)

    def find(self, arch: str, seed: int = 0) -> dict | None:
        """A record of ``arch`` with ``seed`` in any group (evaluations are group-independent)."""
        return next((r for r in self.records if r["arch"] == arch and r["seed"] == seed), None)

    def add(self, group: str, record: dict, samples: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        key = f"{group}|{record['seed']}|{record['arch']}"
        kept = self.samples()
        kept[key] = samples
        with atomic_write(self.samples_path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **kept)
        records = self.records + [{"group": group, **record}]
        body = {"recipe": self.recipe.to_dict(), "recipe_digest": self.recipe.digest(), "records": records}
        _write_json(self.results_path, body)
        self.records = records

    def samples(self) -> dict[str, np.ndarray]:
        if not self.samples_path.exists():
            return {}
        with np.load(self.samples_path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}

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
