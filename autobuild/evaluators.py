"""Labelling back ends: one :class:`Evaluator` interface, several sources of labels.

Back ends (metric names as in the embedded data sets; kind in brackets):

* :class:`AuthorsPredictors`: ``acc``, ``latency_gpu``, ``latency_cpu``, ``latency_npu`` for
  mbv3 and pn (estimate);
* :class:`OFAAccuracy`: ``acc_ofa`` for mbv3 (estimate);
* :class:`Note10Latency`: ``latency_note10`` for mbv3 (estimate);
* :class:`SubnetComplexity`: ``flops``, ``n_params`` for mbv3 and pn (count);
* :class:`MeasuredLatency`: ``latency_cpu_measured`` or ``latency_gpu_measured`` for mbv3 and pn
  (measurement).

Every :class:`Evaluation` records the back end that produced it. Third-party files (the
authors' predictors, OFA's accuracy predictor and Note10 tables) are read at run time from the
shared-data directory: an explicit path, else ``$AUTOBUILD_SHARED_DATA``, else
``../shared/data`` next to the repository. Where that lacks them, they are downloaded once
from where their authors publish them: the predictors from the AutoBuild repository (a pinned
commit) into ``$AUTOBUILD_CACHE/l1_models``, OFA's files into ``~/.torch/`` as ``ofa`` does.
"""
from __future__ import annotations

import os
import statistics
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import torch

from autobuild import authors_predictor
from autobuild.paper_caches import cache_dir
from autobuild.spaces import MBV3, Architecture, Layer, OFASpace, get_space

SHARED_ENV = "AUTOBUILD_SHARED_DATA"
_REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir(path: str | Path | None = None) -> Path:
    """The third-party data directory: ``path``, else ``$AUTOBUILD_SHARED_DATA``, else ``../shared/data``."""
    if path is None:
        path = os.environ.get(SHARED_ENV) or _REPO_ROOT.parent / "shared" / "data"
    return Path(path).expanduser()


_OFA_FILES = "https://raw.githubusercontent.com/han-cai/files/master/ofa/"
# The authors' public repository, pinned to the commit that added their predictors (l1_models/).
_AUTHORS_FILES = ("https://raw.githubusercontent.com/Ascend-Research/AutoBuild/"
                  "a2675b9a9d2d6396f477272f882739863f4b7d9c/l1_models/")


def _download(url: str, model_dir: str) -> Path:
    """Fetch ``url`` into ``model_dir`` under its own file name (kept if already there).

    ``torch.hub`` writes to a temporary file and renames it once complete, so an interrupted
    download leaves nothing half-written behind.
    """
    target = Path(model_dir).expanduser() / url.rsplit("/", 1)[-1]
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(url, str(target), progress=True)
    return target


def _local_or_download(path: Path, url: str, model_dir: str, what: str) -> Path:
    """``path`` when present, else the file downloaded from ``url`` into ``model_dir``."""
    if path.exists():
        return path
    try:
        return _download(url, model_dir)
    except Exception as exc:  # no network, HTTP errors, a full disk: all end here
        raise FileNotFoundError(f"{what} not found at {path} and could not be downloaded from {url} "
                                f"({type(exc).__name__}: {exc}); pass the shared-data directory or set "
                                f"${SHARED_ENV}") from None


@dataclass(frozen=True)
class Evaluation:
    """Values of one metric for a list of architectures, with where they came from."""

    metric: str
    values: np.ndarray
    backend: str  # e.g. "authors' predictor minMAE_ofa_mbv3_custom_acc_..." or "measured on cpu"
    kind: str  # "estimate" (a predictor or lookup table), "measurement", or "count"
    unit: str


def _space_of(archs: Sequence[Architecture]) -> OFASpace:
    names = {a.space for a in archs}
    if len(names) != 1:
        raise ValueError(f"evaluate architectures of one space at a time, got spaces {sorted(names)}")
    space = get_space(names.pop())
    if not isinstance(space, OFASpace):
        raise ValueError(f"these back ends evaluate OFA architectures, not space {space.name!r}")
    for a in archs:
        space.validate(a)
    return space


class Evaluator(ABC):
    """A source of labels. ``metrics(space)`` names what it can label in ``space``."""

    kind: str

    @abstractmethod
    def metrics(self, space: str) -> tuple[str, ...]:
        """Metrics this back end provides for the named space (empty if none)."""

    @abstractmethod
    def _values(self, space: OFASpace, archs: Sequence[Architecture], metric: str) -> tuple[np.ndarray, str, str]:
        """(values, backend description, unit)."""

    def evaluate(self, archs: Sequence[Architecture], metric: str) -> Evaluation:
        archs = list(archs)
        if not archs:
            raise ValueError("no architectures to evaluate")
        space = _space_of(archs)
        if metric not in self.metrics(space.name):
            raise ValueError(f"{type(self).__name__} does not provide {metric!r} for space {space.name!r}; "
                             f"it provides {list(self.metrics(space.name))}")
        values, backend, unit = self._values(space, archs, metric)
        return Evaluation(metric, np.asarray(values, dtype=np.float64), backend, self.kind, unit)


class AuthorsPredictors(Evaluator):
    """The paper authors' published GNN predictors (ImageNet top-1 and device latencies)."""

    kind = "estimate"

    def __init__(self, shared_data: str | Path | None = None):
        self.models_dir = shared_data_dir(shared_data) / "autobuild_l1_models"
        self._models: dict[tuple[str, str], authors_predictor.AuthorsPredictor] = {}

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

    def model(self, space: str, metric: str) -> authors_predictor.AuthorsPredictor:
        key = (space, metric)
        if key not in self._models:
            self._models[key] = authors_predictor.load_authors_predictor(self.files_dir(space, metric), space, metric)
        return self._models[key]

    def _values(self, space, archs, metric):
        values = authors_predictor.predict(self.model(space.name, metric), archs)
        stem = authors_predictor.checkpoint_paths(self.models_dir, space.name, metric)[0].name
        return values, f"authors' predictor {stem}", authors_predictor.TARGETS[metric]


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


# Built subnets ----------------------------------------------------------------------------------
class SubnetBuilder:
    """Builds OFA subnets (random weights, no download) from architectures, one supernet per space."""

    def __init__(self):
        self._supernets: dict[str, torch.nn.Module] = {}

    def build(self, arch: Architecture) -> torch.nn.Module:
        space = _space_of([arch])
        if space.name not in self._supernets:
            from ofa.model_zoo import ofa_net

            self._supernets[space.name] = ofa_net(space.ofa_net, pretrained=False)
        supernet = self._supernets[space.name]
        config = space.to_ofa_config(arch)
        supernet.set_active_subnet(ks=config["ks"], e=config["e"], d=config["d"])
        return supernet.get_active_subnet(preserve_weight=False).eval()


def count_complexity(net: torch.nn.Module, resolution: int) -> tuple[float, float]:
    """(multiply-accumulates of conv and linear layers, parameters) of ``net`` at batch 1.

    MACs follow OFA's convention (its "FLOPs"): per conv output element ``(C_in / groups) * k_h * k_w``,
    per linear layer ``in * out``; counted with forward hooks during one forward pass.
    """
    macs = []

    def conv_hook(m, _, out):
        macs.append(out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1])

    def linear_hook(m, inp, _):
        macs.append(inp[0].numel() * m.out_features)

    handles = [m.register_forward_hook(conv_hook if isinstance(m, torch.nn.Conv2d) else linear_hook)
               for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    try:
        with torch.inference_mode():
            net(torch.zeros(1, 3, resolution, resolution, device=next(net.parameters()).device))
    finally:
        for h in handles:
            h.remove()
    return float(sum(macs)), float(sum(p.numel() for p in net.parameters()))


def measure_latency(net: torch.nn.Module, resolution: int, device: str = "cpu", warmup: int = 2,
                    repeats: int = 5, clock: str = "wall") -> float:
    """Median ms of a batch-1 forward pass after ``warmup`` untimed passes.

    ``clock="wall"`` times wall-clock; ``clock="thread"`` (CPU, one torch thread) times the CPU
    time of the calling thread, which equals the wall-clock latency on an idle core but is not
    inflated when other processes share the core.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got {repeats} and {warmup}")
    if clock not in ("wall", "thread"):
        raise ValueError(f"clock must be 'wall' or 'thread', not {clock!r}")
    if clock == "thread" and (torch.device(device).type != "cpu" or torch.get_num_threads() != 1):
        raise ValueError("clock='thread' times one CPU thread: use device 'cpu' with torch.set_num_threads(1)")
    now = time.thread_time if clock == "thread" else time.perf_counter
    net = net.to(device)
    x = torch.randn(1, 3, resolution, resolution, device=device)
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeats):
            sync()
            start = now()
            net(x)
            sync()
            if i >= warmup:
                times.append((now() - start) * 1e3)
    return statistics.median(times)


class SubnetComplexity(Evaluator):
    """FLOPs (MACs, millions) and parameters (millions) of the subnet the ``ofa`` package builds."""

    kind = "count"

    def __init__(self, builder: SubnetBuilder | None = None):
        self.builder = builder or SubnetBuilder()
        self._counts: dict[Architecture, tuple[float, float]] = {}  # both metrics from one build

    def metrics(self, space: str) -> tuple[str, ...]:
        return ("flops", "n_params") if space in ("mbv3", "pn") else ()

    def counts(self, arch: Architecture) -> tuple[float, float]:
        if arch not in self._counts:
            self._counts[arch] = count_complexity(self.builder.build(arch), arch.resolution)
        return self._counts[arch]

    def _values(self, space, archs, metric):
        col = ("flops", "n_params").index(metric)
        values = [self.counts(a)[col] / 1e6 for a in archs]
        unit = "millions of multiply-accumulates (conv + linear), batch 1" if col == 0 else "millions of parameters"
        return values, f"counted on the ofa-built {space.ofa_net} subnet", unit


class MeasuredLatency(Evaluator):
    """Latency of the ofa-built subnet (random weights) measured on this machine, batch 1."""

    kind = "measurement"

    def __init__(self, device: str = "cpu", warmup: int = 2, repeats: int = 5, threads: int | None = None,
                 clock: str = "wall", builder: SubnetBuilder | None = None):
        self.device, self.warmup, self.repeats, self.threads, self.clock = device, warmup, repeats, threads, clock
        self.builder = builder or SubnetBuilder()
        self.metric = f"latency_{torch.device(device).type.replace('cuda', 'gpu')}_measured"

    def metrics(self, space: str) -> tuple[str, ...]:
        return (self.metric,) if space in ("mbv3", "pn") else ()

    def _values(self, space, archs, metric):
        old_threads = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            values = [measure_latency(self.builder.build(a), a.resolution, self.device, self.warmup, self.repeats,
                                      self.clock) for a in archs]
        finally:
            torch.set_num_threads(old_threads)
        where = torch.cuda.get_device_name(self.device) if self.metric.startswith("latency_gpu") \
            else f"cpu, {self.threads or old_threads} thread(s)"
        return values, (f"measured on {where}: median {self.clock}-clock time of {self.repeats} runs after "
                        f"{self.warmup} warm-up, batch 1"), "ms"


# Routing --------------------------------------------------------------------------------------
def default_evaluators(shared_data: str | Path | None = None, device: str = "cpu") -> list[Evaluator]:
    """One instance of every back end (they load their files lazily, on first use)."""
    builder = SubnetBuilder()
    return [AuthorsPredictors(shared_data), OFAAccuracy(shared_data), Note10Latency(shared_data),
            SubnetComplexity(builder), MeasuredLatency(device, builder=builder)]


def evaluate(archs: Sequence[Architecture], metrics: Iterable[str],
             evaluators: Sequence[Evaluator] | None = None) -> dict[str, Evaluation]:
    """Evaluate ``archs`` on each metric with the first back end that provides it."""
    archs = list(archs)
    space = _space_of(archs).name if archs else None
    evaluators = default_evaluators() if evaluators is None else evaluators
    out = {}
    for metric in metrics:
        backend = next((e for e in evaluators if metric in e.metrics(space)), None)
        if backend is None:
            known = sorted({m for e in evaluators for m in e.metrics(space)})
            raise ValueError(f"no back end provides {metric!r} for space {space!r}; available: {known}")
        out[metric] = backend.evaluate(archs, metric)
    return out


def evaluations_frame(evaluations: dict[str, Evaluation]) -> pd.DataFrame:
    """The values as a DataFrame (one column per metric); ``.attrs['backends']`` names each source."""
    frame = pd.DataFrame({m: e.values for m, e in evaluations.items()})
    frame.attrs["backends"] = {m: e.backend for m, e in evaluations.items()}
    return frame


# OFA's specialized networks -------------------------------------------------------------------------
def architecture_from_net_config(net_config: dict, image_size: int) -> Architecture:
    """An OFA-MBv3 w1.2 architecture from an OFA ``net.config`` (as OFA's specialized nets ship).

    Raises ``ValueError`` naming the reason when the network is not of that space (another
    family or width). The resolution is kept as given even when it is not one of the space's
    resolutions; callers check ``arch.resolution in MBV3.resolutions``.
    """
    if net_config.get("name") != "MobileNetV3":
        raise ValueError(f"{net_config.get('name')!r} network: not of the OFA-MBv3 space")
    widths = (32, 48, 96, 136, 192)  # OFA-MBv3 w1.2 stage widths
    stages: list[list[Layer]] = []
    previous = None
    for block in net_config["blocks"][1:]:  # blocks[0] is the fixed first block
        conv = block["mobile_inverted_conv"]
        if conv["out_channels"] != previous:
            stages.append([])
            previous = conv["out_channels"]
        stages[-1].append(Layer(MBV3.block, int(conv["expand_ratio"]), int(conv["kernel_size"])))
    found = tuple(b["mobile_inverted_conv"]["out_channels"] for b in net_config["blocks"][1:])
    if tuple(dict.fromkeys(found)) != widths:
        raise ValueError(f"stage widths {tuple(dict.fromkeys(found))} are not OFA-MBv3 w1.2's {widths}")
    arch = MBV3.build([tuple(s) for s in stages])
    return Architecture(arch.space, int(image_size), arch.stages)
