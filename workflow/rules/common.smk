# Shared set-up: validate the config, build the experiment grid, target helpers.
import functools
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from relurepro import config as rcfg  # noqa: E402
from relurepro import papers  # noqa: E402

SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"
try:
    rcfg.validate(config, SCHEMAS)
    GRID = rcfg.build_grid(config)
except rcfg.ConfigError as exc:
    raise WorkflowError(str(exc)) from None

PAPERS = list(GRID)
CONFIG_HASH = rcfg.config_hash(config)
DATASETS = {p: rcfg.datasets(GRID[p]) for p in PAPERS}
PAPER_CFG = {p: rcfg.paper_config(config, p) for p in PAPERS}
FIGURES = {p: sorted(papers.figures(p, PAPER_CFG[p])) for p in PAPERS}
USE_GPU = config["device"] == "cuda" or (
    config["device"] == "auto" and shutil.which("nvidia-smi") is not None
)
ENV = "../../envs/relurepro.yaml"


# Light rules (no training, seconds each) run on the submitting node, not as cluster jobs.
localrules:
    aggregate,
    figure,
    paper_claims,
    claims,
    report_tables,
    archive,


wildcard_constraints:
    paper="|".join(PAPERS) or "none",
    experiment=r"[A-Za-z0-9_.=+-]+",
    point=r"[A-Za-z0-9_.=+-]+",
    dataset=r"[A-Za-z0-9_.=+-]+",
    stem=r"[A-Za-z0-9_.-]+",


FIGURE_EXPERIMENT = {p: papers.figure_experiments(p, PAPER_CFG[p]) for p in PAPERS}


@functools.cache
def _code_hash(paper, stage, experiments=()):
    return papers.code_hash(paper, stage, experiments)


def code(stage):
    """A params function: the fingerprint of the package code a rule runs, so code edits re-run it."""

    def fingerprint(w):
        if stage == "data":
            return _code_hash(w.paper, "data")
        if stage == "figure":
            return _code_hash(w.paper, "figure", (FIGURE_EXPERIMENT[w.paper][w.stem],))
        if stage == "claims":
            return _code_hash(w.paper, "claims", tuple(papers.experiment_ids(w.paper)))
        return _code_hash(w.paper, stage, (w.experiment,))

    return fingerprint


def canon(obj):
    """Params as canonical JSON, so reordering YAML keys never re-runs a job."""
    return json.dumps(obj, sort_keys=True)


def job_of(w):
    return GRID[w.paper][f"{w.experiment}/{w.point}"]


def experiments(paper):
    return sorted({job.experiment for job in GRID[paper].values()})


def run_files(paper, experiment=None):
    return [
        f"results/{paper}/runs/{job.experiment}/{job.point}.parquet"
        for job in GRID[paper].values()
        if experiment is None or job.experiment == experiment
    ]


def data_file(paper, name):
    return f"results/{paper}/data/{name}.npz"


def data_inputs(paper, name):
    """Files on disk a data set reads (an IDX folder's files), so that changing one re-runs it."""
    from relurepro.data import input_files

    return input_files(DATASETS[paper][name])


def experiment_datasets(paper, experiment):
    names = set()
    for job in GRID[paper].values():
        if job.experiment == experiment:
            names.update(job.datasets)
    return sorted(names)


def figure_files(paper):
    return [
        f"results/{paper}/figures/{stem}.{ext}"
        for stem in FIGURES[paper]
        for ext in ("png", "pdf")
    ]


def all_targets():
    targets = ["results/claims.parquet", "results/claims.md"]
    targets += ["results/report/claims.html", "results/report/choices.html"]
    for paper in PAPERS:
        targets += [
            f"results/{paper}/runs.parquet",
            f"results/{paper}/baselines.parquet",
        ]
        targets += figure_files(paper)
    return targets
