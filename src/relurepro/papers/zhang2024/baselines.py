"""Analytic baselines of zhang2024: Saxe time courses from each run's own draws; regression floors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import theory

LABELS = ["point", "member", "seed", "alpha", "slope", "role", "init_scale", "lr", "sigma0"]


def _floor_rows(experiment: str, point: str, x, y) -> list[dict]:
    _, l_star = theory.linreg(x, y)
    rows = [dict(experiment=experiment, baseline="linreg", point=point, step=np.nan, metric="loss_star", value=l_star)]
    rows.append(
        dict(
            experiment=experiment,
            baseline="half_y2",
            point=point,
            step=np.nan,
            metric="loss",
            value=0.5 * float((y**2).sum(-1).mean()),
        )
    )
    return rows


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
        base = {k: lab[k] for k in LABELS if k in lab.index}
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


def baselines(experiment: str, points: dict, runs: pd.DataFrame, data, ctx) -> pd.DataFrame:
    """Closed-form references for one experiment, computed from its runs and data."""
    parts = []
    for point, params in points.items():
        if "data" not in params:
            continue
        d = data[params["data"]]
        x, y = d["x"], d["y"]
        parts.append(pd.DataFrame(_floor_rows(experiment, point, x, y)))
        sel = runs[runs["point"] == point]
        if experiment in ("E3", "E4", "E5", "E6") and params.get("modes", True):
            parts.append(saxe_for_runs(experiment, point, sel, x, y))
            ctx.log(f"zhang2024 {experiment}/{point}: Saxe time courses for {sel['member'].nunique()} runs")
    if not parts:
        return pd.DataFrame(columns=["experiment", "baseline", "step", "metric", "value"])
    return pd.concat(parts, ignore_index=True)
