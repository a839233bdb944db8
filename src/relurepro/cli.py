"""The ``relurepro`` command line: list the grid, validate a config, restore an archive and re-render it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _load(args):
    from . import config

    return config.load(args.configfile, args.schemas)


def cmd_validate(args) -> int:
    """Validate a config file; print the problems and exit 1 if any."""
    from .config import ConfigError, build_grid

    try:
        cfg = _load(args)
        grid = build_grid(cfg)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    for paper, jobs in grid.items():
        print(f"{paper}: {len(jobs)} training jobs")
    return 0


def cmd_config_doc(args) -> int:
    """Write (or with --check, compare) the configuration reference generated from the schemas."""
    from .config import reference_markdown, write_reference

    if args.check:
        current = args.output.exists() and args.output.read_text() == reference_markdown(args.schemas)
        print(f"{args.output}: {'current' if current else 'out of date; run relurepro config-doc'}")
        return 0 if current else 1
    print(f"wrote {write_reference(args.schemas, args.output)}")
    return 0


def cmd_grid(args) -> int:
    """Print every training job with its ensemble size."""
    from .config import build_grid

    for paper, jobs in build_grid(_load(args)).items():
        for key, job in jobs.items():
            print(f"{paper}\t{key}\t{len(job.members) or 1} members\t{json.dumps(job.params, sort_keys=True)[:100]}")
    return 0


def cmd_summary(args) -> int:
    """Say where the outputs of a finished run are, with the claim counts."""
    import pandas as pd

    from .config import enabled_papers

    results = Path("results")
    cfg = _load(args)
    print("\nrelurepro: run finished.")
    for paper in enabled_papers(cfg):
        figs = sorted((results / paper / "figures").glob("*.png"))
        print(f"  {paper}: {len(figs)} figures in {results / paper / 'figures'}/")
    claims = results / "claims.parquet"
    if claims.exists():
        from .claims import summary_line

        df = pd.read_parquet(claims)
        print(f"  claims: {summary_line(df)} -> {results / 'claims.md'}")
    report = results / "report.html"
    print(f"  report: {report}" + ("" if report.exists() else " (not built yet)"))
    return 0


RERENDER_RULES = ["figure", "paper_claims", "claims", "report_tables"]
EXPECT_HASH_ENV = "RELUREPRO_EXPECT_CONFIG_HASH"


def rerender_commands(run: dict, cores: str = "all") -> list[list[str]]:
    """The Snakemake command lines that re-render a restored run (figures, claims, report) under its own config.

    ``--replace-workflow-config`` keeps the project's ``config/config.yaml`` out of the merge, so the config is the
    restored files alone. The data sets left out of the archive are not rebuilt: no job that reads one has to run.
    """
    from .archive import RESTORED_CONFIG

    configs = [f"{RESTORED_CONFIG}/{name.removeprefix('config/')}" for name in run["config_files"]]
    base = ["snakemake", "--cores", cores, "--replace-workflow-config", "--configfile", *configs]
    render = [*base, "--rerun-triggers", "mtime", "--forcerun", *RERENDER_RULES]
    return [render, [*base, "--report", "results/report.html"]]


def _recorded_hash(dest: Path, run: dict) -> str:
    """The config hash of the restored run; ``claims.parquet``, when present, must agree with ``RUN.json``."""
    claims = dest / "results" / "claims.parquet"
    if claims.exists():
        import pyarrow.parquet as pq

        table = pq.read_table(claims)
        hashes = set(table.column("config_hash").to_pylist()) if "config_hash" in table.column_names else None
        if hashes is not None and hashes != {run["config_hash"]}:
            raise ValueError(
                f"{claims} was made with config hash {', '.join(sorted(map(str, hashes)))}, "
                f"the archive's RUN.json says {run['config_hash']}"
            )
    return run["config_hash"]


def cmd_restore(args) -> int:
    """Verify an archive and restore its results so figures re-render without retraining."""
    import shlex

    from .archive import ArchiveError, restore, restored_run

    dest = Path(args.dest)
    try:
        path = restore(args.archive, dest, force=args.force)
        run = restored_run(dest)
    except ArchiveError as exc:
        print(f"relurepro restore: {exc}", file=sys.stderr)
        return 1
    render = rerender_commands(run)[0]
    configs = render[render.index("--configfile") + 1 : render.index("--rerun-triggers")]
    print(f"restored {args.archive} -> {path}")
    print(f"config of the run (hash {run['config_hash']}, git {run['git']['describe']}): {' '.join(configs)}")
    if run.get("regenerable"):
        print(
            f"{run['regenerable']} generated data sets are not in the archive (sha256 in restored-config/"
            "REGENERABLE.sha256); the re-render does not need them, a plain `snakemake` regenerates them (and retrains)"
        )
    print(f"re-render figures, claims and the report with:\n  relurepro rerender --dest {shlex.quote(str(dest))}")
    print(f"which runs, in {dest}, with {EXPECT_HASH_ENV}={run['config_hash']}:")
    for cmd in rerender_commands(run):
        print("  " + shlex.join(cmd))
    return 0


def cmd_rerender(args) -> int:
    """Re-render figures, claims and the report of a restored run under the config it was made with."""
    import os
    import shutil
    import subprocess

    from .archive import ArchiveError, restored_run

    dest = Path(args.dest)
    try:
        run = restored_run(dest)
        expected = _recorded_hash(dest, run)
    except (ArchiveError, ValueError) as exc:
        print(f"relurepro rerender: {exc}", file=sys.stderr)
        return 1
    local = Path(sys.executable).parent / "snakemake"
    exe = str(local) if local.exists() else shutil.which("snakemake") or "snakemake"
    # the Snakefile refuses to parse when its config hash differs from this one, naming both
    env = {**os.environ, EXPECT_HASH_ENV: expected}
    for cmd in rerender_commands(run, args.cores):
        print("relurepro rerender: " + " ".join(cmd), flush=True)
        if args.dry_run:
            continue
        rc = subprocess.run([exe, *cmd[1:]], cwd=dest, env=env).returncode
        if rc != 0:
            return rc
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="relurepro", description=__doc__)
    parser.add_argument("--configfile", default=REPO / "config" / "config.yaml", type=Path)
    parser.add_argument("--schemas", default=REPO / "workflow" / "schemas", type=Path)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("validate", help="validate a config and count the jobs").set_defaults(func=cmd_validate)
    sub.add_parser("grid", help="list the training jobs").set_defaults(func=cmd_grid)
    doc = sub.add_parser("config-doc", help="write the configuration reference config/README.md from the schemas")
    doc.add_argument("--output", default=REPO / "config" / "README.md", type=Path)
    doc.add_argument("--check", action="store_true", help="exit 1 if the file is not current; write nothing")
    doc.set_defaults(func=cmd_config_doc)
    sub.add_parser("summary", help="where the outputs are, and the claim counts").set_defaults(func=cmd_summary)
    restore = sub.add_parser("restore", help="verify an archive and restore its results")
    restore.add_argument("archive", type=Path)
    restore.add_argument("--dest", default=".", help="project folder to restore results/ into")
    restore.add_argument("--force", action="store_true", help="replace an existing results/ folder")
    restore.set_defaults(func=cmd_restore)
    rerender = sub.add_parser("rerender", help="re-render a restored run under its own config (no training)")
    rerender.add_argument("--dest", default=".", help="project folder the archive was restored into")
    rerender.add_argument("--cores", default="all", help="Snakemake --cores")
    rerender.add_argument("--dry-run", action="store_true", help="print the Snakemake commands only")
    rerender.set_defaults(func=cmd_rerender)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "summary":
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
