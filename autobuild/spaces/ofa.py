"""The OFA macro spaces: MobileNetV3 (``mbv3``, width 1.2) and ProxylessNAS (``pn``, width 1.3),
as sequence graphs of MBConv layers.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from autobuild.spaces.base import Architecture, SequenceSpace


@dataclass(frozen=True, order=True)
class Layer:
    """One MBConv layer: block type (``mbconv3`` = MobileNetV3, ``mbconv2`` = ProxylessNAS)."""

    block: str
    expand: int
    kernel: int

    def __str__(self) -> str:
        return f"{self.block}_e{self.expand}_k{self.kernel}"

    @classmethod
    def parse(cls, text: str) -> "Layer":
        """Parse a paper-cache layer string such as ``"mbconv3_e4_k5"``."""
        m = re.fullmatch(r"(mbconv[23])_e(\d+)_k(\d+)", text)
        if not m:
            raise ValueError(f"malformed layer string {text!r}: expected e.g. 'mbconv3_e4_k5'")
        return cls(m.group(1), int(m.group(2)), int(m.group(3)))


class OFASpace(SequenceSpace):
    """An OFA macro space: searchable stages of 2-4 MBConv layers (k x e = 9 choices each).

    ``fixed_stages`` are extra trailing stages with a single searchable layer (PN's last).
    Node features: stage, layer position, block type, expand, kernel, resolution.
    """

    KERNELS = (3, 5, 7)
    EXPANDS = (3, 4, 6)
    DEPTHS = (2, 3, 4)
    MAX_DEPTH = 4

    def __init__(self, name: str, block: str, resolutions: tuple[int, ...], fixed_stages: int,
                 ofa_net: str, label: str | None = None):
        self.name = name
        self._label = label or name
        self.block = block
        self.resolutions = resolutions
        self.searchable_stages = 5
        self.fixed_stages = fixed_stages
        self.ofa_net = ofa_net
        self.default_resolution = max(resolutions)
        self._subgraph_cache: dict[int, list] = {}
        # A shared vocabulary for both OFA spaces, so one predictor can read both.
        self.feature_vocab = {
            "stage": tuple(range(6)),
            "layer": tuple(range(self.MAX_DEPTH)),
            "block": ("mbconv2", "mbconv3"),
            "expand": self.EXPANDS,
            "kernel": self.KERNELS,
            "resolution": (160, 176, 192, 208, 224),
        }
        self._index = {name: {v: i for i, v in enumerate(vals)} for name, vals in self.feature_vocab.items()}

    def __repr__(self) -> str:
        return f"OFASpace({self.name!r})"

    @property
    def n_stages(self) -> int:
        return self.searchable_stages + self.fixed_stages

    @property
    def units(self) -> tuple[tuple[int, ...], ...]:
        """The searchable stages; the fixed one-layer stage(s) joined to the last of them (the
        authors score PN's fifth and sixth stage as one unit of 3-5 layers)."""
        units = [(u,) for u in range(self.searchable_stages)]
        if self.fixed_stages:
            units[-1] = tuple(range(self.searchable_stages - 1, self.n_stages))
        return tuple(units)

    def depth_choices(self, stage: int) -> tuple[int, ...]:
        self._check_stage(stage)
        return self.DEPTHS if stage < self.searchable_stages else (1,)

    @property
    def layer_choices(self) -> list[Layer]:
        return [Layer(self.block, e, k) for k in self.KERNELS for e in self.EXPANDS]

    def stage_subgraphs(self, stage: int) -> list[tuple[Layer, ...]]:
        if stage not in self._subgraph_cache:
            choices = self.layer_choices
            self._subgraph_cache[stage] = [tuple(c) for d in self.depth_choices(stage)
                                           for c in itertools.product(choices, repeat=d)]
        return list(self._subgraph_cache[stage])

    def n_stage_subgraphs(self, stage: int) -> int:
        return sum(len(self.layer_choices) ** d for d in self.depth_choices(stage))

    # Validation -----------------------------------------------------------------------
    def _check_stage(self, stage: int) -> None:
        if not 0 <= stage < self.n_stages:
            raise ValueError(f"{self.name} has stages 0..{self.n_stages - 1}, not {stage}")

    def validate(self, arch: Architecture) -> Architecture:
        if arch.space != self.name:
            raise ValueError(f"architecture of space {arch.space!r} given to space {self.name!r}")
        if arch.resolution not in self.resolutions:
            raise ValueError(f"{self.name}: resolution {arch.resolution} not in {self.resolutions}")
        if len(arch.stages) != self.n_stages:
            raise ValueError(f"{self.name} needs {self.n_stages} stages, got {len(arch.stages)}")
        for u, stage in enumerate(arch.stages):
            if len(stage) not in self.depth_choices(u):
                raise ValueError(f"{self.name}: stage {u} has {len(stage)} layers; "
                                 f"allowed {self.depth_choices(u)}")
            for layer in stage:
                if layer.block != self.block or layer.expand not in self.EXPANDS \
                        or layer.kernel not in self.KERNELS:
                    raise ValueError(f"{self.name}: layer {layer} is not in the space")
        return arch

    # Construction -----------------------------------------------------------------------
    def build(self, subgraphs: Sequence[Sequence[Layer]], resolution: int | None = None) -> Architecture:
        res = self.default_resolution if resolution is None else resolution
        arch = Architecture(self.name, res, tuple(tuple(s) for s in subgraphs))
        return self.validate(arch)

    def sample(self, n: int, seed: int) -> list[Architecture]:
        """``n`` architectures drawn uniformly: per stage its depth, then expand and kernel per layer; then resolution."""
        if n < 0:
            raise ValueError(f"cannot sample {n} architectures")
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(n):
            stages = []
            for u in range(self.n_stages):
                depth = int(rng.choice(self.depth_choices(u)))
                stages.append(tuple(Layer(self.block, int(rng.choice(self.EXPANDS)),
                                          int(rng.choice(self.KERNELS))) for _ in range(depth)))
            res = int(rng.choice(self.resolutions))
            out.append(Architecture(self.name, res, tuple(stages)))
        return out

    # Encodings ---------------------------------------------------------------------------
    def _node_row(self, stage: int, pos: int, layer: Layer, resolution: int) -> list[int]:
        try:
            return [stage, pos, self._index["block"][layer.block], self._index["expand"][layer.expand],
                    self._index["kernel"][layer.kernel], self._index["resolution"][resolution]]
        except KeyError:  # name the offending value
            for name, value in (("block", layer.block), ("expand", layer.expand), ("kernel", layer.kernel),
                                ("resolution", resolution)):
                self.encode_value(name, value)
            raise

    def node_features(self, arch: Architecture) -> np.ndarray:
        rows = [self._node_row(u, i, layer, arch.resolution)
                for u, stage in enumerate(arch.stages) for i, layer in enumerate(stage)]
        return np.asarray(rows, dtype=np.int64)

    def subgraph_features(self, stage: int, subgraph, arch_context: dict | None = None) -> np.ndarray:
        res = (arch_context or {}).get("resolution", self.default_resolution)
        return np.asarray([self._node_row(stage, i, layer, res) for i, layer in enumerate(subgraph)],
                          dtype=np.int64)

    # Conversions ---------------------------------------------------------------------------
    @staticmethod
    def subgraph_label(subgraph) -> str:
        """Short text of a stage subgraph, e.g. ``"e6k7,e4k5"``."""
        return ",".join(f"e{l.expand}k{l.kernel}" for l in subgraph)

    def to_string(self, arch: Architecture) -> str:
        """Compact canonical text, e.g. ``"224:e4k5,e6k7|e3k3,e3k3|..."`` (block type implied)."""
        stages = "|".join(self.subgraph_label(s) for s in arch.stages)
        return f"{arch.resolution}:{stages}"

    def from_string(self, text: str) -> Architecture:
        m = re.fullmatch(r"(\d+):(.*)", text.strip())
        if not m:
            raise ValueError(f"malformed architecture string {text!r}")
        stages = []
        for part in m.group(2).split("|"):
            layers = []
            for tok in part.split(","):
                lm = re.fullmatch(r"e(\d+)k(\d+)", tok)
                if not lm:
                    raise ValueError(f"malformed layer {tok!r} in architecture string {text!r}")
                layers.append(Layer(self.block, int(lm.group(1)), int(lm.group(2))))
            stages.append(tuple(layers))
        return self.validate(Architecture(self.name, int(m.group(1)), tuple(stages)))

    def to_cache_config(self, arch: Architecture) -> tuple[int, list[list[str]]]:
        """The paper caches' ``"original config"``: ``(resolution, [[layer strings] per stage])``."""
        return arch.resolution, [[str(l) for l in s] for s in arch.stages]

    def from_cache_config(self, config) -> Architecture:
        try:
            res, stages = config
            parsed = tuple(tuple(Layer.parse(s) for s in stage) for stage in stages)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{self.name}: malformed 'original config' {config!r}: {exc}") from None
        return self.validate(Architecture(self.name, int(res), parsed))

    def to_ofa_config(self, arch: Architecture) -> dict:
        """The ``ofa`` package's subnet config: ``ks``/``e`` per layer slot, ``d`` per stage, ``r``."""
        ks, es, ds = [], [], []
        for u, stage in enumerate(arch.stages):
            slots = self.MAX_DEPTH if u < self.searchable_stages else 1
            pad = stage[-1]
            for i in range(slots):
                layer = stage[i] if i < len(stage) else pad
                ks.append(layer.kernel)
                es.append(layer.expand)
            ds.append(len(stage))
        return {"ks": ks, "e": es, "d": ds, "r": [arch.resolution]}

    def from_ofa_config(self, config: dict) -> Architecture:
        try:
            ks, es, ds = list(config["ks"]), list(config["e"]), list(config["d"])
            res = config.get("r", [self.default_resolution])
            res = int(res[0] if isinstance(res, (list, tuple)) else res)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{self.name}: malformed ofa config {config!r}: {exc}") from None
        n_slots = self.searchable_stages * self.MAX_DEPTH + self.fixed_stages
        if len(ks) != n_slots or len(es) != n_slots:
            raise ValueError(f"{self.name}: ofa config needs {n_slots} 'ks'/'e' entries, got {len(ks)}/{len(es)}")
        if len(ds) == self.searchable_stages:
            ds = ds + [1] * self.fixed_stages
        stages, slot = [], 0
        for u in range(self.n_stages):
            slots = self.MAX_DEPTH if u < self.searchable_stages else 1
            d = min(int(ds[u]), slots)
            stages.append(tuple(Layer(self.block, int(es[slot + i]), int(ks[slot + i])) for i in range(d)))
            slot += slots
        return self.validate(Architecture(self.name, res, tuple(stages)))


MBV3 = OFASpace("mbv3", "mbconv3", resolutions=(160, 176, 192, 208, 224), fixed_stages=0,
                ofa_net="ofa_mbv3_d234_e346_k357_w1.2", label="MBv3")


PN = OFASpace("pn", "mbconv2", resolutions=(224,), fixed_stages=1,
              ofa_net="ofa_proxyless_d234_e346_k357_w1.3", label="PN")


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
