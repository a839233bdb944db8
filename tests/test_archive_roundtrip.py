"""Archive a finished smoke run, restore it in a fresh copy, re-render without training."""

import html
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from .conftest import BIN, snakemake

pytestmark = pytest.mark.slow


def _relurepro(*args, cwd=None):
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [str(BIN / "python"), "-m", "relurepro.cli", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


# The archive path does not depend on the paper: two papers keep the re-render of every figure short.
ARCHIVED = ("zhang2024", "lin2021")


def _only(project, papers):
    """Turn every other paper off in the project's smoke config (its finished jobs stay as they are)."""
    path = project / "config" / "smoke.yaml"
    cfg = yaml.safe_load(path.read_text())
    for paper, section in cfg["papers"].items():
        section["enabled"] = paper in papers
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))


def test_archive_restore_rerender(smoke_run, tmp_path):
    """The README's path: archive, restore into a fresh clone, `relurepro rerender`; no data set, no training."""
    origin = tmp_path / "origin"
    shutil.copytree(smoke_run["project"], origin, symlinks=True)
    _only(origin, ARCHIVED)
    proc = snakemake(origin, "--cores", "2", "--configfile", "config/smoke.yaml")
    assert "Train " not in proc.stdout + proc.stderr, "narrowing the config retrained a job"
    snakemake(origin, "--cores", "2", "--configfile", "config/smoke.yaml", "--report", "results/report.html")
    snakemake(origin, "archive", "--configfile", "config/smoke.yaml")
    archives = list((origin / "results" / "archive").glob("relurepro-*.tar.gz"))
    assert len(archives) == 1
    claims_md = (origin / "results" / "claims.md").read_bytes()
    claims_pq = (origin / "results" / "claims.parquet").read_bytes()

    # a fresh clone of the same tree (copy_project would take today's working tree, which may have moved on)
    fresh = tmp_path / "fresh"
    shutil.copytree(origin, fresh, ignore=shutil.ignore_patterns("results", "logs", "benchmarks", ".snakemake"))
    restore = _relurepro("restore", str(archives[0]), "--dest", str(fresh))
    assert restore.returncode == 0, restore.stderr
    assert "restored-config/config.yaml restored-config/smoke.yaml" in restore.stdout
    assert not list((fresh / "results").glob("*/data/*")), "generated data sets are not archived"
    (fresh / "results" / "claims.md").unlink()
    (fresh / "results" / "claims.parquet").unlink()
    proc = _relurepro("rerender", "--dest", str(fresh), "--cores", "2")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    # each job prints its rule and its message (workflow/rules/*.smk)
    assert "rule train" not in out and "rule data" not in out and "rule baselines" not in out
    assert not any(m in out for m in ("Train ", "Generate data set", "Baselines of"))
    assert "rule figure" in out and "rule claims" in out
    assert (fresh / "results" / "claims.md").read_bytes() == claims_md
    assert (fresh / "results" / "claims.parquet").read_bytes() == claims_pq
    assert not list((fresh / "logs").glob("*/train/*/*.log")), "a training job ran after restore"
    assert not list((fresh / "results").glob("*/data/*")), "a data set was regenerated"
    # the configuration page shows the restored (smoke) config, not the clone's default one
    assert '"profile": "smoke"' in html.unescape((fresh / "results" / "report" / "choices.html").read_text())
    assert (fresh / "results" / "report.html").exists()

    # another config is refused, naming both hashes
    smoke = fresh / "restored-config" / "smoke.yaml"
    smoke.write_text(smoke.read_text().replace("train_threads: 1", "train_threads: 2"))
    refused = _relurepro("rerender", "--dest", str(fresh), "--cores", "2")
    assert refused.returncode != 0
    assert "refusing to re-render" in refused.stdout + refused.stderr
    assert archives[0].name.removesuffix(".tar.gz").rsplit("-", 1)[1] in refused.stdout + refused.stderr


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
