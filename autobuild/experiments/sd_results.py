"""The stored SD-mini evaluations (``ResultStore``) and Table 1's seed-noise statistics of sets of
them (``SeedBootstrap``), a near-tied ``Pick`` included."""
from __future__ import annotations

import itertools
import json
import math
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


#: The most subsets :meth:`SeedBootstrap.choice_outcomes` enumerates per pick.
MAX_CHOICES = 5_000


@dataclass(frozen=True)
class Pick:
    """A method's pick of ``k`` architectures among its near-tied candidates ``archs``, drawn
    uniformly; ``k = None`` is the set ``archs`` itself (no choice)."""

    archs: tuple
    k: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "archs", tuple(self.archs))
        if not self.archs:
            raise ValueError("an empty set of architectures has no average or best")
        if len(set(self.archs)) != len(self.archs):
            raise ValueError("a pick's candidates must be distinct architectures")
        if self.k is not None and (not isinstance(self.k, int) or not 1 <= self.k <= len(self.archs)):
            raise ValueError(f"k must be an integer in [1, {len(self.archs)}] (the candidates), got {self.k!r}")

    @property
    def size(self) -> int:
        return len(self.archs) if self.k is None else self.k

    @classmethod
    def of(cls, value) -> "Pick":
        """``value`` itself if a Pick, else the set of architectures ``value``."""
        return value if isinstance(value, Pick) else cls(tuple(value))


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
        return _outcome(self.low, self.high)

    @property
    def verdict(self) -> str:
        """Against the claim "A is better than B": ``agrees``, ``differs`` or ``inconclusive``."""
        return {"better": "agrees", "worse": "differs", "tie": "inconclusive"}[self.outcome]


def _outcome(low, high):
    return "better" if high < 0 else "worse" if low > 0 else "tie"


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

    A :class:`Pick` of ``k`` among ``n`` near-tied candidates gets the statistic's expectation
    over the :math:`\binom nk` equally likely choices: the average is then the candidates' mean,
    and the best is :math:`\sum_r w_r \bar f^*_{(r)}` over the candidates in order of observed
    seed mean, :math:`w_r = \binom{n-1-r}{k-1} / \binom nk` being the share of choices whose
    best is the candidate of rank :math:`r = 0, 1, \dots`

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

    def _weights(self, pick: Pick, kind: str) -> np.ndarray:
        """Each candidate's weight in the pick's expected ``kind`` (see the class docstring)."""
        means = self.means[self._check(pick.archs)].to_numpy(np.float64)
        n, k = len(means), pick.size
        if kind == "average":
            return np.full(n, 1.0 / n)
        if kind == "best":
            w = np.zeros(n)
            order = np.argsort(means, kind="stable")  # ties: the earlier candidate is the best
            w[order] = [math.comb(n - 1 - r, k - 1) / math.comb(n, k) for r in range(n)]
            return w
        raise ValueError(f"unknown statistic {kind!r}; known: {STATISTICS}")

    def statistic(self, archs, kind: str) -> tuple[float, np.ndarray]:
        """The observed ``kind`` (``average`` or ``best``) of a set or :class:`Pick` and its replicates."""
        pick = Pick.of(archs)
        w = self._weights(pick, kind)
        used = np.flatnonzero(w)
        value = float(w[used] @ self.means[[pick.archs[i] for i in used]].to_numpy(np.float64))
        return value, w[used] @ np.stack([self.replicates(pick.archs[i]) for i in used])

    @staticmethod
    def _interval(values, level: float, axis: int = -1) -> tuple:
        if not 0 < level < 1:
            raise ValueError(f"level must lie in (0, 1), got {level}")
        low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2], axis=axis)
        return (float(low), float(high)) if np.ndim(low) == 0 else (low, high)

    def interval(self, archs, kind: str, level: float = 0.95) -> tuple[float, float, float]:
        """``(value, low, high)`` of a set's (or a :class:`Pick`'s) statistic."""
        value, reps = self.statistic(archs, kind)
        return (value, *self._interval(reps, level))

    def difference(self, archs_a, archs_b, kind: str, level: float = 0.95, kind_b: str | None = None) -> Difference:
        """``stat(A) - stat(B)`` with its interval (replicates of both sets drawn independently per
        architecture; an architecture in both sets gets the same draws). ``kind`` is A's statistic
        and B's too unless ``kind_b`` names another."""
        (va, ra), (vb, rb) = self.statistic(archs_a, kind), self.statistic(archs_b, kind_b or kind)
        return Difference(va - vb, *self._interval(ra - rb, level), level)

    def _choices(self, pick: Pick, kind: str) -> np.ndarray:
        """Replicates of ``kind`` for every choice of ``pick.size`` among its candidates, one row each."""
        n, k = len(pick.archs), pick.size
        if math.comb(n, k) > MAX_CHOICES:
            raise ValueError(f"{math.comb(n, k):,} choices of {k} among {n} candidates; at most {MAX_CHOICES:,}")
        return np.stack([self.statistic([pick.archs[i] for i in c], kind)[1]
                         for c in itertools.combinations(range(n), k)])

    def choice_outcomes(self, pick_a, pick_b, kind: str, level: float = 0.95,
                        kind_b: str | None = None) -> dict[str, float]:
        """For every pair of choices the two picks allow, the outcome (``better``, ``tie``,
        ``worse``) of :meth:`difference` between the chosen sets: the share of pairs with each."""
        ra, rb = self._choices(Pick.of(pick_a), kind), self._choices(Pick.of(pick_b), kind_b or kind)
        counts = dict.fromkeys(("better", "tie", "worse"), 0)
        for row in ra:
            low, high = self._interval(row - rb, level, axis=1)
            for outcome in map(_outcome, low, high):
                counts[outcome] += 1
        total = len(ra) * len(rb)
        return {o: c / total for o, c in counts.items()}
