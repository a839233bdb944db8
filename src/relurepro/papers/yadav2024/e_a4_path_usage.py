"""E_a4 (full, exploratory): path usage of trained DLGNs on the circle ("GD as a resource allocator", A5).

One job of trained DLGNs (its own config section, the E_a2 settings by default). After training:
the number of active hard paths prod_l |G^l(x)| per test point, and the mean path-weight mass
sum_p |v_p| phi_p(x) inside vs outside the disc and near vs far from its boundary. Reported only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim
from .. import Job
from .common import vector_at

E = "E_a4"
P = "yadav2024.E_a4"
PRECISION = None


def jobs(e: dict, cfg: dict) -> list[Job]:
    from .common import check_circle_section, job_params, members
    from .e_a2_circle import DATA, data_spec

    check_circle_section(e, E)
    if e["feed"] != "ones":
        raise ValueError(f"experiments.{E}.feed: {e['feed']!r}; path values and path usage need the feed 'ones'")
    params = job_params(e, DATA, "dlgn", outputs=1)
    return [Job(E, "dlgn", params, {DATA: data_spec(e)}, members=members(e["seeds"], ["dlgn"]))]


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    from . import trainer

    return trainer.train(job, data, ctx)


def _near_over_far(t) -> pd.Series:
    from .trainer import MASS_REGIONS

    mass = vector_at(t.runs_of(E), "path_mass", "final", variant="dlgn")
    near, far = MASS_REGIONS.index("near"), MASS_REGIONS.index("far")
    return pd.Series({s: float(v[near] / v[far]) for s, v in mass.items()})


CLAIMS = [
    Claim(
        f"{P}.path_usage",
        "path usage of trained DLGNs concentrates by region (exploratory; the paper's metric is unknown)",
        "mean path-weight mass sum_p |v_p| phi_p(x) near the circle / far from it, after training, median over seeds",
        "report",
        _near_over_far,
        {"full": None},
    ),
]


def figures(e: dict, cfg: dict) -> dict:
    return {"yadav2024_fig_path_usage": path_usage}


def path_usage(t):
    from ... import plotting
    from .trainer import MASS_REGIONS

    r = t.runs_of(E)
    fig, axes = plotting.panels(2, ncols=2, size=4.6, title="Path usage of trained DLGNs on the circle (E_a4)")
    for when, c in (("init", "tab:blue"), ("final", "tab:red")):
        counts = np.concatenate(list(vector_at(r, "active_paths", when, variant="dlgn").values()))
        axes[0].hist(
            np.log10(np.maximum(counts, 0.5)),
            bins=30,
            histtype="step",
            color=c,
            lw=1.5,
            label="at init" if when == "init" else "after training",
        )
    axes[0].set(xlabel="log10 active hard paths per test point (0 paths at -0.3)", ylabel="test points (all seeds)")
    axes[0].legend(fontsize=8)
    for when, dx, c in (("init", -0.15, "tab:blue"), ("final", 0.15, "tab:red")):
        v = np.array(list(vector_at(r, "path_mass", when, variant="dlgn").values()))
        med = np.median(v, 0)
        axes[1].bar(
            np.arange(len(MASS_REGIONS)) + dx,
            med,
            0.3,
            color=c,
            alpha=0.8,
            yerr=[med - v.min(0), v.max(0) - med],
            capsize=3,
            label="at init" if when == "init" else "after training",
        )
    band = float(t.experiment(E).get("near_band", np.nan))
    axes[1].set_xticks(
        range(len(MASS_REGIONS)),
        [
            f"{k}" + (f" (|‖x‖-r| {'<' if k == 'near' else '≥'} {band:g})" if k in ("near", "far") else " the disc")
            for k in MASS_REGIONS
        ],
        fontsize=7,
    )
    axes[1].set(ylabel="mean path-weight mass per point (median over seeds, range)", yscale="log")
    axes[1].legend(fontsize=8)
    return fig
