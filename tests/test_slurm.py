"""The smoke workflow through a real SLURM cluster (profiles/slurm-local), compared with a local run."""

import os
import shutil
import subprocess

import pandas as pd
import pytest
import yaml

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
    keep = [c for c in df.columns if c not in ("created_at", "git_sha", "config_hash")]
    sort = [c for c in ("experiment", "point", "member", "metric", "step", "baseline") if c in keep]
    return df[keep].sort_values(sort, kind="stable").reset_index(drop=True)


# One small paper's part of the smoke grid is enough to exercise the executor: the toy
# catapult experiments of meltzer2023 (the local smoke run holds the same jobs to compare).
SLURM_EXPERIMENTS = ("E_c1", "E_c2", "E_c3")


def _slurm_config(project):
    cfg = yaml.safe_load((project / "config" / "smoke.yaml").read_text())
    for paper in cfg["papers"]:
        if paper != "meltzer2023":
            cfg["papers"][paper] = {"enabled": False}
    experiments = cfg["papers"]["meltzer2023"].setdefault("experiments", {})
    for name in ("E_c0", "E_c1", "E_c2", "E_c3", "E_c4", "E_c5", "E_c6"):
        experiments.setdefault(name, {})["enabled"] = name in SLURM_EXPERIMENTS
    path = project / "config" / "slurm_smoke.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_smoke_workflow_runs_through_sbatch_and_matches_local(smoke_run, tmp_path):
    assert shutil.which("sbatch"), (
        "CI must run the SLURM test: profiles/slurm-local/setup-cluster.sh did not install sbatch"
    )
    project = copy_project(tmp_path / "p")
    cfg_path = _slurm_config(project)
    snakemake(project, "--profile", "profiles/slurm-local", "--configfile", str(cfg_path), timeout=1500)
    record = _scheduler_record(project)
    grid = rcfg.build_grid(rcfg.load(cfg_path, ROOT / "workflow" / "schemas"))
    assert list(grid) == ["meltzer2023"]
    n_train = sum(len(jobs) for jobs in grid.values())
    trained = [r for r in record if r[2].startswith("rule_train")]
    assert n_train > 0 and len(trained) == n_train, (
        f"scheduler saw {len(trained)} train jobs, expected {n_train}: {record}"
    )
    assert not any(r[2].startswith(("rule_aggregate", "rule_figure", "rule_paper_claims")) for r in record), (
        "light rules must run locally, not as cluster jobs"
    )
    assert all(state == "COMPLETED" for _, state, _ in record), record
    local = smoke_run["project"] / "results" / "meltzer2023"
    for key in grid["meltzer2023"]:
        path = f"runs/{key}.parquet"
        pd.testing.assert_frame_equal(
            _table(project / "results" / "meltzer2023" / path), _table(local / path), check_exact=True
        )
    claims = pd.read_parquet(project / "results" / "meltzer2023" / "claims.parquet")
    local_claims = pd.read_parquet(local / "claims.parquet").set_index("claim_id")
    judged = claims[claims["status"].isin(["pass", "fail"])].set_index("claim_id")
    assert len(judged) > 0 and (judged["status"] == "pass").all(), judged[["value", "note"]]
    pd.testing.assert_series_equal(judged["value"], local_claims.loc[judged.index, "value"])
