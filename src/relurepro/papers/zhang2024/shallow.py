"""Shared by E3-E6: two-layer bias-free leaky nets from small random init, their Saxe baselines,
the Saxe-fit and half-time measures and the loss-vs-theory panels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...claims import Claim
from ...tables import Tables, members, select, series
from .. import Job
from . import theory
from .common import (
    T_LABEL,
    alpha_colours,
    baseline_value,
    check_teacher,
    config_check,
    first_seed,
    floor_rows,
    per_seed,
    teacher_spec,
)

SAXE_LABELS = ["point", "member", "seed", "alpha", "slope", "role", "init_scale", "lr", "sigma0"]


# ---------------------------------------------------------------- grid


def saxe_members(alphas, seeds, sigma0s, lr, H, with_refs=True) -> list[dict]:
    """Leaky members per (sigma0, seed, alpha) plus linear references (draws x sqrt(c), lr x c)."""
    out = []
    for sig in sigma0s:
        for seed in seeds:
            for a in alphas:
                out.append(dict(role="relu", alpha=a, slope=a, seed=seed, sigma0=sig, init_scale=sig, lr=lr, H=H))
            if with_refs:
                for a in alphas:
                    if a < 1:
                        c = float(theory.c_of(a))
                        out.append(
                            dict(
                                role="linear_ref",
                                alpha=a,
                                slope=1.0,
                                seed=seed,
                                sigma0=sig,
                                init_scale=sig * math.sqrt(c),
                                lr=lr * c,
                                H=H,
                            )
                        )
    return out


def teacher_jobs(exp: str, e: dict) -> list[Job]:
    """One job per width on symmetrised teacher data (E3-E5)."""
    s = [e["s"]] if "s" in e else e["singular_values"]
    check_teacher(exp, P=e["P"], D=e["D"], C=e.get("C", 1), s=s, s_key="s" if "s" in e else "singular_values")
    name = f"{exp.lower()}_sym"
    spec = teacher_spec(seed=e["data_seed"], P=e["P"], D=e["D"], C=e.get("C", 1), s=s, noise=e.get("noise_std", 0.0))
    widths = e["H"] if isinstance(e["H"], list) else [e["H"]]
    sigma0s = e["sigma0"] if isinstance(e["sigma0"], list) else [e["sigma0"]]
    steps = e["steps"] if "steps" in e else int(round(e["t_max"] / e["lr"]))
    config_check(steps >= 1, f"{exp}.t_max", f"t_max = {e.get('t_max')} at lr = {e['lr']} is less than one step")
    out = []
    for H in widths:
        mem = saxe_members(e["alphas"], e["seeds"], sigma0s, e["lr"], H, with_refs=e.get("linear_refs", True))
        params = dict(H=H, steps=steps, log_every=e["log_every"], data=name)
        out.append(Job(exp, f"h{H}", params, {name: spec}, mem))
    return out


# ---------------------------------------------------------------- training


def train(job: Job, data, ctx) -> pd.DataFrame:
    """Two-layer bias-free leaky nets from small random init, batched over members."""
    from ... import engine
    from .common import finish, mode_metrics, progress, tensors

    p = job.params
    d = data[p["data"]]
    x, y, slope, lr, c = tensors(job, d["x"], d["y"], ctx)
    params = engine.init_layers(
        job.column("seed"),
        [x.shape[1], p["H"], y.shape[1]],
        [1.0, 1.0],
        init_scale=job.column("init_scale"),
        dtype=ctx.dtype,
        device=ctx.device,
    )
    metrics = mode_metrics(d["x"], d["y"], c, ctx) if p.get("modes", True) else None
    hist = engine.train(
        params,
        engine.MLPLoss(x, y, slope),
        lr,
        p["steps"],
        log_steps=engine.log_schedule(p["steps"], p["log_every"]),
        metrics=metrics,
        on_log=progress(ctx, job.key, p["steps"]),
    )
    return finish(hist.frame(job.labels()), job)


# ---------------------------------------------------------------- baselines


def saxe_for_runs(experiment: str, point: str, runs: pd.DataFrame, x, y) -> pd.DataFrame:
    """Per-run Saxe time course ``u_i(t)``, ``L(t)`` and ``t_half_i`` from the run's own ``u_i(0)``."""
    _, s, _ = theory.modes(x, y)
    l_star = theory.saxe_loss_star(y, s)
    loss = runs[runs["metric"] == "loss"]
    init = runs[(runs["step"] == 0) & runs["metric"].str.startswith("ueff_mode")]
    parts = []
    for member, lr_rows in loss.groupby("member"):
        lab = lr_rows.iloc[0]
        c = float(theory.c_of(lab["slope"]))
        u0 = np.array(
            [
                float(init[(init["member"] == member) & (init["metric"] == f"ueff_mode{i}")]["value"].iloc[0])
                for i in range(len(s))
            ]
        )
        steps = lr_rows["step"].to_numpy()
        t = steps * float(lab["lr"])
        base = {k: lab[k] for k in SAXE_LABELS if k in lab.index}
        base.update(experiment=experiment, baseline="saxe", point=point)
        parts.append(
            pd.DataFrame(
                {**base, "step": steps, "t": t, "metric": "loss", "value": theory.saxe_loss(t, s, u0, c, l_star)}
            )
        )
        for i in range(len(s)):
            parts.append(
                pd.DataFrame(
                    {**base, "step": steps, "t": t, "metric": f"u_mode{i}", "value": theory.saxe_u(t, s[i], u0[i], c)}
                )
            )
            scalars = {
                f"half_time_mode{i}": theory.saxe_half_time(s[i], u0[i], c),
                f"s_mode{i}": s[i],
                f"u0_mode{i}": u0[i],
            }
            for k, v in scalars.items():
                parts.append(pd.DataFrame([{**base, "step": np.nan, "t": np.nan, "metric": k, "value": v}]))
        parts.append(pd.DataFrame([{**base, "step": np.nan, "t": np.nan, "metric": "loss_star", "value": l_star}]))
    return pd.concat(parts, ignore_index=True)


def baselines(jobs: dict, runs: pd.DataFrame, data, ctx) -> pd.DataFrame:
    """Regression floors of every point, and the Saxe time course of every run that records its modes."""
    parts = []
    for point, job in jobs.items():
        d = data[job.params["data"]]
        parts.append(floor_rows(job.experiment, point, d["x"], d["y"]))
        if job.params.get("modes", True):
            sel = runs[runs["point"] == point]
            parts.append(saxe_for_runs(job.experiment, point, sel, d["x"], d["y"]))
            ctx.log(f"zhang2024 {job.experiment}/{point}: Saxe time courses for {sel['member'].nunique()} runs")
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------- measures


def saxe_error(t: Tables, exp: str, point: str, member: int) -> float:
    """``max_t |L - L_theory| / L0`` of one run against its own Saxe time course."""
    step, loss = series(t.runs_of(exp), "loss", point=point, member=member)
    th = select(t.baselines_of(exp), baseline="saxe", point=point, member=member, metric="loss").sort_values("step")
    th = th.set_index("step")["value"].reindex(step).to_numpy()
    return float(np.nanmax(np.abs(loss - th)) / loss[0])


def half_time_sim(t: Tables, exp: str, point: str, member: int, mode: int, s: float) -> float:
    """First time the measured mode strength reaches ``s/2``."""
    tt, u = series(t.runs_of(exp), f"u_mode{mode}", x="t", point=point, member=member)
    return theory.crossing_time(tt, u, s / 2, downward=False)


def saxe_scalar(t: Tables, exp: str, point: str, member: int, metric: str) -> float:
    return baseline_value(t.baselines_of(exp), baseline="saxe", point=point, member=member, metric=metric)


def n_modes(t: Tables, exp: str, point: str, member: int) -> int:
    """How many teacher modes the Saxe baseline of one run has."""
    d = select(t.baselines_of(exp), baseline="saxe", point=point, member=member)
    return int(d["metric"].str.fullmatch(r"s_mode\d+").sum())


def relu_members(t: Tables, exp: str, **labels) -> pd.DataFrame:
    m = members(t.runs_of(exp, metric="loss"), role="relu", **labels)
    if m.empty:
        raise LookupError(f"no leaky runs in {exp}")
    return m


def saxe_fit(exp: str):
    """Measure: per seed, the max over its leaky runs of ``max_t |L - L_theory| / L0``."""

    def measure(t: Tables) -> dict:
        return per_seed([(r.seed, saxe_error(t, exp, r.point, r.member)) for r in relu_members(t, exp).itertuples()])

    return measure


def half_time(exp: str):
    """Measure: per seed, the max over its leaky runs and modes of ``|t_half_sim / t_half_theory - 1|``."""

    def measure(t: Tables) -> dict:
        values = []
        for r in relu_members(t, exp).itertuples():
            for i in range(n_modes(t, exp, r.point, r.member)):
                s = saxe_scalar(t, exp, r.point, r.member, f"s_mode{i}")
                th = saxe_scalar(t, exp, r.point, r.member, f"half_time_mode{i}")
                values.append((r.seed, abs(half_time_sim(t, exp, r.point, r.member, i, s) / th - 1)))
        return per_seed(values)

    return measure


def saxe_fit_claim(exp: str, description: str, statistic: str, limit: float) -> Claim:
    return Claim(
        f"zhang2024.{exp}.saxe_fit",
        description,
        statistic,
        "<",
        saxe_fit(exp),
        thresholds={"smoke": limit, "quick": limit, "full": limit},
    )


# ---------------------------------------------------------------- figures


def saxe_panels(t: Tables, exp: str, ax_loss, ax_res, point=None) -> pd.DataFrame:
    """Loss of the first seed's leaky runs with their Saxe theory; optionally the residual / L0."""
    from ...plotting import REFERENCE, SIMULATION, THEORY

    runs, bases = t.runs_of(exp), t.baselines_of(exp)
    rm = members(select(runs, metric="loss"), role="relu")
    if point is None and not rm.empty:
        point = rm["point"].iloc[0]
    rm = first_seed(rm[rm["point"] == point])
    if "sigma0" in rm and rm["sigma0"].nunique() > 1:
        rm = rm[rm["sigma0"] == rm["sigma0"].min()]
    col = alpha_colours(rm["alpha"].unique())
    for r in rm.sort_values("alpha").itertuples():
        tt, loss = series(runs, "loss", x="t", point=r.point, member=r.member)
        t_th, l_th = series(bases, "loss", x="t", baseline="saxe", point=r.point, member=r.member)
        ax_loss.plot(tt, loss, color=col[r.alpha], label=f"α={r.alpha:g} simulation", **SIMULATION)
        ax_loss.plot(t_th, l_th, color=col[r.alpha], label=f"α={r.alpha:g} theory", **THEORY)
        if ax_res is not None:
            ax_res.plot(tt, np.abs(loss - l_th) / loss[0], color=col[r.alpha], label=f"α={r.alpha:g}", **SIMULATION)
    ls = select(bases, baseline="linreg", point=point, metric="loss_star")
    if not ls.empty:
        ax_loss.axhline(ls["value"].iloc[0], color="grey", label="L* (linear regression)", **REFERENCE)
    ax_loss.set(xlabel=T_LABEL, ylabel="loss")
    ax_loss.legend(fontsize=7, ncol=1)
    if ax_res is not None:
        ax_res.set(xlabel=T_LABEL, ylabel="|L − L_theory| / L0")
        ax_res.legend(fontsize=7)
    return rm
