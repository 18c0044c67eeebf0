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
# # 4. Panoptic segmentation
#
# *Paper Section 5.2 (Application to Panoptic Segmentation): Fig. 6.*
#
# Fine-tuning one MBv3 backbone for panoptic segmentation on MS-COCO costs, by the paper's count, over
# 24 V100-hours, so AIO-P (Mills et al., AAAI 2023) annotated about 100 fine-tuned and about 1.3k
# *pseudo-labelled* MBv3 architectures with panoptic quality (PQ) and FLOPs (the paper's figures). The paper trains AutoBuild predictors on the
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
seeds = 1                  # predictors trained with seeds 0..seeds-1 (the page shows the first; a verdict needs 5)
device = "auto"            # "auto", "cpu" or "cuda"

# %% tags=["remove-input"]
import importlib.util
if importlib.util.find_spec("autobuild") is None:  # Colab: install the companion (extras [ofa])
    # %pip install -q "autobuild[ofa] @ git+https://github.com/YOUR-ORG/autobuild-companion"

# %% tags=["hide-input"]
from autobuild.book import params as notebook_params

params = notebook_params.validate("04_panoptic_segmentation", profile, data_source, seeds, device)
settings = params.settings
settings.to_frame()

# %% [markdown]
# Both profiles build from the top $K=2$ subgraphs per stage ($2^5 = 32$ architectures per
# equation -- the paper evaluates *"a small handful"*). **quick** trains on at most 1,300
# architectures (the size of the AIO-P set) for 15 epochs with lr $10^{-3}$; **full** on all of them
# for the paper code's 200 epochs with lr $10^{-4}$.
#
# ## The labelled set and the target -- *needs the paper data for PQ*

# %% tags=["hide-input"]
import matplotlib.pyplot as plt

from autobuild.book.figures.panoptic import interactive_fig6, plot_fig6
from autobuild.book.interactive import show
from autobuild.book.plotting import save_figure, use_style
from autobuild.experiments import panoptic

use_style()
notebook_params.pin_kernel_threads(params)
config = notebook_params.train_config(params)
target = panoptic.load_target(notebook_params.source_for(params.data_source, "mbv3"))
print(target.describe())

# %% [markdown]
# With the stand-in, the paper's two *forms* do not carry over: ImageNet top-1 varies by a few
# per cent across the set while the classification FLOPs vary several-fold (the ranges above), so
# both $acc/\log_{10}(FLOPs)$ and $\sqrt{acc} - \sqrt{FLOPs}$ simply pick the smallest networks. The stand-in equations therefore
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
result = panoptic.construct_fig6(target, n_train=settings.n_train, config=config, k=settings.k,
                                 seeds=range(params.seeds))
print(result.describe())

# %% [markdown]
# Per equation: how many of its architectures reach beyond the labelled set's front (no labelled
# architecture weakly dominates them and they lie inside the hypervolume box of the nadir), its best
# performance, lowest cost and medians; and the hypervolume with and without the constructed ones.

# %% tags=["hide-input"]
print(result.hypervolumes())
result.table.round(3).set_index("equation").rename_axis(None)

# %% [markdown]
# The labelled set with its front, and each equation's constructed architectures; the footnote names
# the back ends that labelled them.

# %% tags=["hide-input"]
fig = plot_fig6(result)
save_figure(fig, "fig6_panoptic_construction")
plt.close(fig)
show(interactive_fig6(result), "fig6-panoptic", height=480)

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

# %% tags=["hide-input"]
print(result.verdict())

# %% [markdown]
# ```{admonition} Verdict: Fig. 6, PQ/log10(FLOPs)
# :class: note
# **{glue:text}`fig6_pq_high_verdict`**: ours {glue:text}`fig6_pq_high_ours`, {glue:text}`fig6_pq_high_interval`; {glue:text}`fig6_pq_high_reason`
# ```
#
# ```{admonition} Verdict: Fig. 6, PQ/log10(FLOPs) overshoots the high-FLOPs tail by about 5 GFLOPs
# :class: note
# **{glue:text}`fig6_flops_overshoot_verdict`**: ours {glue:text}`fig6_flops_overshoot_ours`, {glue:text}`fig6_flops_overshoot_interval`; {glue:text}`fig6_flops_overshoot_reason`
# ```
#
# ```{admonition} Verdict: Fig. 6, sqrt(PQ) - sqrt(FLOPs)
# :class: note
# **{glue:text}`fig6_beyond_front_verdict`**: ours {glue:text}`fig6_beyond_front_ours`, {glue:text}`fig6_beyond_front_interval`; {glue:text}`fig6_beyond_front_reason`
# ```
#
# With the paper's data each verdict takes one value per seed of the predictors (the share of an
# equation's architectures at PQ 39 or more, the overshoot, the share beyond the front) and its
# 95% t-interval over the seeds; with fewer than five seeds there is no verdict (*too few seeds*).

# %% [markdown]
# ## Verdicts
#
# The verdicts above are computed here from this page's results, and stored in the [claims ledger](../book/claims.md)
# (`figures/claims.csv`). They test our method (the companion network with the pooled readout),
# which this page trains.

# %% tags=["hide-input"]
from autobuild.book import claims
from autobuild.book.verdicts import panoptic as verdicts

rows = verdicts.claims(result)
claims.record_claims("04_panoptic_segmentation", rows, params.profile)
claims.glue_claims(rows)

# %% tags=["hide-input", "nbval-ignore-output"]
print(params.ran_for())
