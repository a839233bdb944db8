"""The ``relurepro`` command line: list the grid, validate a config, archive, restore."""

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


def cmd_restore(args) -> int:
    """Verify an archive and restore its results so figures re-render without retraining."""
    from .archive import ArchiveError, restore

    try:
        path = restore(args.archive, Path(args.dest), force=args.force)
    except ArchiveError as exc:
        print(f"relurepro restore: {exc}", file=sys.stderr)
        return 1
    print(f"restored {args.archive} -> {path}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="relurepro", description=__doc__)
    parser.add_argument("--configfile", default=REPO / "config" / "config.yaml", type=Path)
    parser.add_argument("--schemas", default=REPO / "workflow" / "schemas", type=Path)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("validate", help="validate a config and count the jobs").set_defaults(func=cmd_validate)
    sub.add_parser("grid", help="list the training jobs").set_defaults(func=cmd_grid)
    sub.add_parser("summary", help="where the outputs are, and the claim counts").set_defaults(func=cmd_summary)
    restore = sub.add_parser("restore", help="verify an archive and restore its results")
    restore.add_argument("archive", type=Path)
    restore.add_argument("--dest", default=".", help="project folder to restore results/ into")
    restore.add_argument("--force", action="store_true", help="replace an existing results/ folder")
    restore.set_defaults(func=cmd_restore)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "summary":
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
