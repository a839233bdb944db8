"""Fig 1C: task variance of the multitask bias net reveals task-selective clusters that track the biases.

No jobs of its own: reads the ``tv`` and ``bias`` vectors of fig1b's bias members (:mod:`.taskvar`).
"""

from __future__ import annotations

import numpy as np

from ...claims import Claim, Measured
from .. import Job
from .common import P

E = "fig1c"
SOURCE = "fig1b"


def jobs(e: dict, cfg: dict) -> list[Job]:
    return []


def analysis(t):
    from .taskvar import analyse

    runs = t.runs_of(SOURCE)
    if runs.empty:
        raise LookupError("fig1c reads fig1b's runs, and there are none (enable fig1b)")
    e = t.experiment(E)
    return analyse(runs, tuple(e["k_range"]), int(e["kmeans_seed"]))


def _selective(t) -> Measured:
    a = analysis(t)
    sel = a.selectivity()
    thr = float(t.experiment(E)["selective_share"])
    note = f"k = {a.k}; " + "; ".join(f"{r.task} {r.selectivity:.2f} (n={r.size})" for r in sel.itertuples())
    return Measured(int((sel["selectivity"] >= thr).sum()), note=note)


def _spearman(t) -> Measured:
    from .taskvar import spearman_rows

    a = analysis(t)
    rho = spearman_rows(a.tv, a.bias)
    ok = np.isfinite(rho)
    return Measured(float(rho[ok].mean()), note=f"{int(ok.sum())} of {a.n_units} units active and non-constant")


CLAIMS = [
    Claim(
        f"{P}.{E}.selective_clusters",
        "k-means of task variance finds task-selective clusters",
        "number of clusters whose largest task holds >= selective_share (0.5) of the cluster's summed TV",
        ">=",
        _selective,
        {"smoke": None, "quick": 3, "full": 3},
    ),
    Claim(
        f"{P}.{E}.tv_bias_spearman",
        "units' task variance rises with their task-specific bias",
        "mean over active units of the Spearman correlation across tasks of TV_i(.) and b_.,i",
        ">",
        _spearman,
        {"smoke": None, "quick": 0.2, "full": 0.2},
    ),
]


def figures(e: dict, cfg: dict) -> dict:
    return {f"{P}_fig1c_task_variance": fig_task_variance}


def fig_task_variance(t):
    import matplotlib.pyplot as plt

    from ... import plotting
    from ...claims import threshold

    a = analysis(t)
    sel = a.selectivity()
    plotting.apply()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 8.5), gridspec_kw={"height_ratios": [2.2, 1]})
    order = np.argsort(a.labels, kind="stable")
    im = top.imshow(a.tv[order], aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=1)
    edges = np.cumsum(np.bincount(a.labels, minlength=a.k))[:-1]
    for y in edges:
        top.axhline(y - 0.5, color="w", lw=1)
    top.set_xticks(range(len(a.tasks)), a.tasks, rotation=20)
    top.set(ylabel=f"active units, sorted by cluster (k = {a.k} by silhouette)", title="(a) normalised task variance")
    fig.colorbar(im, ax=top, label="TV / max over tasks")
    x = np.arange(a.k)
    bottom.bar(x, sel["rho"], color="tab:blue", label="mean Spearman rho(TV, b) in cluster")
    thr = threshold(CLAIMS, f"{P}.{E}.tv_bias_spearman", t.profile)
    if np.isfinite(thr):
        bottom.axhline(thr, color="tab:gray", ls="--", lw=1, label=f"claim: mean rho over units > {thr:g}")
    bottom.set_xticks(
        x, [f"{r.cluster}: {r.task}\n{r.selectivity:.2f}, n={r.size}" for r in sel.itertuples()], fontsize=7
    )
    bottom.set(
        xlabel="cluster: most-variant task, selectivity, size",
        ylabel="Spearman rho",
        title="(b) rho(TV, b) per cluster",
    )
    bottom.set_ylim(min(0.0, float(np.nanmin(sel["rho"])) - 0.05), 1.25)
    bottom.legend(fontsize=7, loc="upper center", ncol=2)
    fig.suptitle("Fig 1C: task variance clusters of the shared bias-learned net")
    return fig
