"""Search spaces as sequence graphs (Sec. 3.1): OFA-MBv3, OFA-PN and the SD-1.4 U-Net space."""
from __future__ import annotations

from autobuild.spaces.base import Architecture, SequenceSpace
from autobuild.spaces.ofa import Layer, OFASpace, MBV3, PN, architecture_from_net_config
from autobuild.spaces.registry import get_space, register_space

__all__ = ["Architecture", "SequenceSpace", "Layer", "OFASpace", "MBV3", "PN", "architecture_from_net_config", "get_space", "register_space"]
