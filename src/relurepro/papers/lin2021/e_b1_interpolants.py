"""E_b1: perfect vs bad global minima and the rate (a designed numerical illustration; the paper has no experiments).

Per (d, m), seeds as members: the early-stopped ERM net A, the deepened interpolant B = A + bumps at
the residuals (an exact ReLU network, float64), the bad interpolant C = the bumps of y on a zero base,
and, in the full profile, an over-parameterised net D trained to (near) zero training error.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...claims import Claim, Measured, NotApplicable
from .. import Job
from .common import d1, jobs_over_m, medians, per_seed, slope_per_seed, values

E = "E_b1"
P = "lin2021.E_b1"
# A trains in experiments.E_b1.dtype (float32 by default); B and C are built and evaluated in float64 always.
PRECISION = None
ESTIMATORS = {"A": "A: early-stopped ERM", "B": "B: deepened interpolant", "C": "C: bumps on zero (bad)"}


def jobs(e: dict, cfg: dict) -> list[Job]:
    over = e["overparam"]
    return jobs_over_m(
        E,
        e,
        tau_factors=[float(e["tau_factor"])],
        plot=[int(e["plot_m"])],
        overparam=dict(over) if over["enabled"] else None,
    )


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    from .fit import run

    return run(job, data, ctx)


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    """OLS on the same data, ||f||^2, Var f, the noise level, the analytic S and the anchored rate line."""
    from ...references import ols
    from ...stats import rate_line
    from .data import norms, rate_exponent, target

    rows = []
    for point, job in jobs.items():
        p = job.params
        (spec,) = job.datasets.values()
        arrays = data[next(iter(job.datasets))]
        f = target(p["target"], p["d"])
        for i, seed in enumerate(job.column("seed")):
            x, y, xt = arrays["x_train"][i], arrays["y_train"][i], arrays["x_test"][i]
            fit_ = ols(x, y)
            risk = float(np.mean((xt @ fit_["w"] + fit_["b"] - f(xt)) ** 2))
            rows.append(_row(point, p, seed, "ols", "risk", risk))
        noise = float(spec["noise"])
        rows.append(_row(point, p, None, "noise", "noise_var", noise**2 / 3))
        for k, v in norms(p["target"], p["d"]).items():
            rows.append(_row(point, p, None, "target", k, v))
    s = values(runs, "S")
    rows += [_row(r.point, {"d": r.d, "m": r.m}, r.seed, "bump_measure", "S", r.value) for r in s.itertuples()]
    risk_a = medians(runs, "risk_A")
    target_name = next(iter(jobs.values())).params["target"]
    for d, g in risk_a.groupby("d"):
        line = rate_line(g["m"], g["median"], rate_exponent(target_name, int(d)))
        rows += [_row(f"d{d}_m{m}", {"d": d, "m": m}, None, "rate", "predicted_risk", v) for m, v in zip(g["m"], line)]
    return pd.DataFrame(rows)


def _row(point, p, seed, baseline, metric, value) -> dict:
    return {
        "point": point,
        "d": int(p["d"]),
        "m": int(p["m"]),
        "seed": np.nan if seed is None else int(seed),
        "baseline": baseline,
        "metric": metric,
        "value": float(value),
        "step": 0,
    }


# ---------------------------------------------------------------- claims


def _exact(estimator: str):
    def measure(t) -> pd.Series:
        return per_seed(t.runs_of(E), f"interp_mse_{estimator}", "max")

    return measure


def _risk_matches_base(t) -> pd.Series:
    runs = d1(t.runs_of(E))
    a, b, s = (values(runs, k).set_index(["point", "member"]) for k in ("risk_A", "risk_B", "S"))
    gap = (b["value"] - a["value"]).abs() - (2 * np.sqrt(a["value"] * s["value"]) + s["value"])
    return pd.DataFrame({"seed": a["seed"], "gap": gap}).groupby("seed")["gap"].max()


def _does_not_learn(t) -> pd.Series:
    runs = d1(t.runs_of(E))
    var_f = _target_line(t, "var_f", 1)
    c = values(runs, "risk_C")
    return (c.assign(ratio=c["value"] / var_f)).groupby("seed")["ratio"].min()


def _bumps_resolved(t) -> pd.Series:
    return per_seed(d1(t.runs_of(E)), "min_nodes_in_bump", "min")


def _rate_slope(t) -> pd.Series:
    return slope_per_seed(d1(t.runs_of(E)), "risk_B")


def _overparam(t) -> Measured:
    runs = t.runs_of(E)
    if not (runs["metric"] == "risk_D").any():
        raise NotApplicable("the over-parameterised net D is not trained in this config")
    a = values(runs, "risk_A").set_index(["point", "member"])
    dd = values(runs, "risk_D").set_index(["point", "member"])
    ratio = (dd["value"] / a["value"]).groupby(a["m"]).median()
    note = "; ".join(f"m={int(m)}: {v:.3g}" for m, v in ratio.items())
    fit_d = float(values(runs, "interp_mse_D")["value"].max())  # did D reach a global minimum?
    note = f"risk(D)/risk(A), {note}; largest training MSE of D {fit_d:.3g} (the spec's target is 1e-6)"
    return Measured(float(np.median(dd["value"] / a["value"])), int(a["seed"].nunique()), note)


def _target_line(t, metric: str, d: int) -> float:
    b = t.baselines_of(E)
    v = b[(b["metric"] == metric) & (b["d"] == d)]["value"] if "d" in b.columns else b.iloc[0:0]["value"]
    if v.empty:
        raise LookupError(f"no {metric} baseline for d = {d}")
    return float(v.iloc[0])


EXACT = {"smoke": 1e-10, "quick": 1e-10, "full": 1e-10}
CLAIMS = [
    Claim(
        f"{P}.interpolant_exact",
        "the deepened net B interpolates the data (a global minimum of the empirical loss)",
        "max over m of the MSE of B on all m samples (float64)",
        "<=",
        _exact("B"),
        EXACT,
        kind="invariant",
    ),
    Claim(
        f"{P}.bad_interpolant_exact",
        "the bumps on a zero base (C) interpolate the data too",
        "max over m of the MSE of C on all m samples (float64)",
        "<=",
        _exact("C"),
        EXACT,
        kind="invariant",
    ),
    Claim(
        f"{P}.interpolant_risk_matches_base",
        "adding the bumps moves the risk by no more than the analytic bump measure allows",
        "max over m of |risk(B) - risk(A)| - (2 sqrt(risk(A) S) + S), bump-resolving quadrature, d = 1",
        "<=",
        _risk_matches_base,
        {"smoke": 1e-12, "quick": 1e-12, "full": 1e-12},
        kind="invariant",
    ),
    Claim(
        f"{P}.bad_minimum_does_not_learn",
        "the bad global minimum C does not learn: its risk stays near ||f||^2",
        "min over m of risk(C) / Var_x f, bump-resolving quadrature, d = 1",
        ">=",
        _does_not_learn,
        {"smoke": 0.5, "quick": 0.5, "full": 0.5},
        min_seeds=3,
    ),
    Claim(
        f"{P}.bumps_resolved",
        "the quadrature resolves every bump",
        "min over m and i of the number of quadrature nodes strictly inside bump i, d = 1",
        ">=",
        _bumps_resolved,
        {"smoke": 16, "quick": 16, "full": 16},
        kind="invariant",
    ),
    Claim(
        f"{P}.rate_slope",
        "the perfect global minimum B learns at about the minimax rate m^(-2r/(2r+d)) (theory -2/3 for d = 1, r = 1)",
        "least-squares slope of log risk(B) against log m, d = 1",
        "in[]",
        _rate_slope,
        # no smoke profile: the smoke grid has one sample size (a slope needs several)
        {"quick": (-1.0, -0.35), "full": (-1.0, -0.35)},
        min_seeds=3,
    ),
    Claim(
        f"{P}.overparam_net_risk",
        "an over-parameterised net D trained to near-zero training error (the theorem is existential: reported)",
        "median over m and seeds of risk(D) / risk(A)",
        "report",
        _overparam,
        {"full": None},
    ),
]


# ---------------------------------------------------------------- figures

CAPTION_NOTE = "numerical illustration of the theorem designed by this project; the paper has no experiments"


def figures(e: dict, cfg: dict) -> dict:
    out = {"lin2021_fig_risk_vs_m": fig_risk_vs_m}
    if 1 in e["d"] and int(e["plot_m"]) in e["m"]:
        out["lin2021_fig_interpolants"] = fig_interpolants
    return out


def fig_risk_vs_m(t):
    from ... import plotting
    from ...stats import loglog_slope, median_band
    from ...tables import select

    runs, base = t.runs_of(E), t.baselines_of(E)
    dims = sorted(int(d) for d in runs["d"].dropna().unique())
    fig, axes = plotting.panels(
        len(dims), ncols=2, size=6.4, title=f"Excess risk against the sample size ({CAPTION_NOTE})"
    )
    colours = {"A": "tab:blue", "B": "tab:red", "C": "tab:purple", "D": "tab:brown", "OLS": "tab:gray"}
    for ax, d in zip(axes, dims):
        r = runs[runs["d"] == d]
        names = dict(ESTIMATORS)
        if (r["metric"] == "risk_D").any():
            names["D"] = "D: over-parameterised net"
        for key, label in names.items():
            v = values(r, f"risk_{key}")
            band = median_band(v, "m", "value")
            fit_ = (
                np.median([loglog_slope(g["m"], g["value"]).slope for _, g in v.groupby("seed")])
                if len(band) > 1
                else math.nan
            )
            style = {"marker": "o", "ms": 4, **plotting.SIMULATION}
            if key == "B":  # B lies on A: drawn dashed on top so that both stay visible
                style = {"marker": "x", "ms": 6, "linestyle": "--", "linewidth": 1.5}
            ax.plot(band["m"], band["median"], color=colours[key], label=f"{label} (slope {fit_:.2f})", **style)
            ax.fill_between(band["m"], band["lower"], band["upper"], color=colours[key], alpha=0.2, lw=0)
        ols = select(base, d=d, baseline="ols", metric="risk")
        if not ols.empty:
            ob = median_band(ols, "m", "value")
            ax.plot(ob["m"], ob["median"], color=colours["OLS"], label="OLS on x (same data)", **plotting.REFERENCE)
        rate = select(base, d=d, baseline="rate").sort_values("m")
        if not rate.empty:
            from .data import rate_exponent

            ex = rate_exponent(t.experiment(E).get("target", "lipschitz"), d)
            ax.plot(rate["m"], rate["value"], color="k", label=f"rate m^({ex:.2f}), fitted to A", **plotting.THEORY)
        for metric, label, ls in (("f_norm_sq", "||f||²", "-."), ("var_f", "Var f", ":")):
            v = select(base, d=d, baseline="target", metric=metric)
            if not v.empty:
                ax.axhline(float(v["value"].iloc[0]), color="tab:green", ls=ls, lw=1.3, label=label)
        noise = select(base, d=d, metric="noise_var")
        if not noise.empty:
            ax.axhline(
                float(noise["value"].iloc[0]), color="tab:olive", ls="--", lw=1.0, label="noise Var ε (excluded)"
            )
        ax.set(xscale="log", yscale="log", xlabel="sample size m", ylabel="excess risk ||f̂ - f||² (L², uniform)")
        ax.set_title(f"d = {d}" + (" (bump-resolving quadrature)" if d == 1 else " (Monte Carlo)"), fontsize=10)
        ms = sorted(r["m"].dropna().unique())
        ax.set_xticks(ms, [str(int(v)) for v in ms])
        ax.minorticks_off()
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2)
    return fig


def fig_interpolants(t):
    from ... import plotting
    from ...tables import select

    e = t.experiment(E)
    r = select(t.runs_of(E), d=1, m=int(e["plot_m"]))
    seed = int(r["seed"].min())

    def vec(metric):
        v = select(r, metric=metric, seed=seed).sort_values("coord")
        if v.empty:
            raise LookupError(f"no {metric} rows for m = {e['plot_m']}")
        return v["value"].to_numpy()

    x, f, a, b, c = (vec(k) for k in ("curve_x", "curve_f", "curve_A", "curve_B", "curve_C"))
    dx, dy = vec("data_x"), vec("data_y")
    fig, axes = plotting.panels(
        1,
        ncols=1,
        size=8.0,
        title=f"Interpolants of m = {int(e['plot_m'])} noisy samples, seed {seed} ({CAPTION_NOTE})",
    )
    ax = axes[0]
    ax.plot(x, c, color="tab:purple", lw=0.8, label=ESTIMATORS["C"])
    ax.plot(x, b, color="tab:red", lw=0.8, label=ESTIMATORS["B"] + " (spikes at the x_i)")
    ax.plot(x, f, color="k", lw=2.0, label="true f")
    ax.plot(x, a, color="tab:blue", lw=1.5, label=ESTIMATORS["A"])
    ax.scatter(dx, dy, s=9, color="tab:orange", zorder=5, label="data (x_i, y_i)")
    ax.set(xlabel="x", ylabel="f(x)", xlim=(0, 1))
    # zoomed inset around the closest pair of samples: two spikes, side by side, that do not overlap
    order = np.argsort(dx)
    i = int(np.argmin(np.diff(dx[order])))
    left, right = dx[order][i], dx[order][i + 1]
    tau = float(select(r, metric="tau", seed=seed)["value"].iloc[0])
    centre, half = (left + right) / 2, (right - left) / 2 + 2 * tau
    inset = ax.inset_axes([0.56, 0.08, 0.42, 0.25])
    keep = (x > centre - half) & (x < centre + half)
    u = (x[keep] - centre) / tau  # in units of the bump radius
    inset.plot(u, c[keep], color="tab:purple", lw=1.0)
    inset.plot(u, b[keep], color="tab:red", lw=1.0, marker=".", ms=3)
    inset.plot(u, a[keep], color="tab:blue", lw=1.2)
    inset.plot(u, f[keep], color="k", lw=1.5)
    near = np.abs(dx - centre) < half
    inset.scatter((dx[near] - centre) / tau, dy[near], s=14, color="tab:orange", zorder=5)
    inset.set_xlim(-half / tau, half / tau)
    inset.set_xlabel(f"(x − {centre:.5f}) / τ,  τ = {tau:.1e}", fontsize=7, labelpad=1)
    inset.set_title("zoom on the closest pair of samples", fontsize=7)
    inset.tick_params(labelsize=6)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=3)
    return fig
