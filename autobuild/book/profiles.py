"""Every section's quick and full profile, in one place.

``quick`` runs on a 2-core CPU in CI and in the default book build; ``full`` follows the paper
(3k architectures, 200 epochs, all labels). :func:`autobuild.book.params.validate` picks one.
"""
from __future__ import annotations

from typing import Any

# Per-section settings of each profile. "quick" runs on a 2-core CPU in CI and in the
# default book build; "full" follows the paper (3k architectures, 200 epochs, all labels).
# A section not listed here passes its own table to validate(settings=...).
SECTION_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "01_graph_encodings": {
        "quick": {"example_seed": 0, "n_sample": 2000},
        "full": {"example_seed": 0, "n_sample": 20000},
    },
    "02_magnitude_ranked_embeddings": {
        "quick": {
            "spaces": ("mbv3", "pn"),
            "labels": ("acc", "latency_gpu", "latency_cpu", "latency_npu"),
            "n_archs": 1000, "epochs": 60, "lr": 1e-3,
            "ablation_labels": ("acc", "latency_gpu", "latency_cpu", "latency_npu"),
            "ir_archs_per_space": 300, "ir_epochs": 40,
        },
        "full": {
            "spaces": ("mbv3", "pn"),
            "labels": ("acc", "latency_gpu", "latency_cpu", "latency_npu"),
            "n_archs": 3000, "epochs": 200, "lr": 1e-4,
            "ablation_labels": ("acc", "latency_gpu", "latency_cpu", "latency_npu"),
            "ir_archs_per_space": 3000, "ir_epochs": 200,
        },
    },
    "02_score_quality": {
        "quick": {"studies": ("ofa_acc",), "n_contexts": 16, "all_up_to": None, "n_sample_4_layers": None,
                  "epochs": 200, "lr": 1e-4, "head_contexts": 4, "head_seeds": 1, "top_k": 25},
        "full": {"studies": ("ofa_acc", "authors_acc", "authors_latency_gpu"), "n_contexts": 32, "all_up_to": None,
                 "n_sample_4_layers": None, "epochs": 200, "lr": 1e-4, "head_contexts": 32, "head_seeds": 4, "top_k": 25},
    },
    "03_imagenet_construction_and_nas": {
        "quick": {"spaces": ("mbv3", "pn"), "devices": ("gpu", "cpu", "npu"), "n_train": 1500, "epochs": 15,
                  "lr": 1e-3, "tradeoff_weights": (1.0,), "k_construct": 3, "k_nas": 10, "budget": 250,
                  "n_initial": 50, "per_round": 50, "k_sensitivity": (3, 5, 10, 25, 50)},
        "full": {"spaces": ("mbv3", "pn"), "devices": ("gpu", "cpu", "npu"), "n_train": 3000, "epochs": 200,
                 "lr": 1e-4, "tradeoff_weights": (0.5, 2.0), "k_construct": 3, "k_nas": 25, "budget": 250,
                 "n_initial": 50, "per_round": 50, "k_sensitivity": (3, 5, 10, 25, 50)},
    },
    "04_panoptic_segmentation": {
        "quick": {"n_train": 1300, "epochs": 15, "lr": 1e-3, "k": 2},
        "full": {"n_train": 3000, "epochs": 200, "lr": 1e-4, "k": 2},
    },
    "05_sd_inpainting": {
        "quick": {"selected_evaluations": "committed cache", "ensemble_epochs": 200, "top_k": 4},
        "full": {"selected_evaluations": "retrained now", "ensemble_epochs": 200, "top_k": 4},
    },
    "06_measured_truth": {
        "quick": {"budgets": (100,), "epochs": {100: 300}, "lr": 1e-3, "batch_size": 128,
                  "tradeoffs": ("acc - 0.05 * flops / 1e6", "acc - 0.2 * flops / 1e6"), "ks": (1, 2, 3),
                  "k_nas": 3, "search_budget": 100, "n_initial": 20, "per_round": 20, "surrogate_budget": 500,
                  "ridge": 1.0},
        "full": {"budgets": (50, 100, 200, 500, 1000), "epochs": {50: 600, 100: 600, 200: 300, 500: 150, 1000: 100},
                 "lr": 1e-3, "batch_size": 128,
                 "tradeoffs": ("acc - 0.05 * flops / 1e6", "acc - 0.2 * flops / 1e6"), "ks": (1, 2, 3),
                 "k_nas": 3, "search_budget": 100, "n_initial": 20, "per_round": 20, "surrogate_budget": 500,
                 "ridge": 1.0},
    },
}
