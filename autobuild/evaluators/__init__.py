"""Labelling back ends: where labels of new architectures come from."""
from __future__ import annotations

from autobuild.evaluators.base import Evaluation, Evaluator
from autobuild.evaluators.authors import AuthorsPredictors
from autobuild.evaluators.ofa_tables import OFAAccuracy, Note10Latency
from autobuild.evaluators.subnet import SubnetBuilder, SubnetComplexity, MeasuredLatency, count_complexity, measure_latency
from autobuild.evaluators.routing import default_evaluators, evaluate, evaluations_frame

__all__ = ["Evaluation", "Evaluator", "AuthorsPredictors", "OFAAccuracy", "Note10Latency", "SubnetBuilder", "SubnetComplexity", "MeasuredLatency", "count_complexity", "measure_latency", "default_evaluators", "evaluate", "evaluations_frame"]
