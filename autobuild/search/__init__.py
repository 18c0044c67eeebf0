"""Neural architecture search over candidate spaces: Pareto fronts, hypervolume, NSGA-II evolution."""
from __future__ import annotations

from autobuild.search.pareto import Reference, crowding_distance, dominated_by, hypervolume, nadir_reference, nondominated_ranks, pareto_front, pareto_mask
from autobuild.search.candidates import StageCandidates, LayerCandidates, stage_full, layer_full, autobuild_nas
from autobuild.search.insight import INSIGHT_RESTRICTIONS, layer_insight
from autobuild.search.objectives import Objectives, PredictorObjectives
from autobuild.search.evolution import SearchResult, evolutionary_search, nsga_order

__all__ = ["Reference", "crowding_distance", "dominated_by", "hypervolume", "nadir_reference", "nondominated_ranks", "pareto_front", "pareto_mask", "StageCandidates", "LayerCandidates", "stage_full", "layer_full", "autobuild_nas", "INSIGHT_RESTRICTIONS", "layer_insight", "Objectives", "PredictorObjectives", "SearchResult", "evolutionary_search", "nsga_order"]
