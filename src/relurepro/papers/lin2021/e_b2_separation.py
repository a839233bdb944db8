"""E_b2 (full profile): the separation condition (a designed numerical illustration; the paper has no experiments).

The smallest distance between m uniform samples shrinks like m^(-2/d), so the bumps' total measure
m tau^d shrinks like 1/m. Rebuilding B with a radius of 5 x the separation makes neighbouring bumps
overlap: interpolation breaks and the risk of B grows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim, Measured
from .. import Job
from .common import jobs_over_m, values

E = "E_b2"
P = "lin2021.E_b2"
PRECISION = None  # as E_b1: A in the section's dtype, the constructions in float64


def jobs(e: dict, cfg: dict) -> list[Job]:
    factors = [float(f) for f in e["tau_factors"]]
    if len(factors) < 2:
        raise ValueError("experiments.E_b2.tau_factors: give at least two bump radii to compare")
    return jobs_over_m(E, e, tau_factors=factors, plot=[], overparam=None)


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    from .fit import run

    return run(job, data, ctx)


def _factors(runs) -> tuple[float, float]:
    f = sorted(runs["tau_factor"].dropna().unique())
    return float(f[0]), float(f[-1])


def _separation_slope(t) -> Measured:
    from ...stats import loglog_slope

    runs = t.runs_of(E)
    small, _ = _factors(runs)
    sep = values(runs, "min_sep", tau_factor=small)
    notes, slopes = [], []
    for d, g in sep.groupby("d"):
        per_seed = g.groupby("seed").apply(lambda s: loglog_slope(s["m"], s["value"]).slope, include_groups=False)
        slopes.append(float(per_seed.median()))
        notes.append(f"d = {int(d)}: {slopes[-1]:.3g} (expected {-2 / d:g})")
    return Measured(slopes[0], int(sep["seed"].nunique()), "; ".join(notes))


def _overlap(t) -> Measured:
    runs = t.runs_of(E)
    small, large = _factors(runs)
    mse = values(runs, "interp_mse_B", tau_factor=large).groupby("seed")["value"].max()
    r_small = values(runs, "risk_B", tau_factor=small).set_index(["point", "member"])["value"]
    r_large = values(runs, "risk_B", tau_factor=large).set_index(["point", "member"])["value"]
    growth = float(np.median(r_large - r_small))
    note = f"train MSE(B, {large:g} sep) median over seeds of the max over m; median risk(B, {large:g}) - risk(B, {small:g}) = {growth:.3g}"
    return Measured(float(mse.median()), int(mse.size), note)


CLAIMS = [
    Claim(
        f"{P}.separation_scaling",
        "the smallest distance between m uniform samples scales like m^(-2/d)",
        "slope of log min-distance against log m (median over seeds; first d, every d in the note)",
        "report",
        _separation_slope,
        {"full": None},
    ),
    Claim(
        f"{P}.overlap_breaks_interpolation",
        "bumps of radius 5 x the separation overlap: B no longer interpolates and its risk grows",
        "train MSE of B at the largest tau factor (max over m, median over seeds); the risk growth in the note",
        "report",
        _overlap,
        {"full": None},
    ),
]


def figures(e: dict, cfg: dict) -> dict:
    return {"lin2021_fig_separation": fig_separation}


def fig_separation(t):
    from ... import plotting
    from ...stats import median_band, rate_line
    from .e_b1_interpolants import CAPTION_NOTE

    runs = t.runs_of(E)
    small, large = _factors(runs)
    fig, axes = plotting.panels(4, ncols=2, size=4.4, title=f"The separation condition ({CAPTION_NOTE})")
    for d, g in runs.groupby("d"):
        d = int(d)
        sep = median_band(values(g, "min_sep", tau_factor=small), "m", "value")
        axes[0].plot(sep["m"], sep["median"], "o-", label=f"min distance, d = {d}")
        axes[0].fill_between(sep["m"], sep["lower"], sep["upper"], alpha=0.2, lw=0)
        line = rate_line(sep["m"], sep["median"], -2.0 / d)
        axes[0].plot(sep["m"], line, color="k", label=f"m^(-2/{d}) (fitted constant)", **plotting.THEORY)
        for k, (factor, marker) in enumerate(((small, "o"), (large, "s"))):
            colour = "tab:blue" if k == 0 else "tab:red"
            ls = "-" if d == 1 else "--"  # the dimension by line style, the radius by colour
            lab = f"τ = {factor:g} × sep, d = {d}"
            meas = median_band(values(g, "bump_measure", tau_factor=factor), "m", "value")
            axes[1].plot(meas["m"], meas["median"], marker=marker, ls=ls, color=colour, label=lab)
            mse = median_band(values(g, "interp_mse_B", tau_factor=factor), "m", "value")
            axes[2].plot(mse["m"], np.maximum(mse["median"], 1e-34), marker=marker, ls=ls, color=colour, label=lab)
            risk = median_band(values(g, "risk_B", tau_factor=factor), "m", "value")
            axes[3].plot(risk["m"], risk["median"], marker=marker, ls=ls, color=colour, label=lab)
            axes[3].fill_between(risk["m"], risk["lower"], risk["upper"], color=colour, alpha=0.2, lw=0)
        ra = median_band(values(g, "risk_A", tau_factor=small), "m", "value")
        axes[3].plot(ra["m"], ra["median"], color="tab:gray", label=f"A, d = {d}", **plotting.REFERENCE)
    labels = (
        "smallest l1 distance between samples",
        "total bump measure m τ^d",
        "training MSE of B (floored at 1e-34)",
        "excess risk of B",
    )
    for ax, ylabel in zip(axes, labels):
        ax.set(xscale="log", yscale="log", xlabel="sample size m", ylabel=ylabel)
        ax.legend(fontsize=7)
    return fig
