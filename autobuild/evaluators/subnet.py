"""Metrics of a built OFA subnet: FLOPs and parameters, and measured latency.
"""
from __future__ import annotations

import statistics
import time

import torch

from autobuild.evaluators.base import Evaluator, _space_of
from autobuild.spaces.base import Architecture


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
