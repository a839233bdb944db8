"""Declared claims: verdicts, isolation, skipped rows, per-seed judging, the Markdown table."""

import math

import pandas as pd
import pytest

from relurepro import claims, papers
from relurepro.claims import Claim, Measured, NotApplicable
from relurepro.tables import Tables

EMPTY = Tables(pd.DataFrame(), pd.DataFrame(), {})


def _claim(measure, direction="<", thresholds=None, **kw):
    return Claim("p.E1.x", "d", "s", direction, measure, {"quick": 1.0} if thresholds is None else thresholds, **kw)


def _row(c, profile="quick", enabled=lambda e: True):
    return claims.evaluate([c], EMPTY, profile, enabled).iloc[0]


@pytest.mark.parametrize(
    "value,direction,threshold,passed",
    [
        (0.5, "<", 1.0, True),
        (1.0, "<", 1.0, False),
        (1.0, "<=", 1.0, True),
        (2.0, ">", 1.0, True),
        (1.0, "==", 1.0, True),
        (2.5, "in", (2.0, 4.0), True),
        (4.0, "in", (2.0, 4.0), False),
        (4.0, "in[]", (2.0, 4.0), True),
        (math.nan, ">", 1.0, False),
        (math.inf, "<", 1.0, False),
    ],
)
def test_directions(value, direction, threshold, passed):
    row = _row(_claim(lambda t: value, direction, {"quick": threshold}))
    assert bool(row["passed"]) is passed
    assert row["status"] == ("pass" if passed else "fail")


def test_declarations_are_checked():
    with pytest.raises(ValueError, match="direction"):
        _claim(lambda t: 1, "approx")
    with pytest.raises(ValueError, match="does not fit"):
        _claim(lambda t: 1, "in", {"quick": 1.0})
    with pytest.raises(ValueError, match="unknown profiles"):
        _claim(lambda t: 1, "<", {"paper": 1.0})
    with pytest.raises(ValueError, match="kind"):
        _claim(lambda t: 1, kind="lemma")
    with pytest.raises(ValueError, match="<paper>.<experiment>.<name>"):
        Claim("p.x", "d", "s", "<", lambda t: 1, {"quick": 1})
    with pytest.raises(ValueError, match="declared twice"):
        claims.evaluate([_claim(lambda t: 1), _claim(lambda t: 1)], EMPTY, "quick")


def test_a_raising_measure_fails_alone():
    def broken(t):
        raise ZeroDivisionError("no seeds")

    good = Claim("p.E1.good", "d", "s", "<", lambda t: 0.5, {"quick": 1.0})
    bad = Claim("p.E1.bad", "d", "s", "<", broken, {"quick": 1.0})
    df = claims.evaluate([bad, good], EMPTY, "quick").set_index("claim_id")
    assert df.loc["p.E1.bad", "status"] == "error" and not df.loc["p.E1.bad", "passed"]
    assert "ZeroDivisionError: no seeds" in df.loc["p.E1.bad", "note"]
    assert df.loc["p.E1.good", "status"] == "pass"


def test_every_declared_claim_gives_a_row():
    off = _row(_claim(lambda t: 0.5), enabled=lambda e: False)
    assert off["status"] == "skipped" and "E1 is off" in off["note"] and pd.isna(off["passed"])
    full_only = _row(_claim(lambda t: 0.5, thresholds={"full": 1.0}))
    assert full_only["status"] == "skipped" and "quick" in full_only["note"]

    def absent(t):
        raise NotApplicable("no dead network in this grid")

    assert _row(_claim(absent))["note"] == "no dead network in this grid"
    reported = _row(_claim(lambda t: 3.0, thresholds={"quick": None}))
    assert reported["status"] == "reported" and reported["value"] == 3.0 and pd.isna(reported["passed"])


def test_per_seed_values_are_judged_on_the_median():
    row = _row(_claim(lambda t: {0: 0.5, 1: 3.0, 2: 0.2, 3: 0.9, 4: 0.1}, min_seeds=3))
    assert row["value"] == 0.5 and row["passed"]
    assert row["n_seeds"] == 5 and row["worst_seed_value"] == 3.0 and row["pass_fraction"] == 0.8
    low = _row(_claim(lambda t: pd.Series({0: 5.0, 1: 2.0, 2: 7.0}), ">", {"quick": 6.0}))
    assert low["worst_seed_value"] == 2.0 and not low["passed"]
    band = _row(_claim(lambda t: {0: 0.5, 1: 0.45, 2: 0.62}, "in[]", {"quick": (0.45, 0.55)}))
    assert band["worst_seed_value"] == 0.62 and band["passed"]


def test_too_few_seeds_fail_outside_smoke():
    one_seed = _claim(lambda t: {0: 0.5}, thresholds={"quick": 1.0, "smoke": 1.0}, min_seeds=3)
    quick = _row(one_seed, "quick")
    assert not quick["passed"] and "at least 3 seeds" in quick["note"]
    assert _row(one_seed, "smoke")["passed"]
    assert _row(_claim(lambda t: Measured(0.5, n_seeds=3, note="ok"), min_seeds=3))["passed"]


def test_threshold_lookup_for_figures():
    declared = [_claim(lambda t: 1, thresholds={"quick": 0.02, "full": 0.01})]
    assert claims.threshold(declared, "p.E1.x", "full") == 0.01
    assert math.isnan(claims.threshold(declared, "p.E1.x", "smoke"))
    with pytest.raises(KeyError):
        claims.threshold(declared, "p.E1.y", "quick")


def test_markdown_splits_claims_and_invariants():
    declared = [
        Claim("p.E1.a", "d", "s", "<", lambda t: 0.1, {"quick": 1}),
        Claim("p.E1.b", "d", "|x - y|", "<", lambda t: 3.0, {"quick": 1}),
        Claim("p.E1.c", "d", "s", "report", lambda t: 3.0, {"quick": None}),
        Claim("p.E1.d", "d", "s", "in", lambda t: 3.0, {"quick": (2, 4)}, kind="invariant"),
    ]
    text = claims.markdown(claims.evaluate(declared, EMPTY, "quick"))
    assert "2 of 3 judged claims pass; failed: p.E1.b" in text
    assert "## p: claims (1/2 pass)" in text and "## p: invariants (1/1 pass)" in text
    assert "\\|x - y\\|" in text and "in (2, 4)" in text and "**FAIL**" in text and "reported" in text
    assert text.index("## p: claims") < text.index("`p.E1.d`")


def test_declared_claims_of_every_paper_are_well_formed():
    from relurepro.registry import PAPERS

    for paper in PAPERS:
        declared = papers.declared_claims(paper)
        assert declared, f"{paper} declares no claims"
        ids = [c.id for c in declared]
        assert len(ids) == len(set(ids))
        for c in declared:
            assert set(c.thresholds) <= set(claims.PROFILES)
            assert c.description and c.statistic


def test_a_run_can_be_judged_with_another_profiles_thresholds_and_says_why():
    """A full run that fell back to a quick-sized data set is judged by the quick threshold, with the reason."""
    fell_back = lambda t, profile: ("quick", "ran on the fallback data") if t.cfg.get("fallback") else (profile, "")  # noqa: E731
    c = Claim("p.e.acc", "d", "s", ">=", lambda t: 0.85, {"quick": 0.8, "full": 0.95}, judged_as=fell_back)
    normal = claims.evaluate([c], Tables(pd.DataFrame(), pd.DataFrame(), {}), "full").iloc[0]
    assert normal["status"] == "fail" and normal["threshold"] == 0.95
    fallback = Tables(pd.DataFrame(), pd.DataFrame(), {"fallback": True, "profile": "full"})
    row = claims.evaluate([c], fallback, "full").iloc[0]
    assert row["status"] == "pass" and row["threshold"] == 0.8 and row["profile"] == "full"
    assert "fallback data" in row["note"]
    assert claims.threshold([c], "p.e.acc", "full", fallback) == 0.8
