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
                record, kept = sd_mini.evaluate(space, arch, store.recipe, seed=0, device=device)
                fd, source = record["fd"], "trained now"
            rows.append({"set": name, "arch": arch_name, "FD": fd, "source": source})
            samples.append(kept)
    return SetEvaluations(pd.DataFrame(rows), samples)


def table1(stored: StoredEvaluations, evaluated: SetEvaluations) -> pd.DataFrame:
    """Table 1 beside the paper: average and best FD of the 68, ES's top-4 and AutoBuild's top-4."""
    return sd_results.table1({EVALUATED: stored.evals.fd, EXHAUSTIVE: evaluated.fds(EXHAUSTIVE),
                              AUTOBUILD: evaluated.fds(AUTOBUILD)}, stored.noise)


def write_table1(table: pd.DataFrame, folder: str | Path) -> None:
    """``table1.csv`` and ``table1.md`` (4 decimals) in ``folder``, each replaced atomically."""
    for suffix, text in (("csv", table.round(4).to_csv()), ("md", table.round(4).to_markdown() + "\n")):
        with atomic_write(Path(folder) / f"table1.{suffix}") as tmp:
            tmp.write_text(text)


def table1_verdict(table: pd.DataFrame, noise: float) -> str:
    """Table 1's claims checked on our numbers; a difference counts only beyond twice the seed noise."""
    ab, es, ev = table.loc[AUTOBUILD], table.loc[EXHAUSTIVE], table.loc[EVALUATED]
    margin, best, avg = 2 * noise, "FD best (ours)", "FD avg (ours)"
    return "\n".join([
        f"AutoBuild best {ab[best]:.3f} vs best of the 68 {ev[best]:.3f}: "
        + ("better by more than twice the seed noise" if ev[best] - ab[best] > margin
           else "not better by more than twice the seed noise") + f" ({margin:.3f}).",
        f"AutoBuild avg {ab[avg]:.3f} vs ES avg {es[avg]:.3f}: "
        + ("AutoBuild ahead, as in the paper" if ab[avg] < es[avg] - margin
           else "ES ahead, unlike the paper" if es[avg] < ab[avg] - margin
           else "within twice the seed noise of each other") + ".",
        (f"Both top-4 averages below the 68's average ({ev[avg]:.3f}): {ab[avg] < ev[avg] and es[avg] < ev[avg]} "
         "(the paper: yes). SD-mini is a 16x16 pixel-space proxy trained for 150 steps, so agreement "
         "in direction is what can be compared, not magnitudes.")])


def sample_rows(recipe: sd_mini.Recipe, evaluated: SetEvaluations) -> dict[str, np.ndarray]:
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
