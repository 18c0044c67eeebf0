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
# # 3. Building architectures from scores, and AutoBuild-NAS
#
# *Paper Section 5.1 (ImageNet macro-search spaces), "Architecture Construction" and "Enhancing
# Neural Architecture Search": Figs. 4 and 5.*
#
# AutoBuild scores every stage subgraph of a space (Eq. 5). Training the predictor on a label
# *equation* that mixes accuracy and latency moves the scores towards one region of the
# accuracy-latency trade-off. This page
#
# 1. trains predictors for several such equations on MBv3 and PN, for the latency of three
#    devices, and draws the best and worst stage subgraphs of MBv3 on GPU (**Fig. 4**);
# 2. keeps the top $K=3$ subgraphs per stage -- a reduced space of $3^5 = 243$ MBv3 architectures
#    (PN: $3^6 = 729$, its sixth one-layer stage included) -- evaluates it exhaustively and compares
#    it with the Pareto front of the labelled set the predictors learned from (**Fig. 5, top**);
# 3. runs a multi-objective evolutionary search with 250 evaluations in the union of the top-$K$
#    subgraphs of those equations (**AutoBuild-NAS**) and in three baseline spaces (**Fig. 5,
#    bottom**).
#
# Everything is repeated `seeds` times: repeat $i$ trains every predictor with seed $i$ (its own
# train/test split and initialisation) and runs every search with seed $i$, so the spread shown
# covers the luck of the predictors -- which subgraphs make the top-$K$ -- as well as that of the search.
#
# Architectures that AutoBuild builds are new, so nothing in the dataset labels them. Here they
# are labelled by the paper authors' published predictors (ImageNet top-1 and the latency of each
# device), through `autobuild.evaluators`; every figure names its back ends.

# %% tags=["parameters"]
profile = "quick"          # "quick" (CI, 2-core CPU, minutes) or "full" (the paper's settings)
data_source = "embedded"   # "embedded", "paper", a dataset file, or a folder holding ofa_mbv3/ofa_pn.parquet
seeds = 3                  # repeats: predictors trained and every search run with seeds 0..seeds-1
device = "auto"            # "auto", "cpu" or "cuda" (predictor training)
predictor_lr = None        # None: the profile's learning rate; a positive number overrides it
predictor_epochs = None    # None: the profile's training epochs; a positive integer overrides it

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

params = notebook_params.validate("03_imagenet_construction_and_nas", profile, data_source, seeds, device)
settings = params.settings
lr = notebook_params.check_override("predictor_lr", predictor_lr, settings.lr, below=1)
epochs = notebook_params.check_override("predictor_epochs", predictor_epochs, settings.epochs, integer=True)
started = time.perf_counter()
shown = settings.to_frame()
shown.loc["lr", "value"] = f"{lr:g}" if predictor_lr is None else f"{lr:g} (predictor_lr; the profile's: {settings.lr:g})"
if predictor_epochs is not None:
    shown.loc["epochs", "value"] = f"{epochs} (predictor_epochs; the profile's: {settings.epochs})"
shown

# %% [markdown]
# The **full** profile follows the paper: predictors trained on all 3,000 labelled architectures
# (90/10 split, 200 epochs, AdamW lr $10^{-4}$ as in the authors' code), four equations per device and
# $K=25$ for AutoBuild-NAS. The **quick** profile trains on 1,500 of them for 15 epochs with lr $10^{-3}$,
# uses three equations per device and $K=10$ for AutoBuild-NAS. Both compare against the front of
# *all* labelled architectures, evaluate $K=3$ spaces exhaustively and give every search the
# paper's budget of 250 architectures (50 random, then 4 rounds of 50).

# %%
import matplotlib.pyplot as plt
import torch

from autobuild.book.figures import imagenet as figures
from autobuild.book.plotting import plot_best_worst_subgraphs, save_figure, use_style
from autobuild.data.load import load_dataset
from autobuild.experiments import imagenet
from autobuild.predictor.training import TrainConfig

use_style()
if params.device == "cpu":
    torch.set_num_threads(1)  # the graphs are small: one thread is faster than two fighting over a busy CPU
datasets = {s: load_dataset(s, source=notebook_params.source_for(params.data_source, s)) for s in settings.spaces}
print(imagenet.describe_sets(datasets, settings.devices))

# %% [markdown]
# ## Label equations
#
# > *"These equations aim to optimize different regions of the dataset Pareto frontier by
# > emphasizing accuracy and latency to different degrees, e.g., $y = acc/lat$, $y = acc - lat$,
# > etc."* -- Sec. 5.1
#
# The labels live on their own scales: `acc` is a fraction spanning about five points, GPU and NPU
# latencies span a few to tens of ms, CPU latencies hundreds of ms. A literal `acc - latency` is
# therefore all latency. We use (`autobuild.experiments.construction.tradeoff_equations`), from the accuracy end
# of the front to the latency end:
#
# * `100**acc` -- accuracy only, stretched at the top (the paper's $y = 100^{Acc}$);
# * `acc/s_a - w*latency/s_l` -- a trade-off in units of each label's standard deviation over the
#   labelled set (written into the equation), with weight `w` (quick: 1; full: 0.5 and 2);
# * `acc/latency` -- accuracy per ms (the paper's $y = acc/lat$), which favours the fastest networks.
#
# The equations are chosen by looking at the data, as the paper's were (*"our equations are manually
# inferred from the data which is a limitation"*). `100**acc` does not involve latency, so one
# predictor serves all three devices.

# %%
equations = imagenet.label_equations(datasets, settings.devices, settings.tradeoff_weights)
imagenet.equation_table(equations)

# %% [markdown]
# Every predictor is trained with one recipe, the `TrainConfig` below; repeat $i$ trains with
# seed $i$ on the first `n_train` labelled architectures of each space, one predictor per distinct
# equation, and keeps each predictor's top-$K$ subgraphs per stage ($K$ = `k_construct`).

# %%
config = TrainConfig(epochs=epochs, lr=lr, device=params.device, progress=False)
built = imagenet.construct_all(datasets, equations, config, params.seeds, settings.n_train, settings.k_construct)
built.srcc_summary()

# %% [markdown]
# Test SRCC of each predictor's head and hop-level embedding norms, mean and worst over the
# `seeds` predictors trained per equation.
#
# ## Fig. 4 -- best and worst MBv3 stage subgraphs, GPU latency
#
# For each equation, the highest- and lowest-scoring subgraph of each stage (scores are compared
# within a stage), from the predictors of seed 0. Colour: kernel size (blue k3, green k5, orange k7), darker for larger expand.

# %%
fig = plot_best_worst_subgraphs(built.best_and_worst("mbv3", "gpu"),
                                "MBv3, accuracy and GPU latency: best and worst subgraph per stage")
save_figure(fig, "fig4_best_worst_subgraphs")
plt.show()

# %% [markdown]
# **Paper (Fig. 4):** *"for $y = 100^{Acc}$, the best subgraph has 4 layers (the maximum), convolving
# over many channels (e6) using the largest possible kernel size (k7), while the worst subgraph is
# small with few channels and low kernel size. When latency is factored in, the best subgraphs
# contain fewer layers yet maintain high expansion e values, while bad subgraphs are long sequences
# containing inefficient blocks."*
#
# One subgraph per stage is a thin sample, so we check the reading on the top-25 and bottom-25
# subgraphs of every stage, pooled:

# %%
reading = imagenet.paper_reading(built.pair(0, "mbv3", "gpu"), k=25)
display(reading.traits)
print(reading.report(params.profile, params.data_source))

# %% [markdown]
# ## Fig. 5 (top) -- $K=3$ reduced spaces against the labelled set's Pareto front
#
# Each equation's top-3 subgraphs per stage form a reduced space that we evaluate exhaustively
# (243 MBv3 / 729 PN architectures, at the input resolution the FE-MLP ranks highest) with the
# authors' predictors. A cluster *reaches beyond the front* when at least one of its architectures
# is not weakly dominated by any labelled architecture. The hypervolume is measured from a stated
# reference point, the labelled set's nadir (lowest accuracy, highest latency), per space and device.
# The table gives, per repeat (predictor seed 0, 1, ...), how many of the equations' clusters reach
# beyond the front; the figure shows the clusters of seed 0.

# %%
fronts = imagenet.front_extensions(datasets, built)
fronts.table

# %% [markdown]
# The clusters of the seed-0 predictors, one colour per equation, over the labelled set and its front:

# %%
fig = figures.plot_reduced_spaces(datasets, fronts, equations, params.data_source)
save_figure(fig, "fig5_reduced_spaces")
plt.show()

# %% [markdown]
# **Paper (Fig. 5, top):** *"On MBv3, PN-GPU and PN-NPU we consistently craft target equations that
# can focus on regions that contain architectures beyond the Pareto frontier. [...] On PN-CPU, only
# two of the four reduced search spaces outperform the data Pareto frontier."*

# %%
print(fronts.report(params.data_source))

# %% [markdown]
# ## Fig. 5 (bottom) -- AutoBuild-NAS against Stage-Full, Layer-Full and Layer-Insight
#
# Four candidate spaces, one search algorithm (`autobuild.search.evolutionary_search`: 50 random
# architectures, then 4 rounds of 50 mutants of parents chosen by binary tournament among the 50
# best in NSGA-II order, every architecture evaluated once):
#
# * **AutoBuild-NAS** -- per stage, the union of the top-$K$ subgraphs of this device's equations;
#   a mutation swaps one whole stage subgraph. Repeat $i$ searches the union built from the
#   predictors of seed $i$;
# * **Stage-Full** -- every subgraph of every stage (7,371 per stage), stage-swap mutation;
# * **Layer-Full** -- the whole space, mutation adds, removes or edits one layer of one stage;
# * **Layer-Insight** -- Layer-Full's mutation in the human-restricted space of Mills et al.
#   (CIKM 2021), the block-profiling study the paper cites.
#
# **What Layer-Insight is here (a reconstruction).** The AutoBuild paper names the restriction but
# does not list it. We rebuilt it from the per-device constants of the authors' public search code
# (`rm_search/ofa_profile/constants.py` in github.com/Ascend-Research/AutoBuild), which encode the
# CIKM'21 insights: on the **NPU** no 7x7 kernels anywhere and the three early stages mutated half as
# often; on the **GPU** the blocks e3k3, e3k7 and e4k3 dropped and at most 3 layers in MBv3 stages 2,
# 4, 5 (PN stages 1-3); on the **CPU** every block, at most 3 layers in MBv3 stages 1-3 (PN stages
# 1-2). Minimum depth stays 2. The table in `autobuild.search.INSIGHT_RESTRICTIONS` is our copy of
# those facts, not the authors' code. One deliberate difference: their search code mutates every
# stage independently with these per-stage probabilities, while ours changes one layer of one stage
# per mutation (as the paper describes Layer-Full) and uses them as relative weights for picking
# that stage. We could not read the CIKM'21 paper itself here, so the insights are as that code
# encodes them.
#
# All searches run at 224 px (the authors' search default) and are labelled by the authors'
# predictors; the hypervolume uses the same reference point as Fig. 5 (top).

# %%
search = {"budget": settings.budget, "n_initial": settings.n_initial, "per_round": settings.per_round}
nas = imagenet.compare_nas(built, fronts.refs, settings.k_nas, **search)
nas.size_table()

# %% [markdown]
# The search-space sizes (architectures at 224 px; for AutoBuild-NAS the median over the repeats):
# AutoBuild-NAS's union of top-$K$ subgraphs is
# many orders of magnitude smaller than the full spaces ($7371^5 \approx 2.2 \times 10^{19}$ for
# MBv3), and smaller than the human-restricted Layer-Insight spaces as well.

# %%
fig = figures.plot_nas_fronts(nas, settings.budget)
save_figure(fig, "fig5_nas_fronts")
plt.show()

# %% [markdown]
# The final hypervolume of every method, mean ± std over the repeats, as a table and as bars:

# %%
nas.hv_table()

# %%
fig = figures.plot_hypervolumes(nas)
save_figure(fig, "fig5_nas_hypervolume")
plt.show()

# %% [markdown]
# **Paper (Fig. 5, bottom):** *"AutoBuild-NAS leads to superior Pareto frontiers compared to other
# methods across all search spaces and hardware devices, specifically all MBv3 tests and PN-GPU.
# [...] at the lower-latency end of the Pareto frontiers, the strongest competitor is generally
# Layer-Insight [...] gains attained by Layer-Insight are quite small and inconsistent."*

# %%
print(nas.verdict())

# %% [markdown]
# ## How much does AutoBuild-NAS depend on $K$?
#
# The paper fixes $K=25$ and does not vary it. A union of four equations' top-25 subgraphs holds up
# to 100 candidates per stage, and 250 evaluations sample such a space thinly; a small $K$ gives a
# space that is quick to search but may leave out good subgraphs. To see how much the comparison
# above hangs on that one number, we repeat only the AutoBuild-NAS search for several $K$ -- same
# predictors, equations, repeats, budget and reference point -- and draw its mean hypervolume beside
# the best baseline of each pair. This is a sensitivity check, not a choice: the table and verdict
# above use the profile's $K$ (`k_nas`), fixed before any search was run.

# %%
k_sweep = imagenet.k_sensitivity(built, nas, settings.k_sensitivity, **search)
k_sweep.beats_table()

# %% [markdown]
# AutoBuild-NAS's mean hypervolume against $K$, beside the best baseline of each pair:

# %%
fig = figures.plot_k_sensitivity(k_sweep, settings.k_nas)
save_figure(fig, "fig5_k_sensitivity")
plt.show()

# %% [markdown]
# On how many pairs each $K$ puts AutoBuild-NAS above every baseline:

# %%
print(k_sweep.report())

# %% [markdown]
# ## What the full profile gave
#
# The page above is the quick profile. We also ran the paper's settings,
# `scripts/run_notebooks.py --profile full --only 03 --output-dir _build/full03` (3 repeats, i.e. 3
# predictors per equation and 3 searches per method; embedded data), on a 2-core CPU with no GPU on
# 2026-11-24: 61 min, nearly all of it training the 60 predictors.
#
# * **Fig. 4:** all 7 parts of the paper's reading hold (seed-0 predictors).
# * **Fig. 5, top:** in every repeat the $K=3$ clusters reach beyond the labelled set's front on at
#   least one device of each space. Clusters beyond the front, repeats 0 / 1 / 2, of 4: MBv3-GPU
#   4 / 4 / 4, MBv3-CPU 2 / 3 / 1, MBv3-NPU 3 / 2 / 1, PN-GPU 2 / 3 / 4, PN-CPU 1 / 1 / 0,
#   PN-NPU 1 / 1 / 1; hypervolume gains 1-5 %. Fewer clusters than the paper reports (all of them on
#   MBv3, PN-GPU and PN-NPU).
# * **Fig. 5, bottom**, mean hypervolume ± std over the 3 repeats: AutoBuild-NAS is best on **1 of
#   6** pairs, MBv3-GPU (0.2576 ± 0.0043 against Layer-Insight's 0.2516 ± 0.0025). It is within one
#   standard deviation of the winner on MBv3-CPU (14.232 ± 0.189 vs Layer-Insight 14.256 ± 0.121),
#   MBv3-NPU (1.374 ± 0.023 vs Layer-Insight 1.383 ± 0.019), PN-GPU (0.1183 ± 0.0039 vs Layer-Insight
#   0.1203 ± 0.0023) and PN-CPU (4.047 ± 0.265 vs Layer-Full 4.117 ± 0.072), and clearly behind on
#   PN-NPU (1.524 ± 0.092 vs Stage-Full 1.693 ± 0.017). On PN, NPU latency follows the number of
#   7x7 layers (Spearman 0.70 over the labelled set) much more than depth (0.26); Layer-Insight
#   excludes 7x7 kernels on the NPU by construction, and AutoBuild-NAS's front stays at higher latency.
# * **$K$:** no $K$ from 3 to 50 puts AutoBuild-NAS above every baseline on more than 2 of the 6
#   pairs, so the paper's $K=25$ is not what separates our result from theirs.
# * **Learning rate:** with `predictor_lr=0.001` (papermill `-p predictor_lr 0.001`, same command
#   otherwise) the predictors rank whole architectures better (mean head test SRCC e.g. PN
#   `acc/latency_npu` 0.68 -> 0.95, MBv3 `100**acc` 0.96 -> 0.99) but build no better: fewer clusters
#   beyond the front (hypervolume gains 0.1-4 %) and AutoBuild-NAS again best on 1 of 6 pairs
#   (MBv3-CPU). Subgraph scores come from hop-level node norms, not from the head, and their SRCC
#   changes much less than the head's (at hop 0 not at all).
#
# * **Training length** (looked at after the runs above, so read it as a lead, not as the result):
#   what separates the quick profile's showing from the full one's is how long the predictors
#   train, not the smaller training set or the fewer equations. Keeping every full setting (3,000
#   architectures, four equations per device, $K=25$, budget 250) but training 15 epochs at lr
#   $10^{-3}$ (`scripts/run_notebooks.py --profile full --only 03 -p predictor_epochs 15 -p
#   predictor_lr 0.001 --output-dir DIR`, 5 min on the 2-core CPU) makes AutoBuild-NAS best on
#   **5 of 6** pairs over 3 repeats and on **4 of 6** over 6 repeats (`--seeds 6`, 11 min): all three
#   MBv3 devices and PN-CPU, e.g. MBv3-NPU 1.421 ± 0.047 vs Layer-Insight 1.367 ± 0.022, PN-CPU
#   4.403 ± 0.098 vs 4.064 ± 0.098; PN-GPU is a tie (0.1169 ± 0.0075 vs Layer-Insight
#   0.1203 ± 0.0023) and Stage-Full keeps PN-NPU (1.697 ± 0.017 vs 1.680 ± 0.101). Its K sweep gives
#   3-4 of 6 for every $K$, Fig. 4's reading still holds 7 of 7, and the $K=3$ clusters still reach
#   beyond the front on at least one device per space in all 6 repeats. With 50 epochs (same
#   command, `-p predictor_epochs 50`, 16 min) AutoBuild-NAS is best on 2 of 6 (MBv3-CPU, by 0.002,
#   and PN-CPU); with 200 on 1 of 6 at either learning rate. Longer training raises the head's SRCC
#   but does not build better, and the hop-level SRCCs at 15 epochs are already 0.8-0.99 on most
#   equations, so the predictors are not under-fitted there.
#
# **Verdict on our data:** the $K=3$ clusters do extend the front on at least one device per space,
# but **with the paper's training recipe (200 epochs) the claim that AutoBuild-NAS gives the best
# Pareto fronts does not reproduce** (1 of 6 pairs, most others a tie within the spread). With
# predictors trained for 15 epochs it holds on most pairs -- all MBv3 devices, as the paper reports,
# but not PN-GPU. We keep the full profile at the paper's 200 epochs: 15 was chosen after seeing
# the searches, and the paper's own data should decide. The quick profile's better showing above
# comes from its AutoBuild-NAS spaces alone (the baselines do not depend on the predictors and are
# the same in both profiles), and fits the same pattern: its predictors train for 15 epochs. What
# we could not vary offline: the paper's own labelled sets (`data_source="paper"`, fetched from the
# Hugging Face Hub), its label equations (not published), and evaluation of the found networks by
# OFA and on the devices rather than by the authors' predictors.

# %% tags=["nbval-ignore-output"]
print(f"section 03 ran in {time.perf_counter() - started:.0f} s on {params.device} ({params.profile} profile)")
