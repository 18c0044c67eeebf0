"""OFA's own labelling files: its accuracy predictor (``acc_ofa``) and Note10 latency lookup
tables (``latency_note10``).
"""
from __future__ import annotations

from pathlib import Path

import torch

from autobuild._paths import shared_data_dir
from autobuild.evaluators.base import Evaluator
from autobuild.evaluators.downloads import _OFA_FILES, _local_or_download
from autobuild.spaces.ofa import MBV3


class OFAAccuracy(Evaluator):
    """OFA's ImageNet accuracy predictor for OFA-MBv3 w1.2, via ``ofa.tutorial.AccuracyPredictor``.

    Its weights (``acc_predictor.pth``) are read from the shared-data directory when present,
    else downloaded where the ``ofa`` package keeps them (``~/.torch/``; needs network).
    """

    kind = "estimate"

    def __init__(self, shared_data: str | Path | None = None):
        self.weights = shared_data_dir(shared_data) / "ofa" / "acc_predictor.pth"
        self._predictor = None

    def metrics(self, space: str) -> tuple[str, ...]:
        return ("acc_ofa",) if space == MBV3.name else ()

    @property
    def predictor(self):
        if self._predictor is None:
            from ofa.tutorial import AccuracyPredictor

            path = _local_or_download(self.weights, _OFA_FILES + "acc_predictor.pth", "~/.torch/",
                                      "OFA's accuracy predictor")
            predictor = AccuracyPredictor(pretrained=False, device="cpu")
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
                predictor.model.load_state_dict(state, strict=True)
            except Exception as exc:
                raise ValueError(f"{path}: not OFA's accuracy predictor state_dict ({exc})") from None
            predictor.model.eval()
            self._predictor = predictor
        return self._predictor

    def _values(self, space, archs, metric):
        configs = [space.to_ofa_config(a) for a in archs]
        values = self.predictor.predict_accuracy(configs).numpy().ravel()
        return values, "OFA accuracy predictor (ofa.tutorial.AccuracyPredictor, acc_predictor.pth)", \
            "ImageNet top-1 accuracy (fraction)"


class Note10Latency(Evaluator):
    """OFA's Samsung Note10 latency lookup tables for OFA-MBv3 w1.2 (``ofa.tutorial`` estimator).

    Tables are read from the shared-data directory when present, else downloaded as ``ofa`` does.
    """

    kind = "estimate"

    def __init__(self, shared_data: str | Path | None = None):
        self.tables_dir = shared_data_dir(shared_data) / "ofa" / "note10"
        self._estimators: dict[int, object] = {}

    def metrics(self, space: str) -> tuple[str, ...]:
        return ("latency_note10",) if space == MBV3.name else ()

    def estimator(self, resolution: int):
        if resolution not in self._estimators:
            import yaml
            from ofa.tutorial.latency_table import LatencyEstimator

            name = f"{resolution}_lookup_table.yaml"
            path = _local_or_download(self.tables_dir / name, f"{_OFA_FILES}note10/{name}", "~/.torch/ofa_note10/",
                                      "OFA's Note10 lookup table")
            # LatencyEstimator.__init__ re-downloads on every call and uses an unsafe yaml.load;
            # build it around a safely parsed local table instead.
            estimator = LatencyEstimator.__new__(LatencyEstimator)
            with open(path) as fh:
                estimator.lut = yaml.safe_load(fh)
            if not isinstance(estimator.lut, dict):
                raise ValueError(f"{path}: not a latency lookup table")
            self._estimators[resolution] = estimator
        return self._estimators[resolution]

    def _values(self, space, archs, metric):
        values = [self.estimator(a.resolution).predict_network_latency_given_spec(space.to_ofa_config(a))
                  for a in archs]
        return values, "OFA Note10 latency lookup table (ofa.tutorial LatencyEstimator)", "ms, Samsung Note10"
