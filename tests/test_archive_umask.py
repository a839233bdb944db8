"""Results, archives and restored files are as readable as the umask allows (issue 9, item 14)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relurepro import io
from relurepro.archive import create, restore

from .test_archive import _project


@pytest.fixture
def umask():
    """Set the process umask for one test and put the old one back."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("mask", "want"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_written_files_follow_the_umask(tmp_path, umask, mask, want):
    umask(mask)
    io.write_parquet(pd.DataFrame({"a": [1, 2]}), tmp_path / "r.parquet", config_hash="h")
    io.write_npz({"x": np.arange(3)}, tmp_path / "d.npz")
    io.write_text("# claims\n", tmp_path / "claims.md")
    for name in ("r.parquet", "d.npz", "claims.md"):
        assert _mode(tmp_path / name) == want, name
    io.write_text("again\n", tmp_path / "claims.md")  # replacing keeps the umask's mode too
    assert _mode(tmp_path / "claims.md") == want
    assert io.file_mode() == want


@pytest.mark.parametrize(("mask", "want", "want_dir"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])
def test_archive_and_restored_files_follow_the_umask(tmp_path, umask, mask, want, want_dir):
    umask(0o077)  # results written by a private run: 0600 ...
    res, cfgs, wf = _project(tmp_path / "src")
    for f in res.rglob("*"):
        if f.is_file():
            f.chmod(0o600)
    umask(mask)
    arc = create(res, cfgs, tmp_path / "out", "h", wf)
    assert _mode(arc) == want
    dest = tmp_path / "dest"
    restore(arc, dest)  # ... are readable as this umask allows once archived and restored
    restored = [f for f in dest.rglob("*") if f.is_file()]
    assert restored and {_mode(f) for f in restored} == {want}
    assert {_mode(d) for d in dest.rglob("*") if d.is_dir()} == {want_dir}
