"""Shared fixtures: a fresh copy of the project with the smoke workflow run once."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def snakemake(cwd, *args, check=True, timeout=900):
    """Run the project's Snakemake (the one installed beside this Python) in ``cwd``."""
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [str(BIN / "snakemake"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
        )
    return proc


def copy_project(dest: Path) -> Path:
    """Copy the files git would see (tracked and not ignored): a stand-in for a fresh clone."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Train on one thread, as the workflow's train rule does: on a loaded 2-core machine two
    OpenMP threads make the tests' small ensembles over ten times slower."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The project copied to a temp folder, with the smoke config run end to end once."""
    project = copy_project(tmp_path_factory.mktemp("project"))
    proc = snakemake(project, "--cores", "2", "--configfile", "config/smoke.yaml")
    report = snakemake(project, "--cores", "2", "--configfile", "config/smoke.yaml", "--report", "results/report.html")
    return {"project": project, "stdout": proc.stdout + proc.stderr, "report_log": report.stderr}
