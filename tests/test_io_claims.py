"""Atomic I/O and provenance (the claims framework: tests/test_claims.py)."""

import pandas as pd
import pytest

from relurepro import io


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
    stamp = io.provenance("abc", "cpu", "float64")
    assert list(stamp) == io.PROVENANCE_COLUMNS
    assert stamp["torch_version"].startswith("2.")
    assert io.canonical_hash({"b": 1, "a": 2}) == io.canonical_hash({"a": 2, "b": 1})
