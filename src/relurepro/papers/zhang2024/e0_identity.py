"""E0: the odd/even identity ``f = c W2 W1 x + (1-c) W2 |W1 x|`` of a two-layer bias-free net, at float64."""

from __future__ import annotations

import numpy as np

from ...claims import Claim, Measured, threshold
from ...tables import Tables, n_seeds, select
from .. import Job
from .common import alpha_colours, rows, threshold_line

EXP = "E0"
STEM = "zhang2024_fig_identity"


def jobs(e: dict, cfg: dict) -> list[Job]:
    params = {k: e[k] for k in ("H", "D", "C", "alphas", "n_points", "n_scatter", "seed")}
    members = [dict(alpha=a, seed=e["seed"], role="identity") for a in e["alphas"]]
    return [Job(EXP, "main", params, members=members)]


def train(job: Job, data, ctx):
    """Both identities on standard-normal weights; residuals and scatter samples per slope."""
    import pandas as pd
    import torch

    from ... import engine
    from .common import finish

    p = job.params
    rng = np.random.default_rng(p["seed"])
    w1 = rng.standard_normal((p["H"], p["D"]))
    w2 = rng.standard_normal((p["C"], p["H"]))
    x = rng.standard_normal((p["n_points"], p["D"]))
    dt = ctx.dtype
    t1, t2, tx = (torch.as_tensor(a, dtype=dt, device=ctx.device) for a in (w1, w2, x))
    params = [t1.T.unsqueeze(0), t2.T.unsqueeze(0)]
    labels = job.labels()
    parts = []
    for m, a in enumerate(job.column("alpha")):
        slope = torch.tensor([a], dtype=dt, device=ctx.device)
        f_pos = engine.mlp(params, tx, slope)[0]
        f_neg = engine.mlp(params, -tx, slope)[0]
        odd_lhs = (f_pos - f_neg).cpu().numpy()
        odd_rhs = (1 + a) * (tx @ t1.T @ t2.T).cpu().numpy()
        even_lhs = (f_pos + f_neg).cpu().numpy()
        even_rhs = (1 - a) * ((tx @ t1.T).abs() @ t2.T).cpu().numpy()
        odd_err, even_err = np.abs(odd_lhs - odd_rhs).max(), np.abs(even_lhs - even_rhs).max()
        ctx.log(f"zhang2024 E0: alpha={a}: odd residual {odd_err:.2e}, even residual {even_err:.2e}")
        n = p["n_scatter"]
        parts += [
            rows(labels, m, 0, "odd_residual", odd_err),
            rows(labels, m, 0, "even_residual", even_err),
            rows(labels, m, 0, "odd_lhs", odd_lhs[:n, 0]),
            rows(labels, m, 0, "odd_rhs", odd_rhs[:n, 0]),
            rows(labels, m, 0, "even_lhs", even_lhs[:n, 0]),
            rows(labels, m, 0, "even_rhs", even_rhs[:n, 0]),
        ]
    return finish(pd.concat(parts, ignore_index=True), job)


def identity_residual(t: Tables) -> Measured:
    d = select(t.runs_of(EXP), metric=["odd_residual", "even_residual"])
    if d.empty:
        raise LookupError("no E0 residuals")
    return Measured(float(d["value"].max()), n_seeds(d))


CLAIMS = [
    Claim(
        "zhang2024.E0.odd_even_identity",
        "f(x) - f(-x) = (1+alpha) W2 W1 x and f(x) + f(-x) = (1-alpha) W2 |W1 x| (float64)",
        "max abs residual over both identities, all alpha and x",
        "<",
        identity_residual,
        thresholds={"smoke": 1e-10, "quick": 1e-10, "full": 1e-10},
        kind="invariant",  # an algebraic identity of the leaky ReLU: only a bug breaks it
    )
]


def figures(e: dict, cfg: dict) -> dict:
    return {STEM: draw}


def draw(t: Tables):
    from ... import plotting
    from ...plotting import THEORY

    fig, ax = plotting.panels(3, title="Odd part linear, even part 1-homogeneous: f = c W2 W1 x + (1-c) W2 |W1 x|")
    d = t.runs_of(EXP)
    alphas = sorted(d["alpha"].unique())
    col = alpha_colours(alphas)
    res = []
    for a in alphas:
        da = d[d["alpha"] == a]
        g = lambda m: da[da["metric"] == m].sort_values("coord")["value"].to_numpy()  # noqa: E731,B023
        ax[0].scatter(g("odd_rhs"), g("odd_lhs"), s=8, color=col[a], label=f"α={a:g}")
        ax[1].scatter(g("even_rhs"), g("even_lhs"), s=8, color=col[a], label=f"α={a:g}")
        res.append((a, g("odd_residual")[0], g("even_residual")[0]))
    for a_, (lbl, rhs) in zip(ax[:2], [("f(x) − f(−x)", "(1+α) W2 W1 x"), ("f(x) + f(−x)", "(1−α) W2 |W1 x|")]):
        lim = a_.get_xlim()
        a_.plot(lim, lim, color="k", **{**THEORY, "linewidth": 1.5}, label="identity")
        a_.set_xlabel(rhs + " (output 1)")
        a_.set_ylabel(lbl)
        a_.legend()
    x = np.arange(len(res))
    ax[2].bar(x - 0.2, [max(r[1], 1e-17) for r in res], 0.4, label="odd identity", color="tab:blue")
    ax[2].bar(x + 0.2, [max(r[2], 1e-17) for r in res], 0.4, label="even identity", color="tab:orange")
    limit = threshold(CLAIMS, "zhang2024.E0.odd_even_identity", t.profile)
    threshold_line(ax[2], limit, f"claim threshold {limit:g}")
    ax[2].set_xticks(x, [f"α={r[0]:g}" for r in res])
    ax[2].set_yscale("log")
    ax[2].set_ylabel("max |residual| (float64)")
    ax[2].legend()
    return fig
