"""Atomic I/O, provenance, and the claims framework."""

import math

import pandas as pd
import pytest

from relurepro import claims, io


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    path = tmp_path / "out.parquet"
    io.write_parquet(pd.DataFrame({"a": [1]}), path)
    before = path.read_bytes()

    class Boom(pd.DataFrame):
        def to_parquet(self, *a, **k):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        io.write_parquet(Boom({"a": [2]}), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_corrupt_parquet_error_names_the_file(tmp_path):
    path = tmp_path / "runs.parquet"
    io.write_parquet(pd.DataFrame({"a": range(100)}), path)
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(ValueError, match="runs.parquet"):
        io.read_parquet(path)


def test_provenance_columns():
    stamp = io.provenance("abc", "cpu")
    assert list(stamp) == io.PROVENANCE_COLUMNS
    assert stamp["torch_version"].startswith("2.")
    assert io.canonical_hash({"b": 1, "a": 2}) == io.canonical_hash({"a": 2, "b": 1})


@pytest.mark.parametrize(
    "value,direction,threshold,hi,passed",
    [
        (0.5, "<", 1.0, math.nan, True),
        (1.0, "<", 1.0, math.nan, False),
        (1.0, "<=", 1.0, math.nan, True),
        (2.0, ">", 1.0, math.nan, True),
        (2.5, "in", 2.0, 4.0, True),
        (4.0, "in", 2.0, 4.0, False),
        (4.0, "in[]", 2.0, 4.0, True),
        (math.nan, ">", 1.0, math.nan, False),
        (1.0, "==", 1.0, math.nan, True),
    ],
)
def test_claim_directions(value, direction, threshold, hi, passed):
    row = claims.claim("p.E.x", "d", "s", value, direction, threshold, threshold_high=hi)
    assert row["passed"] is passed


def test_report_claims_and_exceptions_never_abort():
    assert claims.claim("p.E.r", "d", "s", 1.0, "report")["passed"] is None
    with pytest.raises(ValueError):
        claims.claim("p.E.x", "d", "s", 1.0, "approx", 1.0)

    def broken():
        raise ZeroDivisionError("no seeds")

    df = claims.evaluate("p", broken)
    assert len(df) == 1 and df["passed"].iloc[0] == False  # noqa: E712
    assert "ZeroDivisionError" in df["note"].iloc[0]


def test_markdown_counts_passes():
    df = claims.table(
        [
            claims.claim("p.E.a", "d", "s", 0.1, "<", 1),
            claims.claim("p.E.b", "d", "s", 3.0, "<", 1),
            claims.claim("p.E.c", "d", "|x - y|", 3.0, "report"),
            claims.claim("p.E.d", "d", "s", 3.0, "in", 2, threshold_high=4),
        ]
    )
    text = claims.markdown(df)
    assert "\\|x - y\\|" in text and "in (2, 4)" in text
    assert "2 of 3 claims passed" in text and "**FAIL**" in text and "reported" in text
