"""The paper plug-in interface.

Each paper is a subpackage ``relurepro.papers.<id>`` whose top-level module defines:

``grid(cfg: dict) -> list[Job]``
    The training jobs for this paper's validated config section ``cfg`` (its
    ``experiments`` mapping holds one entry per experiment; ``cfg["profile"]`` is
    ``quick`` or ``full``). One job = one (experiment, shape point); all members that
    share tensor shapes are listed in ``Job.params`` and trained as one ensemble.

``make_dataset(name: str, spec: dict) -> dict[str, np.ndarray]``
    Generate or load the data set ``name`` described by ``spec`` (spec includes its seed).

``train(job: Job, data: dict[str, dict[str, np.ndarray]], ctx: Context) -> pd.DataFrame``
    Run one job and return its long table with at least the columns
    ``experiment, member, seed, step, metric, value``. ``data`` maps each name of
    ``job.datasets`` to its arrays.

``baselines(experiment: str, points: dict[str, dict], runs: pd.DataFrame, data, ctx) -> pd.DataFrame``
    Analytic / closed-form references for one experiment, computed from that
    experiment's runs (e.g. each run's actual initial condition). Long format with
    at least ``experiment, baseline, step, metric, value``; may be empty.

``figures(cfg: dict) -> dict[str, Callable[[runs, baselines, cfg], matplotlib.figure.Figure]]``
    The figure stems to render for this config, each with its drawing function.
    Figures read only the aggregated tables.

``claims(runs: pd.DataFrame, baselines: pd.DataFrame, cfg: dict) -> list[dict]``
    The acceptance checks, each made with :func:`relurepro.claims.claim`.

``CHOICES: dict[str, str]``
    This project's own choices (spec tag [DESIGN]) mapped to a sentence each; the
    report lists them.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Job:
    """One training job: an (experiment, shape point) and everything it needs."""

    experiment: str
    point: str
    params: dict
    datasets: dict[str, dict] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.experiment}/{self.point}"

    def params_json(self) -> str:
        return json.dumps(self.params, sort_keys=True)


@dataclass
class Context:
    """Where and how a job runs."""

    device: Any  # torch.device
    dtype: Any  # torch.dtype
    log: callable = print


def lazy_exports(package: str, exports: dict[str, str]):
    """A module ``__getattr__`` that imports each interface function on first use.

    Every pipeline job is a fresh process: a claims job should not pay for importing
    torch. ``exports`` maps a name to its submodule; a name must differ from every
    submodule's name, since importing a submodule binds it on the package.
    """

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    return __getattr__
