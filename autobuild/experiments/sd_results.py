"""The stored SD-mini evaluations (``ResultStore``) and the Table 1 report built from them."""
from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autobuild._io import atomic_write, locked
from autobuild._paths import sd_mini_dir
from autobuild.experiments.sd_mini import IMAGES, SDRecipe


def _write_json(path: Path, body: dict) -> None:
    text = json.dumps(body, indent=1) + "\n"
    with atomic_write(path) as tmp:
        tmp.write_text(text)


class ResultStore:
    """The SD-mini evaluations of one recipe in a folder: ``results.json`` (one record per
    evaluation, tagged with its ``group``), ``samples.npz`` (kept inpaintings) and
    ``recipe.json``. Every write replaces the file atomically.

    Several processes may add to one store at once: :meth:`add` holds an exclusive lock on
    the folder (:func:`~autobuild._io.locked`) while it reads what is stored, merges its record in and
    writes both files, so no record is lost.
    """

    def __init__(self, folder: Path | str | None = None, recipe: SDRecipe | None = None):
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

    def _read(self) -> tuple[list[dict], SDRecipe] | None:
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
            recipe = SDRecipe.from_dict(data["recipe"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: its 'recipe' is not a valid SD-mini recipe: {exc}") from None
        return data["records"], recipe

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
        with locked(self.folder):
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


def seed_runs(frame):
    """One row per evaluated ``(arch, seed)``: an evaluation copied into several groups counts once."""
    if not len(frame):
        raise ValueError("no SD-mini evaluations given")
    return frame.drop_duplicates(["arch", "seed"])[["arch", "seed", "fd"]].reset_index(drop=True)


def seed_noise(frame) -> tuple:
    """Architectures evaluated with more than one seed: per-architecture FD mean/std/range, and
    the pooled standard deviation (root mean of the per-architecture variances)."""
    per = seed_runs(frame).groupby("arch").fd.agg(n="count", mean="mean", std="std", min="min", max="max")
    per = per[per.n > 1]
    pooled = float(np.sqrt((per["std"] ** 2).mean())) if len(per) else float("nan")
    return per.reset_index(), pooled


STATISTICS = ("average", "best")


@dataclass(frozen=True)
class Difference:
    """``value = stat(A) - stat(B)`` of FD (lower is better) with its bootstrap interval
    ``[low, high]`` at coverage ``level``."""

    value: float
    low: float
    high: float
    level: float

    @property
    def outcome(self) -> str:
        """A ``better`` (interval below 0: lower FD), ``worse`` (above 0) or ``tie`` (holds 0)."""
        return "better" if self.high < 0 else "worse" if self.low > 0 else "tie"

    @property
    def verdict(self) -> str:
        """Against the claim "A is better than B": ``agrees``, ``differs`` or ``inconclusive``."""
        return {"better": "agrees", "worse": "differs", "tie": "inconclusive"}[self.outcome]


class SeedBootstrap:
    r"""Seed-noise intervals for statistics of sets of architectures (Table 1).

    Architecture ``a`` has ``n_a`` evaluations (seeds) with mean :math:`\bar f_a`. The seed
    residuals of every architecture with ``n_a >= 2`` are pooled,
    :math:`r_{a,s} = (f_{a,s} - \bar f_a)\sqrt{n_a/(n_a-1)}` (zero mean, variance unbiased for the
    seed variance :math:`\sigma^2`, assumed the same for every architecture). A bootstrap
    replicate of a seed mean is :math:`\bar f_a^* = \bar f_a + \frac1{n_a}\sum_{j\le n_a} r^*_j`,
    the :math:`r^*_j` drawn with replacement from the pool (so an architecture evaluated once
    gets noise of variance :math:`\sigma^2`, one evaluated with 5 seeds :math:`\sigma^2/5`). An
    architecture's draws depend only on ``seed`` and its name, so a set's replicates are the
    same in every comparison. Statistics of a set ``A``:

    * ``average``: :math:`\frac1{|A|}\sum_{a\in A}\bar f_a^*`;
    * ``best``: :math:`\bar f_{b}^*` of its architecture ``b`` with the lowest observed seed mean
      (the identity is held fixed: the interval is the seed noise of that architecture's mean).

    Intervals are the percentile intervals of ``n_boot`` replicates. Only seed noise is
    modelled: the average of a set is that of these architectures, not of the space they were
    sampled from.
    """

    def __init__(self, runs, n_boot: int = 10_000, seed: int = 0):
        runs = seed_runs(runs)
        if not np.isfinite(runs.fd.to_numpy(np.float64)).all():
            raise ValueError("FD values hold NaN or infinity")
        if n_boot < 100:
            raise ValueError(f"n_boot must be at least 100, got {n_boot}")
        per = runs.groupby("arch").fd.agg(n="count", mean="mean")
        multi = runs[runs.arch.map(per.n) > 1]
        if multi.arch.nunique() < 1:
            raise ValueError("no architecture has more than one seed: the seed noise cannot be measured")
        n = multi.arch.map(per.n).to_numpy(np.float64)
        self.residuals = (multi.fd.to_numpy(np.float64) - multi.arch.map(per["mean"]).to_numpy()) * np.sqrt(n / (n - 1))
        self.means, self.n_seeds = per["mean"], per.n
        self.n_boot, self.seed = int(n_boot), int(seed)

    @property
    def sigma(self) -> float:
        r"""Pooled seed standard deviation, :math:`\sqrt{\mathrm{mean}(r^2)}`."""
        return float(np.sqrt(np.mean(self.residuals ** 2)))

    def _check(self, archs) -> list[str]:
        archs = list(archs)
        if not archs:
            raise ValueError("an empty set of architectures has no average or best")
        missing = [a for a in archs if a not in self.means.index]
        if missing:
            raise ValueError(f"{len(missing)} architecture(s) have no evaluation, e.g. {missing[0]!r}")
        return archs

    def replicates(self, arch: str) -> np.ndarray:
        """``n_boot`` bootstrap replicates of ``arch``'s seed mean."""
        self._check([arch])
        rng = np.random.default_rng([self.seed, zlib.crc32(arch.encode())])
        draws = self.residuals[rng.integers(0, len(self.residuals), size=(self.n_boot, int(self.n_seeds[arch])))]
        return float(self.means[arch]) + draws.mean(axis=1)

    def statistic(self, archs, kind: str) -> tuple[float, np.ndarray]:
        """The observed ``kind`` (``average`` or ``best``) of a set and its replicates."""
        archs = self._check(archs)
        if kind == "average":
            return float(self.means[archs].mean()), np.mean([self.replicates(a) for a in archs], axis=0)
        if kind == "best":
            best = str(self.means[archs].idxmin())
            return float(self.means[best]), self.replicates(best)
        raise ValueError(f"unknown statistic {kind!r}; known: {STATISTICS}")

    @staticmethod
    def _interval(values, level: float) -> tuple[float, float]:
        if not 0 < level < 1:
            raise ValueError(f"level must lie in (0, 1), got {level}")
        low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
        return float(low), float(high)

    def interval(self, archs, kind: str, level: float = 0.95) -> tuple[float, float, float]:
        """``(value, low, high)`` of a set's statistic."""
        value, reps = self.statistic(archs, kind)
        return (value, *self._interval(reps, level))

    def difference(self, archs_a, archs_b, kind: str, level: float = 0.95) -> Difference:
        """``stat(A) - stat(B)`` with its interval (replicates of both sets drawn independently per
        architecture; an architecture in both sets gets the same draws)."""
        (va, ra), (vb, rb) = self.statistic(archs_a, kind), self.statistic(archs_b, kind)
        return Difference(va - vb, *self._interval(ra - rb, level), level)


def table1_from_sets(arch_sets: dict, bootstrap: SeedBootstrap, level: float = 0.95):
    """Table 1 beside the paper: per set of architectures (name -> canonical strings), the average
    and the best (lowest) of its architectures' seed-mean FDs, each with its seed-noise interval
    (:class:`SeedBootstrap`), and the seeds per architecture."""
    import pandas as pd

    rows = []
    for name, archs in arch_sets.items():
        avg, best = bootstrap.interval(archs, "average", level), bootstrap.interval(archs, "best", level)
        n_seeds = bootstrap.n_seeds[list(archs)]
        paper = PAPER_TABLE1.get(name, (np.nan, np.nan))
        rows.append({"set": name, "n": len(archs), "seeds": f"{n_seeds.min()}-{n_seeds.max()}",
                     "FD avg (ours)": avg[0], "avg low": avg[1], "avg high": avg[2],
                     "FD best (ours)": best[0], "best low": best[1], "best high": best[2],
                     "best arch": str(bootstrap.means[list(archs)].idxmin()),
                     "FID avg (paper)": paper[0], "FID best (paper)": paper[1],
                     "seed-noise std (ours)": bootstrap.sigma})
    return pd.DataFrame(rows).set_index("set")
