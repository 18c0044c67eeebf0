"""The claims ledger: figures/claims.csv as the notebooks left it, its verdicts computed by code,
one verdict admonition per claim on its page, and the table the book renders from it."""
import ast
import re
from pathlib import Path

import jupytext
import pandas as pd
import pytest

from autobuild.book import claims
from autobuild.book.sphinx_ext import ledger_counts, ledger_markdown, section_label, verdict_tally

ROOT = Path(__file__).resolve().parents[2]
RULES = {"within", "above", "below", "exact", "seeds_above", "seeds_below", "not_testable"}
LEDGER = claims.read_claims(ROOT / "figures" / "claims.csv")
SECTIONS = sorted(set(LEDGER.section))


def _call_name(node):
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)


def _sources():
    for path in sorted((ROOT / "autobuild" / "book" / "verdicts").glob("*.py")):
        yield path, path.read_text()
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        yield path, jupytext.read(path)


def _code(source):
    """A module's text, or a notebook's code cells joined, IPython magics made no-ops."""
    if isinstance(source, str):
        return source
    cells = [c.source for c in source.cells if c.cell_type == "code"]
    return "\n".join(re.sub(r"^(\s*)%.*$", r"\1pass", c, flags=re.M) for c in cells)


def test_the_ledger_holds_at_least_fifteen_claims_with_valid_fields():
    first = LEDGER.drop_duplicates(["section", "claim_id"])
    assert len(first) >= 15
    assert set(LEDGER.verdict) <= set(claims.VERDICTS) and set(LEDGER.profile) <= set(claims.PROFILES)
    assert not (LEDGER[list(claims.COLUMNS)] == "").any().any()
    assert not LEDGER.duplicated(["claim_id", "method", "profile"]).any()
    assert set(LEDGER.method) <= set(claims.METHODS)


def test_every_section_of_the_ledger_is_a_notebook_that_records_it():
    for section in SECTIONS:
        py = ROOT / "notebooks" / f"{section}.py"
        assert py.is_file(), f"claims.csv names {section}, which has no notebook"
        assert f'record_claims("{section}"' in py.read_text()


def _rule_made(expr, assigned) -> bool:
    """A call to a rule, or a name every assignment of which is one."""
    if isinstance(expr, ast.Call):
        return _call_name(expr) in RULES
    if isinstance(expr, ast.Name):
        values = assigned.get(expr.id, [])
        return bool(values) and all(_rule_made(v, {}) for v in values)
    return False


def _assignments(tree):
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out.setdefault(target.id, []).append(node.value)
    return out


def test_every_verdict_comes_from_a_rule_never_from_a_literal():
    """Each Claim(...) gets its verdict from within/above/below/exact/not_testable (directly or
    through a variable only ever set by them); nothing outside autobuild.book.claims builds a
    Verdict itself."""
    n_claims = 0
    for path, source in _sources():
        tree = ast.parse(_code(source))
        assigned = _assignments(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            assert _call_name(node) != "Verdict", f"{path.name}: builds a Verdict by hand"
            if _call_name(node) == "Claim":
                n_claims += 1
                verdict = next((k.value for k in node.keywords if k.arg == "verdict"),
                               node.args[3] if len(node.args) > 3 else None)
                assert _rule_made(verdict, assigned), \
                    f"{path.name}:{node.lineno}: a claim's verdict must be a call to one of {sorted(RULES)}"
    assert n_claims >= 1


def test_the_rule_check_catches_a_typed_verdict():
    typed = ast.parse('v = "agrees"\nif x:\n    v = above(1, 0, 2, what="CI")\n'
                      'Claim("x", "a claim", paper="1", verdict=v)\n'
                      'Claim("y", "a claim", paper="1", verdict=claims.Verdict("agrees", "1", "exact", "typed"))')
    calls = [n for n in ast.walk(typed) if isinstance(n, ast.Call) and _call_name(n) == "Claim"]
    assert [_rule_made(c.keywords[-1].value, _assignments(typed)) for c in calls] == [False, False]
    ok = ast.parse('v = exact(1, 1)\nClaim("x", "c", paper="1", verdict=v)')
    call = next(n for n in ast.walk(ok) if isinstance(n, ast.Call) and _call_name(n) == "Claim")
    assert _rule_made(call.keywords[-1].value, _assignments(ok))


@pytest.mark.parametrize("section", SECTIONS)
def test_every_claim_of_a_page_has_its_verdict_admonition(section):
    text = "\n".join(c.source for c in jupytext.read(ROOT / "notebooks" / f"{section}.py").cells
                     if c.cell_type == "markdown")
    shown = set(re.findall(r"\{glue:text\}`(\w+_verdict)`", text))
    rows = LEDGER[LEDGER.section == section]
    # the book runs the quick profile: its full rows are stored runs, glued with _full
    recorded = {next(k for k in claims.glue_names(claims.Claim(r.claim_id, r.claim, r.paper, claims.exact(1, 1),
                                                                r.method, r.profile, r.target)) if k.endswith("_verdict"))
                for r in rows.itertuples()}
    assert shown == recorded
    for block in re.findall(r"```\{admonition\} Verdict[^\n]*\n(.*?)```", text, flags=re.S):
        for key in ("verdict", "ours", "interval", "reason"):
            assert re.search(rf"\{{glue:text\}}`\w+_{key}`", block), f"{section}: a verdict admonition lacks _{key}"


def _frame(rows):
    cols = ["section", "claim_id", "method", "claim", "paper", "target", "ours", "interval", "profile", "verdict"]
    return pd.DataFrame(rows, columns=cols)[list(claims.COLUMNS)]


NAS = [["03_nas", "fig5_hv", "ours", "Fig. 5 | hypervolume", "superior", "paper: superior", "0.79", "CI [0.7, 0.9]",
        "quick", "agrees"],
       ["03_nas", "fig5_hv", "ours", "Fig. 5 | hypervolume", "superior", "paper: superior", "0.62", "CI [0.6, 0.65]",
        "full", "differs"],
       ["03_nas", "fig5_hv", "paper", "Fig. 5 | hypervolume", "superior", "paper: superior", "0.03", "CI [0.01, 0.2]",
        "quick", "too few seeds"],
       ["01_graphs", "sec51_n", "no predictor", "count", "9", "exact", "9", "exact", "quick", "agrees"]]


def test_ledger_table_has_one_column_per_method_and_names_the_profile_it_shows():
    lines = ledger_markdown(_frame(NAS), lambda s: f"notebooks/{s}").splitlines()
    assert len(lines) == 4
    assert lines[0] == "| section | claim | the paper's method | ours | no predictor |"
    cells = [c.strip() for c in lines[2].strip("|").split(" | ")]
    assert cells[0] == "{doc}`03 </notebooks/03_nas>`"
    assert cells[1] == "Fig. 5 \\| hypervolume *Paper:* superior. *Target:* paper: superior."
    assert cells[2] == "**too few seeds** (quick) 0.03, CI \\[0.01, 0.2\\]"
    # ours: the full run counted, the quick run's verdict beside it; never a full value as a quick one
    assert cells[3] == "**differs** (full) 0.62, CI \\[0.6, 0.65\\]; quick run: agrees 0.79"
    assert cells[4] == ""
    assert lines[3].endswith("|  |  | **agrees** (quick) 9, exact |")
    assert ledger_counts(_frame(NAS)) == ("2 claims from 2 sections, in 4 rows (1 the paper's method, 2 ours, "
                                          "1 no predictor).")


def test_a_quick_only_claim_never_shows_a_full_value():
    quick_paper = [r for r in NAS if not (r[2] == "ours" and r[8] == "full")]
    row = ledger_markdown(_frame(quick_paper), str).splitlines()[2]
    assert "0.62" not in row and "(full)" not in row and "**agrees** (quick) 0.79" in row


def test_the_tally_counts_full_over_quick_per_claim_and_method():
    table = verdict_tally(_frame(NAS)).splitlines()
    assert table[0] == "| verdict | paper | ours | control | no predictor |"
    body = {line.split(" | ")[0].strip("| *"): line.strip("|").split(" | ")[1:] for line in table[2:-2]}
    assert body == {"agrees": ["0", "0", "0", "1 "], "differs": ["0", "1", "0", "0 "],
                    "too few seeds": ["1", "0", "0", "0 "], "claims": ["**1**", "**1**", "**0**", "**1** "]}
    assert table[-1].startswith("Each claim counted once per method, on its strongest evidence: 1 on a stored "
                                "full-profile run, 2 on the quick profile")


def test_strongest_keeps_the_full_row_of_each_claim_and_method():
    best = claims.strongest(_frame(NAS))
    assert [(r.claim_id, r.method, r.profile) for r in best.itertuples()] == [
        ("fig5_hv", "ours", "full"), ("fig5_hv", "paper", "quick"), ("sec51_n", "no predictor", "quick")]


def test_sections_sharing_a_number_are_labelled_apart():
    sections = ["01_graph_encodings", "02_magnitude_ranked_embeddings", "02_score_quality", "03_imagenet"]
    assert [section_label(s, sections) for s in sections] == ["01", "02", "2b", "03"]


def test_ledger_table_refuses_other_columns():
    with pytest.raises(ValueError, match="needs the columns"):
        ledger_markdown(pd.DataFrame({"claim": ["x"]}), str)
