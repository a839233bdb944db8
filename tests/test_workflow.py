"""The real workflow, end to end on the smoke config (no mocks)."""

import re
import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from relurepro import claims as claims_mod
from relurepro import config as rcfg
from relurepro import papers
from relurepro.io import PROVENANCE_COLUMNS
from relurepro.registry import PAPERS

from .conftest import ROOT, snakemake

pytestmark = pytest.mark.slow


def _smoke_cfg():
    return rcfg.load(ROOT / "config" / "smoke.yaml", ROOT / "workflow" / "schemas")


def test_every_output_of_the_contract_exists(smoke_run):
    results = smoke_run["project"] / "results"
    cfg = _smoke_cfg()
    for paper in rcfg.enabled_papers(cfg):
        assert (results / paper / "runs.parquet").stat().st_size > 0
        assert (results / paper / "baselines.parquet").exists()
        stems = papers.figures(paper, rcfg.paper_config(cfg, paper))
        assert stems, f"{paper} renders no figures"
        for stem in stems:
            for ext in ("png", "pdf"):
                path = results / paper / "figures" / f"{stem}.{ext}"
                assert path.stat().st_size > 5000, path
            assert (results / paper / "figures" / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert (ROOT / "workflow" / "report" / f"{stem}.rst").exists(), f"no caption for {stem}"
    assert (results / "claims.md").read_text().startswith("# Claims")
    html = (results / "report.html").read_text(errors="replace")
    assert len(html) > 10000 and "claims" in html.lower()


def test_parquet_schemas_and_provenance(smoke_run):
    results = smoke_run["project"] / "results"
    for paper in rcfg.enabled_papers(_smoke_cfg()):
        runs = pd.read_parquet(results / paper / "runs.parquet")
        for col in ["paper", "experiment", "point", "seed", "member", "step", "metric", "value", *PROVENANCE_COLUMNS]:
            assert col in runs.columns, f"{paper} runs.parquet lacks {col}"
        assert (runs["paper"] == paper).all()
        assert runs["torch_version"].str.startswith("2.").all()
        assert runs["device"].isin(["cpu"]).all()
        assert runs["job_hash"].str.fullmatch(r"[0-9a-f]{12}").all()
        assert runs.groupby(["experiment", "point"])["job_hash"].nunique().eq(1).all()
        assert runs["dtype"].isin(["float64", "float32"]).all()
    # provenance says what the tensors used: E_c5 trains in its own dtype, the toy experiments in float64
    runs = pd.read_parquet(results / "meltzer2023" / "runs.parquet")
    e_c5 = _smoke_cfg()["papers"]["meltzer2023"]["experiments"]["E_c5"]["dtype"]
    assert set(runs.loc[runs["experiment"] == "E_c5", "dtype"]) == {e_c5}
    assert set(runs.loc[runs["experiment"] == "E_c1", "dtype"]) == {"float64"}
    claims = pq.read_table(results / "claims.parquet").to_pandas()
    assert list(claims.columns) == [*claims_mod.COLUMNS, "config_hash"]
    assert claims["claim_id"].is_unique
    assert (claims["profile"] == "smoke").all()
    assert set(claims["kind"]) <= {"claim", "invariant"}


@pytest.mark.parametrize("paper", list(PAPERS))
def test_every_declared_claim_has_a_row_and_judged_ones_pass_on_smoke(smoke_run, paper):
    """Claims that cannot pass at smoke size are declared with no smoke threshold (reported), with the reason."""
    claims = pd.read_parquet(smoke_run["project"] / "results" / "claims.parquet")
    mine = claims[claims["paper"] == paper]
    assert sorted(mine["claim_id"]) == sorted(c.id for c in papers.declared_claims(paper))
    judged = mine[mine["status"].isin(["pass", "fail", "error"])]
    assert len(judged) > 0
    failed = judged[judged["status"] != "pass"]
    assert failed.empty, "claims failed on smoke:\n" + failed[["claim_id", "value", "threshold", "note"]].to_string()


def test_second_run_has_nothing_to_do(smoke_run):
    proc = snakemake(smoke_run["project"], "-n", "--configfile", "config/smoke.yaml")
    assert "Nothing to be done" in proc.stdout + proc.stderr


# A dry run prints each job's message (workflow/rules/*.smk) instead of its rule and wildcards.
MESSAGES = {
    "data": r"Generate data set (?P<dataset>\S+) of (?P<paper>\S+)",
    "train": r"Train (?P<paper>\S+) (?P<experiment>[^/\s]+)/(?P<point>\S+)",
    "baselines": r"Baselines of (?P<paper>\S+) (?P<experiment>\S+)",
    "aggregate": r"Aggregate the tables of (?P<paper>\S+)",
    "figure": r"Figure (?P<stem>\S+)",
    "paper_claims": r"Claims of (?P<paper>\S+)",
    "claims": r"Claims table of all papers",
    "report_tables": r"Report tables and figure captions",
}


def _planned_jobs(output: str) -> list[tuple[str, dict]]:
    """``(rule, wildcards)`` of every job a dry run plans, read from the jobs' messages."""
    jobs = []
    for line in output.splitlines():
        if m := re.match(r"^Job \d+: (.*)$", line.strip()):
            for rule, pattern in MESSAGES.items():
                if w := re.fullmatch(pattern, m.group(1).strip()):
                    jobs.append((rule, w.groupdict()))
                    break
            else:
                raise AssertionError(f"a planned job with an unknown message: {line!r}")
        elif m := re.match(r"^(?:local)?rule (\w+):", line.strip()):
            jobs.append((m.group(1), {}))
    return jobs


def test_changing_one_width_reruns_only_that_job(smoke_run, tmp_path):
    project = smoke_run["project"]
    cfg = yaml.safe_load((project / "config" / "smoke.yaml").read_text())
    e3 = cfg["papers"]["zhang2024"].setdefault("experiments", {}).setdefault("E3", {})
    before = set(rcfg.build_grid(_smoke_cfg())["zhang2024"])
    e3["H"] = [h + 2 for h in _smoke_cfg()["papers"]["zhang2024"]["experiments"]["E3"]["H"]]
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    after = set(rcfg.build_grid(rcfg.load(changed, ROOT / "workflow" / "schemas"))["zhang2024"])
    new_keys = after - before
    assert len(new_keys) == 1 and next(iter(new_keys)).startswith("E3/")
    proc = snakemake(project, "-n", "--configfile", str(changed))
    planned = _planned_jobs(proc.stdout + proc.stderr)
    trained = {(w["paper"], f"{w['experiment']}/{w['point']}") for rule, w in planned if rule == "train"}
    assert trained == {("zhang2024", k) for k in new_keys}
    assert not any(w.get("paper") == "meltzer2023" for _, w in planned)
    assert {w["experiment"] for rule, w in planned if rule == "baselines"} == {"E3"}


def test_bad_config_stops_before_any_job(smoke_run, tmp_path):
    project = smoke_run["project"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"papers": {"zhang2024": {"experiments": {"E1": {"width2": -3}}}}}))
    proc = snakemake(project, "-n", "--configfile", str(bad), check=False)
    assert proc.returncode != 0
    assert "papers.zhang2024.experiments.E1.width2" in proc.stdout + proc.stderr


def _rules(project, *args):
    planned = _planned_jobs(snakemake(project, "-n", "--configfile", "config/smoke.yaml", *args).stdout)
    return {(rule, w.get("paper")) for rule, w in planned if rule != "all"}


def _insert_after(path, line, text):
    source = path.read_text()
    assert line in source, f"{line!r} not in {path}"
    path.write_text(source.replace(line, line + text, 1))


def test_code_edits_rerun_what_they_affect(smoke_run, tmp_path):
    project = tmp_path / "p"
    shutil.copytree(smoke_run["project"], project, symlinks=True)
    package = project / "src" / "relurepro"
    measure = package / "papers" / "zhang2024" / "e0_identity.py"
    _insert_after(
        measure, "def identity_residual(t: Tables) -> Measured:\n", '    edited = "a claim measure changed"\n'
    )
    assert _rules(project) == {("paper_claims", "zhang2024"), ("claims", None), ("report_tables", None)}
    snakemake(project, "--cores", "2", "--configfile", "config/smoke.yaml")
    assert _rules(project) == set()  # a second run is a no-op

    _insert_after(package / "engine.py", "def train(\n", "    # an edit of the training loop\n")
    planned = _rules(project)
    trained = {paper for rule, paper in planned if rule == "train"}
    assert trained == set(PAPERS) and not any(rule == "data" for rule, _ in planned)
