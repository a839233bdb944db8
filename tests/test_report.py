"""The HTML report: captions that docutils renders without a message, verdicts a reader can scan,
figure entries that list only what the figure uses, and no caption that a valid config can miss."""

import io
import re

import jinja2
import pandas as pd
import pytest
import yaml
from docutils.core import publish_parts

from relurepro import claims as claims_mod
from relurepro import config as rcfg
from relurepro import papers, stages

from .conftest import ROOT, copy_project, snakemake

REPORT = ROOT / "workflow" / "report"
DOCUTILS_MESSAGE = re.compile(r"\((DEBUG|INFO|WARNING|ERROR|SEVERE)/\d\)")


def rst_messages(text: str) -> str:
    """Every docutils system message (info and up) that rendering ``text`` prints."""
    stream = io.StringIO()
    publish_parts(text, writer="html", settings_overrides={"warning_stream": stream, "report_level": 1})
    return stream.getvalue()


def _claims(paper="meltzer2023", experiment="E_c3") -> pd.DataFrame:
    """A claims table with every status and the characters RST treats as markup."""
    rows = []
    for i, status in enumerate(["pass", "fail", "error", "reported", "skipped"]):
        rows.append(
            {
                "paper": paper,
                "claim_id": f"{paper}.{experiment}.claim_{i}_",
                "kind": "invariant" if i == 0 else "claim",
                "version": 1,
                "profile": "smoke",
                "status": status,
                "description": "|L - L_theory| < *eps* for x_ and `a`",
                "statistic": "max_t |L_t - L*| / L0 [per seed] <= 2",
                "value": 0.5 if status != "skipped" else float("nan"),
                "threshold": 1.0 if status in ("pass", "fail", "error") else float("nan"),
                "threshold_high": float("nan"),
                "direction": "<" if status in ("pass", "fail", "error") else "report",
                "passed": {"pass": True, "fail": False, "error": False}.get(status),
                "n_seeds": 3,
                "worst_seed_value": 0.9,
                "pass_fraction": 2 / 3,
                "note": "ValueError: |bad| *input*\ntraceback line" if status == "error" else "",
            }
        )
    rows.append({**rows[0], "paper": "zhang2024", "claim_id": "zhang2024.E6.other", "status": "fail"})
    return claims_mod.table(rows)


def _stems():
    """Every figure stem of the three configs, with the paper and experiment that draw it."""
    out = {}
    for name in ("smoke", "config", "full"):
        cfg = rcfg.load(ROOT / "config" / f"{name}.yaml", ROOT / "workflow" / "schemas")
        for paper in rcfg.enabled_papers(cfg):
            for stem, exp in papers.figure_experiments(paper, rcfg.paper_config(cfg, paper)).items():
                out[stem] = (paper, exp)
    return out


# ------------------------------------------------------------------ item 9: captions without errors


@pytest.mark.parametrize("path", sorted(REPORT.glob("*_*.rst")), ids=lambda p: p.stem)
def test_each_figure_caption_renders_without_docutils_messages(path):
    """A caption with ``|x|`` used to print "Undefined substitution referenced" and show the broken markup."""
    assert not rst_messages(path.read_text()), path.name


def test_caption_snippets_render_without_messages_and_list_the_experiment_claims():
    df = _claims()
    for stem, (paper, exp) in _stems().items():
        source = REPORT / f"{stem}.rst"
        text = stages.caption_rst(stem, paper, exp, source.read_text() if source.exists() else None, df)
        assert not rst_messages(text), stem
    text = stages.caption_rst("meltzer2023_fig02_leaky_a050", "meltzer2023", "E_c3", "A caption.", df)
    body = publish_parts(text, writer="html")["body"]
    assert "meltzer2023.E_c3.claim_1_" in body and "FAIL" in body and "PASS" in body and "(invariant)" in body
    assert "|L - L_theory| &lt; *eps*" in body  # the claim's own text, shown as written
    assert "zhang2024.E6.other" not in body  # another experiment's claim
    assert "1 of 3 judged pass" in body


def test_summary_and_landing_page_render_without_messages(tmp_path, monkeypatch):
    df = _claims()
    summary = stages.summary_rst(df)
    assert not rst_messages(summary)
    assert claims_mod.summary_line(df).split(";")[0] in summary.replace("\\", "")
    # the landing page and the figure caption template, rendered as Snakemake does (Jinja, then docutils)
    (tmp_path / "results" / "report" / "captions").mkdir(parents=True)
    (tmp_path / "results" / "report" / "summary.rst").write_text(summary)
    (tmp_path / "results" / "report" / "captions" / "s.rst").write_text(
        stages.caption_rst("s", "meltzer2023", "E_c3", None, df)
    )
    monkeypatch.chdir(tmp_path)

    class Smk:
        config = {"profile": "smoke"}
        wildcards = {"stem": "s", "paper": "meltzer2023"}

    for name in ("workflow.rst", "figure.rst"):
        text = jinja2.Environment().from_string((REPORT / name).read_text()).render(snakemake=Smk)
        assert not rst_messages(text), name
        html = publish_parts(text, writer="html")["body"]
        assert "judged claims pass" in html or "no caption of its own" in html


# ------------------------------------------------------------------ item 6: a caption for every stem


def test_a_stem_without_its_own_caption_gets_a_generic_one():
    text = stages.caption_rst("meltzer2023_fig_leaky_a030", "meltzer2023", "E_c3", None, _claims())
    assert "no caption of its own" in text and "workflow/report/meltzer2023_fig_leaky_a030.rst" in text
    assert not rst_messages(text)


def test_dry_run_with_a_slope_that_has_no_caption_file(tmp_path):
    """E_c3 at slope 0.3 makes the stem meltzer2023_fig_leaky_a030, which has no caption file."""
    project = copy_project(tmp_path)
    cfg = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    cfg["papers"]["meltzer2023"]["experiments"]["E_c3"]["slopes"] = [0.3]
    (project / "config" / "odd.yaml").write_text(yaml.safe_dump(cfg))
    assert not (REPORT / "meltzer2023_fig_leaky_a030.rst").exists()
    out = snakemake(project, "-n", "--configfile", "config/odd.yaml").stdout
    assert "Figure meltzer2023_fig_leaky_a030" in out and "report_tables" in out


# ------------------------------------------------------------------ item 15: a claims page a reader can scan


def test_claims_page_puts_the_verdict_first_and_marks_failures():
    page = stages.claims_page(_claims()).replace("<wbr>", "")
    header = re.search(r"<thead><tr>(.*?)</tr></thead>", page).group(1)
    assert header.startswith("<th>result</th>")
    rows = re.findall(r"<tr class='(\w*)'>(.*?)</tr>", page)
    by_claim = {re.search(r"<td class='id'>([^<]*) v1</td>", r).group(1): cls for cls, r in rows}
    assert by_claim["meltzer2023.E_c3.claim_1_"] == "fail"  # failed
    assert by_claim["meltzer2023.E_c3.claim_2_"] == "fail"  # error
    assert by_claim["meltzer2023.E_c3.claim_0_"] == "pass"
    assert by_claim["meltzer2023.E_c3.claim_4_"] == "quiet"  # skipped
    assert "tr.fail td{background" in stages._page("Claims", page)
    assert "&lt;" in page and "|L - L_theory| &lt; *eps*" in page  # escaped, not raw HTML


def test_summary_names_the_count_and_the_failed_ids():
    summary = stages.summary_rst(_claims()).replace("\\", "")
    assert "1 of 4 judged claims pass" in summary
    for cid in ("meltzer2023.E_c3.claim_1_", "meltzer2023.E_c3.claim_2_", "zhang2024.E6.other"):
        assert cid in summary


# ------------------------------------------------------------------ the smoke run's report


@pytest.mark.slow
def test_building_the_report_prints_no_docutils_message(smoke_run):
    log = smoke_run["report_log"]
    assert "Report created" in log
    assert not DOCUTILS_MESSAGE.search(log), DOCUTILS_MESSAGE.search(log).group(0) + "\n" + log[-3000:]


@pytest.mark.slow
def test_report_material_from_the_smoke_run(smoke_run):
    results = smoke_run["project"] / "results"
    df = pd.read_parquet(results / "claims.parquet")
    summary = (results / "report" / "summary.rst").read_text().replace("\\", "")
    assert claims_mod.summary_line(df) in summary
    html = (results / "report.html").read_text(errors="replace")
    assert "judged claims pass" in html and "Undefined substitution" not in html
    assert "System Message" not in html
    # a figure's entry lists its own experiment's config, not the paper's, and not the caption again
    assert "E_c3" in (results / "report" / "captions" / "meltzer2023_fig02_leaky_a050.rst").read_text()
    entries = re.findall(r'"params": "([^"]*)', html)
    assert not [e for e in entries if "caption=" in e]
    assert any(e.startswith("experiment=E_c3, profile=smoke, config={") for e in entries)
    assert not [e for e in entries if "'experiments'" in e or "experiments" in e and "figure" in e]
    claims_page = (results / "report" / "claims.html").read_text()
    failed = df[df["status"].isin(["fail", "error"])]
    assert claims_page.count("<tr class='fail'>") == len(failed)
