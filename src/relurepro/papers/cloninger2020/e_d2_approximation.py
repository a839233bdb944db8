"""E_d2 (full profile): approximation rather than estimation -- a designed numerical illustration.

The paper has no experiments. Noise-free T1 data on the circle's tube, many samples, and nets of
growing width at a fixed depth: the sup and L2 test errors against the number of parameters
should nearly coincide for a small and a large ambient dimension D. One job per (D, width).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim, Measured
from ...tables import per_member
from .. import Job
from .e_d1_learning_curves import ILLUSTRATION, TRAIN_KEYS, check, dataset_spec
from .trainer import n_params

E = "E_d2"
P = "cloninger2020.E_d2"
PRECISION = None  # trains in its own key experiments.E_d2.dtype


def jobs(e: dict, cfg: dict) -> list[Job]:
    check(e["n"] >= e["batch_size"], f"{E}.batch_size", f"{e['batch_size']} exceeds n = {e['n']}")
    out = []
    for D in e["dims"]:
        check(D >= 2, f"{E}.dims", f"D = {D} cannot hold the circle (needs D >= 2)")
        name = f"circle_D{D}_clean"
        for w in e["widths"]:
            params = {**{k: e[k] for k in TRAIN_KEYS if k != "width"}, "width": w, "dataset": name, "D": D}
            count = n_params(D, w, e["depth"])
            members = [
                {"seed": s, "n": e["n"], "target": "T1", "D": D, "manifold": "circle", "width": w, "n_params": count}
                for s in e["seeds"]
            ]
            spec = dataset_spec({**e, "m2": "point"}, "circle", D, e["n"], 0.0)
            out.append(Job(E, f"circle_D{D}_w{w}", params, {name: spec}, members))
    return out


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    from .trainer import train_members

    return train_members(job, data, ctx, f"cloninger2020 {job.key}")


def _errors(t) -> pd.DataFrame:
    runs = t.runs_of(E)
    l2 = per_member(runs, "test_mse").assign(metric="l2", value=lambda d: np.sqrt(d["value"]))
    sup = per_member(runs, "test_sup").assign(metric="sup")
    if l2.empty:
        raise LookupError("no E_d2 runs")
    return pd.concat([l2, sup], ignore_index=True)


def _coincide(t) -> Measured:
    e = _errors(t)
    l2 = e[e["metric"] == "l2"].groupby(["width", "D"])["value"].median().unstack("D")
    lo, hi = l2.columns.min(), l2.columns.max()
    ratios = l2[hi] / l2[lo]
    note = "; ".join(f"width {int(w)}: {r:.3g}" for w, r in ratios.items())
    return Measured(float(ratios.median()), int(e["seed"].nunique()), f"D = {hi} vs {lo}, per width: {note}")


CLAIMS = [
    Claim(
        f"{P}.approx_curves_coincide",
        "approximation: the L2 test error at the largest D is close to that at the smallest D, width by width",
        "median over widths of L2 error(D_max) / L2 error(D_min), T1, noise-free (expected about 1)",
        "report",
        _coincide,
        {"full": None},
    ),
]


def figures(e: dict, cfg: dict) -> dict:
    return {"cloninger2020_fig_approx_vs_params": fig_approx_vs_params}


def fig_approx_vs_params(t):
    from ... import plotting

    e = _errors(t)
    fig, axes = plotting.panels(
        2, ncols=2, size=4.4, title=f"T1 approximation error vs parameters, noise-free ({ILLUSTRATION})"
    )
    dims = sorted(e["D"].unique())
    pal = plotting.colours(np.log(dims), "viridis_r")
    for ax, metric, label in ((axes[0], "sup", "sup test error"), (axes[1], "l2", "L2 test error (RMSE)")):
        for D in dims:
            m = e[(e["metric"] == metric) & (e["D"] == D)].groupby("n_params")["value"].agg(["median", "min", "max"])
            m = m.reset_index()
            ax.plot(m["n_params"], m["median"], "o-", color=pal[np.log(D)], label=f"D = {D}")
            ax.fill_between(m["n_params"], m["min"], m["max"], color=pal[np.log(D)], alpha=0.2, lw=0)
        ax.set(xscale="log", yscale="log", xlabel="network parameters (log scale)", ylabel=f"{label} (log scale)")
        ax.legend(fontsize=8)
    return fig
