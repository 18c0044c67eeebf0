"""Layer-Insight: the paper's hand-made per-device layer restrictions (Sec. 5.1), as a
:class:`~autobuild.search.candidates.LayerCandidates`.
"""
from __future__ import annotations

from autobuild.search.candidates import LayerCandidates, _layers_and_depths
from autobuild.spaces.base import SequenceSpace

#: Layer-Insight restrictions, per space and device: allowed (expand, kernel) blocks, the
#: maximum layers per stage (minimum stays 2; PN's last stage always 1) and the relative
#: chance that a mutation picks each stage. A reconstruction: the insights are those of
#: Mills et al., "Profiling neural blocks and design spaces for mobile NAS" (CIKM 2021),
#: as encoded in the per-device constants of the authors' public search code
#: (github.com/Ascend-Research/AutoBuild, rm_search/ofa_profile/constants.py); the paper
#: itself does not list them. NPU: no k7 anywhere and early stages mutated half as often;
#: GPU: drop e3k3, e3k7, e4k3 and cap some stages at 3 layers; CPU: all blocks, caps only.
_ALL_BLOCKS = tuple((e, k) for e in (3, 4, 6) for k in (3, 5, 7))


_NO_K7 = tuple(b for b in _ALL_BLOCKS if b[1] != 7)


_GPU_BLOCKS = tuple(b for b in _ALL_BLOCKS if b not in ((3, 3), (3, 7), (4, 3)))


INSIGHT_RESTRICTIONS: dict[tuple[str, str], dict] = {
    ("mbv3", "npu"): {"blocks": _NO_K7, "max_depth": (4, 4, 4, 4, 4), "stage_weights": (0.25, 0.25, 0.25, 0.5, 0.5)},
    ("mbv3", "gpu"): {"blocks": _GPU_BLOCKS, "max_depth": (4, 3, 4, 3, 3), "stage_weights": None},
    ("mbv3", "cpu"): {"blocks": _ALL_BLOCKS, "max_depth": (3, 3, 3, 4, 4), "stage_weights": None},
    ("pn", "npu"): {"blocks": _NO_K7, "max_depth": (4, 4, 4, 4, 4, 1),
                    "stage_weights": (0.25, 0.25, 0.25, 0.5, 0.5, 0.5)},
    ("pn", "gpu"): {"blocks": _GPU_BLOCKS, "max_depth": (3, 3, 3, 4, 4, 1), "stage_weights": None},
    ("pn", "cpu"): {"blocks": _ALL_BLOCKS, "max_depth": (3, 3, 4, 4, 4, 1), "stage_weights": None},
}


def layer_insight(space: SequenceSpace, device: str, resolution=None) -> LayerCandidates:
    """Layer-Insight: the human-restricted space for ``device`` (see :data:`INSIGHT_RESTRICTIONS`)."""
    key = (space.name, device)
    if key not in INSIGHT_RESTRICTIONS:
        raise ValueError(f"no Layer-Insight restriction for space {space.name!r} on device {device!r}; "
                         f"known: {sorted(INSIGHT_RESTRICTIONS)}")
    rule = INSIGHT_RESTRICTIONS[key]
    full_layers, full_depths = _layers_and_depths(space)
    layers = [tuple(l for l in ls if (l.expand, l.kernel) in rule["blocks"]) for ls in full_layers]
    depths = [(min(lo, hi_rule), hi_rule) for (lo, _), hi_rule in zip(full_depths, rule["max_depth"])]
    return LayerCandidates(space, layers, depths, name="Layer-Insight", resolution=resolution,
                      stage_weights=rule["stage_weights"])
