"""Helpers for a paper's unit tests: a validated section of its config, and its jobs run in-process."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import torch
import yaml

from relurepro import papers
from relurepro.config import _Validator
from relurepro.papers import Context

ROOT = Path(__file__).resolve().parents[1]
CTX = Context(device=torch.device("cpu"), dtype=torch.float64, log=lambda msg: None)


def schema(paper: str) -> dict:
    return yaml.safe_load((ROOT / "workflow" / "schemas" / "papers" / f"{paper}.schema.yaml").read_text())


def section(paper: str, experiments_cfg: dict | None = None, profile: str = "quick") -> dict:
    """A validated, default-filled paper section with the shared keys added."""
    sec = {"enabled": True, "experiments": copy.deepcopy(experiments_cfg or {})}
    errors = list(_Validator(schema(paper)).iter_errors(sec))
    assert not errors, [e.message for e in errors]
    return {**sec, "profile": profile, "dtype": "float64"}


def only(paper: str, exp: str, **overrides) -> dict:
    """The section with one experiment on (``overrides`` in its config) and every other one off."""
    cfg = {e: {"enabled": e == exp} for e in papers.experiment_ids(paper)}
    cfg[exp].update(overrides)
    return section(paper, cfg)


def run_jobs(paper: str, cfg: dict, exp: str):
    """Train one experiment's jobs in-process and compute its baselines, as the workflow would.

    Returns ``(jobs, runs, baselines)``.
    """
    jobs = [j for j in papers.grid(paper, cfg) if j.experiment == exp]
    data = {n: papers.make_dataset(paper, n, s) for j in jobs for n, s in j.datasets.items()}
    runs = pd.concat(
        [
            papers.train(paper, j, {n: data[n] for n in j.datasets}, CTX).assign(experiment=exp, point=j.point)
            for j in jobs
        ],
        ignore_index=True,
    )
    bases = papers.baselines(paper, exp, {j.point: j for j in jobs}, runs, data, CTX)
    return jobs, runs, (bases.assign(experiment=exp) if bases is not None else pd.DataFrame())


def assert_declared_claims_are_the_spec_table(paper: str) -> None:
    """The paper's declared claim ids are exactly those of ``tests/spec_claims/<paper>.txt``, each once."""
    declared = [c.id for c in papers.declared_claims(paper)]
    lines = (ROOT / "tests" / "spec_claims" / f"{paper}.txt").read_text().splitlines()
    assert len(declared) == len(set(declared))
    assert sorted(declared) == sorted(line.strip() for line in lines if line.strip())
