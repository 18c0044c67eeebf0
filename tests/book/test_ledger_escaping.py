"""Ledger cells are literal text: no HTML, link, role or math from claims.csv reaches the page."""
import re

import pandas as pd
import pytest

from autobuild.book import claims
from autobuild.book.sphinx_ext import ledger_markdown


def _row(**cells):
    base = dict(section="03_nas", claim_id="fig5_hv", method="ours", claim="hypervolume", paper="0.8",
                target="paper: 0.8", ours="0.79", interval="—", profile="quick", verdict="agrees")
    return pd.DataFrame([{**base, **cells}], columns=list(claims.COLUMNS))


@pytest.mark.parametrize("column", ["claim", "paper", "target", "ours", "interval", "verdict"])
@pytest.mark.parametrize("payload", ["differs <img src=x onerror=alert(1)>", "<script>alert(1)</script>",
                                     "[click](javascript:alert(1))", "$\\href{javascript:alert(1)}{x}$",
                                     "{raw}`<b>x</b>`", "**bold** _it_ & ok"])
def test_a_hostile_cell_is_escaped(column, payload):
    row = ledger_markdown(_row(**{column: payload}), lambda s: f"notebooks/{s}").splitlines()[2]
    cells = row.strip("| ").split(" | ")[1:]  # after the section's link
    # the claim cell without its *Paper:* and *Target:* labels, the verdict without its bold markers
    text = " | ".join(cells).replace("*Paper:*", "").replace("*Target:*", "")
    text = re.sub(r"\*\*(.*?)\*\* \(quick\)", r"\1", text)
    assert not re.search(r"<[a-z/!]", text), row  # no raw tag survives
    assert "`" not in text
    for char in "[]{}$*_":
        assert re.search(rf"(?<!\\){re.escape(char)}", text) is None, (char, row)
