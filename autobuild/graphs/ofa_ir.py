"""Op-level IR graphs of OFA subnets: build the subnet with ``ofa`` (supernets cached per
choice set), trace it once with :mod:`autobuild.graphs.fx_reader`, and cache the graph per
architecture string.
"""
from __future__ import annotations

import functools
import json
import re
import weakref
from typing import Sequence

import numpy as np

from autobuild.graphs.fx_reader import ir_graph_from_module
from autobuild.graphs.ir import IRGraph, ir_arrays

_OFA_NETS = {  # supernet class, subnet class, the subnet constructor's layer arguments
    "ofa_mbv3": ("OFAMobileNetV3", "MobileNetV3",
                 ("first_conv", "blocks", "final_expand_layer", "feature_mix_layer", "classifier")),
    "ofa_proxyless": ("OFAProxylessNASNets", "ProxylessNASNets",
                      ("first_conv", "blocks", "feature_mix_layer", "classifier")),
}


def _ofa_family(net_name: str) -> tuple[str, float]:
    m = re.fullmatch(r"(ofa_mbv3|ofa_proxyless)_d\d+_e\d+_k\d+_w([\d.]+)", net_name)
    if not m:
        raise ValueError(f"no IR builder for OFA network {net_name!r}")
    return m.group(1), float(m.group(2))


@functools.lru_cache(maxsize=None)
def _supernet(net_name: str, kernels: tuple, expands: tuple, depths: tuple):
    """The ``ofa`` supernet ``net_name`` on the meta device: structure only, no weights."""
    import torch
    try:
        from ofa.imagenet_classification.elastic_nn import networks
    except ImportError as exc:
        raise ImportError("building IR graphs of OFA subnets needs the `ofa` package: "
                          "pip install 'autobuild[ofa]'") from exc
    family, width = _ofa_family(net_name)
    cls = getattr(networks, _OFA_NETS[family][0])
    with torch.device("meta"):
        return cls(dropout_rate=0, width_mult=width, ks_list=list(kernels),
                   expand_ratio_list=list(expands), depth_list=list(depths))


# Fragment key of every layer module built by _ofa_layer: the JSON config it was built from.
_OFA_LAYER_KEYS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@functools.lru_cache(maxsize=4096)
def _ofa_layer(config_json: str):
    """One ``ofa`` layer built on the meta device from its JSON config (shared, read-only)."""
    import torch
    from ofa.utils.layers import set_layer_from_config
    with torch.device("meta"):
        layer = set_layer_from_config(json.loads(config_json))
    _OFA_LAYER_KEYS[layer] = config_json
    return layer


def ofa_subnet(space, arch):
    """The ``ofa`` subnet of ``arch`` in OFA space ``space``, on the ``meta`` device.

    Built from the supernet's active-subnet config with shared, cached layer modules: it has
    the structure but no weights, which is all tracing needs. Do not train or modify it.
    """
    from ofa.imagenet_classification import networks
    space.validate(arch)
    net = _supernet(space.ofa_net, tuple(space.KERNELS), tuple(space.EXPANDS), tuple(space.DEPTHS))
    cfg = space.to_ofa_config(arch)
    net.set_active_subnet(ks=cfg["ks"], e=cfg["e"], d=cfg["d"])
    config = net.get_active_net_config()
    _, cls_name, parts = _OFA_NETS[_ofa_family(space.ofa_net)[0]]
    layers = {p: [_ofa_layer(json.dumps(b, sort_keys=True)) for b in config[p]] if p == "blocks"
              else _ofa_layer(json.dumps(config[p], sort_keys=True)) for p in parts}
    return getattr(networks, cls_name)(**layers)


@functools.lru_cache(maxsize=16384)
def _ofa_ir_graph(space_name: str, arch_string: str) -> IRGraph:
    from autobuild.spaces.registry import get_space
    space = get_space(space_name)
    arch = space.from_string(arch_string)
    meta = {"space": space_name, "arch": arch_string, "resolution": arch.resolution}
    return ir_graph_from_module(ofa_subnet(space, arch), (1, 3, arch.resolution, arch.resolution), meta,
                                fragment_key=_OFA_LAYER_KEYS.get)


def ofa_ir_graph(space, arch) -> IRGraph:
    """Op-level IR graph of an OFA architecture (cached per process by architecture string).

    The cached graph is shared: treat it as read-only.
    """
    return _ofa_ir_graph(space.name, space.to_string(arch))


def ofa_ir_arrays(space, archs: Sequence, progress: bool = True) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(xs, edge_indices)`` of the IR graphs of ``archs``, with a progress bar."""
    from tqdm.auto import tqdm
    graphs = (ofa_ir_graph(space, a) for a in tqdm(archs, desc=f"IR graphs ({space.name})", disable=not progress))
    return ir_arrays(graphs)
