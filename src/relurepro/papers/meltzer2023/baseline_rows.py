"""Analytic references shared by the meltzer2023 experiments, as long baseline rows.

Window edges (spec §4), the linearised model's loss under GD (spec §10) and the uv-model
recursion of Lewkowycz et al. (spec §5), each from every member's own initial condition.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ... import ntk
from .. import Job
from . import models, trainer, windows

KEYS = ["point", "member", "seed", "eta_lambda0"]
LIN_STEPS = 60


def uv_recursion(f0: float, lam0: float, eta: float, n: int, steps: int) -> dict[str, np.ndarray]:
    """Lewkowycz et al.'s exact scalar iteration of (f_t, lambda_t) for the uv model at (x, y) = (1, 0)."""
    f = np.empty(steps + 1)
    lam = np.empty(steps + 1)
    f[0], lam[0] = f0, lam0
    with np.errstate(all="ignore"):
        for t in range(steps):
            f[t + 1] = (1 - eta * lam[t] + eta**2 * f[t] ** 2 / n) * f[t]
            lam[t + 1] = lam[t] + (eta * f[t] ** 2 / n) * (eta * lam[t] - 4)
    return {"f": f, "lambda": lam}


def member_labels(runs: pd.DataFrame, point: str) -> pd.DataFrame:
    """One row of labels per member of one point, in member order (as trained)."""
    r = runs[runs["point"] == point] if "point" in runs.columns else runs
    cols = [c for c in KEYS + ["lr", "lambda0", "mean_sq_weight0", "slope", "width"] if c in r.columns]
    out = r.drop_duplicates(["point", "member"]).sort_values(["point", "member"])[cols].reset_index(drop=True)
    return out.assign(point=point)


def row(m, baseline: str, metric: str, value, step=0) -> dict:
    return {**{k: m[k] for k in KEYS}, "baseline": baseline, "metric": metric, "value": float(value), "step": int(step)}


def edge_rows(members: pd.DataFrame, upper, baseline="window", extra=None) -> list[dict]:
    rows = []
    for i, m in members.iterrows():
        rows.append(row(m, baseline, "edge_lower", windows.LOWER_EDGE))
        rows.append(row(m, baseline, "edge_upper", np.asarray(upper)[i]))
        for name, vals in (extra or {}).items():
            rows.append(row(m, baseline, name, np.asarray(vals)[i]))
    return rows


def linearised(members: pd.DataFrame, evals: np.ndarray, coef2: np.ndarray, n_steps: int) -> list[dict]:
    """Loss of f_lin under GD: (1/2B) sum_i (1 - eta lambda_i)^{2t} c_i^2, per member."""
    rows = []
    t = np.arange(n_steps + 1)[:, None]
    for i, m in members.iterrows():
        with np.errstate(all="ignore"):
            loss = 0.5 * ((1 - m["lr"] * evals[i][None, :]) ** (2 * t) * coef2[i][None, :]).sum(1) / len(evals[i])
        rows += [row(m, "linearised", "loss", v, s) for s, v in enumerate(loss)]
    return rows


def kernel_linearised(members: pd.DataFrame, k0: torch.Tensor, r0: torch.Tensor, steps: int) -> list[dict]:
    """The linearised loss from the initial NTK ``k0`` ``[M, B, B]`` and residuals ``r0`` ``[M, B]``."""
    evals, evecs = torch.linalg.eigh(k0)
    coef2 = (torch.einsum("mbi,mb->mi", evecs, r0) ** 2).numpy()
    return linearised(members, evals.numpy(), coef2, min(steps, LIN_STEPS))


def mlp_start(job: Job, runs: pd.DataFrame, data: dict, ctx):
    """An MLP job's members re-initialised in float64 on the CPU, with the linearised-loss rows.

    Returns ``(members, setup, lam0 [M] numpy, f0 [M, B] tensor, rows)``.
    """
    members = member_labels(runs, job.point)
    sub = {n: data[n] for n in ([job.params["dataset"]] if "dataset" in job.params else [])}
    s = trainer.mlp_setup(job, sub, ctx, dtype=torch.float64)
    ps, slope, scale, lam0 = trainer.mlp_initial(job, s, torch.device("cpu"))
    with torch.no_grad():
        k0 = ntk.ntk_mlp(ps, s["x"], s["act"], slope, scale)
        f0 = models.mlp_forward(ps, s["x"], s["act"], slope, scale)[0][..., 0]
    rows = kernel_linearised(members, k0, f0 - s["y"][:, 0], int(job.params["steps"]))
    return members, s, lam0.numpy(), f0, rows


def relu_baselines(jobs: dict[str, Job], runs: pd.DataFrame, data: dict, ctx, experiment: str) -> pd.DataFrame:
    """ReLU nets (E_c4, E_c5): the linearised loss, the window edge 4 and Lewkowycz et al.'s bound on ηλ₀."""
    rows: list[dict] = []
    for job in jobs.values():
        members, _, _, _, lin = mlp_start(job, runs, data, ctx)
        rows += lin
        rows += edge_rows(members, np.full(len(members), windows.RELU_EDGE))
        rows += [
            row(m, "lewkowycz_relu_max", "eta_lambda0_max", windows.LEWKOWYCZ_RELU_MAX) for _, m in members.iterrows()
        ]
    return frame(rows, experiment)


def frame(rows: list[dict], experiment: str) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    if not out.empty:
        out["experiment"] = experiment
    return out
