# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6. AutoBuild against measured truth
#
# *A section the paper does not have: its central claims, checked on networks that were really trained.*
#
# Every other page judges AutoBuild against a predictor: the OFA labels are the authors' published
# GNN predictors' estimates, and the same predictors score what the searches find. A sceptical
# reader's first objection is that this measures one GNN distilling another. **NAS-Bench-Macro**
# (Su et al., CVPR 2021; Apache-2.0) answers it exactly: it trained *every* network of a
# MobileNetV2-style sequence space on CIFAR-10, three times each by its authors' account. Its
# {glue:text}`macro_n_layers` searchable layers sit in {glue:text}`macro_n_stages` stages of
# {glue:text}`macro_stage_depths` layers, each layer Identity (`0`), MB3_K3 (`1`) or MB6_K5 (`2`),
# so {glue:text}`macro_n_networks` networks, each written as its layers' digits, such as `22212220`. Every quantity AutoBuild
# estimates therefore has an exact answer: the true marginal effect of every stage configuration,
# the true best network, the true accuracy-FLOPs front, and the noise floor of training itself.
#
# For label budgets of $N$ randomly drawn networks, this page asks four questions of **both
# methods**: the paper's (the authors' network, `model="authors"`, with the root readout) and ours
# (the companion network, `model="companion"`, with the pooled readout), each trained on the same
# $N$ labels per seed, and of the **same-information controls**, which see the same $N$ labels:
#
# 1. Do the scores rank modules by their true effect?
# 2. Does building without search work, against controls that use the same $N$ labels?
# 3. Do the reduced spaces hold the good architectures?
# 4. Does NAS in the reduced space win at an equal number of measured networks?
#
# Every answer is a 95% Student-t interval over paired seeds (no verdict below 5 seeds); a
# difference smaller than the noise floor of training does not count as a win.

# %% tags=["parameters"]
profile = "quick"          # "quick" (CI, 2-core CPU: one budget) or "full" (every budget, into figures/)
data_source = "embedded"   # NAS-Bench-Macro ships with the book: only "embedded"
seeds = 3                  # repeat seeds of this page's own run, at least 2 (5 or more for a verdict)
device = "auto"            # "auto", "cpu" or "cuda" (predictor training)

# %% tags=["remove-input"]
import importlib.util
if importlib.util.find_spec("autobuild") is None:  # Colab: install the companion
    # %pip install -q "autobuild @ git+https://github.com/YOUR-ORG/autobuild-companion"

# %% tags=["hide-input"]
from autobuild.book import params as notebook_params

params = notebook_params.validate("06_measured_truth", profile, data_source, seeds, device)
if params.data_source != "embedded":
    raise ValueError(f"data_source must be 'embedded' here (NAS-Bench-Macro ships with the book); got {data_source!r}")
settings = params.settings
params.settings.to_frame()

# %% [markdown]
# The **quick** profile runs one label budget with `seeds` seeds on this machine; the **full**
# profile runs every budget and stores its rows in `figures/macro_*.csv`. Each seed's labelled set
# is the first $N$ networks of that seed's random permutation of the space (so the sets are nested
# over budgets), and both methods, and every control, see exactly that set. Each method trains one
# predictor per target: `acc`, and the equations that trade accuracy against MFLOPs (`targets` in
# the settings above). Training
# takes about the same number of optimiser steps at every budget (`epochs` per budget).
#
# ## The space and its exact truth

# %% tags=["hide-input"]
import tempfile

import matplotlib.pyplot as plt
import pandas as pd

from autobuild._paths import stored_results_dir
from autobuild.book import claims, interactive
from autobuild.book.figures import measured_truth as figures
from autobuild.book.plotting import save_figure, use_style
from autobuild.book.verdicts import measured_truth as verdicts
from autobuild.data.load import load_dataset
from autobuild.experiments import measured_truth as mt
from autobuild.search.pareto import pareto_front

use_style()
pd.set_option("display.width", 200)
pd.set_option("display.max_colwidth", None)
truth = mt.MacroTruth(load_dataset("macro"))
recipe = mt.Recipe.from_settings(params.profile, settings.values)
headline_budget = max(settings.budgets)
facts = {"networks": f"{len(truth.strings):,}",
         "networks on the true accuracy-MFLOPs front": len(pareto_front(truth.acc, truth.flops)),
         "noise floor: median std of the 3 runs (points)": f"{truth.noise:.3f}",
         "hypervolume reference (acc %, MFLOPs)": f"({truth.ref[0]:.2f}, {truth.ref[1] / 1e6:.1f})",
         "noise floor of a relative hypervolume": f"{truth.hv_floor:.4f}"}
claims.glue_texts({"macro_n_layers": sum(truth.space.stage_depths), "macro_n_stages": len(truth.space.stage_depths),
                   "macro_stage_depths": ", ".join(map(str, truth.space.stage_depths[:-1]))
                   + f" and {truth.space.stage_depths[-1]}", "macro_n_networks": facts["networks"]})
pd.Series(facts, name="value").to_frame()

# %% [markdown]
# The true best network of each target (the trade-off equations count MFLOPs against accuracy points):

# %% tags=["hide-input"]
truth.true_best(recipe.targets).round(3)

# %% tags=["hide-input"]
fig = figures.plot_space(truth)
save_figure(fig, "fig8_macro_space")
plt.show()

# %% [markdown]
# Accuracy alone is nearly monotone in size, which is why the questions below trade it against
# FLOPs. The exact marginal of a stage configuration is the mean accuracy of every network that
# holds it, $m_u(c) = \frac{1}{|A_{u,c}|}\sum_{a \in A_{u,c}} y(a)$; the best three of each stage:

# %% tags=["hide-input"]
stage_truth = truth.stage_truth()
stage_truth.sort_values(["stage", "marginal_acc"], ascending=[True, False]).groupby("stage").head(3).round(3)

# %% [markdown]
# ## This page's run
#
# One call per budget trains both methods' predictors (all seeds and targets at once), scores,
# builds and searches, and evaluates everything by lookup in the measured table. The quick profile
# writes to a temporary folder; the full profile writes the stored files in `figures/` and skips
# what is stored there already (as `scripts/run_measured_truth.py` does).

# %% tags=["hide-input"]
folder = tempfile.mkdtemp(prefix="macro_") if params.profile == "quick" else stored_results_dir()
store = mt.stores(folder)
for budget in settings.budgets:
    mt.run_budget(truth, recipe, budget, range(params.seeds), store, device=params.device)
this_run = mt.report({name: mt.read(s) for name, s in store.items()}, truth, recipe)
figures.verdict_table(verdicts.judged(mt.headline(this_run, headline_budget, recipe.tradeoffs[0]), truth.noise,
                                      truth.hv_floor))

# %% [markdown]
# ## The stored full run
#
# `scripts/run_measured_truth.py` ran the full profile: every budget $N$ of
# {glue:text}`macro_full_budgets` with {glue:text}`macro_full_seeds` seeds, both methods and every
# control. It stores one row per stage configuration,
# built architecture and search in `figures/macro_{stage_truth,scores,build,nas}.csv`, and the
# recipe, date, machine and wall time of each (budget, seed, model) in `figures/macro_runs.csv`:

# %% tags=["hide-input"]
stored = mt.stored_results()
if stored is None:
    raise FileNotFoundError("no stored full run in figures/: run scripts/run_measured_truth.py first")
full_recipe = mt.Recipe.from_settings("full", notebook_params.section_settings("06_measured_truth", "full").values)
full = mt.report(stored, truth, full_recipe)
claims.glue_texts({"macro_full_budgets": ", ".join(map(str, sorted(set(stored["scores"].budget)))),
                   "macro_full_seeds": stored["scores"].seed.nunique()})
mt.provenance(stored["runs"])

# %% [markdown]
# ### 1. Do the scores rank modules by their true effect?
#
# Per seed and stage: the Spearman correlation of Eq. 5's scores of the stage's configurations with
# their exact marginals, the top-1 regret (the best marginal minus that of the top-scored
# configuration, in accuracy points), how many of the true top 3 the top 3 scores hold, and the
# Spearman correlation with the other seeds' scores (stability); means over the stages.

# %% tags=["hide-input"]
fig = figures.plot_scores(full)
save_figure(fig, "fig8b_macro_scores")
plt.show()

# %% tags=["hide-input"]
q1 = full.q1.assign(cell=lambda f: f["mean"].round(2).astype(str) + " [" + f.low.round(2).astype(str) + ", "
                    + f.high.round(2).astype(str) + "]")
q1.pivot(index=["budget", "method"], columns="measure", values="cell")[["spearman", "regret", "overlap", "stability"]]

# %% [markdown]
# Ours minus the paper's Spearman, paired by seed:

# %% tags=["hide-input"]
full.q1_diff.round(3)

# %% [markdown]
# ### 2. Does building without search work?
#
# AutoBuild builds the network made of each stage's top-scored configuration. Its true value
# (accuracy, or the trade-off equation in accuracy points) is compared, seed by seed, with
# controls that use the same $N$ labels: the best of the labelled networks, the head predictor's
# top-1 over every network of the space (the same trained predictor), a one-hot additive ridge
# model's top-1, and a random network. (*better*: AutoBuild leads by more than the noise floor.)

# %% tags=["hide-input"]
fig = figures.plot_build(full, ("acc", full_recipe.tradeoffs[0]))
save_figure(fig, "fig8c_macro_build")
plt.show()

# %% tags=["hide-cell"]
q2 = full.q2[full.q2.target.isin(["acc", full_recipe.tradeoffs[0]])]
q2.round(3).pivot(index=["target", "budget", "method"], columns="control", values="verdict")

# %% tags=["hide-cell"]
q2.round(3)

# %% [markdown]
# The rank percentile of the built network among every network of the space (100: the best), mean
# over seeds:

# %% tags=["hide-input"]
built = full.build[full.build.target.isin(["acc", full_recipe.tradeoffs[0]])]
(built.assign(label=mt.method_labels(built))
 .pivot_table(index=["target", "label"], columns="budget", values="percentile", aggfunc="mean").round(1))

# %% [markdown]
# Where the built networks land, at the largest budget, one point per seed (hover for the
# architecture):

# %% tags=["hide-input"]
largest = int(stored["scores"].budget.max())
interactive.show(figures.built_figure(truth, full, largest, ("acc", full_recipe.tradeoffs[0])), "macro-built")

# %% [markdown]
# ### 3. Do the reduced spaces hold the good architectures?
#
# The top-K space of a seed joins the top-K configurations per stage of every target's
# predictors (as AutoBuild-NAS builds its space) and is evaluated exhaustively. Its hypervolume,
# relative to the true front's, and the same for as many networks drawn at random from the whole
# space:

# %% tags=["hide-input"]
full.q3.round(3).pivot(index=["budget", "method"], columns="k", values="mean")

# %% tags=["hide-input"]
full.q3_diff.round(4)

# %% [markdown]
# ### 4. Does reduced-space NAS win at an equal budget?
#
# Every method measures the same number of networks: the $N$ labels plus a search budget. The $N$
# labelled networks count as measured for every method that uses them. (The search in the reduced
# space does not skip networks that are labelled already; where it meets one it measures fewer new
# networks, which the stored `evaluations` column counts.) AutoBuild-NAS runs NSGA-II
# in its top-K space; random search draws the rest at random; NSGA-II searches the full space with
# all of it; predictor-guided NSGA-II searches the full space on the head predictor's predictions
# (trained on the same $N$ labels) and measures the best predicted networks. FLOPs are counted,
# not measured, so every method knows them.

# %% tags=["hide-input"]
fig = figures.plot_nas(full)
save_figure(fig, "fig8d_macro_nas")
plt.show()

# %% tags=["hide-input"]
full.q4.round(4).pivot(index=["budget", "method"], columns="control", values="verdict")

# %% tags=["hide-cell"]
full.q4.round(4)

# %% [markdown]
# ## The verdicts at the largest budget
#
# Each question at the largest label budget of the stored run, for the paper's method, ours and
# the same-information control: the measure's mean over seeds, its 95% t-interval and, for
# comparisons, what it was compared with (for AutoBuild the strongest control, the one it leads by
# least; for the control the strongest of the simpler choices). The control column asks whether
# the same $N$ labels without AutoBuild's scores do what the paper credits AutoBuild with: the
# ridge model's top-1 against the best labelled and a random network (questions 2), and NSGA-II
# guided by our head predictor over the full space against the label-free searches (question 4).
# Each verdict comes from the ledger's rule (`autobuild.book.verdicts.measured_truth.rule`): it
# *agrees* only when the whole interval lies above the target, which is the book's (the paper
# states none for this benchmark).

# %% tags=["hide-input"]
table = mt.headline(full, largest, full_recipe.tradeoffs[0])
figures.verdict_table(verdicts.judged(table, truth.noise, truth.hv_floor))

# %% [markdown]
# In words:

# %% tags=["hide-input"]
print(verdicts.in_words(verdicts.judged(table, truth.noise, truth.hv_floor)))

# %% [markdown]
# ```{admonition} Verdict: the scores rank modules (measured truth)
# :class: note
# > The paper: "AutoBuild can learn to assign importance 'scores' to the building blocks".
#
# * the paper's method **{glue:text}`macro_scores_paper_full_verdict`**: ours {glue:text}`macro_scores_paper_full_ours`, {glue:text}`macro_scores_paper_full_interval`; {glue:text}`macro_scores_paper_full_reason`
# * ours **{glue:text}`macro_scores_full_verdict`**: ours {glue:text}`macro_scores_full_ours`, {glue:text}`macro_scores_full_interval`; {glue:text}`macro_scores_full_reason`
# ```
#
# ```{admonition} Verdict: building without search, accuracy (measured truth)
# :class: note
# > The paper: "a high-quality architecture can be directly constructed without search".
#
# * the paper's method **{glue:text}`macro_build_paper_full_verdict`**: ours {glue:text}`macro_build_paper_full_ours`, {glue:text}`macro_build_paper_full_interval`; {glue:text}`macro_build_paper_full_reason`
# * ours **{glue:text}`macro_build_full_verdict`**: ours {glue:text}`macro_build_full_ours`, {glue:text}`macro_build_full_interval`; {glue:text}`macro_build_full_reason`
# * control **{glue:text}`macro_build_control_full_verdict`**: {glue:text}`macro_build_control_full_ours`, {glue:text}`macro_build_control_full_interval`; {glue:text}`macro_build_control_full_reason`
# ```
#
# ```{admonition} Verdict: building without search, accuracy-FLOPs trade-off (measured truth)
# :class: note
# > The paper: "a high-quality architecture can be directly constructed without search".
#
# * the paper's method **{glue:text}`macro_build_tradeoff_paper_full_verdict`**: ours {glue:text}`macro_build_tradeoff_paper_full_ours`, {glue:text}`macro_build_tradeoff_paper_full_interval`; {glue:text}`macro_build_tradeoff_paper_full_reason`
# * ours **{glue:text}`macro_build_tradeoff_full_verdict`**: ours {glue:text}`macro_build_tradeoff_full_ours`, {glue:text}`macro_build_tradeoff_full_interval`; {glue:text}`macro_build_tradeoff_full_reason`
# * control **{glue:text}`macro_build_tradeoff_control_full_verdict`**: {glue:text}`macro_build_tradeoff_control_full_ours`, {glue:text}`macro_build_tradeoff_control_full_interval`; {glue:text}`macro_build_tradeoff_control_full_reason`
# ```
#
# ```{admonition} Verdict: the reduced spaces hold good architectures (measured truth)
# :class: note
# > The paper: "or searched for in a much reduced search space".
#
# * the paper's method **{glue:text}`macro_reduced_paper_full_verdict`**: ours {glue:text}`macro_reduced_paper_full_ours`, {glue:text}`macro_reduced_paper_full_interval`; {glue:text}`macro_reduced_paper_full_reason`
# * ours **{glue:text}`macro_reduced_full_verdict`**: ours {glue:text}`macro_reduced_full_ours`, {glue:text}`macro_reduced_full_interval`; {glue:text}`macro_reduced_full_reason`
# ```
#
# ```{admonition} Verdict: reduced-space NAS (measured truth)
# :class: note
# > The paper: "or searched for in a much reduced search space to generate better architectures".
#
# * the paper's method **{glue:text}`macro_nas_paper_full_verdict`**: ours {glue:text}`macro_nas_paper_full_ours`, {glue:text}`macro_nas_paper_full_interval`; {glue:text}`macro_nas_paper_full_reason`
# * ours **{glue:text}`macro_nas_full_verdict`**: ours {glue:text}`macro_nas_full_ours`, {glue:text}`macro_nas_full_interval`; {glue:text}`macro_nas_full_reason`
# * control **{glue:text}`macro_nas_control_full_verdict`**: {glue:text}`macro_nas_control_full_ours`, {glue:text}`macro_nas_control_full_interval`; {glue:text}`macro_nas_control_full_reason`
# ```

# %% [markdown]
# ## Verdicts
#
# The verdicts above are computed here from the stored full run and kept in the
# [claims ledger](../book/claims.md) (`figures/claims.csv`), one row per claim and method.

# %% tags=["hide-input"]
rows = verdicts.claims(table, largest, truth.noise, truth.hv_floor)
claims.record_claims("06_measured_truth", rows, params.profile)
claims.glue_claims(rows)

# %% tags=["nbval-ignore-output"]
print(params.ran_for())
