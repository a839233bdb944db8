"""Archive a finished smoke run, restore it in a fresh copy, re-render without training."""

import shutil
import subprocess
import sys

import pytest

from .conftest import BIN, copy_project, snakemake

pytestmark = pytest.mark.slow

RERENDER = ["figure", "paper_claims", "claims", "report_tables"]


def test_archive_restore_rerender(smoke_run, tmp_path):
    origin = tmp_path / "origin"
    shutil.copytree(smoke_run["project"], origin, symlinks=True)
    snakemake(origin, "archive", "--configfile", "config/smoke.yaml")
    archives = list((origin / "results" / "archive").glob("relurepro-*.tar.gz"))
    assert len(archives) == 1
    claims_md = (origin / "results" / "claims.md").read_bytes()
    claims_pq = (origin / "results" / "claims.parquet").read_bytes()

    fresh = copy_project(tmp_path / "fresh")
    restore = subprocess.run(
        [str(BIN / "python"), "-m", "relurepro.cli", "restore", str(archives[0]), "--dest", str(fresh)],
        capture_output=True,
        text=True,
    )
    assert restore.returncode == 0, restore.stderr
    (fresh / "results" / "claims.md").unlink()
    (fresh / "results" / "claims.parquet").unlink()
    proc = snakemake(fresh, "--rerun-triggers", "mtime", "--forcerun", *RERENDER, "--configfile", "config/smoke.yaml")
    out = proc.stdout + proc.stderr
    assert "rule train" not in out and "rule data" not in out and "rule baselines" not in out
    assert "rule figure" in out and "rule claims" in out
    assert (fresh / "results" / "claims.md").read_bytes() == claims_md
    assert (fresh / "results" / "claims.parquet").read_bytes() == claims_pq
    assert not list((fresh / "logs").glob("*/train/*/*.log")), "a training job ran after restore"


def test_restore_refuses_a_corrupted_archive(smoke_run, tmp_path):
    origin = tmp_path / "origin"
    shutil.copytree(smoke_run["project"], origin, symlinks=True)
    snakemake(origin, "archive", "--configfile", "config/smoke.yaml")
    archive = next((origin / "results" / "archive").glob("relurepro-*.tar.gz"))
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    proc = subprocess.run(
        [sys.executable, "-m", "relurepro.cli", "restore", str(cut), "--dest", str(tmp_path / "dest")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "truncated or corrupt" in proc.stderr
    assert not (tmp_path / "dest" / "results").exists()
