"""Faults lose nothing: killed jobs, damaged inputs, diverging members."""

import os
import shutil
import signal
import subprocess
import time

import pandas as pd
import pytest
import yaml

from relurepro import config as rcfg

from .conftest import BIN, ROOT, copy_project, snakemake

pytestmark = pytest.mark.slow


def _longest_smoke_job(project):
    """The smoke training job that ran longest (so a kill lands halfway through it)."""
    rows = []
    for tsv in (project / "benchmarks").glob("*/train/*/*.tsv"):
        rows.append((float(tsv.read_text().splitlines()[1].split("\t")[0]), tsv))
    _, tsv = max(rows)
    paper, _, experiment, point = tsv.relative_to(project / "benchmarks").with_suffix("").parts
    return f"results/{paper}/runs/{experiment}/{point}.parquet"


def test_sigkilled_training_job_is_redone_bit_for_bit(smoke_run, tmp_path):
    reference = smoke_run["project"]
    target = _longest_smoke_job(reference)
    project = copy_project(tmp_path / "p")
    paper, _, experiment, point = target.removesuffix(".parquet").split("/")[1:]
    log = project / "logs" / paper / "train" / experiment / f"{point}.log"
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    proc = subprocess.Popen(
        [str(BIN / "snakemake"), target, "--cores", "1", "--configfile", "config/smoke.yaml"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 300
    while time.time() < deadline and not (log.exists() and ": training;" in log.read_text()):
        time.sleep(0.2)
    assert log.exists(), "the training job never started"
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (project / target).exists(), "a killed job left a file that looks complete"
    # A SIGKILL leaves Snakemake's lock behind; --unlock (as its own message advises) clears it.
    snakemake(project, "--unlock", "--configfile", "config/smoke.yaml")
    snakemake(project, target, "--cores", "1", "--configfile", "config/smoke.yaml")
    redone = pd.read_parquet(project / target)
    original = pd.read_parquet(reference / target)
    numeric = [c for c in original.columns if c not in ("created_at", "git_sha")]
    pd.testing.assert_frame_equal(redone[numeric], original[numeric], check_exact=True)


def test_truncated_run_file_stops_aggregation_naming_it(smoke_run, tmp_path):
    project = tmp_path / "p"
    shutil.copytree(smoke_run["project"], project, symlinks=True)
    victim = next((project / "results" / "meltzer2023" / "runs").glob("*/*.parquet"))
    claims_before = (project / "results" / "claims.parquet").read_bytes()
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    proc = snakemake(project, "--configfile", "config/smoke.yaml", check=False)
    out = proc.stdout + proc.stderr
    logs = "".join(p.read_text() for p in (project / "logs").rglob("*.log"))
    assert proc.returncode != 0
    assert victim.name in out + logs and "cannot read Parquet file" in logs
    assert (project / "results" / "claims.parquet").read_bytes() == claims_before
    runs = project / "results" / "meltzer2023" / "runs.parquet"
    assert not runs.exists() or pd.read_parquet(runs)["point"].nunique() > 1


def test_diverging_members_are_recorded(smoke_run):
    runs = pd.read_parquet(smoke_run["project"] / "results" / "meltzer2023" / "runs.parquet")
    trained = runs.dropna(subset=["diverged"])  # E_c0's NTK check trains nothing
    members = trained.groupby(["experiment", "point", "member"])[["diverged", "diverged_step"]].first()
    members["diverged"] = members["diverged"].astype(bool)
    assert members["diverged"].any() and not members["diverged"].all()
    assert (members.loc[members["diverged"], "diverged_step"] > 0).all()
    assert (members.loc[~members["diverged"], "diverged_step"] == -1).all()


def test_job_where_every_member_diverges_is_a_result(smoke_run, tmp_path):
    """The job writes its rows marked diverged and says so in its log; the workflow goes on."""
    project = copy_project(tmp_path / "p")
    cfg = yaml.safe_load((project / "config" / "smoke.yaml").read_text())
    e_c1 = cfg["papers"]["meltzer2023"].setdefault("experiments", {}).setdefault("E_c1", {})
    e_c1.update(eta_lambda0=[6.0, 8.0])
    bad = project / "config" / "all_diverge.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    grid = rcfg.build_grid(rcfg.load(bad, ROOT / "workflow" / "schemas"))["meltzer2023"]
    targets = [f"results/meltzer2023/runs/{key}.parquet" for key in grid if key.startswith("E_c1/")]
    snakemake(project, *targets, "--cores", "1", "--configfile", str(bad))
    logs = {p: p.read_text() for p in (project / "logs" / "meltzer2023" / "train" / "E_c1").glob("*.log")}
    assert any("every member diverged" in text for text in logs.values()), logs
    runs = pd.concat([pd.read_parquet(project / t) for t in targets])
    assert runs.groupby("member")["diverged"].first().all()
