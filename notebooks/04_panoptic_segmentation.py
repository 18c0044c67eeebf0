# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Panoptic segmentation
#
# *Paper Section 5.2 (Application to Panoptic Segmentation): Fig. 6.*
#
# Fine-tuning one MBv3 backbone for panoptic segmentation on MS-COCO costs over 24 V100-hours, so
# AIO-P (Mills et al., AAAI 2023) annotated ~100 fine-tuned and ~1.3k *pseudo-labelled* MBv3
# architectures with panoptic quality (PQ) and FLOPs. The paper trains AutoBuild predictors on the
# pseudo-labelled set with two label equations,
#
# * $y = PQ/\log_{10}(FLOPs)$ -- *"maximize PQ while not finding overtly large architectures"*, and
# * $y = \sqrt{PQ} - \sqrt{FLOPs}$ -- *"a balance between performance and computation cost"*,
#
# builds architectures from the top-scoring subgraphs and places them against the PQ-FLOPs front.
#
# **This section needs the paper's data for its real result.** The AIO-P set is part of the
# authors' caches, which the project cannot ship: fetch them once (online) with
#
# ```bash
# autobuild data fetch        # downloads kgmills/AutoBuild from the Hugging Face Hub
# autobuild data list         # shows what is present and where it came from
# ```
#
# and run this notebook with `data_source="paper"` (e.g. `papermill ... -p data_source paper`).
# With the default `data_source="embedded"` -- as in CI and the default book build -- no panoptic
# labels exist, so every cell below runs the **same code** on a clearly labelled **stand-in**: the
# ImageNet top-1 estimate (`acc`) and the classification FLOPs (`flops`) of the embedded MBv3 set.
# Stand-in numbers say nothing about panoptic segmentation; they only show that the pipeline runs.

# %% tags=["parameters"]
profile = "quick"          # "quick" (CI, 2-core CPU, minutes) or "full" (the paper's settings)
data_source = "embedded"   # "paper" for the AIO-P panoptic set; otherwise a stand-in target (see above)
seeds = 1                  # this section trains each predictor once (seed 0)
device = "auto"            # "auto", "cpu" or "cuda"

# %% tags=["remove-input"]
# On Colab, or wherever autobuild is missing: install it with this section's extras ([ofa]).
import importlib.util

REPO_URL = "https://github.com/YOUR-ORG/autobuild-companion"  # repository.url in _config.yml
if importlib.util.find_spec("autobuild") is None:
    # %pip install -q "autobuild[ofa] @ git+{REPO_URL}"

# %%
import time
import warnings

from autobuild.book import params as notebook_params

warnings.filterwarnings("ignore", message=".*torch.jit.script.*deprecated")
warnings.filterwarnings("ignore", message="IProgress not found")

SETTINGS = {
    "quick": {"n_train": 1300, "epochs": 15, "lr": 1e-3, "k": 2},
    "full": {"n_train": 3000, "epochs": 200, "lr": 1e-4, "k": 2},
}
params = notebook_params.validate("04_panoptic_segmentation", profile, data_source, seeds, device,
                                  settings=SETTINGS)
settings = params.settings
started = time.perf_counter()
settings.to_frame()

# %% [markdown]
# Both profiles build from the top $K=2$ subgraphs per stage ($2^5 = 32$ architectures per
# equation -- the paper evaluates *"a small handful"*). **quick** trains on at most 1,300
# architectures (the size of the AIO-P set) for 15 epochs with lr $10^{-3}$; **full** on all of them
# for the paper code's 200 epochs with lr $10^{-4}$.
#
# ## The labelled set and the target -- *needs the paper data for PQ*

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import torch

from autobuild.search.objectives import PredictorObjectives
from autobuild.experiments.construction import construct, evaluate_reduced_spaces, front_extension, tradeoff_equations
from autobuild.data.load import load_dataset
from autobuild.search.pareto import nadir_reference
from autobuild.book.plotting import plot_front_and_clusters, save_figure, use_style
from autobuild.spaces.ofa import MBV3
from autobuild.predictor.training import TrainConfig

use_style()
if params.device == "cpu":
    torch.set_num_threads(1)  # the graphs are small: one thread is faster than two fighting over a busy CPU
STAND_IN = params.data_source != "paper"
if STAND_IN:
    data = load_dataset("mbv3", source=notebook_params.source_for(params.data_source, "mbv3"))
    perf, cost = "acc", "flops"
    equations = tradeoff_equations(data.labels, perf, cost, weights=(0.25, 1.0))[1:3]
    perf_axis = "STAND-IN, not PQ: ImageNet top-1 in % (100*acc)"
    cost_axis = "STAND-IN: classification FLOPs (flops, M multiply-adds)"
    perf_scale = 100.0
else:
    data = load_dataset("mbv3", source="paper", task="pan_seg")
    perf, cost = "pan_seg_PQ", "flops_pan_seg"
    equations = ["pan_seg_PQ/log10(flops_pan_seg)", "sqrt(pan_seg_PQ) - sqrt(flops_pan_seg)"]
    perf_axis = "PQ (AIO-P pseudo-label)"
    cost_axis = "FLOPs of the panoptic network (flops_pan_seg, as stored)"
    perf_scale = 1.0
print(f"{'STAND-IN TARGET -- no panoptic labels offline. ' if STAND_IN else ''}"
      f"{len(data)} MBv3 architectures from {os.path.basename(data.source)}")
print(f"performance label {perf!r}: {data.provenance.get(perf, 'no provenance recorded')}")
print(f"cost label {cost!r}: {data.provenance.get(cost, 'no provenance recorded')}")
print("label equations:", " | ".join(equations))

# %% [markdown]
# With the stand-in, the paper's two *forms* do not carry over: ImageNet top-1 spans about six points
# while the classification FLOPs span a factor of four, so both $acc/\log_{10}(FLOPs)$ and
# $\sqrt{acc} - \sqrt{FLOPs}$ simply pick the smallest networks. The stand-in equations therefore
# keep the paper's two *roles* instead -- one leaning to performance, one balanced -- as trade-offs in
# units of each label's standard deviation (`autobuild.experiments.construction.tradeoff_equations`, as in
# section 3): `acc/s_a - 0.25*flops/s_f` and `acc/s_a - 1*flops/s_f`.
#
# ## Constructed architectures -- *the PQ result needs the paper data*
#
# No back end can measure the PQ of a new architecture here (the paper fine-tuned them), so each
# constructed architecture is labelled by the heads of two more AutoBuild predictors trained on the
# labelled set, one for each label; their test SRCC is part of the back-end description.

# %%
config = TrainConfig(epochs=settings.epochs, lr=settings.lr, seed=0, device=params.device, progress=False)
train_set = data.subset(np.arange(min(settings.n_train, len(data))))
built = construct(train_set, equations, k=settings.k, config=config, progress=False)
objectives = PredictorObjectives(train_set, perf, cost, config)
constructed = evaluate_reduced_spaces(built, objectives)
constructed["perf"] *= perf_scale
for c in built:
    print(f"y = {c.equation}: test SRCC {c.trained.metrics['srcc']:.3f}, top-1 architecture "
          f"{MBV3.to_string(c.reduced.best())}")
for name, text in objectives.backends.items():
    print(f"back end for {name}: {text}")

# %%
data_perf = data.labels[perf].to_numpy() * perf_scale
data_cost = data.labels[cost].to_numpy()
ref = nadir_reference(data_perf, data_cost)
table, summary = front_extension(data_perf, data_cost, constructed, ref)
summary_table = table.assign(median_perf=constructed.groupby("equation", sort=False)["perf"].median().to_numpy(),
                             median_cost=constructed.groupby("equation", sort=False)["cost"].median().to_numpy())
print(f"hypervolume of the labelled set {summary['hv_data']:.3f}, with the constructed architectures "
      f"{summary['hv_union']:.3f} (reference: the labelled set's nadir, performance {ref.acc:.2f}, cost {ref.lat:.4g})")
summary_table.round(3).set_index("equation")

# %%
fig, ax = plt.subplots(figsize=(6.2, 4.2))
colors = dict(zip(equations, ("#d62728", "#1f77b4")))
plot_front_and_clusters(ax, data_perf, data_cost, constructed, colors, marker_size=16,
                        data_label="labelled set (pseudo-labelled AIO-P)" if not STAND_IN
                        else "labelled set (STAND-IN: embedded MBv3)")
ax.set_xlabel(cost_axis)
ax.set_ylabel(perf_axis)
ax.legend(fontsize=7, loc="lower right")
ax.set_title("STAND-IN -- not panoptic segmentation: embedded MBv3, acc vs FLOPs" if STAND_IN
             else "MBv3 panoptic segmentation: constructed architectures vs the PQ-FLOPs front")
fig.text(0.01, -0.03, "Constructed architectures labelled by: " + "; ".join(objectives.backends.values()),
         fontsize=6, ha="left", wrap=True)
save_figure(fig, "fig6_panoptic_construction")
plt.show()

# %% [markdown]
# **Paper (Fig. 6):** *"module subgraphs selected using $y = PQ/\log_{10}(FLOPs)$ obtain high PQ,
# generally at or above 39 which is better than any of the fully fine-tuned architectures [...]
# However, the FLOPs of these architectures is quite high and generally overshoots the high-FLOPs
# tail of the Pareto frontier by about 5 billion FLOPs. By contrast, architectures constructed
# using $y = \sqrt{PQ} - \sqrt{FLOPs}$ strike a balance [...] and outperform the existing Pareto
# frontier."*
#
# Two differences hold whatever the data: the paper compares with the front of ~100 *fine-tuned*
# architectures, which the released caches do not contain, while we compare with the front of the
# pseudo-labelled set; and the paper fine-tuned its constructed architectures, while ours are labelled
# by predictor heads trained on that set.

# %%
first, second = table.set_index("equation").loc[equations[0]], table.set_index("equation").loc[equations[1]]
med = constructed.groupby("equation", sort=False)[["perf", "cost"]].median()
if STAND_IN:
    leaning = med.loc[equations[0], "perf"] > med.loc[equations[1], "perf"] and \
        med.loc[equations[0], "cost"] > med.loc[equations[1], "cost"]
    print("STAND-IN run: the paper's PQ claims cannot be checked without the AIO-P data "
          "(`autobuild data fetch`, then data_source='paper'). What the stand-in shows: the pipeline runs; the "
          f"accuracy-leaning equation builds {'more accurate and larger' if leaning else 'NOT more accurate and larger'} "
          f"networks than the balanced one (median {med.loc[equations[0], 'perf']:.2f} % at "
          f"{med.loc[equations[0], 'cost']:.0f} M vs {med.loc[equations[1], 'perf']:.2f} % at "
          f"{med.loc[equations[1], 'cost']:.0f} M multiply-adds), the pattern the paper reports for its two equations; "
          f"{first.n_beyond_front} and {second.n_beyond_front} of the {first.n_archs} architectures of each lie beyond "
          "the labelled set's accuracy-FLOPs front.")
else:
    high_pq = med.loc[equations[0], "perf"] >= np.max(data_perf)
    more_flops = med.loc[equations[0], "cost"] > med.loc[equations[1], "cost"]
    print(f"PQ/log10(FLOPs): median PQ {med.loc[equations[0], 'perf']:.2f} (labelled-set best {np.max(data_perf):.2f}) "
          f"-> {'high PQ, as the paper reports' if high_pq else 'not above the labelled set, unlike the paper'}; "
          f"median FLOPs {med.loc[equations[0], 'cost']:.3g} vs {med.loc[equations[1], 'cost']:.3g} for sqrt(PQ)-sqrt(FLOPs) "
          f"-> {'larger, as the paper reports' if more_flops else 'not larger, unlike the paper'}.")
    print(f"sqrt(PQ) - sqrt(FLOPs): {second.n_beyond_front} of {second.n_archs} constructed architectures beyond the "
          f"front -> {'agrees with' if second.n_beyond_front > 0 else 'does not reproduce'} 'outperform the existing "
          "Pareto frontier'.")

# %% tags=["nbval-ignore-output"]
print(f"section 04 ran in {time.perf_counter() - started:.0f} s on {params.device} ({params.profile} profile)")
