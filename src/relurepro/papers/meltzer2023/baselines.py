"""Analytic references per experiment: window edges, uv recursion, linearised-model loss, 12/lambda_0 marker."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ... import ntk
from ...papers import Job
from . import experiments, quadratic_parts, windows

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


def _members(runs: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in KEYS + ["lr", "lambda0", "mean_sq_weight0", "slope", "width"] if c in runs.columns]
    return runs.drop_duplicates(["point", "member"]).sort_values(["point", "member"])[cols].reset_index(drop=True)


def _rows(m, baseline: str, metric: str, value, step=0) -> dict:
    return {**{k: m[k] for k in KEYS}, "baseline": baseline, "metric": metric, "value": float(value), "step": int(step)}


def _edge_rows(members: pd.DataFrame, upper, baseline="window", extra=None) -> list[dict]:
    rows = []
    for i, m in members.iterrows():
        rows.append(_rows(m, baseline, "edge_lower", windows.LOWER_EDGE))
        rows.append(_rows(m, baseline, "edge_upper", np.asarray(upper)[i]))
        for name, vals in (extra or {}).items():
            rows.append(_rows(m, baseline, name, np.asarray(vals)[i]))
    return rows


def _linearised(members: pd.DataFrame, evals: np.ndarray, coef2: np.ndarray, n_steps: int) -> list[dict]:
    """Loss of f_lin under GD: (1/2B) sum_i (1 - eta lambda_i)^{2t} c_i^2, per member."""
    rows = []
    t = np.arange(n_steps + 1)[:, None]
    for i, m in members.iterrows():
        with np.errstate(all="ignore"):
            loss = 0.5 * ((1 - m["lr"] * evals[i][None, :]) ** (2 * t) * coef2[i][None, :]).sum(1) / len(evals[i])
        rows += [_rows(m, "linearised", "loss", v, s) for s, v in enumerate(loss)]
    return rows


def baselines(experiment: str, points: dict, runs: pd.DataFrame, data, ctx) -> pd.DataFrame:
    """All references for one experiment, from each member's own initial condition."""
    rows: list[dict] = []
    for point, params in points.items():
        job = Job(experiment, point, params)
        r = runs[runs["point"] == point] if "point" in runs.columns else runs
        members = _members(r).assign(point=point)
        steps = int(params["steps"])
        if params["model"] == "pure_quadratic":
            psi, zeta, theta, lam0 = experiments.quadratic_setup(job, torch.device("cpu"))
            with torch.no_grad():
                k0 = ntk.ntk_quadratic(theta, psi, zeta)
                up = windows.quadratic_psi_eff_edge(theta, psi, zeta, k0).numpy()
                om = windows.quadratic_omega_edge(theta, psi, zeta, lam0).numpy()
                f0 = experiments.models.quadratic_forward(theta, psi, zeta)[:, :, 0].numpy()
            rows += _edge_rows(members, up, extra={"edge_upper_omega": om})
            r0 = f0 - float(params["y"])
            rows += _linearised(members, lam0.numpy()[:, None], r0**2, min(steps, LIN_STEPS))
            continue
        if params["model"] == "quadratic":
            st = quadratic_parts.setup(params, len(members))
            q, ps = st["q"], st["params"]
            with torch.no_grad():
                edges = {k: v.numpy() for k, v in q.edges(ps, st["psi"], st["phi"]).items()}
                k0 = q.ntk(ps, st["psi"], st["phi"])
                r0 = (q.forward(ps, st["psi"], st["phi"]) - st["y"])[..., 0]
            up = edges.pop("edge_upper")
            rows += _edge_rows(members, up, extra=edges)
            evals, evecs = torch.linalg.eigh(k0)
            coef2 = (torch.einsum("mbi,mb->mi", evecs, r0) ** 2).numpy()
            rows += _linearised(members, evals.numpy(), coef2, min(steps, LIN_STEPS))
            continue
        sub = {p: data[p] for p in ([params["dataset"]] if "dataset" in params else [])}
        s = experiments.mlp_setup(job, sub, ctx, dtype=torch.float64)
        ens = experiments._members(params)
        ps, slope, scale, lam0 = experiments.mlp_initial(job, s, ens, torch.device("cpu"))
        with torch.no_grad():
            k0 = ntk.ntk_mlp(ps, s["x"], s["act"], slope, scale)
            f0 = experiments.models.mlp_forward(ps, s["x"], s["act"], slope, scale)[0][..., 0]
        evals, evecs = torch.linalg.eigh(k0)
        r0 = f0 - s["y"][:, 0]
        coef2 = (torch.einsum("mbi,mb->mi", evecs, r0) ** 2).numpy()
        rows += _linearised(members, evals.numpy(), coef2, min(steps, LIN_STEPS))
        msw = members["mean_sq_weight0"].to_numpy()
        lam = lam0.numpy()
        if params["model"] == "relu":
            rows += _edge_rows(members, np.full(len(members), windows.RELU_EDGE))
            rows += [_rows(m, "lewkowycz_relu_max", "eta_lambda0_max", 12.0) for _, m in members.iterrows()]
        else:
            rows += _edge_rows(members, windows.leaky_edge(lam, msw, s["x"].numpy()))
        if params["model"] == "uv":
            n = int(params["width"])
            for i, m in members.iterrows():
                rec = uv_recursion(float(f0[i, 0]), float(lam[i]), float(m["lr"]), n, steps)
                loss = 0.5 * rec["f"] ** 2
                for metric, vals in (
                    ("loss", loss),
                    ("eta_lambda", m["lr"] * rec["lambda"]),
                    ("theta2_ratio", rec["lambda"] / rec["lambda"][0]),
                ):
                    rows += [_rows(m, "uv_recursion", metric, v, t) for t, v in enumerate(vals)]
            # the recursion's final curvature on a fine eta*lambda_0 grid (same init as member 0)
            m0 = members.iloc[0]
            for el in np.round(np.arange(0.02, 4.5 + 1e-9, 0.02), 4):
                rec = uv_recursion(float(f0[0, 0]), float(lam[0]), el / float(lam[0]), n, steps)
                row = _rows(m0, "uv_recursion_curve", "eta_lambda_final", el / lam[0] * rec["lambda"][-1], steps)
                row["eta_lambda0"] = float(el)
                row["member"] = -1
                rows.append(row)
                row2 = {**row, "metric": "loss_final", "value": float(0.5 * rec["f"][-1] ** 2)}
                rows.append(row2)
    out = pd.DataFrame(rows)
    if not out.empty:
        out["experiment"] = experiment
    return out
