"""Lint and packaging checks that keep the project clean and its pins consistent."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*cmd):
    proc = subprocess.run([str(BIN / cmd[0]), *cmd[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.mark.parametrize(
    "cmd",
    [
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        ("snakefmt", "--check", "Snakefile", "workflow/rules"),
    ],
    ids=["ruff-check", "ruff-format", "snakefmt"],
)
def test_linters_are_clean(cmd):
    _run(*cmd)


def test_snakemake_lint_is_clean():
    proc = _run("snakemake", "--lint", "--configfile", "config/smoke.yaml")
    assert "Congratulations" in proc.stdout + proc.stderr


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if m := re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)$", line):
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_requirements_pyproject_and_conda_env_agree():
    reqs = _pins((ROOT / "envs" / "requirements.txt").read_text().splitlines())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _pins(project["dependencies"] + [d for ds in project["optional-dependencies"].values() for d in ds])
    assert declared == reqs, "pyproject.toml and envs/requirements.txt pin different packages or versions"
    conda = yaml.safe_load((ROOT / "envs" / "relurepro.yaml").read_text())
    pip_part = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
    conda_pins = _pins(pip_part)
    runtime = _pins(project["dependencies"])
    assert conda_pins == runtime, "envs/relurepro.yaml differs from the runtime pins of pyproject.toml"
    assert reqs["torch"] == "2.13.0"
