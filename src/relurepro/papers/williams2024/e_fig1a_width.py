"""Fig 1A: accuracy vs width and vs number of trained parameters; bias (two weight laws), full, readout.

Per width two jobs (see :func:`jobs`); members are (mode, law, seed). Widths in ``widths`` train bias
(each law), readout (uniform) and full (uniform) members; widths in ``full_widths`` (the parameter-matched full
nets of spec §6, member label ``matched``) train full members. The untrained net is every bias member at step 0 (b = 0); the
logistic regression on the same inputs and the readout members are in ``baselines.parquet``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim, Measured
from ...tables import select
from .. import Job
from . import image_dataset
from .common import COLOURS, P, final_acc, largest_drop, line, members, mnist_fallback, seed_values, training_params

E = "fig1a"
PRECISION = None  # trains in its own key experiments.fig1a.dtype


def jobs(e: dict, cfg: dict) -> list[Job]:
    """Per width: a job of bias (each law) and readout members, and a job of full members.

    Full members train apart: in one ensemble with them, autograd would form the W_in gradient of
    every member (three times the cost of a bias-only step) only for the masks to discard it.
    """
    name, spec = image_dataset(cfg)
    out = []
    for w in sorted(set(e["widths"]) | set(e["full_widths"])):
        params = {**training_params(e), "width": int(w), "dataset": name}
        if w in e["widths"]:
            ml = [("bias", law) for law in e["laws"]] + [("readout", "uniform")]
            mems = [{**m, "matched": False} for m in members(ml, e["seeds"])]
            out.append(Job(E, f"w{w}", params, {name: spec}, members=mems))
        mems = [{**m, "matched": w in e["full_widths"]} for m in members([("full", "uniform")], e["seeds"])]
        out.append(Job(E, f"w{w}_full", params, {name: spec}, members=mems))
    return out


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    from . import ffn

    arrays = data[job.params["dataset"]]
    net = ffn.Ensemble(job, arrays["x_train"].shape[1], int(arrays["y_train"].max()) + 1, ctx)
    d = ffn.tensors(arrays, net.dtype, ctx.device)
    hist = ffn.fit(net, d, ctx, epochs=job.params["epochs"], batch=job.params["batch"])
    return ffn.table(net, hist, job.labels().assign(dataset=job.params["dataset"]), ffn.invariants(net))


def logistic_rows(arrays: dict, dataset: str, l2: float = 1e-4) -> pd.DataFrame:
    """The logistic-regression baseline on the same inputs (spec §6) as baseline rows."""
    from ...references import logistic_regression

    m = logistic_regression(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], l2=l2)
    return pd.DataFrame(
        [
            {"baseline": "logistic", "dataset": dataset, "metric": name, "value": float(m[name])}
            for name in ("train_acc", "test_acc")
        ]
    )


def model_rows(runs: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """The untrained net (bias members at step 0), the readout-only random features and the
    parameter-matched full nets (spec §6), as baseline rows."""
    untrained = final_acc(select(runs, mode="bias"), how="first").assign(baseline="untrained")
    readout = final_acc(select(runs, mode="readout")).assign(baseline="readout")
    parts = [untrained, readout]
    if "matched" in runs and runs["matched"].astype(bool).any():
        parts.append(final_acc(select(runs, mode="full", matched=True)).assign(baseline="matched_full"))
    cols = ["baseline", "point", "member", "seed", "law", "width", "n_params", "value"]
    return pd.concat([p[cols] for p in parts], ignore_index=True).assign(metric="test_acc", dataset=dataset)


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    dataset = next(iter(jobs.values())).params["dataset"]
    return pd.concat([logistic_rows(data[dataset], dataset), model_rows(runs, dataset)], ignore_index=True)


# ---------------------------------------------------------------- claims


def _acc(t) -> pd.DataFrame:
    return final_acc(t.runs_of(E))


def _at_largest(t, mode: str, law: str = "uniform") -> pd.Series:
    acc = select(_acc(t), mode="bias", law="uniform")
    top = int(acc["width"].max())
    return seed_values(select(_acc(t), mode=mode, law=law, width=top))


def _width_monotone(t) -> Measured:
    acc = select(_acc(t), mode="bias")
    drops = {}
    for law, g in acc.groupby("law"):
        mean = g.groupby("width")["value"].mean()
        drops[law] = largest_drop(mean.index.to_numpy(), mean.to_numpy())
    note = "; ".join(f"{law}: {v:.4f}" for law, v in drops.items())
    return Measured(max(drops.values()), n_seeds=int(acc["seed"].nunique()), note=note)


def _gap(t) -> pd.Series:
    return _at_largest(t, "full") - _at_largest(t, "bias")


def _untrained(t) -> Measured:
    first = final_acc(select(t.runs_of(E), mode="bias"), how="first")
    return Measured(
        float(first["value"].max()), n_seeds=int(first["seed"].nunique()), note="max over widths, laws, seeds"
    )


CLAIMS = [
    Claim(
        f"{P}.{E}.width_monotone",
        "bias-only accuracy does not fall as the width grows",
        "largest drop of the seed-mean bias test accuracy between consecutive widths (max over both weight laws)",
        "<=",
        _width_monotone,
        {"smoke": None, "quick": 0.015, "full": 0.015},
    ),
    Claim(
        f"{P}.{E}.bias_acc_max_width",
        "bias-only nets learn the task at the largest width",
        "test accuracy of the bias (uniform) net at the largest width, median over seeds",
        ">=",
        lambda t: _at_largest(t, "bias"),
        {"smoke": None, "quick": 0.80, "full": 0.95},
        judged_as=mnist_fallback,
        min_seeds=3,
    ),
    Claim(
        f"{P}.{E}.full_bias_gap",
        "bias-only training comes close to full training at the largest width",
        "acc_full - acc_bias (uniform) at the largest width, median over seeds",
        "<=",
        _gap,
        {"smoke": None, "quick": 0.08, "full": 0.025},
        judged_as=mnist_fallback,
        min_seeds=3,
    ),
    Claim(
        f"{P}.{E}.untrained_low",
        "the untrained net (b = 0) is near chance",
        "test accuracy at step 0 (max over widths, laws and seeds)",
        "<=",
        _untrained,
        {"smoke": 0.30, "quick": 0.30, "full": 0.30},
    ),
]


# ---------------------------------------------------------------- figures


def figures(e: dict, cfg: dict) -> dict:
    return {f"{P}_fig1a_width": fig_width}


def panel_params(ax, acc: pd.DataFrame) -> None:
    """Accuracy vs number of trained parameters: bias per law, and the (matched) full nets."""
    for law, g in select(acc, mode="bias").groupby("law"):
        line(ax, g, "n_params", f"bias {law}", COLOURS[f"bias {law}"])
    full = select(acc, mode="full", matched=True)
    if not full.empty:
        line(ax, full, "n_params", "full (matched widths)", COLOURS["full"], marker="s")
    ax.set(xscale="log", xlabel="number of trained parameters (log scale)", ylabel="test accuracy")


def fig_width(t):
    from ... import plotting
    from ...claims import threshold

    e = t.experiment(E)
    acc = _acc(t)
    base = t.baselines_of(E)
    used = ", ".join(sorted(set(t.runs_of(E)["dataset"])))  # the data that ran (an IDX folder or its fallback)
    fig, axes = plotting.panels(2, ncols=2, size=4.6, title=f"Fig 1A: random weights, learned biases (data: {used})")
    ax = axes[0]
    for law, g in select(acc, mode="bias").groupby("law"):
        line(ax, g, "width", f"bias {law}", COLOURS[f"bias {law}"])
    for mode, marker in (("full", "s"), ("readout", "^")):
        g = select(acc, mode=mode, width=list(e["widths"]))
        if not g.empty:
            line(ax, g, "width", f"{mode} (baseline)" if mode == "readout" else mode, COLOURS[mode], marker=marker)
    untrained = select(base, baseline="untrained")
    if not untrained.empty:
        line(ax, untrained, "width", "untrained net (baseline)", COLOURS["untrained"], marker="x", ls="--")
    logistic = select(base, baseline="logistic", metric="test_acc")
    for v in logistic["value"]:
        ax.axhline(v, color=COLOURS["logistic"], ls=":", lw=1.5, label=f"logistic regression ({v:.3f})")
    thr = threshold(CLAIMS, f"{P}.{E}.bias_acc_max_width", t.profile, t)
    if np.isfinite(thr):
        ax.axhline(thr, color="tab:gray", ls="-.", lw=1, label=f"claim: bias acc >= {thr:g} at largest N")
    ax.set(xscale="log", xlabel="hidden width N (log scale)", ylabel="test accuracy", ylim=(0, 1.02))
    ax.legend(fontsize=7, loc="lower right")
    panel_params(axes[1], acc)
    axes[1].set_ylim(0, 1.02)
    axes[1].legend(fontsize=7, loc="lower right")
    return fig
