"""Sec. 5.3, Table 1 and Fig. 7, on our SD-mini reconstruction: the U-Net space, the 68 stored
evaluations and their seed noise, both methods' near-tied candidates evaluated with the SD-mini
recipe, Table 1 beside the paper with a FLOPs-matched control, the inpainting samples and the
chosen U-Nets at full SDv1.4 width.

The selection itself is :func:`autobuild.experiments.sd_selection.select_from_store`, the one
``scripts/run_sd_mini.py`` runs; the evaluations live in a
:class:`~autobuild.experiments.sd_results.ResultStore`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from autobuild._io import atomic_write
from autobuild.experiments import sd_mini, sd_results
from autobuild.experiments.sd_results import Pick
from autobuild.experiments.sd_selection import Selection, stored_evaluations
from autobuild.spaces.unet import FULL, count_flops, count_params
from autobuild.stats import spearman

#: Table 1's sets: the paper's three (each method's top-4 as picked, the 68), each method's pick
#: of 4 among its near-tied candidates (its expected result), and the FLOPs-matched control.
AUTOBUILD, EXHAUSTIVE, EVALUATED = "AutoBuild (4)", "Exhaustive Search (4)", "Eval Archs (68)"
AUTOBUILD_NEAR, EXHAUSTIVE_NEAR = "AutoBuild (any 4 near-tied)", "Exhaustive Search (any 4 near-tied)"
FLOPS_MATCHED = "FLOPs-matched (4 of the 68)"


@dataclass
class SpaceSummary:
    """One row per stage of the U-Net space, and the SDv1.4-shaped U-Net at full width."""

    stages: pd.DataFrame
    size: int
    sd_params: float
    sd_flops: float

    def describe(self) -> str:
        return (f"space size: {self.size:,} architectures (paper: ~800k)\n"
                f"SDv1.4-shaped U-Net at full width: {self.sd_params / 1e6:.2f}M parameters, "
                f"{self.sd_flops / 1e9:.0f} GFLOPs per 64x64-latent step (77 text tokens)")


def space_summary(space) -> SpaceSummary:
    stages = pd.DataFrame([{"stage": u, "latent": f"{64 >> u}x{64 >> u}", "SDv1.4 channels": FULL.base_channels[u],
                            "widths": "0.8 / 1.0 / 1.2", "depths (down, up)": "(1,2) / (2,3) / (3,4)",
                            "attention": "down on/off x up on/off" if u < 3 else "mid block on/off",
                            "choices": space.n_stage_subgraphs(u)} for u in range(space.n_stages)]).set_index("stage")
    sd = space.sdv14()
    return SpaceSummary(stages, space.size, count_params(space, sd), count_flops(space, sd))


@dataclass(frozen=True)
class ExhaustiveCost:
    """What a true exhaustive search (every U-Net trained and scored) costs: ``evaluations``, the
    paper's ``budget`` of evaluations, and on SD-mini the stored mean seconds per evaluation
    (training plus scoring, on the machines that ran them) and the total in CPU-years."""

    evaluations: int
    budget: int
    seconds_each: float

    @property
    def cpu_years(self) -> float:
        return self.evaluations * self.seconds_each / (365.25 * 24 * 3600)

    def describe(self) -> str:
        return (f"evaluating all {self.evaluations:,} U-Nets: {self.evaluations / self.budget:,.0f} times the "
                f"{self.budget} evaluations; on SD-mini at the stored mean of {self.seconds_each:.0f} s each "
                f"(training + scoring), {self.cpu_years:,.1f} CPU-years")


def exhaustive_cost(space, store: sd_results.ResultStore, budget: int = 68) -> ExhaustiveCost:
    """:class:`ExhaustiveCost` of ``space`` from the store's ``train_s`` and ``eval_s`` (every
    stored evaluation that records both)."""
    frame = store.frame()
    if not {"train_s", "eval_s"} <= set(frame.columns):
        raise ValueError("the store's records hold no train_s / eval_s timings")
    seconds = (frame.train_s + frame.eval_s).dropna()
    if seconds.empty:
        raise ValueError("no stored evaluation records both train_s and eval_s")
    return ExhaustiveCost(int(space.size), int(budget), float(seconds.mean()))


@dataclass
class StoredEvaluations:
    """The 68 evaluations (SDv1.4-shaped first), the per-architecture seed spread and the pooled
    seed-noise standard deviation."""

    evals: pd.DataFrame
    per_arch: pd.DataFrame
    noise: float

    def describe(self) -> str:
        fd, per = self.evals.fd, self.per_arch
        return (f"seed-0 FD of the 68 (Table 1 uses each U-Net's mean over its seeds): mean {fd.mean():.3f}, "
                f"lowest {fd.min():.3f}, highest {fd.max():.3f}; SDv1.4-shaped {fd.iloc[0]:.3f} "
                f"(rank {int(fd.rank().iloc[0])} of {len(fd)})\n"
                f"seed noise: pooled std {self.noise:.4f} over {len(per)} architectures with "
                f"{int(per.n.min())}-{int(per.n.max())} seeds each")


def load_evaluations(store: sd_results.ResultStore) -> StoredEvaluations:
    evals = stored_evaluations(store)
    if len(evals) != 68:
        raise ValueError(f"the store holds {len(evals)} of the 68 evaluations; run scripts/run_sd_mini.py first")
    per_arch, noise = sd_results.seed_noise(store.frame())
    return StoredEvaluations(evals, per_arch, noise)


@dataclass
class SetEvaluations:
    """Every near-tied candidate of both methods, evaluated with the store's recipe and seed 0:
    ``frame`` (``set, rank, picked, arch, FD, source``; the first ``k`` ranks are the method's
    picks) and the kept inpaintings of each row."""

    frame: pd.DataFrame
    samples: list

    def picked(self, name: str) -> list[str]:
        """The architectures method ``name`` picked (its top ``k``)."""
        rows = self.frame[(self.frame.set == name) & self.frame.picked]
        return rows.arch.tolist()

    def candidates(self, name: str) -> list[str]:
        """Method ``name``'s near-tied candidates, best-ranked first."""
        return self.frame.arch[self.frame.set == name].tolist()

    def fds(self, name: str) -> list:
        return self.frame.FD[(self.frame.set == name) & self.frame.picked].tolist()

    def best(self, name: str) -> tuple[float, np.ndarray]:
        """The lowest seed-0 FD among method ``name``'s picks and that architecture's inpaintings."""
        rows = np.flatnonzero((self.frame.set.to_numpy() == name) & self.frame.picked.to_numpy())
        i = rows[int(np.argmin(self.frame.FD.to_numpy()[rows]))]
        return self.frame.FD.iloc[i], self.samples[i]


def evaluate_sets(store: sd_results.ResultStore, selection: Selection, retrain: bool = False,
                  device: str = "cpu") -> SetEvaluations:
    """Evaluate AutoBuild's then ES's near-tied candidates (picks first): from the store when it
    holds the architecture (seed 0) unless ``retrain``; otherwise train and score it now with the
    store's recipe."""
    space, rows, samples = selection.space, [], []
    for name, archs in ((AUTOBUILD, selection.autobuild_ranked), (EXHAUSTIVE, selection.exhaustive_ranked)):
        for rank, arch in enumerate(archs, 1):
            arch_name = space.to_string(arch)
            record = store.find(arch_name, 0)
            if not retrain and record is not None:
                fd, kept, source = record["fd"], store.sample_of(arch_name, 0), "cache"
            else:
                record, kept = sd_mini.evaluate_unet(space, arch, store.recipe, seed=0, device=device)
                fd, source = record["fd"], "trained now"
            rows.append({"set": name, "rank": rank, "picked": rank <= selection.k, "arch": arch_name, "FD": fd,
                         "source": source})
            samples.append(kept)
    return SetEvaluations(pd.DataFrame(rows), samples)


def stored_seeds(store: sd_results.ResultStore, evaluated: SetEvaluations) -> pd.DataFrame:
    """Every candidate with the seeds the store holds for it (Table 1 uses them all)."""
    seeds = sd_results.seed_runs(store.frame()).groupby("arch").seed.agg(lambda s: ",".join(map(str, sorted(s))))
    out = evaluated.frame[["set", "rank", "arch"]].copy()
    out["seeds stored"] = [seeds.get(a, "") for a in out.arch]
    return out


def stale_selections(store: sd_results.ResultStore, evaluated: SetEvaluations) -> list[str]:
    """Architectures stored as an ``autobuild`` or ``exhaustive`` choice that are none of this
    selection's candidates (left by an earlier selection; nothing here reads them)."""
    frame = store.frame()
    chosen = frame[frame.group.isin(["autobuild", "exhaustive"])].arch
    return sorted(set(chosen) - set(evaluated.frame.arch))


def seed_bootstrap(store: sd_results.ResultStore, evaluated: SetEvaluations, n_boot: int = 10_000,
                   seed: int = 0) -> sd_results.SeedBootstrap:
    """The seed-noise bootstrap over every stored evaluation, with the candidates' seed-0 FDs taken
    from ``evaluated`` (the same as the store's under the quick profile; retrained under the full)."""
    now = pd.DataFrame({"arch": evaluated.frame.arch, "seed": 0, "fd": evaluated.frame.FD})
    return sd_results.SeedBootstrap(pd.concat([now, store.frame()], ignore_index=True), n_boot, seed)


# FLOPs ------------------------------------------------------------------------------------------
def gflops(space, archs) -> np.ndarray:
    """Full-width GFLOPs of one U-Net step (64x64 latent, 77 text tokens) of each architecture."""
    return np.array([_gflops(space, a) for a in archs])


@functools.lru_cache(maxsize=4096)
def _gflops(space, arch: str) -> float:
    return count_flops(space, space.from_string(arch)) / 1e9


def flops_matched(space, stored: StoredEvaluations, evaluated: SetEvaluations, k: int | None = None) -> list[str]:
    """The control: the ``k`` (default: as many as AutoBuild picked) of the 68 nearest in log
    full-width FLOPs to the geometric mean of AutoBuild's near-tied candidates' FLOPs."""
    k = k or len(evaluated.picked(AUTOBUILD))
    target = np.log(gflops(space, evaluated.candidates(AUTOBUILD))).mean()
    archs = stored.evals.arch.tolist()
    gap = np.abs(np.log(gflops(space, archs)) - target)
    return [archs[i] for i in np.argsort(gap, kind="stable")[:k]]


def flops_context(space, stored: StoredEvaluations, sets: dict, bootstrap: sd_results.SeedBootstrap) -> str:
    """Where each set's FLOPs sit among the 68 (percentile: share of the 68 below), and how the
    68's seed-mean FD follows FLOPs (Spearman)."""
    the68 = stored.evals.arch.tolist()
    f68 = gflops(space, the68)
    rho = spearman(f68, bootstrap.means[the68].to_numpy())
    lines = [f"among the 68, seed-mean FD vs full-width GFLOPs: Spearman {rho:+.2f}"]
    for name in (AUTOBUILD, EXHAUSTIVE, FLOPS_MATCHED):
        g = gflops(space, sets[name].archs)
        pct = [100 * float(np.mean(f68 < x)) for x in g]
        lines.append(f"{name}: {g.min():.0f}-{g.max():.0f} GFLOPs, FLOPs percentile among the 68 "
                     f"{min(pct):.0f}-{max(pct):.0f}")
    return "\n".join(lines)


# Table 1 ----------------------------------------------------------------------------------------
def arch_sets(space, stored: StoredEvaluations, evaluated: SetEvaluations) -> dict[str, Pick]:
    """Table 1's sets as :class:`~autobuild.experiments.sd_results.Pick`: the 68, each method's
    picks, each method's pick of as many among its near-tied candidates, and the FLOPs-matched
    control."""
    sets = {EVALUATED: Pick(stored.evals.arch.tolist())}
    for name, near in ((EXHAUSTIVE, EXHAUSTIVE_NEAR), (AUTOBUILD, AUTOBUILD_NEAR)):
        sets[name] = Pick(evaluated.picked(name))
        sets[near] = Pick(evaluated.candidates(name), len(sets[name].archs))
    sets[FLOPS_MATCHED] = Pick(flops_matched(space, stored, evaluated))
    return sets


#: Table 1's claims ``(A, B, statistic of A, statistic of B, method)``: A's statistic of FD is
#: lower (better) than B's. The paper's numbers support the first seven (AutoBuild < ES < the 68
#: for the averages and the bests, and AutoBuild's average below the 68's best); each method
#: enters through its pick among its near-tied candidates. The last two are the control:
#: AutoBuild against the U-Nets of the 68 with its FLOPs.
TABLE1_CLAIMS = ((AUTOBUILD_NEAR, EXHAUSTIVE_NEAR, "average", "average", "ours"),
                 (EXHAUSTIVE_NEAR, EVALUATED, "average", "average", "ours"),
                 (AUTOBUILD_NEAR, EVALUATED, "average", "average", "ours"),
                 (AUTOBUILD_NEAR, EXHAUSTIVE_NEAR, "best", "best", "ours"),
                 (EXHAUSTIVE_NEAR, EVALUATED, "best", "best", "ours"),
                 (AUTOBUILD_NEAR, EVALUATED, "best", "best", "ours"),
                 (AUTOBUILD_NEAR, EVALUATED, "average", "best", "ours"),
                 (AUTOBUILD_NEAR, FLOPS_MATCHED, "average", "average", "control"),
                 (AUTOBUILD_NEAR, FLOPS_MATCHED, "best", "best", "control"))

#: The set each near-tied pick was drawn for (its as-picked counterpart).
AS_PICKED = {AUTOBUILD_NEAR: AUTOBUILD, EXHAUSTIVE_NEAR: EXHAUSTIVE}


def table1(space, stored: StoredEvaluations, evaluated: SetEvaluations, bootstrap: sd_results.SeedBootstrap,
           level: float = 0.95) -> pd.DataFrame:
    """Table 1 beside the paper: per set its size, mean full-width GFLOPs, and the average and
    best seed-mean FD with seed-noise intervals
    (:class:`~autobuild.experiments.sd_results.SeedBootstrap`); a near-tied pick's are the
    expectations over its choices."""
    rows = []
    for name, pick in arch_sets(space, stored, evaluated).items():
        avg, best = bootstrap.interval(pick, "average", level), bootstrap.interval(pick, "best", level)
        seeds = bootstrap.n_seeds[list(pick.archs)]
        paper = sd_results.PAPER_TABLE1.get(name, (np.nan, np.nan))
        rows.append({"set": name, "U-Nets": pick.size if pick.k is None else f"{pick.k} of {len(pick.archs)}",
                     "seeds": f"{seeds.min()}-{seeds.max()}", "GFLOPs": float(gflops(space, pick.archs).mean()),
                     "FD avg": avg[0], "avg low": avg[1], "avg high": avg[2],
                     "FD best": best[0], "best low": best[1], "best high": best[2],
                     "FID avg (paper)": paper[0], "FID best (paper)": paper[1]})
    return pd.DataFrame(rows)


def table1_view(table: pd.DataFrame) -> pd.DataFrame:
    """Table 1 for a narrow page: each statistic with its interval in one cell, the paper's pair in one."""
    def cell(v, lo, hi):
        return f"{v:.3f} [{lo:.3f}, {hi:.3f}]"

    return pd.DataFrame({
        "set": table.set, "U-Nets": table["U-Nets"], "GFLOPs": table.GFLOPs.round(0).astype(int),
        "average FD [95%]": [cell(*r) for r in table[["FD avg", "avg low", "avg high"]].to_numpy()],
        "best FD [95%]": [cell(*r) for r in table[["FD best", "best low", "best high"]].to_numpy()],
        "paper FID avg / best": ["—" if np.isnan(a) else f"{a:.2f} / {b:.2f}"
                                 for a, b in table[["FID avg (paper)", "FID best (paper)"]].to_numpy()]})


def table1_claims(space, stored: StoredEvaluations, evaluated: SetEvaluations,
                  bootstrap: sd_results.SeedBootstrap, level: float = 0.95) -> pd.DataFrame:
    """Every claim of :data:`TABLE1_CLAIMS`: the expected FD difference ``stat(A) - stat(B)``
    (negative: A better) over the near-tied picks, its seed-noise interval and the verdict
    against the paper (agrees: below 0 / inconclusive / differs: above 0); the difference
    between the sets as picked; the share of the picks' choice pairs whose own interval lies below
    0 (better) and holds 0 (tie); and the paper's FID difference (none for the control)."""
    sets, rows = arch_sets(space, stored, evaluated), []
    for a, b, kind_a, kind_b, method in TABLE1_CLAIMS:
        d = bootstrap.difference(sets[a], sets[b], kind_a, level, kind_b)
        picked = bootstrap.difference(sets[AS_PICKED.get(a, a)], sets[AS_PICKED.get(b, b)], kind_a, level, kind_b)
        shares = bootstrap.choice_outcomes(sets[a], sets[b], kind_a, level, kind_b)
        paper = [sd_results.PAPER_TABLE1.get(AS_PICKED.get(n, n)) for n in (a, b)]
        rows.append({"claim": f"{a} {kind_a} < {b} {kind_b}", "A": a, "B": b, "stat A": kind_a, "stat B": kind_b,
                     "method": method, "FD difference": d.value, "low": d.low, "high": d.high,
                     "verdict": d.verdict, "as picked": picked.value,
                     "choices better": shares["better"], "choices tie": shares["tie"],
                     "FID difference (paper)": np.nan if None in paper else
                     paper[0][STAT_COLUMN[kind_a]] - paper[1][STAT_COLUMN[kind_b]]})
    out = pd.DataFrame(rows)
    out.attrs["level"] = level
    return out


#: Where each statistic sits in :data:`~autobuild.experiments.sd_results.PAPER_TABLE1`'s pairs.
STAT_COLUMN = {"average": 0, "best": 1}


def claims_view(claims: pd.DataFrame) -> pd.DataFrame:
    """The claims for a narrow page: claim, expected difference with its interval, verdict, and
    the share of choice pairs whose own interval lies below 0."""
    return pd.DataFrame({
        "claim": claims.claim, "method": claims.method,
        "FD difference [95%]": [f"{v:+.3f} [{lo:+.3f}, {hi:+.3f}]" for v, lo, hi in claims[["FD difference", "low", "high"]].to_numpy()],
        "verdict": claims.verdict, "choice pairs better": [f"{x:.0%}" for x in claims["choices better"]]})


def write_table1(table: pd.DataFrame, claims: pd.DataFrame, folder: str | Path) -> None:
    """``table1.csv`` (the sets with their intervals) and ``table1.md`` (the sets, then the claims
    with their intervals and verdicts), 4 decimals, each replaced atomically."""
    md = table.round(4).to_markdown(index=False) + "\n\n" + claims.round(4).to_markdown(index=False) + "\n"
    for suffix, text in (("csv", table.round(4).to_csv(index=False)), ("md", md)):
        with atomic_write(Path(folder) / f"table1.{suffix}") as tmp:
            tmp.write_text(text)


def table1_verdict(claims: pd.DataFrame) -> str:
    """One line per claim: the expected FD difference with its interval, the verdict,
    the difference as picked and the share of choice pairs with an interval below 0."""
    return "\n".join(f"{r.claim}: {r['FD difference']:+.4f} [{r.low:+.4f}, {r.high:+.4f}] -> {r.verdict}; "
                     f"as picked {r['as picked']:+.4f}; better in {r['choices better']:.0%} "
                     f"of the choice pairs" for _, r in claims.iterrows())


def sample_rows(recipe: sd_mini.SDRecipe, evaluated: SetEvaluations) -> dict[str, np.ndarray]:
    """Fig. 7's rows as uint8 images: three held-out crops under the centred mask and three under
    a random box, masked (hole grey), and the inpaintings of the best ES and AutoBuild U-Net."""
    _, images, masks = sd_mini.eval_set(recipe)
    k, n = recipe.n_samples_kept, recipe.n_eval_crops
    pick = np.r_[0:3, n:n + 3]
    keep = np.r_[0:3, k:k + 3]
    (es_fd, es_kept), (ab_fd, ab_kept) = evaluated.best(EXHAUSTIVE), evaluated.best(AUTOBUILD)
    return {"original": sd_mini.to_uint8(images[pick]), "masked": sd_mini.to_uint8(images[pick] * (1 - masks[pick])),
            f"best ES (FD {es_fd:.3f})": es_kept[keep], f"best AutoBuild (FD {ab_fd:.3f})": ab_kept[keep]}


def full_width_sizes(space, stored: StoredEvaluations, evaluated: SetEvaluations) -> pd.DataFrame:
    """SDv1.4 and every picked U-Net at full SDv1.4 width: parameters and GFLOPs of one step on a
    64x64 latent with 77 text tokens, beside its seed-0 SD-mini FD."""
    sd = space.to_string(space.sdv14())
    picks = evaluated.frame[evaluated.frame.picked]
    sizes = pd.concat([pd.DataFrame([{"set": "SDv1.4", "arch": sd}]), picks[["set", "arch"]]], ignore_index=True)
    sizes["params (M)"] = [count_params(space, space.from_string(a)) / 1e6 for a in sizes.arch]
    sizes["GFLOPs"] = [count_flops(space, space.from_string(a)) / 1e9 for a in sizes.arch]
    fd_of = dict(zip(picks.arch, picks.FD))
    fd_of[sd] = float(stored.evals.fd.iloc[0])
    sizes["SD-mini FD (seed 0)"] = [fd_of[a] for a in sizes.arch]
    return sizes
