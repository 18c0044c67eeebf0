"""The claim records behind the claims ledger: verdict rules, validation, the CSV's rewriting."""
import csv
import multiprocessing

import pytest

from autobuild.book import claims


def _claim(claim_id="fig2_best_hop", verdict=None, **kw):
    verdict = verdict or claims.within(0.8, 0.79, 0.75, 0.83, what="95% CI over 3 seeds")
    kw = {"method": "ours", "target": "paper: SRCC 0.80", **kw}
    return claims.Claim(claim_id, "Fig. 2: two hops rank best", paper="0.80", verdict=verdict, **kw)


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("paper, word", [(0.8, "agrees"), (0.75, "agrees"), (0.7, "differs"), (0.9, "differs")])
def test_within_compares_the_papers_value_with_our_interval(paper, word):
    v = claims.within(paper, 0.79, 0.75, 0.83, what="95% CI")
    assert v.word == word
    assert v.ours == "0.79" and v.interval == "95% CI [0.75, 0.83]"
    assert ("below" in v.reason) == (paper < 0.75) and ("above" in v.reason) == (paper > 0.83)


def test_within_widens_by_the_tolerance_and_refuses_too_wide_intervals():
    assert claims.within(0.7, 0.79, 0.75, 0.83, what="95% CI", tolerance=0.06).word == "agrees"
    assert claims.within(0.8, 0.5, 0.1, 0.9, what="95% CI", max_width=0.2).word == "inconclusive"


@pytest.mark.parametrize("low, high, up, down", [(0.1, 0.3, "agrees", "differs"), (-0.3, -0.1, "differs", "agrees"),
                                                 (-0.1, 0.2, "inconclusive", "inconclusive")])
def test_above_and_below_read_the_side_of_the_whole_interval(low, high, up, down):
    assert claims.above(0.0, low, high, what="CI").word == up
    assert claims.below(0.0, low, high, what="CI").word == down


def test_exact_compares_counts_and_tolerates_rounding():
    assert claims.exact(7371, 7371).word == "agrees"
    assert claims.exact(7371, 7372).word == "differs"
    assert claims.exact(2.0e19, 2.04e19, rel_tol=0.05, fmt="{:.1e}").word == "agrees"
    assert claims.exact("m = 2", "m = 3").reason == "ours is m = 3, the paper's m = 2."


def test_not_testable_needs_a_reason():
    v = claims.not_testable("needs ImageNet")
    assert (v.word, v.ours, v.interval, v.reason) == ("not testable offline", "—", "—", "needs ImageNet.")
    with pytest.raises(ValueError, match="needs a reason"):
        claims.not_testable(" ")


@pytest.mark.parametrize("call, message", [
    (lambda: claims.Verdict("agreed", "1", "CI [0, 1]", "x"), "verdict must be one of 'agrees'"),
    (lambda: claims.within(float("nan"), 0.5, 0, 1, what="CI"), "paper must be a finite number"),
    (lambda: claims.within(0.5, 0.5, 1, 0, what="CI"), "low 1 is above high 0"),
    (lambda: claims.above(0.5, 0, 1, what=""), "what must say"),
    (lambda: _claim("Fig2"), "claim_id must be lower-case"),
    (lambda: _claim(verdict="agrees"), "verdict must come from a rule"),
    (lambda: _claim(profile="slow"), "profile must be one of"),
    (lambda: claims.Claim("a", "", "0.8", claims.not_testable("x"), "ours", target="exact"),
     "claim must be a non-empty string"),
    (lambda: _claim(method=None), "method is required"),
    (lambda: _claim(method="authors"), "method must be one of 'paper', 'ours', 'control', 'no predictor'"),
    (lambda: _claim(target=None), "target is required"),
    (lambda: _claim(target="SRCC >= 0.7"), "target must start with 'paper:' or 'book:'"),
    (lambda: _claim(target="paper:  "), "target must start with 'paper:' or 'book:'"),
    (lambda: _claim(target="exactly 9"), "target must start with 'paper:' or 'book:'"),
])
def test_bad_records_are_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_record_claims_replaces_only_its_sections_rows(tmp_path):
    path = tmp_path / "claims.csv"
    claims.record_claims("04_panoptic", [_claim("fig6_a")], "quick", path)
    claims.record_claims("01_graphs", [_claim("fig1_a"), _claim("fig1_b")], "quick", path)
    claims.record_claims("04_panoptic", [_claim("fig6_b"), _claim("fig6_b", profile="full"),
                                         _claim("fig6_b", method="paper")], "quick", path)
    rows = _read(path)
    assert list(rows[0]) == list(claims.COLUMNS)
    assert [(r["section"], r["claim_id"], r["method"], r["profile"]) for r in rows] == [
        ("01_graphs", "fig1_a", "ours", "quick"), ("01_graphs", "fig1_b", "ours", "quick"),
        ("04_panoptic", "fig6_b", "ours", "quick"), ("04_panoptic", "fig6_b", "ours", "full"),
        ("04_panoptic", "fig6_b", "paper", "quick")]
    assert rows[0]["verdict"] == "agrees" and rows[0]["interval"] == "95% CI over 3 seeds [0.75, 0.83]"
    assert rows[0]["target"] == "paper: SRCC 0.80"
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["claims.csv"]


def test_record_claims_refuses_bad_input_and_leaves_the_file_alone(tmp_path):
    path = tmp_path / "claims.csv"
    claims.record_claims("01_graphs", [_claim()], "quick", path)
    before = path.read_bytes()
    for args, message in [(("01_graphs", [], "quick"), "at least one claim"),
                          (("01_graphs", [_claim(), _claim()], "quick"), "given twice"),
                          (("01_graphs", [_claim(), _claim(profile="quick")], "quick"), "given twice"),
                          (("01_graphs", [{"claim_id": "x"}], "quick"), "takes Claim rows"),
                          (("graphs", [_claim()], "quick"), "section must be the notebook's name"),
                          (("01_graphs", [_claim()], "fast"), "profile must be one of")]:
        with pytest.raises(ValueError, match=message):
            claims.record_claims(*args, path=path)
    assert path.read_bytes() == before


def test_read_claims_refuses_a_file_with_other_columns(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text("section,claim_id,method,target,claim\n01,x,ours,exact,y\n")
    with pytest.raises(ValueError, match="lacks the column"):
        claims.read_claims(path)
    assert claims.read_claims(tmp_path / "none.csv").empty


def test_a_ledger_written_before_methods_and_targets_is_refused_by_name(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text("section,claim_id,claim,paper,ours,interval,profile,verdict\n"
                    "01_graphs,a,a claim,9,9,exact,quick,agrees\n")
    before = path.read_bytes()
    for call in (lambda: claims.read_claims(path), lambda: claims.record_claims("02_x", [_claim()], "quick", path)):
        with pytest.raises(ValueError, match="no method and no target column.*re-execute the notebooks"):
            call()
    assert path.read_bytes() == before


def _stored(path, **cells):
    row = dict(section="01_graphs", claim_id="a", method="ours", claim="c", paper="9", target="exact", ours="9",
               interval="exact", profile="quick", verdict="agrees")
    rows = [row, {**row, "claim_id": "b", **cells}]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, claims.COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize("cells, message", [
    ({"method": ""}, "row 2 .*empty method"),
    ({"method": "authors"}, "row 2 .*method must be one of"),
    ({"target": "SRCC >= 0.7"}, "row 2 .*target must start with"),
    ({"verdict": "better"}, "row 2 .*verdict must be one of"),
    ({"claim_id": "a", "section": "02_other"}, "claim 'a' \\(ours, quick\\) is recorded twice"),
])
def test_the_ledger_store_refuses_a_row_without_a_known_method_or_target(tmp_path, cells, message):
    path = tmp_path / "claims.csv"
    _stored(path, **cells)
    with pytest.raises(ValueError, match=message):
        claims.read_claims(path)


def test_a_claim_another_section_records_is_refused(tmp_path):
    path = tmp_path / "claims.csv"
    claims.record_claims("01_graphs", [_claim("fig1_a")], "quick", path)
    with pytest.raises(ValueError, match="already recorded by section '01_graphs'"):
        claims.record_claims("02_other", [_claim("fig1_a")], "quick", path)
    claims.record_claims("02_other", [_claim("fig1_a", method="paper")], "quick", path)  # another method: its own row
    assert len(claims.read_claims(path)) == 2


def _record(args):
    path, i = args
    claims.record_claims(f"{i:02d}_section", [_claim(f"c{i}")], "quick", path)


def test_sections_recorded_side_by_side_keep_each_others_rows(tmp_path):
    path = tmp_path / "claims.csv"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.map(_record, [(path, i) for i in range(12)])
    assert [r["section"] for r in _read(path)] == [f"{i:02d}_section" for i in range(12)]


def test_glue_names_mark_full_profile_rows():
    assert list(claims.glue_names(_claim("fig5_hv"))) == [
        "fig5_hv_verdict", "fig5_hv_ours", "fig5_hv_interval", "fig5_hv_reason"]
    full = claims.glue_names(_claim("fig5_hv", profile="full"))
    assert full["fig5_hv_full_verdict"] == "agrees" and full["fig5_hv_full_ours"] == "0.79"


@pytest.mark.parametrize("method, profile, prefix", [
    ("ours", None, "fig5_hv"), ("no predictor", None, "fig5_hv"), ("paper", None, "fig5_hv_paper"),
    ("control", None, "fig5_hv_control"), ("paper", "full", "fig5_hv_paper_full"),
    ("control", "full", "fig5_hv_control_full"), ("ours", "full", "fig5_hv_full")])
def test_glue_names_name_the_method_then_the_profile(method, profile, prefix):
    names = claims.glue_names(_claim("fig5_hv", method=method, profile=profile))
    assert list(names) == [f"{prefix}_{key}" for key in ("verdict", "ours", "interval", "reason")]


def test_the_two_methods_of_a_claim_glue_apart():
    rows = [_claim("fig5_hv", method=m, profile=p) for m in ("paper", "ours", "control") for p in ("quick", "full")]
    keys = [k for c in rows for k in claims.glue_names(c)]
    assert len(set(keys)) == len(keys) == 24


def _seeds(values):
    from autobuild.experiments.intervals import t_mean_interval

    return t_mean_interval(values)


@pytest.mark.parametrize("values, up, down", [
    ([0.2, 0.25, 0.3, 0.22, 0.28], "agrees", "differs"),
    ([-0.2, -0.25, -0.3, -0.22, -0.28], "differs", "agrees"),
    ([-0.2, 0.25, -0.3, 0.22, 0.28], "inconclusive", "inconclusive"),
    ([0.2, 0.25, 0.3, 0.22], "too few seeds", "too few seeds"),
    ([0.2, 0.25, 0.3], "too few seeds", "too few seeds")])
def test_an_interval_over_fewer_than_five_seeds_gives_no_verdict(values, up, down):
    interval = _seeds(values)
    assert claims.seeds_above(interval, 0.0, what="95% t-interval").word == up
    assert claims.seeds_below(interval, 0.0, what="95% t-interval").word == down
    v = claims.seeds_above(interval, 0.0, what="95% t-interval", fmt="{:.3f}")
    assert v.ours == f"{interval.mean:.3f}"
    assert v.interval == f"95% t-interval, {len(values)} seeds [{interval.low:.3f}, {interval.high:.3f}]"
    if len(values) < 5:
        assert v.reason == f"{len(values)} seeds, fewer than the 5 a verdict needs."


def test_seed_rules_take_an_interval_not_raw_numbers():
    with pytest.raises(ValueError, match="take an Interval"):
        claims.seeds_above((0.1, 0.0, 0.2), what="CI")


def test_above_without_an_interval_reads_the_value_itself():
    v = claims.above(2.2e19, None, None, threshold=1e19, what="exact (enumerated)", fmt="{:.1e}")
    assert (v.word, v.ours, v.interval) == ("agrees", "2.2e+19", "exact (enumerated)")
    assert claims.below(2.2e19, None, None, threshold=1e19, what="exact", fmt="{:.1e}").word == "differs"


def test_intervals_cover_their_estimate_and_shrink_with_more_data():
    lo, hi = claims.spearman_ci(0.8, 30)
    lo2, hi2 = claims.spearman_ci(0.8, 300)
    assert lo < lo2 < 0.8 < hi2 < hi < 1
    m, lo, hi = claims.mean_ci([0.1, 0.2, 0.3])
    assert lo < m < hi and abs(m - 0.2) < 1e-12
    assert claims.wilson_ci(0, 10)[0] == 0.0 and 0 < claims.wilson_ci(0, 10)[1] < 0.35
    with pytest.raises(ValueError, match="n >= 4"):
        claims.spearman_ci(0.5, 3)
    with pytest.raises(ValueError, match="at least two"):
        claims.mean_ci([0.5])
    with pytest.raises(ValueError, match="0 <= k <= n"):
        claims.wilson_ci(11, 10)
