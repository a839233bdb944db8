"""Training of the base ERM estimator A and the evaluation of A, B (deepened) and C (bad) per member.

A job is one (d, m); its members are seeds, each with its own sample (stacked ``[M, m, d]``). A is
a biased ReLU MLP trained by the engine (Adam, full batch) on the first ``1 - val_fraction`` of each
member's sample, keeping each member's best of ``checkpoints`` logged steps on the rest (``Select``).
A's best weights then go to float64, where B and C are built on all m samples and evaluated.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ... import engine
from ...losses import MLPLoss
from .. import Job
from . import bumps
from .data import target


def init_base(seeds, d: int, width: int, depth: int, *, dtype, device) -> list[torch.Tensor]:
    """He-normal weights of a biased ReLU MLP with ``depth`` linear layers; the first layer's kinks
    ``-b/w`` land at uniform points of [0,1]^d (b = -w.u), the other biases start at 0."""
    sizes = [d] + [width] * (depth - 1) + [1]
    params = engine.init_layers(seeds, sizes, lambda fan_in: math.sqrt(2.0 / fan_in), bias=True, dtype=dtype)
    gens = engine.generators([s + 7919 for s in seeds])  # apart from the weights' stream
    u = torch.stack([torch.rand(d, width, generator=g, dtype=torch.float64) for g in gens]).to(dtype)
    with torch.no_grad():
        params[1].copy_(-(params[0] * u).sum(1, keepdim=True))
    return [p.to(device).detach().requires_grad_() for p in params]


def split(m: int, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation indices of a sample of size m (the data are i.i.d., so the last part validates)."""
    n_val = max(1, int(round(val_fraction * m)))
    return np.arange(m - n_val), np.arange(m - n_val, m)


def train_base(job: Job, data: dict, ctx, p: dict, label: str):
    """Train A for every member; returns ``(best params in float64, engine rows)``."""
    dtype = getattr(torch, p["dtype"])
    x, y = data["x_train"], data["y_train"]
    tr, va = split(x.shape[1], p["val_fraction"])

    def t(a):
        return torch.as_tensor(np.ascontiguousarray(a), dtype=dtype, device=ctx.device)

    x_tr, y_tr, x_va, y_va = t(x[:, tr]), t(y[:, tr, None]), t(x[:, va]), t(y[:, va, None])
    params = init_base(job.column("seed"), x.shape[2], p["width"], p["depth"], dtype=dtype, device=ctx.device)
    loss = MLPLoss(x_tr, y_tr, bias=True, activation="relu")

    def metrics(ps, loss_value):
        pred = engine.mlp(ps, x_va, bias=True, activation="relu")
        return {"train_mse": 2 * loss_value, "val_mse": ((pred - y_va) ** 2).mean(dim=(1, 2))}

    steps = int(p["steps"])
    logged = np.unique(np.linspace(0, steps, p["checkpoints"] + 1).round().astype(int))[1:]
    lr = torch.full((len(job.members),), float(p["lr"]), dtype=dtype, device=ctx.device)
    hist = engine.train(
        params,
        loss,
        lr,
        steps,
        optimizer="adam",
        log_steps=logged,
        metrics=metrics,
        select=engine.Select("val_mse", "min"),
        on_log=engine.progress(ctx.log, label, steps),
    )
    best = [q.detach().to(torch.float64) for q in hist.best_params]
    return best, hist.frame(job.labels())


def _rows(member_values: dict[str, torch.Tensor], **labels) -> list[dict]:
    """Long rows ``{member, metric, value, **labels}`` from ``{metric: [M] tensor}``."""
    out = []
    for metric, v in member_values.items():
        for i, value in enumerate(np.asarray(v.cpu() if isinstance(v, torch.Tensor) else v, dtype=float).ravel()):
            out.append({"member": i, "metric": metric, "value": float(value), **labels})
    return out


def evaluate(base, data: dict, p: dict, tau_factor: float, ctx) -> list[dict]:
    """Train MSE over all m samples and excess risk of A, B and C for one bump radius ``tau_factor x sep``.

    d = 1: risks by the bump-resolving trapezoid quadrature (:mod:`.bumps`); d > 1: Monte Carlo on the
    test points (which does not see the bumps; the analytic S stands in for them).
    """
    f64 = {"dtype": torch.float64, "device": ctx.device}
    x = torch.as_tensor(data["x_train"], **f64)
    y = torch.as_tensor(data["y_train"], **f64)
    x_test = torch.as_tensor(data["x_test"], **f64)
    m_members, m, d = x.shape
    sep = bumps.min_separation(x)
    tau = tau_factor * sep
    resid = y - bumps.net_output(base, x)
    b_net = bumps.Deepened(base, x, tau, resid, chunk=p["chunk"])
    f = target(p["target"], d)

    parts = b_net.parts(x, y[:, :, None])
    train = {
        "interp_mse_A": (resid**2).mean(-1),
        "interp_mse_B": ((parts[..., 0] - y) ** 2).mean(-1),
        "interp_mse_C": ((parts[..., 1] - y) ** 2).mean(-1),
    }
    if d == 1:
        nodes = bumps.quadrature_nodes(x_test[..., 0], x[..., 0], tau, p["bump_points"] // 2 + 1)
        weights = bumps.quadrature_weights(nodes)
        inside = bumps.nodes_inside(nodes, x[..., 0], tau).min(-1).values
        points = nodes[..., None]
    else:
        points = x_test
        weights = torch.full(points.shape[:2], 1.0 / points.shape[1], **f64)
        inside = torch.full((m_members,), float("nan"), **f64)
    truth = torch.as_tensor(f(points.cpu().numpy()), **f64)
    out = b_net.parts(points, y[:, :, None])
    risk_b = (weights * (out[..., 0] - truth) ** 2).sum(-1)
    risk_c = (weights * (out[..., 1] - truth) ** 2).sum(-1)
    risk_a = (weights * (bumps.net_output(base, points) - truth) ** 2).sum(-1)
    bump_sq = 2 * tau / 3 if d == 1 else tau**2 / 3  # the integral of T^2 over R^d (d = 1, 2)
    per_member = {
        **train,
        "risk_A": risk_a,
        "risk_B": risk_b,
        "risk_C": risk_c,
        "tau": tau,
        "min_sep": sep,
        "bump_measure": m * tau**d,
        "sum_resid_sq": (resid**2).sum(-1),
        "S": (resid**2).sum(-1) * bump_sq,
        "min_nodes_in_bump": inside,
    }
    return _rows(per_member, tau_factor=float(tau_factor))


def curves(base, data: dict, p: dict, tau_factor: float, ctx, n_plot: int = 2001) -> list[dict]:
    """Member 0's f, A, B and C on [0,1] (d = 1) at uniform points plus 9 nodes across every bump, and its data.

    Vector rows (``coord`` = position) for the interpolants figure, which reads only the aggregated tables.
    """
    f64 = {"dtype": torch.float64, "device": ctx.device}
    x = torch.as_tensor(data["x_train"][:1], **f64)
    y = torch.as_tensor(data["y_train"][:1], **f64)
    tau = tau_factor * bumps.min_separation(x)
    base = [q[:1] for q in base]
    b_net = bumps.Deepened(base, x, tau, y - bumps.net_output(base, x), chunk=p["chunk"])
    uniform = torch.linspace(0.0, 1.0, n_plot, **f64)[None]
    nodes = bumps.quadrature_nodes(uniform, x[..., 0], tau, 4)
    out = b_net.parts(nodes[..., None], y[:, :, None])[0]
    values = {
        "curve_x": nodes[0],
        "curve_f": torch.as_tensor(target(p["target"], 1)(nodes[0, :, None].cpu().numpy()), **f64),
        "curve_A": bumps.net_output(base, nodes[..., None])[0],
        "curve_B": out[:, 0],
        "curve_C": out[:, 1],
        "data_x": x[0, :, 0],
        "data_y": y[0],
    }
    rows = []
    for metric, v in values.items():
        arr = v.cpu().numpy()
        rows += [
            {"member": 0, "metric": metric, "value": float(val), "coord": k, "tau_factor": tau_factor}
            for k, val in enumerate(arr)
        ]
    return rows


def frame(
    job: Job, engine_rows: pd.DataFrame, rows: list[dict], steps: int, train_dtype: str, **labels
) -> pd.DataFrame:
    """The job's long table: the engine's training rows of A (in ``train_dtype``) and the evaluation rows
    at the last step (float64: the provenance column says what the tensors used)."""
    member_labels = engine_rows.drop_duplicates("member").drop(columns=["step", "metric", "value"])
    extra = pd.DataFrame(rows).assign(step=steps, dtype="float64").merge(member_labels, on="member", how="left")
    training = engine_rows.assign(tau_factor=np.nan, dtype=train_dtype)
    out = pd.concat([training, extra], ignore_index=True)
    if "coord" not in out.columns:
        out["coord"] = np.nan
    return out.assign(**labels)


def overparam(job: Job, data: dict, ctx, p: dict, label: str) -> list[dict]:
    """The over-parameterised net D: trained by Adam on all m samples towards zero training error.

    Its excess risk is taken on the sorted test points (trapezoid, d = 1) or by Monte Carlo (d > 1):
    D's kinks are not known in advance, so no quadrature is exact for it; it is reported, never judged.
    """
    o = p["overparam"]
    dtype = getattr(torch, p["dtype"])
    x = torch.as_tensor(data["x_train"], dtype=dtype, device=ctx.device)
    y = torch.as_tensor(data["y_train"][..., None], dtype=dtype, device=ctx.device)
    params = init_base(job.column("seed"), x.shape[2], int(o["width"]), int(o["depth"]), dtype=dtype, device=ctx.device)
    lr = torch.full((len(job.members),), float(o["lr"]), dtype=dtype, device=ctx.device)
    steps = int(o["steps"])
    engine.train(
        params,
        MLPLoss(x, y, bias=True, activation="relu"),
        lr,
        steps,
        optimizer="adam",
        schedule="cosine",
        log_steps=np.array([steps]),
        on_log=engine.progress(ctx.log, label, steps),
    )
    f64 = [q.detach().to(torch.float64) for q in params]
    xt = torch.as_tensor(data["x_test"], dtype=torch.float64, device=ctx.device)
    d = x.shape[2]
    if d == 1:
        xt = torch.sort(torch.cat([xt, torch.zeros_like(xt[:, :1]), torch.ones_like(xt[:, :1])], 1), dim=1).values
        weights = bumps.quadrature_weights(xt[..., 0])
    else:
        weights = torch.full(xt.shape[:2], 1.0 / xt.shape[1], dtype=torch.float64, device=ctx.device)
    truth = torch.as_tensor(target(p["target"], d)(xt.cpu().numpy()), dtype=torch.float64, device=ctx.device)
    risk = (weights * (bumps.net_output(f64, xt) - truth) ** 2).sum(-1)
    train_mse = ((bumps.net_output(f64, x) - y[..., 0].to(torch.float64)) ** 2).mean(-1)
    return _rows({"risk_D": risk, "interp_mse_D": train_mse}, tau_factor=float("nan"))


def run(job: Job, data: dict, ctx) -> pd.DataFrame:
    """One job of E_b1 or E_b2: train A, then evaluate A, B and C at each bump radius of ``tau_factors``
    (the curves of the interpolants figure where ``m`` is in ``plot``, and D where ``overparam`` is set)."""
    p = job.params
    (arrays,) = data.values()
    base, rows_a = train_base(job, arrays, ctx, p, f"lin2021 {job.key} A")
    rows = []
    for factor in p["tau_factors"]:
        rows += evaluate(base, arrays, p, factor, ctx)
    if p["d"] == 1 and p["m"] in p.get("plot", []):
        rows += curves(base, arrays, p, p["tau_factors"][0], ctx)
    if p.get("overparam"):
        rows += overparam(job, arrays, ctx, p, f"lin2021 {job.key} D")
    return frame(job, rows_a, rows, int(p["steps"]), p["dtype"], d=p["d"], m=p["m"], width=p["width"])
