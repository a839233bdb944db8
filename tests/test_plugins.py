"""The generic plug-in layer: enabled flags, dispatch, stems, declared claims, Job members."""

import sys
import types

import pandas as pd
import pytest

from relurepro import papers, registry
from relurepro.claims import Claim
from relurepro.papers import Job


def _module(name, **attrs):
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    return mod


@pytest.fixture
def toy_paper(monkeypatch):
    """A paper ``toy`` with two experiments, registered for the test only."""

    def jobs_a(e, cfg):
        return [
            Job("A", f"w{w}", {"width": w}, members=[{"seed": s, "lr": 0.1} for s in e["seeds"]]) for w in e["widths"]
        ]

    def train_a(job, data, ctx):
        return job.labels().assign(member=range(len(job.members)), step=0, metric="loss", value=1.0)

    a = _module(
        "toy.a",
        jobs=jobs_a,
        train=train_a,
        figures=lambda e, cfg: {"toy_fig_a": lambda t: "figure a"},
        CLAIMS=[Claim("toy.A.small", "d", "s", "<", lambda t: float(t.runs["value"].max()), {"quick": 2.0})],
    )
    b = _module(
        "toy.b",
        jobs=lambda e, cfg: [Job("B", "main", {})],
        train=train_a,
        figures=lambda e, cfg: {"toy_fig_b": lambda t: "figure b"},
        CLAIMS=[Claim("toy.B.never", "d", "s", ">", lambda t: 0.0, {"quick": 1.0})],
    )
    pkg = _module("toy", EXPERIMENTS={"A": "a", "B": "b"}, CHOICES={})
    for name, mod in {"toy": pkg, "toy.a": a, "toy.b": b}.items():
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setitem(registry.PAPERS, "toy", "toy")
    return {"pkg": pkg, "a": a, "b": b}


CFG = {"profile": "quick", "experiments": {"A": {"seeds": [0, 1], "widths": [4, 8]}, "B": {"enabled": False}}}


def test_grid_skips_disabled_experiments(toy_paper):
    jobs = papers.grid("toy", CFG)
    assert [j.key for j in jobs] == ["A/w4", "A/w8"]
    assert papers.grid("toy", {"experiments": {"B": {}}})[0].key == "B/main"


def test_a_job_labelled_with_another_experiment_is_refused(toy_paper, monkeypatch):
    monkeypatch.setattr(toy_paper["a"], "jobs", lambda e, cfg: [Job("B", "x", {})])
    with pytest.raises(ValueError, match="made a job labelled 'B'"):
        papers.grid("toy", CFG)


def test_figures_of_enabled_experiments_only(toy_paper, monkeypatch):
    assert list(papers.figures("toy", CFG)) == ["toy_fig_a"]
    monkeypatch.setattr(toy_paper["a"], "figures", lambda e, cfg: {"fig_a": lambda t: None})
    with pytest.raises(ValueError, match="must start with 'toy_'"):
        papers.figures("toy", CFG)


def test_train_dispatches_and_claims_cover_every_declaration(toy_paper):
    job = papers.grid("toy", CFG)[0]
    runs = papers.train("toy", job, {}, None).assign(experiment="A", point=job.point)
    df = papers.evaluate_claims("toy", runs, pd.DataFrame(), CFG).set_index("claim_id")
    assert df.loc["toy.A.small", "status"] == "pass"
    assert df.loc["toy.B.never", "status"] == "skipped" and "B is off" in df.loc["toy.B.never", "note"]


def test_claims_must_carry_their_experiment(toy_paper, monkeypatch):
    monkeypatch.setattr(toy_paper["a"], "CLAIMS", [Claim("toy.B.x", "d", "s", "<", lambda t: 0, {"quick": 1})])
    with pytest.raises(ValueError, match="must be named toy.A.<name>"):
        papers.declared_claims("toy")


def test_unknown_experiment_names_the_declared_ones(toy_paper):
    with pytest.raises(KeyError, match=r"unknown experiment 'C'.*\['A', 'B'\]"):
        papers.experiment_module("toy", "C")


def test_job_members_round_trip_and_labels():
    job = Job("E", "p", {"H": 3}, {"d": {"seed": 1}}, [{"seed": 0, "lr": 0.5}, {"seed": 1, "lr": 0.25}])
    again = Job.from_spec("E", "p", job.spec())
    assert again == job and again.params_json() == job.params_json()
    assert job.column("lr") == [0.5, 0.25]
    assert job.labels()["seed"].tolist() == [0, 1]
    assert job.tensor("lr").tolist() == [0.5, 0.25]
    with pytest.raises(KeyError, match="no label 'slope'"):
        job.column("slope")


def test_parsing_the_dag_imports_neither_torch_nor_seaborn():
    """What the Snakefile computes at parse time (grid, stems, code fingerprints) stays light."""
    import subprocess
    import sys as _sys

    from .conftest import ROOT

    script = f"""
import sys
from relurepro import config, papers
for name in ("config.yaml", "smoke.yaml", "full.yaml"):
    cfg = config.load({str(ROOT)!r} + "/config/" + name, {str(ROOT)!r} + "/workflow/schemas")
    for paper, jobs in config.build_grid(cfg).items():
        section = config.paper_config(cfg, paper)
        papers.figure_experiments(paper, section)
        for job in jobs.values():
            papers.code_hash(paper, "train", [job.experiment])
        papers.code_hash(paper, "claims", papers.experiment_ids(paper))
print(sorted(m for m in ("torch", "seaborn") if m in sys.modules))
"""
    out = subprocess.run([_sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
