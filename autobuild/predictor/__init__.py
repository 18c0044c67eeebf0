"""The AutoBuild predictor: model, hop-level ranking loss (Eq. 4), training, Eq. 5 scoring, checkpoints, ensembles."""
from __future__ import annotations

from autobuild.predictor.model import AutoBuildPredictor, FeatureEmbedding
from autobuild.predictor.ranking import hop_ranking_loss, soft_rank, spearman
from autobuild.predictor.config import TrainConfig
from autobuild.predictor.trained import TrainedPredictor, split_indices
from autobuild.predictor.training import train_many, train_predictor, train_predictor_on_table
from autobuild.predictor.variants import VARIANTS, Variant, get_variant
from autobuild.predictor.scoring import SubgraphScorer, ReducedSpace, shift_score, stage_table
from autobuild.predictor.checkpoint import save_predictor, load_predictor, read_checkpoint
from autobuild.predictor.ensemble import EnsembleConfig, fold_splits, train_ensemble, autobuild_stage_scores, top_by_stage_sum, predict_space, exhaustive_scores, top_k_indices

__all__ = ["AutoBuildPredictor", "FeatureEmbedding", "hop_ranking_loss", "soft_rank", "spearman", "TrainConfig",
           "TrainedPredictor", "split_indices", "train_many", "train_predictor", "train_predictor_on_table",
           "VARIANTS", "Variant", "get_variant", "SubgraphScorer", "ReducedSpace", "shift_score", "stage_table",
           "save_predictor", "load_predictor", "read_checkpoint", "EnsembleConfig", "fold_splits", "train_ensemble",
           "autobuild_stage_scores", "top_by_stage_sum", "predict_space", "exhaustive_scores", "top_k_indices"]
