"""Graphs of architectures: batched chain-graph tables for the predictor, and op-level IR graphs."""
from __future__ import annotations

from autobuild.graphs.table import GraphTable, chain_edges
from autobuild.graphs.ir import IRGraph, IRNode, ir_arrays, ir_feature_vocab
from autobuild.graphs.fx_reader import ir_graph_from_module
from autobuild.graphs.ofa_ir import ofa_ir_graph, ofa_ir_arrays, ofa_subnet
from autobuild.graphs.onnx_ir import OnnxIRGraphRecord, OnnxIRNodeRecord, ir_graph_from_onnx_ir

__all__ = ["GraphTable", "chain_edges", "IRGraph", "IRNode", "ir_arrays", "ir_feature_vocab", "ir_graph_from_module", "ofa_ir_graph", "ofa_ir_arrays", "ofa_subnet", "OnnxIRGraphRecord", "OnnxIRNodeRecord", "ir_graph_from_onnx_ir"]
