"""Restore says which config to use, and re-rendering under another config is refused (issue 9, item 12)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from relurepro import config as rcfg
from relurepro.archive import create
from relurepro.cli import EXPECT_HASH_ENV, rerender_commands

from .conftest import BIN, ROOT, copy_project
from .test_archive import _project


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [sys.executable, "-m", "relurepro.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def _smoke_hash() -> str:
    """The hash Snakemake computes for ``--replace-workflow-config --configfile config.yaml smoke.yaml``."""
    merged = rcfg.deep_merge(
        *(yaml.safe_load((ROOT / "config" / n).read_text()) for n in ("config.yaml", "smoke.yaml"))
    )
    return rcfg.config_hash(rcfg.validate(merged, ROOT / "workflow" / "schemas"))


def _restored(tmp_path: Path, config_hash: str, project: Path | None = None) -> tuple[Path, str]:
    """A synthetic run archived with ``config_hash`` and the project's config.yaml + smoke.yaml, then restored."""
    res, _, wf = _project(tmp_path / "origin")
    configs = [ROOT / "config" / "config.yaml", ROOT / "config" / "smoke.yaml"]
    arc = create(res, configs, tmp_path / "out", config_hash, wf)
    dest = project or tmp_path / "dest"
    proc = _cli("restore", str(arc), "--dest", str(dest))
    assert proc.returncode == 0, proc.stderr
    return dest, proc.stdout


def test_restore_prints_the_config_to_use(tmp_path):
    dest, out = _restored(tmp_path, "abc123abc123")
    assert "config of the run (hash abc123abc123" in out
    assert "restored-config/config.yaml restored-config/smoke.yaml" in out
    assert f"relurepro rerender --dest {dest}" in out
    assert "--replace-workflow-config --configfile restored-config/config.yaml restored-config/smoke.yaml" in out
    assert (dest / "restored-config" / "smoke.yaml").read_bytes() == (ROOT / "config" / "smoke.yaml").read_bytes()
    dry = _cli("rerender", "--dest", str(dest), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("--configfile restored-config/config.yaml restored-config/smoke.yaml") == 2
    assert "--report results/report.html" in dry.stdout


def test_rerender_needs_a_restored_run(tmp_path):
    proc = _cli("rerender", "--dest", str(tmp_path))
    assert proc.returncode == 1 and "restore an archive there first" in proc.stderr


def test_rerender_refuses_claims_of_another_config(tmp_path):
    dest, _ = _restored(tmp_path, "abc123abc123")
    claims = pd.DataFrame({"paper": ["p1"], "config_hash": ["fedcba987654"]})
    claims.to_parquet(dest / "results" / "claims.parquet", index=False)
    proc = _cli("rerender", "--dest", str(dest))
    assert proc.returncode == 1
    assert "fedcba987654" in proc.stderr and "abc123abc123" in proc.stderr


def test_snakefile_refuses_a_config_other_than_the_restored_one(tmp_path):
    """In a fresh clone, re-rendering under a config whose hash differs from the restored run's stops at parse time."""
    fresh = copy_project(tmp_path / "fresh")
    real = _smoke_hash()
    _restored(tmp_path, "0000deadbeef", project=fresh)
    proc = _cli("rerender", "--dest", str(fresh), "--cores", "1")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "refusing to re-render" in out and "0000deadbeef" in out and real in out
    assert not (fresh / "logs").exists()  # no job started

    # the restored config with its own hash parses (a dry run: the synthetic results cannot be re-rendered)
    render = rerender_commands({"config_files": ["config/config.yaml", "config/smoke.yaml"]}, cores="1")[0]
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", EXPECT_HASH_ENV: real}
    ok = subprocess.run([str(BIN / "snakemake"), *render[1:], "-n"], cwd=fresh, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert "refusing" not in ok.stdout + ok.stderr
