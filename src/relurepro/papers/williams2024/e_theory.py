"""Theory check (spec §1, claims 2 and 12): masking by biases is exact, and bias-only error falls with width.

Job ``construction``: one member per seed runs :func:`.construction.construct` (a gamma-bounded net
hidden in a wide U[-R, R] net by biases alone) and logs the silenced units' largest activation, the
masked net's distance to its kept sub-network, and how closely the wide net reproduces the small one.
Jobs ``n<N>``: 1-D nets ``y = sum_i a_i relu(w_i x + b_i) + c``, w, a ~ U[-R, R] (the theorem's fixed range,
not scaled with N), initial b ~ U[-b_init, b_init] (random kinks), members (mode, seed) with mode bias
(trains b, c) or readout (trains a, c with b at its initial draw: the random-features baseline),
full-batch Adam on the target ``sin 3x + 0.5 cos 7x``; the L1 error over [-1, 1] is logged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim, Measured
from ...tables import select
from .. import Job
from .common import COLOURS, P, final_acc, line, members

E = "theory"
# The construction always runs in float64 numpy (exact silencing, the 1e-6 sub-network check); the
# width sweep trains in its own key experiments.theory.dtype.
PRECISION = None


def target(x: np.ndarray) -> np.ndarray:
    return np.sin(3 * x) + 0.5 * np.cos(7 * x)


def jobs(e: dict, cfg: dict) -> list[Job]:
    c = e["construction"]
    out = [
        Job(
            E,
            "construction",
            {k: c[k] for k in ("d", "small", "big", "gamma", "R", "n_points")},
            members=[{"mode": "construction", "seed": int(s)} for s in e["seeds"]],
        )
    ]
    r = float(e["R"])
    for n in e["widths"]:
        params = {
            "width": int(n),
            "dtype": e["dtype"],
            "u_in": r,
            "u_out": r,
            "b0": float(e["b_init"]),
            "lr_bias": float(e["lr_bias"]),
            "lr_full": float(e["lr_readout"]),
            "steps": int(e["steps"]),
            "n_train": int(e["n_train"]),
            "n_eval": int(e["n_eval"]),
        }
        out.append(Job(E, f"n{n}", params, members=members([("bias", "uniform"), ("readout", "uniform")], e["seeds"])))
    return out


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    if job.point == "construction":
        return _construction(job)
    return _width(job, ctx)


def _construction(job: Job) -> pd.DataFrame:
    from .construction import construct

    p = job.params
    rows = []
    for m, seed in enumerate(job.column("seed")):
        c = construct(
            int(seed), int(p["d"]), int(p["small"]), int(p["big"]), float(p["gamma"]), float(p["R"]), int(p["n_points"])
        )
        for metric in ("masked_max_activation", "subnet_error", "match_error", "window"):
            rows.append({"member": m, "step": 0, "metric": metric, "value": getattr(c, metric)})
    return pd.DataFrame(rows).merge(job.labels().assign(member=range(len(job.members))), on="member")


def _width(job: Job, ctx) -> pd.DataFrame:
    import torch

    from ... import engine
    from ...losses import half_mse
    from . import ffn

    p = job.params
    net = ffn.Ensemble(job, 1, 1, ctx)

    def grid(n):
        return torch.linspace(-1, 1, n, dtype=net.dtype, device=ctx.device).unsqueeze(-1)

    x, xe = grid(p["n_train"]), grid(p["n_eval"])
    y, ye = torch.sin(3 * x) + 0.5 * torch.cos(7 * x), torch.sin(3 * xe) + 0.5 * torch.cos(7 * xe)

    def loss_fn(params):
        return half_mse(net.forward(params, x), y)

    def metrics(params, loss):
        return {"l1": 2.0 * (net.forward(params, xe) - ye).abs().mean((-2, -1))}  # L1 norm over [-1, 1]

    steps = int(p["steps"])
    hist = engine.train(
        net.params,
        loss_fn,
        steps=steps,
        groups=net.groups,
        optimizer="adam",
        log_steps=engine.log_schedule(steps, max(1, steps // 20)),
        metrics=metrics,
        on_log=engine.progress(ctx.log, job.key, steps),
    )
    return ffn.table(net, hist, job.labels(), ffn.invariants(net))


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    """The least-squares line through the training grid (its L1 error), and the readout members' L1 errors."""
    from ...references import linear_predict, ols

    p = next(j for j in jobs.values() if j.point != "construction").params
    x, xe = np.linspace(-1, 1, p["n_train"])[:, None], np.linspace(-1, 1, p["n_eval"])[:, None]
    fit = ols(x, target(x[:, 0]))
    l1 = 2.0 * float(np.abs(linear_predict(fit, xe) - target(xe[:, 0])).mean())
    rows = [pd.DataFrame([{"baseline": "linear", "metric": "l1", "value": l1}])]
    readout = select(runs, mode="readout")
    if not readout.empty:
        r = final_acc(readout, "l1")
        rows.append(r[["point", "member", "seed", "width", "value"]].assign(baseline="readout", metric="l1"))
    return pd.concat(rows, ignore_index=True)


# ---------------------------------------------------------------- claims


def _construction_max(metric: str):
    def measure(t) -> Measured:
        d = select(t.runs_of(E, point="construction"), metric=metric)
        if d.empty:
            raise LookupError(f"no {metric!r} rows (the construction job did not run)")
        return Measured(float(d["value"].max()), n_seeds=int(d["seed"].nunique()), note="max over seeds")

    return measure


def _l1(t) -> pd.DataFrame:
    return final_acc(select(t.runs_of(E), mode="bias"), "l1")


def _decrease(t) -> pd.Series:
    d = _l1(t)
    lo, hi = d["width"].min(), d["width"].max()
    if lo == hi:
        raise LookupError("the L1 check needs at least two widths")
    small = d[d["width"] == lo].set_index("seed")["value"]
    large = d[d["width"] == hi].set_index("seed")["value"]
    return small / large


CLAIMS = [
    Claim(
        f"{P}.{E}.masked_units_silent",
        "a bias below -(max_x |w_i . x|) switches a ReLU unit exactly off",
        "max activation of a silenced unit of the wide net over the inputs (max over seeds)",
        "==",
        _construction_max("masked_max_activation"),
        {"smoke": 0.0, "quick": 0.0, "full": 0.0},
        kind="invariant",
    ),
    Claim(
        f"{P}.{E}.bias_mask_exact",
        "the wide random net with masking biases computes exactly its kept sub-network",
        "max |y_masked - y_subnet| over the inputs (max over seeds)",
        "<=",
        _construction_max("subnet_error"),
        {"smoke": 1e-6, "quick": 1e-6, "full": 1e-6},
        kind="invariant",
    ),
    Claim(
        f"{P}.{E}.l1_width_decrease",
        "the bias-only L1 error falls as the random net widens",
        "L1 error at the smallest width / at the largest width, median over seeds",
        ">=",
        _decrease,
        {"smoke": None, "quick": 2.0, "full": 2.0},
        min_seeds=3,
    ),
]


def figures(e: dict, cfg: dict) -> dict:
    return {f"{P}_theory_l1": fig_l1}


def fig_l1(t):
    from ... import plotting

    runs = select(t.runs_of(E), mode=["bias", "readout"])
    base = t.baselines_of(E)
    cons = t.runs_of(E, point="construction")
    fig, axes = plotting.panels(1, ncols=1, size=6.0, title="Theory: L1 error of bias-only 1-D nets vs width")
    ax = axes[0]
    for mode, colour in (("bias", COLOURS["bias"]), ("readout", COLOURS["readout"])):
        g = final_acc(select(runs, mode=mode), "l1")
        line(ax, g, "width", f"{mode} only" + (" (baseline)" if mode == "readout" else ""), colour)
    lin = select(base, baseline="linear")["value"]
    for v in lin:
        ax.axhline(v, color=COLOURS["logistic"], ls=":", lw=1.5, label=f"best linear fit ({v:.3g})")
    if not cons.empty:
        c = cons.groupby("metric")["value"].max()
        ax.text(
            0.02,
            0.03,
            f"masking construction: silenced max activation {c.get('masked_max_activation', np.nan):.3g}, "
            f"|y_masked - y_subnet| {c.get('subnet_error', np.nan):.2g}",
            transform=ax.transAxes,
            fontsize=7,
        )
    ax.set(xscale="log", yscale="log", xlabel="hidden width N (log scale)", ylabel="L1 error on [-1, 1] (log scale)")
    ax.legend(fontsize=8)
    return fig
