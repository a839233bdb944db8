"""The paper plug-in interface, and the generic code that drives it.

A paper is a subpackage ``relurepro.papers.<id>`` whose ``__init__`` defines

``EXPERIMENTS: dict[str, str]``
    experiment id (as in the config's ``experiments`` mapping) -> the module, relative
    to the package, that holds that experiment;
``CHOICES: dict[str, str]``
    this project's own choices (spec tag [DESIGN]), a sentence each; the report lists them;
``make_dataset(name, spec) -> dict[str, np.ndarray]`` (optional)
    the paper's own data sets; without it, :func:`relurepro.data.make` builds them;
``PRECISION`` (optional, here or in an experiment module, which wins)
    ``"float64"`` where the claims need it: a config whose ``dtype`` asks for less is
    refused (:func:`relurepro.config.check_precision`); ``None`` follows the config.

Each experiment module defines (only ``jobs`` and ``train`` are required)

``jobs(e: dict, cfg: dict) -> list[Job]``
    the training jobs of this experiment, from its config section ``e`` (``cfg`` is the
    paper's section with ``profile`` and ``dtype``). One job = one shape point; all
    members that share tensor shapes are listed in ``Job.members``;
``train(job, data, ctx) -> pd.DataFrame``
    one job's long table (``member, step, metric, value`` and the member labels);
``baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame``
    analytic references computed from this experiment's runs (long format);
``figures(e: dict, cfg: dict) -> dict[str, Callable[[Tables], Figure]]``
    the figure stems this experiment draws in this config, each with its drawing function;
``CLAIMS: list[Claim]``
    the declared claims (see :mod:`relurepro.claims`).

Generic code here handles the enabled flags, the dispatch, the stems and the claims.
Experiment modules keep torch and plotting imports inside functions, so that building
the grid and the list of figures stays light.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Job:
    """One training job: an (experiment, shape point), its shared parameters and its members.

    ``members`` holds one mapping of labels per member (seed, learning rate, slope, role,
    ...): the engine trains them as one ensemble, and the labels become columns of the
    job's rows.
    """

    experiment: str
    point: str
    params: dict
    datasets: dict[str, dict] = field(default_factory=dict)
    members: tuple[dict, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "members", tuple(dict(m) for m in self.members))

    @property
    def key(self) -> str:
        return f"{self.experiment}/{self.point}"

    def spec(self) -> dict:
        """Everything that defines the job's numbers, as plain JSON-able data."""
        return {"params": self.params, "members": list(self.members), "datasets": self.datasets}

    @classmethod
    def from_spec(cls, experiment: str, point: str, spec: dict) -> Job:
        return cls(experiment, point, spec["params"], spec.get("datasets", {}), tuple(spec.get("members", ())))

    def params_json(self) -> str:
        return json.dumps(self.spec(), sort_keys=True)

    def column(self, name: str) -> list:
        """One label of every member, in member order (a clear error when a member lacks it)."""
        missing = [i for i, m in enumerate(self.members) if name not in m]
        if missing:
            raise KeyError(f"{self.key}: members {missing[:5]} have no label {name!r}")
        return [m[name] for m in self.members]

    def labels(self):
        """The members' labels as a DataFrame, one row per member (index = member number)."""
        import pandas as pd

        return pd.DataFrame(list(self.members)) if self.members else pd.DataFrame(index=range(0))

    def tensor(self, name: str, *, dtype=None, device=None):
        """One numeric label of every member as a ``[M]`` tensor."""
        import torch

        return torch.as_tensor([float(v) for v in self.column(name)], dtype=dtype or torch.float64, device=device)


@dataclass
class Context:
    """Where and how a job runs."""

    device: Any  # torch.device
    dtype: Any  # torch.dtype
    log: Callable = print


def lazy_exports(package: str, exports: dict[str, str]):
    """A module ``__getattr__`` that imports each named function from its submodule on first use.

    Every pipeline job is a fresh process: a claims job should not pay for importing torch.
    ``exports`` maps a name to its submodule; a name must differ from every submodule's name.
    """

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    return __getattr__


# ------------------------------------------------------------------ generic dispatch


def _package(paper: str) -> ModuleType:
    from ..registry import plugin

    return plugin(paper)


def experiment_ids(paper: str) -> list[str]:
    """The paper's experiments, in declaration order."""
    return list(_package(paper).EXPERIMENTS)


def experiment_module(paper: str, experiment: str) -> ModuleType:
    """The module that holds one experiment of a paper."""
    pkg = _package(paper)
    if experiment not in pkg.EXPERIMENTS:
        raise KeyError(f"{paper}: unknown experiment {experiment!r}; declared: {list(pkg.EXPERIMENTS)}")
    return importlib.import_module(f"{pkg.__name__}.{pkg.EXPERIMENTS[experiment]}")


def enabled(cfg: dict, experiment: str) -> bool:
    """Whether an experiment runs in this config: its section is present and not switched off."""
    section = cfg.get("experiments", {}).get(experiment)
    return section is not None and section.get("enabled", True)


def grid(paper: str, cfg: dict) -> list[Job]:
    """Every training job of the enabled experiments, each tagged with its experiment id."""
    jobs = []
    for exp in experiment_ids(paper):
        if not enabled(cfg, exp):
            continue
        for job in experiment_module(paper, exp).jobs(cfg["experiments"][exp], cfg):
            if job.experiment != exp:
                raise ValueError(f"{paper}: experiment {exp} made a job labelled {job.experiment!r}")
            jobs.append(job)
    return jobs


def make_dataset(paper: str, name: str, spec: dict) -> dict:
    """Build one data set: the paper's own ``make_dataset`` when it has one, else the shared builders."""
    pkg = _package(paper)
    own = getattr(pkg, "make_dataset", None)
    if own is not None:
        return own(name, spec)
    from .. import data

    return data.make(spec)


def train(paper: str, job: Job, data: dict, ctx: Context):
    """Run one job through its experiment's ``train``."""
    return experiment_module(paper, job.experiment).train(job, data, ctx)


def baselines(paper: str, experiment: str, jobs: dict[str, Job], runs, data: dict, ctx: Context):
    """An experiment's analytic references, or None when it declares none."""
    fn = getattr(experiment_module(paper, experiment), "baselines", None)
    return None if fn is None else fn(jobs, runs, data, ctx)


def has_baselines(paper: str, experiment: str) -> bool:
    return hasattr(experiment_module(paper, experiment), "baselines")


def code_hash(paper: str, stage: str, experiments=()) -> str:
    """Fingerprint of the code a rule runs for these experiments (see :mod:`relurepro.codehash`)."""
    from pathlib import Path

    from ..codehash import code_hash as _hash

    pkg = _package(paper)
    return _hash(stage, Path(pkg.__file__).parent, [pkg.EXPERIMENTS[e] for e in experiments])


def _figure_table(paper: str, cfg: dict) -> dict[str, tuple[str, Callable]]:
    """``{stem: (experiment, draw)}`` over the enabled experiments; stems are checked once, here."""
    out: dict[str, tuple[str, Callable]] = {}
    for exp in experiment_ids(paper):
        fn = getattr(experiment_module(paper, exp), "figures", None)
        if fn is None or not enabled(cfg, exp):
            continue
        for stem, draw in fn(cfg["experiments"][exp], cfg).items():
            if not stem.startswith(f"{paper}_"):
                raise ValueError(f"{paper} {exp}: figure stem {stem!r} must start with '{paper}_'")
            if stem in out:
                raise ValueError(f"{paper}: figure stem {stem!r} is drawn by two experiments")
            out[stem] = (exp, draw)
    return out


def figure_experiments(paper: str, cfg: dict) -> dict[str, str]:
    """Which experiment draws each figure stem."""
    return {stem: exp for stem, (exp, _) in _figure_table(paper, cfg).items()}


def figures(paper: str, cfg: dict) -> dict[str, Callable]:
    """Every figure stem of the enabled experiments with its drawing function ``fn(tables)``."""
    return {stem: draw for stem, (_, draw) in _figure_table(paper, cfg).items()}


def declared_claims(paper: str) -> list:
    """Every claim the paper declares, enabled experiment or not, in declaration order."""
    out = []
    for exp in experiment_ids(paper):
        for c in getattr(experiment_module(paper, exp), "CLAIMS", []):
            if c.paper != paper or c.experiment != exp:
                raise ValueError(f"{paper} {exp}: claim {c.id!r} must be named {paper}.{exp}.<name>")
            out.append(c)
    return out


def evaluate_claims(paper: str, runs, baselines_df, cfg: dict):
    """The paper's claims table: one row per declared claim, each evaluated on its own."""
    from ..claims import evaluate
    from ..tables import Tables

    return evaluate(
        declared_claims(paper),
        Tables(runs, baselines_df, cfg),
        cfg.get("profile", "quick"),
        lambda exp: enabled(cfg, exp),
    )
