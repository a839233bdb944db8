"""The pipeline stages. Workflow scripts and the CLI call these; logic lives here."""

from __future__ import annotations

import json
import os
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


def train(paper: str, job: Job, data_paths: dict[str, str], out, *, device="auto", dtype="float64", threads=1) -> None:
    """Train one job's ensemble and write its long table with provenance."""
    ctx = _context(device, dtype, threads)
    arrays = {name: io.read_npz(path) for name, path in data_paths.items()}
    start = time.perf_counter()
    ctx.log(f"{paper} {job.key}: training on {ctx.device} ({dtype})")
    df = papers.train(paper, job, arrays, ctx)
    if df is None or df.empty:
        raise RuntimeError(f"{paper} {job.key}: training produced no rows")
    if "diverged" in df.columns and bool(df.groupby("member")["diverged"].first().all()):
        # a result, not a crash: the rows are written, marked diverged, and the claims that need them fail
        ctx.log(f"{paper} {job.key}: WARNING: every member diverged; rows are kept with diverged = true")
    df = df.assign(paper=paper, experiment=job.experiment, point=job.point)
    stamp = io.provenance(io.canonical_hash(job.spec()), str(ctx.device))
    io.write_parquet(df, out, **stamp)
    ctx.log(f"{paper} {job.key}: {len(df)} rows in {time.perf_counter() - start:.1f} s -> {out}")


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
    io.write_parquet(df, out, **io.provenance(io.canonical_hash(jobs), str(ctx.device)))
    print(f"{paper} {experiment}: {len(df)} baseline rows -> {out}")


def aggregate(paper: str, run_paths, baseline_paths, runs_out, baselines_out) -> None:
    """Concatenate a paper's per-job tables; a damaged input stops here, naming the file."""
    runs = pd.concat([io.read_parquet(p) for p in run_paths], ignore_index=True)
    bases = [io.read_parquet(p) for p in baseline_paths]
    bases = pd.concat([b for b in bases if not b.empty] or [pd.DataFrame({"paper": []})], ignore_index=True)
    io.write_parquet(runs, runs_out)
    io.write_parquet(bases, baselines_out)
    print(f"{paper}: {len(runs)} run rows from {len(run_paths)} jobs, {len(bases)} baseline rows")


def figure(paper: str, stem: str, runs_path, baselines_path, cfg: dict, png, pdf) -> None:
    """Render one figure from the aggregated tables."""
    from . import plotting
    from .tables import Tables

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


def report_tables(claims_path, paper_ids, cfg: dict, claims_out, choices_out) -> None:
    """HTML tables for the report: the claims (verdict first, claims and invariants apart) and this project's choices."""
    df = io.read_parquet(claims_path)[claims_mod.COLUMNS]
    shown = df.assign(result=df["status"].map(claims_mod.VERDICTS).str.strip("*").str.upper())
    order = ["result", *[c for c in claims_mod.COLUMNS if c not in ("note", "status")], "note"]
    body = f"<p>{claims_mod.summary_line(df)}</p>"
    for kind, title in (("claim", "Scientific claims"), ("invariant", "Invariants")):
        part = shown[shown["kind"] == kind][order].assign(note=lambda d: d["note"].str.split("\n").str[0])
        body += f"<h2>{title}</h2>" + part.to_html(index=False, na_rep="", float_format="{:.4g}".format)
    io.write_text(_page("Claims", body), claims_out)
    parts = []
    for paper in paper_ids:
        rows = [(k, v) for k, v in getattr(plugin(paper), "CHOICES", {}).items()]
        table = pd.DataFrame(rows, columns=["choice", "what and why"]).to_html(index=False)
        values = json.dumps(cfg["papers"][paper], indent=2, sort_keys=True)
        parts.append(f"<h2>{paper}</h2>{table}<h3>config values</h3><pre>{values}</pre>")
    shared = {k: v for k, v in cfg.items() if k != "papers"}
    parts.append(f"<h2>shared settings</h2><pre>{json.dumps(shared, indent=2, sort_keys=True)}</pre>")
    io.write_text(_page("Project choices", "".join(parts)), choices_out)


def _page(title: str, body: str) -> str:
    style = "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px}"
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style></head><body><h1>{title}</h1>{body}</body></html>\n"


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
