"""Figures of section 5: attention importance per stage (Fig. 7b) and SD-mini inpainting samples (Fig. 7)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd


def plot_attention_importance(attn: pd.DataFrame):
    """One bar per stage and path: AutoBuild score with minus without attention (green: attention helps)."""
    fig, ax = plt.subplots(figsize=(6, 3))
    labels = [f"stage {r.stage}\n{r.path}" for r in attn.itertuples()]
    ax.bar(labels, attn.attention_effect, color=["#d62728" if v < 0 else "#2ca02c" for v in attn.attention_effect])
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("score with - without attention\n(label units: -FD)")
    ax.set_title("AutoBuild: importance of attention layers per stage (SD-mini)")
    return fig


def plot_inpainting_samples(rows: dict):
    """An image grid: one row per entry of ``rows`` (label -> uint8 images ``(n, H, W, 3)``), labelled on the left."""
    n_cols = len(next(iter(rows.values())))
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(1.6 * n_cols, 1.7 * len(rows)), squeeze=False)
    for r, (label, imgs) in enumerate(rows.items()):
        for c in range(n_cols):
            axes[r, c].imshow(imgs[c], interpolation="nearest")
            axes[r, c].set_xticks([]), axes[r, c].set_yticks([]), axes[r, c].grid(False)
            axes[r, c].set_frame_on(False)
        axes[r, 0].set_ylabel(label, fontsize=7)
    fig.suptitle("SD-mini inpainting (16x16 held-out crops)")
    return fig
