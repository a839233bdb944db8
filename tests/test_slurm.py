"""The smoke workflow through a real SLURM cluster (profiles/slurm-local), compared with a local run."""

import os
import shutil
import subprocess

import pandas as pd
import pytest

from relurepro import config as rcfg

from .conftest import ROOT, copy_project, snakemake

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.slurm,
    pytest.mark.skipif(
        shutil.which("sbatch") is None and not IN_CI,
        reason="sbatch not found: start the cluster with profiles/slurm-local/setup-cluster.sh",
    ),
]


def _scheduler_record(workdir):
    """(job name, state, comment) of every SLURM job the scheduler ran in ``workdir``."""
    out = subprocess.run(
        ["squeue", "--states=all", "--noheader", "-o", "%i|%j|%T|%k|%Z"], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split("|") for line in out.splitlines() if line.count("|") == 4]
    return [(name, state, comment) for _, name, state, comment, wd in rows if wd.strip() == str(workdir)]


def _table(path):
    df = pd.read_parquet(path)
    keep = [c for c in df.columns if c not in ("created_at", "git_sha")]
    sort = [c for c in ("experiment", "point", "member", "metric", "step", "baseline") if c in keep]
    return df[keep].sort_values(sort, kind="stable").reset_index(drop=True)


def test_smoke_workflow_runs_through_sbatch_and_matches_local(smoke_run, tmp_path):
    assert shutil.which("sbatch"), (
        "CI must run the SLURM test: profiles/slurm-local/setup-cluster.sh did not install sbatch"
    )
    project = copy_project(tmp_path / "p")
    snakemake(project, "--profile", "profiles/slurm-local", "--configfile", "config/smoke.yaml", timeout=1500)
    record = _scheduler_record(project)
    grid = rcfg.build_grid(rcfg.load(ROOT / "config" / "smoke.yaml", ROOT / "workflow" / "schemas"))
    n_train = sum(len(jobs) for jobs in grid.values())
    trained = [r for r in record if r[2].startswith("rule_train")]
    assert len(trained) == n_train, f"scheduler saw {len(trained)} train jobs, expected {n_train}: {record}"
    assert all(state == "COMPLETED" for _, state, _ in record), record
    local = smoke_run["project"] / "results"
    for paper in grid:
        for table in ("runs.parquet", "baselines.parquet"):
            pd.testing.assert_frame_equal(
                _table(project / "results" / paper / table), _table(local / paper / table), check_exact=True
            )
    assert (project / "results" / "claims.md").read_bytes() == (local / "claims.md").read_bytes()
