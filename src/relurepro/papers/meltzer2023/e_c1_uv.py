"""E_c1: the uv model of Lewkowycz et al. (Thm 1) at (x, y) = (1, 0): lazy, catapult and divergent phases.

One job per width; members are the learning rates. The baselines add the exact (f, lambda)
recursion per member, and its final curvature on a fine eta*lambda_0 grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim
from ...tables import select
from .. import Job
from .grid_common import common_params, lr_members
from .summary import all_profiles, frac, require, summary, vmax, vmin

E = "E_c1"
CATAPULT = (2.2, 3.9)  # eta*lambda0 range of the catapult claims (spec §12)
DIVERGENT_FROM = 4.1


def jobs(e: dict, cfg: dict) -> list[Job]:
    members = lr_members([e["seed"]], e["eta_lambda0"])
    return [Job(E, f"n{n}", {**common_params(e), "width": int(n), "model": "uv"}, members=members) for n in e["widths"]]


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    from . import trainer

    return trainer.train_mlp(job, data, ctx)


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    from . import baseline_rows as br
    from . import windows

    rows: list[dict] = []
    for job in jobs.values():
        members, s, lam, f0, lin = br.mlp_start(job, runs, data, ctx)
        rows += lin
        rows += br.edge_rows(members, windows.leaky_edge(lam, members["mean_sq_weight0"].to_numpy(), s["x"].numpy()))
        n, steps = int(job.params["width"]), int(job.params["steps"])
        for i, m in members.iterrows():
            rec = br.uv_recursion(float(f0[i, 0]), float(lam[i]), float(m["lr"]), n, steps)
            for metric, vals in (
                ("loss", 0.5 * rec["f"] ** 2),
                ("eta_lambda", m["lr"] * rec["lambda"]),
                ("theta2_ratio", rec["lambda"] / rec["lambda"][0]),
            ):
                rows += [br.row(m, "uv_recursion", metric, v, t) for t, v in enumerate(vals)]
        # the recursion's final curvature on a fine eta*lambda_0 grid (same init as member 0)
        m0 = members.iloc[0]
        for el in np.round(np.arange(0.02, 4.5 + 1e-9, 0.02), 4):
            rec = br.uv_recursion(float(f0[0, 0]), float(lam[0]), el / float(lam[0]), n, steps)
            r = br.row(m0, "uv_recursion_curve", "eta_lambda_final", el / lam[0] * rec["lambda"][-1], steps)
            r["eta_lambda0"] = float(el)
            r["member"] = -1
            rows.append(r)
            rows.append({**r, "metric": "loss_final", "value": float(0.5 * rec["f"][-1] ** 2)})
    return br.frame(rows, E)


# ---------------------------------------------------------------- claims


def _s(t) -> pd.DataFrame:
    return require(summary(t.runs_of(E)), E)


def _catapult(t) -> pd.DataFrame:
    s = _s(t)
    return s[(s["eta_lambda0"] >= CATAPULT[0]) & (s["eta_lambda0"] <= CATAPULT[1])]


def _lazy_loss_monotone(t) -> float:
    loss = select(t.runs_of(E), metric="loss")
    loss = loss[loss["eta_lambda0"] < 2]
    diffs = [np.max(np.diff(g.sort_values("step")["value"].to_numpy())) for _, g in loss.groupby(["point", "member"])]
    return vmax(diffs)


def _lazy_curvature_constant(t) -> float:
    s = _s(t)
    lazy = s[s["eta_lambda0"] < 2]
    return vmax(np.abs(lazy["eta_lambda_final"] / lazy["eta_lambda0"] - 1))


def _diverges(t) -> float:
    s = _s(t)
    div = s[s["eta_lambda0"] >= DIVERGENT_FROM]
    return frac(div["diverged"].astype(bool) | ~np.isfinite(div["final_loss"]) | (div["final_loss"] > 1e6))


P = "meltzer2023.E_c1"
CLAIMS = [
    Claim(
        f"{P}.lazy_loss_monotone",
        "lazy phase: loss decreases monotonically",
        "eta*lambda0 < 2: max_t (L_{t+1} - L_t)",
        "<=",
        _lazy_loss_monotone,
        all_profiles(1e-12),
    ),
    Claim(
        f"{P}.lazy_curvature_constant",
        "lazy phase: curvature stays put",
        "eta*lambda0 < 2: max |lambda_fin/lambda0 - 1|",
        "<",
        _lazy_curvature_constant,
        all_profiles(0.05),
    ),
    Claim(
        f"{P}.catapult_converges",
        "catapult phase converges",
        "2.2 <= eta*lambda0 <= 3.9: max final loss",
        "<",
        lambda t: vmax(_catapult(t)["final_loss"]),
        all_profiles(1e-8),
    ),
    Claim(
        f"{P}.catapult_loss_spike",
        "catapult phase: loss first grows",
        "same LRs: min max_t L_t/L_0",
        ">",
        lambda t: vmin(_catapult(t)["loss_max_ratio"]),
        all_profiles(1.0),
    ),
    Claim(
        f"{P}.catapult_curvature_drops",
        "catapult phase: curvature falls below 2/eta",
        "same LRs: max eta*lambda_fin",
        "<",
        lambda t: vmax(_catapult(t)["eta_lambda_final"]),
        all_profiles(2.0),
    ),
    Claim(
        f"{P}.catapult_norm_drops",
        "catapult phase: weight norm drops",
        "same LRs: max |theta_fin|^2/|theta_0|^2",
        "<",
        lambda t: vmax(_catapult(t)["theta2_final_ratio"]),
        all_profiles(0.9),
    ),
    Claim(
        f"{P}.diverges_above_4",
        "divergent phase above eta*lambda0 = 4",
        "eta*lambda0 >= 4.1: frac with loss > 1e6 or NaN",
        "==",
        _diverges,
        all_profiles(1.0),
    ),
]


# ---------------------------------------------------------------- figure


def figures(e: dict, cfg: dict) -> dict:
    return {"meltzer2023_fig_uv_model": fig_uv_model}


def fig_uv_model(t):
    from ... import plotting
    from . import panels, windows

    r_all, b_all = t.runs_of(E), t.baselines_of(E)
    points = sorted(r_all["point"].unique(), key=lambda p: int(p[1:]))
    fig, axes = plotting.panels(4 * len(points), ncols=4, title="uv model: catapult (Lewkowycz et al. Thm 1)")
    for i, pt in enumerate(points):
        r, b = select(r_all, point=pt), select(b_all, point=pt)
        ax = axes[4 * i : 4 * i + 4]
        s = summary(r)
        lrs = sorted(s["eta_lambda0"].unique())
        col = plotting.colours(lrs, "plasma_r")
        rec_all = select(b, baseline="uv_recursion", metric="eta_lambda")
        for lr in lrs:
            tr = panels.trace(r[np.isclose(r["eta_lambda0"], lr)], "loss")
            ax[0].plot(tr["step"], tr["value"], color=col[lr], label=f"{lr:g}", **plotting.SIMULATION)
            el = panels.trace(r[np.isclose(r["eta_lambda0"], lr) & ~r["diverged"].astype(bool)], "eta_lambda")
            ax[1].plot(el["step"], el["value"], color=col[lr], **plotting.SIMULATION)
            rec = rec_all[np.isclose(rec_all["eta_lambda0"], lr)]
            ax[1].plot(rec["step"], rec["value"], color=col[lr], **plotting.THEORY)
        ax[0].set(yscale="log", xscale="symlog", xlabel="step", ylabel="loss", title=f"(a) loss, n = {pt[1:]}")
        ax[0].set_ylim(1e-35, None)
        ax[0].legend(title=panels.LR, ncol=2, fontsize=6, title_fontsize=7)
        ax[1].set(
            yscale="log",
            xscale="symlog",
            xlabel="step",
            ylabel=r"$\eta\lambda_t$",
            title="(b) curvature (dotted: recursion)",
        )
        ax[1].set_ylim(1e-2, 20)
        ax[1].axhline(windows.LOWER_EDGE, color="k", lw=1, ls=":")
        ax[0].set_xlim(0, None)
        ax[1].set_xlim(0, None)
        dfrom = panels.div_from(s)
        hi = max(4.6, float(s["eta_lambda0"].max()) * 1.03)
        curve = select(b, baseline="uv_recursion_curve", metric="eta_lambda_final").sort_values("eta_lambda0")
        panels.bands(ax[2], 0, hi, dfrom, windows.UV_EDGE)
        ax[2].plot(curve["eta_lambda0"], curve["value"].clip(upper=5), color="k", label="recursion", **plotting.THEORY)
        conv = s[~s["diverged"].astype(bool)]
        ax[2].plot(conv["eta_lambda0"], conv["eta_lambda_final"], "o", color="tab:red", label="trained uv net")
        ax[2].set(xlabel=panels.LR, ylabel=r"$\eta\lambda_\infty$", title="(c) final curvature", ylim=(0, 4.5))
        ax[2].legend(fontsize=7)
        panels.bands(ax[3], 0, hi, dfrom, windows.UV_EDGE)
        ax[3].plot(
            conv["eta_lambda0"],
            conv["theta2_final_ratio"],
            "o-",
            color="tab:purple",
            label=r"$\|\theta_\infty\|^2/\|\theta_0\|^2$",
        )
        panels.threshold_line(
            ax[3],
            threshold_of("catapult_norm_drops", t.profile),
            r"catapult claim: $\|\theta_\infty\|^2/\|\theta_0\|^2 <$ this",
        )
        ax3b = ax[3].twinx()
        ax3b.plot(
            s["eta_lambda0"], s["loss_max_ratio"].clip(upper=1e12), "s--", color="tab:orange", label=r"$\max_t L_t/L_0$"
        )
        ax3b.set_yscale("log")
        ax3b.set_ylabel(r"$\max_t L_t/L_0$ (orange)")
        ax3b.grid(False)
        ax[3].set(
            xlabel=panels.LR, ylabel=r"$\|\theta_\infty\|^2/\|\theta_0\|^2$ (purple)", title="(d) norm and loss spike"
        )
        ax[3].legend(fontsize=7, loc="lower left")
    panels.letters(axes)
    return fig


def threshold_of(name: str, profile: str) -> float:
    from ...claims import threshold

    return threshold(CLAIMS, f"{P}.{name}", profile)
