"""The authors' published predictors (``l1_models``) as a labelling back end: ``acc`` and the
latency labels of the embedded sets.
"""
from __future__ import annotations

from pathlib import Path

from autobuild.evaluators import released_net as authors_predictor
from autobuild._paths import cache_dir, shared_data_dir
from autobuild.evaluators.base import Evaluator
from autobuild.evaluators.downloads import _AUTHORS_FILES, _local_or_download


class AuthorsPredictors(Evaluator):
    """The paper authors' published GNN predictors (ImageNet top-1 and device latencies)."""

    kind = "estimate"

    def __init__(self, shared_data: str | Path | None = None):
        self.models_dir = shared_data_dir(shared_data) / "autobuild_l1_models"
        self._models: dict[tuple[str, str], authors_predictor.ReleasedNet] = {}

    def metrics(self, space: str) -> tuple[str, ...]:
        return tuple(authors_predictor.TARGETS) if space in ("mbv3", "pn") else ()

    def files_dir(self, space: str, metric: str) -> Path:
        """The folder holding one predictor's two files: the shared-data copy when complete, else
        the download cache (``$AUTOBUILD_CACHE/l1_models``), filled once from the authors' repository."""
        if all(p.is_file() for p in authors_predictor.checkpoint_paths(self.models_dir, space, metric)):
            return self.models_dir
        cache = cache_dir() / "l1_models"
        for path in authors_predictor.checkpoint_paths(cache, space, metric):
            _local_or_download(path, _AUTHORS_FILES + path.name, str(cache),
                               f"the authors' predictor file {path.name} (not in {self.models_dir} either)")
        return cache

    def model(self, space: str, metric: str) -> authors_predictor.ReleasedNet:
        key = (space, metric)
        if key not in self._models:
            self._models[key] = authors_predictor.load_authors_predictor(self.files_dir(space, metric), space, metric)
        return self._models[key]

    def _values(self, space, archs, metric):
        values = authors_predictor.predict(self.model(space.name, metric), archs)
        stem = authors_predictor.checkpoint_paths(self.models_dir, space.name, metric)[0].name
        return values, f"authors' predictor {stem}", authors_predictor.TARGETS[metric]
