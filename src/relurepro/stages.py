"""The pipeline stages. Workflow scripts and the CLI call these; logic lives here."""

from __future__ import annotations

import html
import json
import os
import re
import time
from pathlib import Path

import pandas as pd

from . import claims as claims_mod
from . import io, papers
from .papers import Context, Job
from .registry import plugin


def _context(device: str, dtype: str, threads: int, log=print) -> Context:
    # cuBLAS is deterministic only with a fixed workspace; it must be set before CUDA starts
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import torch

    from .engine import DTYPES, resolve_device

    torch.set_num_threads(max(1, int(threads)))
    torch.use_deterministic_algorithms(True, warn_only=True)
    return Context(device=resolve_device(device), dtype=DTYPES[dtype], log=log)


def data(paper: str, name: str, spec: dict, out) -> None:
    """Generate (or load) one data set and write it as ``.npz``."""
    arrays = papers.make_dataset(paper, name, spec)
    io.write_npz(arrays, out)
    print(f"{paper}: data set {name} -> {out} ({', '.join(f'{k}{v.shape}' for k, v in arrays.items())})")


def _stamp(df: pd.DataFrame, job_hash: str, ctx: Context) -> dict:
    """Provenance for a job's rows; an experiment that ran elsewhere than ``ctx`` says so in its own columns."""
    stamp = io.provenance(job_hash, str(ctx.device), str(ctx.dtype).removeprefix("torch."))
    return {k: v for k, v in stamp.items() if k not in df.columns}


def train(
    paper: str, job: Job, data_paths: dict[str, str], out, *, device="auto", dtype="float64", threads=1, code=""
) -> None:
    """Train one job's ensemble and write its long table with provenance.

    ``job_hash`` covers everything that defines the numbers: the job's spec (parameters,
    members, data specs), the dtype and the fingerprint of the code that ran.
    """
    ctx = _context(device, dtype, threads)
    arrays = {name: io.read_npz(path) for name, path in data_paths.items()}
    start = time.perf_counter()
    ctx.log(f"{paper} {job.key}: training; context {ctx.device} ({dtype})")
    df = papers.train(paper, job, arrays, ctx)
    if df is None or df.empty:
        raise RuntimeError(f"{paper} {job.key}: training produced no rows")
    if "diverged" in df.columns and bool(df.groupby("member")["diverged"].first().all()):
        # a result, not a crash: the rows are written, marked diverged, and the claims that need them fail
        ctx.log(f"{paper} {job.key}: WARNING: every member diverged; rows are kept with diverged = true")
    df = df.assign(paper=paper, experiment=job.experiment, point=job.point)
    job_hash = io.canonical_hash({"job": job.spec(), "dtype": dtype, "code": code})
    stamp = _stamp(df, job_hash, ctx)
    io.write_parquet(df, out, **stamp)
    ran = {k: sorted(set(map(str, df[k]))) if k in df else [stamp[k]] for k in ("device", "dtype")}
    ctx.log(
        f"{paper} {job.key}: {len(df)} rows in {time.perf_counter() - start:.1f} s, "
        f"tensors on {'/'.join(ran['device'])} in {'/'.join(ran['dtype'])} -> {out}"
    )


def baselines(
    paper: str,
    experiment: str,
    jobs: dict,
    run_paths,
    data_paths: dict[str, str],
    out,
    *,
    device="cpu",
    dtype="float64",
    code="",
) -> None:
    """Compute one experiment's analytic baselines from its runs (``jobs``: point -> job spec)."""
    ctx = _context(device, dtype, 1)
    runs = pd.concat([io.read_parquet(p) for p in run_paths], ignore_index=True)
    arrays = {name: io.read_npz(path) for name, path in data_paths.items()}
    specs = {point: Job.from_spec(experiment, point, spec) for point, spec in jobs.items()}
    df = papers.baselines(paper, experiment, specs, runs, arrays, ctx)
    df = pd.DataFrame() if df is None else df
    df = (
        df.assign(paper=paper, experiment=experiment) if not df.empty else pd.DataFrame({"paper": [], "experiment": []})
    )
    job_hash = io.canonical_hash({"jobs": jobs, "dtype": dtype, "code": code})
    io.write_parquet(df, out, **_stamp(df, job_hash, ctx))
    print(f"{paper} {experiment}: {len(df)} baseline rows -> {out}")


def aggregate(paper: str, run_paths, baseline_paths, runs_out, baselines_out) -> None:
    """Concatenate a paper's per-job tables; a damaged input stops here, naming the file."""
    runs = pd.concat([io.read_parquet(p) for p in run_paths], ignore_index=True)
    bases = [io.read_parquet(p) for p in baseline_paths]
    bases = pd.concat([b for b in bases if not b.empty] or [pd.DataFrame({"paper": []})], ignore_index=True)
    io.write_parquet(runs, runs_out)
    io.write_parquet(bases, baselines_out)
    print(f"{paper}: {len(runs)} run rows from {len(run_paths)} jobs, {len(bases)} baseline rows")


def figure(paper: str, stem: str, runs_path, baselines_path, experiment: str, section: dict, profile: str, png, pdf):
    """Render one figure from the aggregated tables, knowing only its experiment's config section."""
    from . import plotting
    from .tables import Tables

    cfg = {"profile": profile, "experiments": {experiment: dict(section)}}
    tables = Tables(io.read_parquet(runs_path), io.read_parquet(baselines_path), cfg)
    fig = papers.figures(paper, cfg)[stem](tables)
    plotting.save(fig, png, pdf)
    print(f"{paper}: figure {stem} -> {png}, {pdf}")


def paper_claims(paper: str, runs_path, baselines_path, cfg: dict, out) -> None:
    """Evaluate a paper's declared claims; failures are results, never exceptions."""
    df = papers.evaluate_claims(paper, io.read_parquet(runs_path), io.read_parquet(baselines_path), cfg)
    io.write_parquet(df, out)
    print(f"{paper}: {claims_mod.summary_line(df)}")
    for r in df[df["status"].isin(["fail", "error", "skipped"])].itertuples():
        print(f"  {r.status}: {r.claim_id}: {str(r.note).splitlines()[0] if r.note else r.value}")


def claims_table(paths, parquet_out, md_out, config_hash: str) -> None:
    """Merge the papers' claims into ``results/claims.parquet`` and ``claims.md``."""
    df = claims_mod.table([r for p in paths for r in io.read_parquet(p)[claims_mod.COLUMNS].to_dict("records")])
    io.write_parquet(df, parquet_out, config_hash=config_hash)
    io.write_text(claims_mod.markdown(df), md_out)


def report_tables(
    claims_path, paper_ids, cfg: dict, claims_out, choices_out, summary_out=None, caption_outs=None, sources=None
) -> None:
    """Material for the HTML report, from the claims table.

    Writes the claims page (verdict first, failed rows marked), the project's choices with
    the config, the landing page's summary (``summary_out``, RST) and a caption snippet for
    each figure stem in ``caption_outs`` (stem -> path): the figure's own caption from
    ``sources`` (stem -> path; a generic caption where it has none), then its experiment's claims.
    """
    df = io.read_parquet(claims_path)[claims_mod.COLUMNS]
    io.write_text(_page("Claims", claims_page(df)), claims_out)
    parts = []
    for paper in paper_ids:
        rows = [(k, v) for k, v in getattr(plugin(paper), "CHOICES", {}).items()]
        table = pd.DataFrame(rows, columns=["choice", "what and why"]).to_html(index=False)
        values = json.dumps(cfg["papers"][paper], indent=2, sort_keys=True)
        parts.append(f"<h2>{paper}</h2>{table}<h3>config values</h3><pre>{html.escape(values)}</pre>")
    shared = {k: v for k, v in cfg.items() if k != "papers"}
    parts.append(f"<h2>shared settings</h2><pre>{html.escape(json.dumps(shared, indent=2, sort_keys=True))}</pre>")
    io.write_text(_page("Project choices", "".join(parts)), choices_out)
    if summary_out is not None:
        io.write_text(summary_rst(df), summary_out)
    from .config import paper_config

    owners = {s: (p, e) for p in paper_ids for s, e in papers.figure_experiments(p, paper_config(cfg, p)).items()}
    for stem, out in (caption_outs or {}).items():
        source = (sources or {}).get(stem)
        text = Path(source).read_text() if source else None
        io.write_text(caption_rst(stem, *owners[stem], text, df), out)


def rst_escape(text: str) -> str:
    """Plain text that RST shows as written (``|x|`` is a substitution, ``*x*`` emphasis, ``x_`` a link)."""
    return "".join("\\" + ch if ch in "\\*`_|[]<>" else ch for ch in str(text))


def _claim_item(r) -> str:
    verdict = {"pass": "**PASS**", "fail": "**FAIL**", "error": "**ERROR**"}.get(r.status, f"*{r.status}*")
    kind = " (invariant)" if r.kind == "invariant" else ""
    text = f"- {verdict} ``{r.claim_id}``{kind}: {rst_escape(r.description)}"
    if r.status in ("pass", "fail", "reported"):
        test = claims_mod.test_text(r.direction, r.threshold, r.threshold_high)
        value = f"{r.value:.4g}" if pd.notna(r.value) else "no value"
        text += f"; {rst_escape(r.statistic)} = {value}" + (f" (test {rst_escape(test)})" if test != "report" else "")
        if r.n_seeds > 1 and pd.notna(r.worst_seed_value):
            text += f", {r.n_seeds} seeds, worst {r.worst_seed_value:.4g}"
    elif str(r.note):
        text += f"; {rst_escape(str(r.note).splitlines()[0])}"
    return text


def caption_rst(stem: str, paper: str, experiment: str, text: str | None, claims: pd.DataFrame) -> str:
    """A figure's caption (RST): its own text, or a generic one, then the claims of its experiment."""
    if text is None or not text.strip():
        text = (
            f"Figure ``{stem}``, drawn by experiment {rst_escape(experiment)} of {paper}. It has no caption of "
            f"its own yet: write one in ``workflow/report/{stem}.rst``."
        )
    rows = claims[claims["claim_id"].str.startswith(f"{paper}.{experiment}.")]
    lines = [text.strip(), ""]
    if rows.empty:
        lines.append(f"Experiment {rst_escape(experiment)} declares no claims.")
    else:
        judged = rows[rows["status"].isin(["pass", "fail", "error"])]
        ok = int((judged["status"] == "pass").sum())
        lines += [
            f"**Claims of experiment {rst_escape(experiment)}** ({ok} of {len(judged)} judged pass; "
            f"profile {rst_escape(rows['profile'].iloc[0])}):",
            "",
            *[_claim_item(r) for r in rows.itertuples()],
        ]
    lines += ["", f"Drawn from ``results/{paper}/runs.parquet`` and ``baselines.parquet``."]
    return "\n".join(lines) + "\n"


def summary_rst(claims: pd.DataFrame) -> str:
    """The landing page's verdict (RST): how many claims pass, and each failed one."""
    lines = [f"**{rst_escape(claims_mod.summary_line(claims))}.**"]
    failed = claims[claims["status"].isin(["fail", "error"])]
    if not failed.empty:
        lines += ["", *[_claim_item(r) for r in failed.itertuples()]]
    return "\n".join(lines) + "\n"


_ROW_CLASS = {"pass": "pass", "fail": "fail", "error": "fail", "reported": "quiet", "skipped": "quiet"}


def claims_page(df: pd.DataFrame) -> str:
    """The claims as HTML tables: verdict first, failed rows marked, per paper, claims and invariants apart."""
    esc = html.escape
    failing = (df["status"].isin(["fail", "error"])).any()
    body = f"<p class='summary{' failing' if failing else ''}'>{esc(claims_mod.summary_line(df))}.</p>"
    head = ["result", "claim", "description", "statistic", "value", "test", "seeds (worst, pass fraction)", "note"]
    for paper, part in df.groupby("paper", sort=False):
        for kind, title in (("claim", "claims"), ("invariant", "invariants")):
            rows = part[part["kind"] == kind]
            if rows.empty:
                continue
            judged = rows[rows["status"].isin(["pass", "fail", "error"])]
            ok = int((judged["status"] == "pass").sum())
            body += f"<h2>{esc(paper)}: {title} ({ok} of {len(judged)} pass)</h2><table><thead><tr>"
            body += "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"
            for r in rows.itertuples():
                seeds = str(r.n_seeds)
                if r.n_seeds > 1 and pd.notna(r.worst_seed_value):
                    seeds += f" ({r.worst_seed_value:.4g}, {r.pass_fraction:.2g})"
                cells = [
                    ("result", claims_mod.VERDICTS.get(r.status, r.status).strip("*").upper()),
                    ("id", f"{r.claim_id} v{r.version}"),
                    ("", r.description),
                    ("", r.statistic),
                    ("num", "" if pd.isna(r.value) else f"{r.value:.4g}"),
                    ("num", claims_mod.test_text(r.direction, r.threshold, r.threshold_high)),
                    ("num", seeds),
                    ("note", str(r.note).split("\n")[0]),
                ]
                body += f"<tr class='{_ROW_CLASS.get(r.status, '')}'>"
                shown = [(c, esc(str(v))) for c, v in cells]
                shown[1] = ("id", re.sub(r"([._])", r"\1<wbr>", shown[1][1]))  # long ids break at . and _
                body += "".join(f"<td class='{c}'>{v}</td>" for c, v in shown) + "</tr>"
            body += "</tbody></table>"
    return body


_STYLE = (
    "body{font-family:sans-serif;margin:1em;font-size:14px}"
    "table{border-collapse:collapse;width:100%;margin-bottom:1.5em}"
    "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}"
    "td.num{white-space:nowrap}td.id{font-family:monospace;font-size:12px;overflow-wrap:anywhere;min-width:12em}"
    "td.note{font-size:12px;color:#444;max-width:24em}"
    "td.result{font-weight:bold;white-space:nowrap}"
    "tr.pass td.result{color:#1a7f37}"
    "tr.fail td{background:#fde2e1}tr.fail td.result{color:#b00020}"
    "tr.quiet td{color:#777}"
    "p.summary{font-size:16px;font-weight:bold}p.summary.failing{color:#b00020}"
)


def _page(title: str, body: str) -> str:
    head = f"<meta charset='utf-8'><title>{title}</title><style>{_STYLE}</style>"
    return f"<!doctype html><html><head>{head}</head><body><h1>{title}</h1>{body}</body></html>\n"


def archive(out, config_files, config_hash: str) -> None:
    """Pack the finished run into a verifiable archive."""
    from . import archive as archive_mod

    repo = Path(__file__).resolve().parents[2]
    workflow_files = [repo / "Snakefile", *sorted((repo / "workflow").rglob("*"))]
    path = archive_mod.create(
        Path("results"),
        [Path(p) for p in config_files],
        Path(out).parent,
        config_hash,
        [p for p in workflow_files if p.is_file()],
    )
    if Path(path) != Path(out):
        raise RuntimeError(f"archive written to {path}, expected {out}")
    print(f"archive -> {out}")
