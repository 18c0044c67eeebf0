"""Sec. 5.3, Table 1 and Fig. 7, on our SD-mini reconstruction: the U-Net space, the 68 stored
evaluations and their seed noise, both top-4 sets evaluated with the SD-mini recipe, Table 1
beside the paper, the inpainting samples and the chosen U-Nets at full SDv1.4 width.

The selection itself is :func:`autobuild.experiments.sd_selection.select_from_store`, the one
``scripts/run_sd_mini.py`` runs; the evaluations live in a
:class:`~autobuild.experiments.sd_results.ResultStore`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from autobuild._io import atomic_write
from autobuild.experiments import sd_mini, sd_results
from autobuild.experiments.sd_selection import Selection, stored_evaluations
from autobuild.spaces.unet import FULL, count_flops, count_params

AUTOBUILD, EXHAUSTIVE, EVALUATED = "AutoBuild (4)", "Exhaustive Search (4)", "Eval Archs (68)"


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


@dataclass
class StoredEvaluations:
    """The 68 evaluations (SDv1.4-shaped first), the per-architecture seed spread and the pooled
    seed-noise standard deviation."""

    evals: pd.DataFrame
    per_arch: pd.DataFrame
    noise: float

    def describe(self) -> str:
        fd, per = self.evals.fd, self.per_arch
        return (f"FD of the 68: mean {fd.mean():.3f}, best {fd.min():.3f}, worst {fd.max():.3f}; "
                f"SDv1.4-shaped {fd.iloc[0]:.3f} (rank {int(fd.rank().iloc[0])} of 68)\n"
                f"seed noise: pooled std {self.noise:.4f} over {len(per)} architectures x {int(per.n.min())} seeds")


def load_evaluations(store: sd_results.ResultStore) -> StoredEvaluations:
    evals = stored_evaluations(store)
    if len(evals) != 68:
        raise ValueError(f"the store holds {len(evals)} of the 68 evaluations; run scripts/run_sd_mini.py first")
    per_arch, noise = sd_results.seed_noise(store.frame())
    return StoredEvaluations(evals, per_arch, noise)


@dataclass
class SetEvaluations:
    """Every architecture of both top-4 sets, evaluated with the store's recipe and seed 0:
    ``frame`` (``set, arch, FD, source``) and the kept inpaintings of each row."""

    frame: pd.DataFrame
    samples: list

    def fds(self, name: str) -> list:
        return self.frame.FD[self.frame.set == name].tolist()

    def best(self, name: str) -> tuple[float, np.ndarray]:
        """The lowest FD of set ``name`` and that architecture's inpaintings."""
        rows = np.flatnonzero(self.frame.set.to_numpy() == name)
        i = rows[int(np.argmin(self.frame.FD.to_numpy()[rows]))]
        return self.frame.FD.iloc[i], self.samples[i]


def evaluate_sets(store: sd_results.ResultStore, selection: Selection, retrain: bool = False,
                  device: str = "cpu") -> SetEvaluations:
    """Evaluate AutoBuild's then ES's top-4: from the store when it holds the architecture (seed 0)
    unless ``retrain``; otherwise train and score it now with the store's recipe."""
    space, rows, samples = selection.space, [], []
    for name, archs in ((AUTOBUILD, selection.autobuild), (EXHAUSTIVE, selection.exhaustive)):
        for arch in archs:
            arch_name = space.to_string(arch)
            record = store.find(arch_name, 0)
            if not retrain and record is not None:
                fd, kept, source = record["fd"], store.sample_of(arch_name, 0), "cache"
            else:
                record, kept = sd_mini.evaluate_unet(space, arch, store.recipe, seed=0, device=device)
                fd, source = record["fd"], "trained now"
            rows.append({"set": name, "arch": arch_name, "FD": fd, "source": source})
            samples.append(kept)
    return SetEvaluations(pd.DataFrame(rows), samples)


def stored_seeds(store: sd_results.ResultStore, evaluated: SetEvaluations) -> pd.DataFrame:
    """Every chosen architecture with the seeds the store holds for it (Table 1 uses them all)."""
    seeds = sd_results.seed_runs(store.frame()).groupby("arch").seed.agg(lambda s: ",".join(map(str, sorted(s))))
    out = evaluated.frame[["set", "arch"]].copy()
    out["seeds stored"] = [seeds.get(a, "") for a in out.arch]
    return out


def stale_selections(store: sd_results.ResultStore, evaluated: SetEvaluations) -> list[str]:
    """Architectures stored as an ``autobuild`` or ``exhaustive`` choice that this selection did not
    make (left by an earlier selection; nothing here reads them)."""
    frame = store.frame()
    chosen = frame[frame.group.isin(["autobuild", "exhaustive"])].arch
    return sorted(set(chosen) - set(evaluated.frame.arch))


#: Table 1's claims as ``(A, B, statistic)``: A's statistic of FD is lower (better) than B's. The
#: paper's numbers support all six (AutoBuild < ES < the 68, for the averages and the bests).
TABLE1_CLAIMS = ((AUTOBUILD, EXHAUSTIVE, "average"), (EXHAUSTIVE, EVALUATED, "average"),
                 (AUTOBUILD, EVALUATED, "average"), (AUTOBUILD, EXHAUSTIVE, "best"),
                 (EXHAUSTIVE, EVALUATED, "best"), (AUTOBUILD, EVALUATED, "best"))


def seed_bootstrap(store: sd_results.ResultStore, evaluated: SetEvaluations, n_boot: int = 10_000,
                   seed: int = 0) -> sd_results.SeedBootstrap:
    """The seed-noise bootstrap over every stored evaluation, with both top-4 sets' seed-0 FDs taken
    from ``evaluated`` (the same as the store's under the quick profile; retrained under the full)."""
    now = pd.DataFrame({"arch": evaluated.frame.arch, "seed": 0, "fd": evaluated.frame.FD})
    return sd_results.SeedBootstrap(pd.concat([now, store.frame()], ignore_index=True), n_boot, seed)


def arch_sets(stored: StoredEvaluations, evaluated: SetEvaluations) -> dict[str, list[str]]:
    """Table 1's three sets of architectures: the 68, ES's top-4, AutoBuild's top-4."""
    sets = {EVALUATED: stored.evals.arch.tolist()}
    for name in (EXHAUSTIVE, AUTOBUILD):
        sets[name] = evaluated.frame.arch[evaluated.frame.set == name].tolist()
    return sets


def table1(stored: StoredEvaluations, evaluated: SetEvaluations, bootstrap: sd_results.SeedBootstrap,
           level: float = 0.95) -> pd.DataFrame:
    """Table 1 beside the paper: average and best seed-mean FD of the 68, ES's top-4 and AutoBuild's
    top-4, with seed-noise intervals (:class:`~autobuild.experiments.sd_results.SeedBootstrap`)."""
    return sd_results.table1_from_sets(arch_sets(stored, evaluated), bootstrap, level)


def table1_claims(stored: StoredEvaluations, evaluated: SetEvaluations, bootstrap: sd_results.SeedBootstrap,
                  level: float = 0.95) -> pd.DataFrame:
    """Every claim of :data:`TABLE1_CLAIMS`: the FD difference ``stat(A) - stat(B)`` (negative: A
    better), its seed-noise interval, the outcome (better / tie / worse) and the verdict against
    the paper (agrees / inconclusive / differs), beside the paper's FID difference."""
    sets, rows = arch_sets(stored, evaluated), []
    for a, b, kind in TABLE1_CLAIMS:
        d = bootstrap.difference(sets[a], sets[b], kind, level)
        col = 0 if kind == "average" else 1
        rows.append({"claim": f"{a} {kind} < {b} {kind}", "FD difference": d.value,
                     f"{level:.0%} low": d.low, f"{level:.0%} high": d.high, "outcome": d.outcome,
                     "verdict": d.verdict,
                     "FID difference (paper)": sd_results.PAPER_TABLE1[a][col] - sd_results.PAPER_TABLE1[b][col]})
    return pd.DataFrame(rows).set_index("claim")


def write_table1(table: pd.DataFrame, claims: pd.DataFrame, folder: str | Path) -> None:
    """``table1.csv`` (the sets with their intervals) and ``table1.md`` (the sets, then the claims
    with their intervals and verdicts), 4 decimals, each replaced atomically."""
    md = table.round(4).to_markdown() + "\n\n" + claims.round(4).to_markdown() + "\n"
    for suffix, text in (("csv", table.round(4).to_csv()), ("md", md)):
        with atomic_write(Path(folder) / f"table1.{suffix}") as tmp:
            tmp.write_text(text)


def table1_verdict(claims: pd.DataFrame) -> str:
    """One line per claim: the FD difference with its interval, the outcome and the verdict."""
    low, high = claims.columns[1], claims.columns[2]
    return "\n".join(f"{claim}: {r['FD difference']:+.4f} [{r[low]:+.4f}, {r[high]:+.4f}] -> {r.outcome} "
                     f"({r.verdict} with the paper)" for claim, r in claims.iterrows())


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
    """SDv1.4 and every chosen U-Net at full SDv1.4 width: parameters and GFLOPs of one step on a
    64x64 latent with 77 text tokens, beside its SD-mini FD."""
    sd = space.to_string(space.sdv14())
    sizes = pd.concat([pd.DataFrame([{"set": "SDv1.4", "arch": sd}]), evaluated.frame[["set", "arch"]]],
                      ignore_index=True)
    sizes["params (M)"] = [count_params(space, space.from_string(a)) / 1e6 for a in sizes.arch]
    sizes["GFLOPs"] = [count_flops(space, space.from_string(a)) / 1e9 for a in sizes.arch]
    fd_of = dict(zip(evaluated.frame.arch, evaluated.frame.FD))
    fd_of[sd] = float(stored.evals.fd.iloc[0])
    sizes["SD-mini FD"] = [fd_of[a] for a in sizes.arch]
    return sizes
