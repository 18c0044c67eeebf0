"""Section 01's claims: the shape and sizes of the spaces (Sec. 5.1) and the m-hop receptive field
(Sec. 3.2). None needs a trained predictor (method ``no predictor``)."""
from __future__ import annotations

from autobuild.book.claims import Claim, above, exact
from autobuild.experiments.encodings import ReceptiveField, SpaceSizes


def claims(sizes: SpaceSizes, field: ReceptiveField) -> list[Claim]:
    """MBv3's stages and their depths, subgraphs per MBv3 stage, PN's extra modules, both spaces
    above 1e19, the receptive field."""
    mbv3_stage = sizes.per_stage["mbv3"][0]
    pn_extra = sum(sizes.per_stage["pn"]) - len(sizes.per_stage["mbv3"]) * mbv3_stage
    smallest = min(sizes.sizes.values())
    return [
        Claim("sec51_mbv3_stages", "Sec. 5.1: MBv3 contains 5 stages, each with 2-4 layers", paper="5 stages of 2-4 layers",
              verdict=exact("5 stages of 2-4 layers", sizes.stages_text("mbv3"), what="exact (enumerated)"),
              method="no predictor", target="exact"),
        Claim("sec51_mbv3_subgraphs", "Sec. 5.1: an MBv3 stage has 9^2 + 9^3 + 9^4 module subgraphs",
              paper="7.4k (9^2 + 9^3 + 9^4)", verdict=exact(9**2 + 9**3 + 9**4, mbv3_stage, what="exact (enumerated)",
                                                          fmt="{:,}"),
              method="no predictor", target="exact"),
        Claim("sec51_pn_extra", "Sec. 5.1: PN has 9 more modules than MBv3 (its 1-layer 6th stage)",
              paper="9", verdict=exact(9, pn_extra, what="exact (enumerated)"), method="no predictor", target="exact"),
        Claim("sec51_space_size", "Sec. 5.1: both spaces hold over 1e19 architectures (smaller of the two)",
              paper="> 1e19", verdict=above(float(smallest), None, None, threshold=1e19, what="exact (product of the stages)",
                                            fmt="{:.1e}"),
              method="no predictor", target="paper: over 1e19 architectures"),
        Claim("sec32_receptive_field", "Sec. 3.2: the m-hop embedding of a node depends on its m-hop subgraph only",
              paper="yes", verdict=exact("yes", "yes" if field.agrees else "no",
                                         what="exact (every node perturbed, every hop)"),
              method="no predictor", target="exact"),
    ]
