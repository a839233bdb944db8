"""The full-batch GD loop shared by the meltzer2023 experiments, and the set-up of their models.

Every job trains its members (learning rates x seeds) as one ensemble and logs, per member: the
loss, the weight-norm ratio theta^2_t/theta^2_0, eta*lambda_t on an NTK schedule, and the final
summaries (final loss, max_t L_t/L_0, final norm ratio and curvature, plus model-specific ones
such as the per-layer sparsity). Learning rates are set per member: eta = eta*lambda_0 / lambda_0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ... import ntk
from ...engine import MLPLoss, half_mse
from ...engine import progress as engine_progress
from ...engine import train as engine_train
from .. import Job
from . import models, quadratic_parts
from .grid_common import fmt

MODELS_ACTIVATION = {"uv": "linear", "leaky": "leaky", "relu": "relu"}


def shared_seed(job: Job) -> int:
    """The one seed of a job whose members share their initial weights (they differ only in the LR)."""
    seeds = set(job.column("seed"))
    if len(seeds) != 1:
        raise ValueError(f"{job.key}: members must share one seed, got {sorted(seeds)}")
    return int(seeds.pop())


def ntk_schedule(steps: int, dense: int, every: int) -> set[int]:
    """Steps at which the (expensive) top NTK eigenvalue is logged: dense early, sparse later."""
    return {s for s in range(steps + 1) if s <= dense or s % max(1, every) == 0 or s == steps}


def per_member_lr(job: Job, lam0: torch.Tensor) -> torch.Tensor:
    """eta = (eta*lambda_0) / lambda_0, per member, on lambda_0's dtype and device."""
    return job.tensor("eta_lambda0", dtype=lam0.dtype, device=lam0.device) / lam0


# ---------------------------------------------------------------- MLPs (uv, leaky, ReLU)


def mlp_setup(job: Job, data: dict, ctx, dtype=None) -> dict:
    """Inputs, targets and the activation of an MLP job; toy experiments always run in float64."""
    p = job.params
    if dtype is None:
        dtype = getattr(torch, p["dtype"]) if "dtype" in p else torch.float64
    dev = ctx.device
    if "dataset" in p:
        arr = data[p["dataset"]]
        x, y = arr["x_train"], arr["y_train"]
        xt, yt = arr["x_test"], arr["y_test"]
    elif p.get("part") is not None:
        x, y, xt, yt = (None if a is None else a.numpy() for a in quadratic_parts.inputs(p))
    else:
        x, y = np.array([[float(p.get("x", 1.0))]]), np.array([float(p.get("y", 0.0))])
        xt = yt = None

    def t(a):
        return None if a is None else torch.as_tensor(np.asarray(a, dtype=float), dtype=dtype, device=dev)

    return {
        "x": t(x),
        "y": t(np.asarray(y).reshape(-1, 1)),
        "x_test": t(xt),
        "y_test": None if yt is None else t(np.asarray(yt).reshape(-1, 1)),
        "act": MODELS_ACTIVATION[p["model"]],
        "dtype": dtype,
        "depth": int(p.get("depth", 1)),
        "d": int(np.asarray(x).shape[1]),
    }


def mlp_initial(job: Job, s: dict, device):
    """Initial weights (per-member seeds), slopes, output scale and per-member lambda_0."""
    p = job.params
    params = models.mlp_init(job.column("seed"), s["d"], p["width"], s["depth"], dtype=s["dtype"], device=device)
    slope = torch.full((len(job.members),), float(p.get("slope", 0.0)), dtype=params[0].dtype, device=params[0].device)
    scale = models.mlp_scale(s["d"], p["width"], s["depth"])
    with torch.no_grad():
        lam0 = ntk.top_eig(ntk.ntk_mlp(params, s["x"], s["act"], slope, scale))
    return params, slope, scale, lam0


def train_mlp(job: Job, data: dict, ctx) -> pd.DataFrame:
    """Train an MLP job (uv, leaky or ReLU, any depth) by full-batch GD on 1/2 MSE."""
    p = job.params
    s = mlp_setup(job, data, ctx)
    params, slope, scale, lam0 = mlp_initial(job, s, ctx.device)
    lr = per_member_lr(job, lam0)
    msw0 = (models.theta_sq(params) / models.n_params(params)).cpu().numpy()
    labels = job.labels().assign(
        lr=lr.cpu().numpy(),
        lambda0=lam0.cpu().numpy(),
        mean_sq_weight0=msw0,
        width=p["width"],
        depth=s["depth"],
        model=p["model"],
        activation=s["act"],
        slope=float(p.get("slope", 0.0)),
        dataset=p.get("dataset", f"x{fmt(p.get('x', 1.0))}_y{fmt(p.get('y', 0.0))}"),
        device=str(params[0].device),  # provenance as the tensors ran: E_c5 trains in its own dtype
        dtype=str(params[0].dtype).removeprefix("torch."),
    )

    def lam_fn(ps):
        return ntk.top_eig(ntk.ntk_mlp(ps, s["x"], s["act"], slope, scale))

    def extra_final(ps):
        out, pre = models.mlp_forward(ps, s["x"], s["act"], slope, scale)
        res = {f"sparsity_l{i + 1}": sp for i, sp in enumerate(models.sparsity(pre))}
        res["train_acc"] = ((out * s["y"]) > 0).to(out.dtype).mean(dim=(-2, -1))
        if s["x_test"] is not None:
            ot = models.mlp_forward(ps, s["x_test"], s["act"], slope, scale)[0]
            res["test_loss"] = 0.5 * ((ot - s["y_test"]) ** 2).sum(-1).mean(-1)
            res["test_acc"] = ((ot * s["y_test"]) > 0).to(ot.dtype).mean(dim=(-2, -1))
        return res

    loss_fn = MLPLoss(s["x"], s["y"], slope, activation=s["act"], scale=scale)
    return run(job, ctx, params, loss_fn, lam_fn, lr, labels, extra_final)


# ---------------------------------------------------------------- pure quadratic model (E_c2)


def quadratic_setup(job: Job, device):
    """Meta-feature psi ``[1, n, n]``, zeta, initial theta and lambda_0 of the pure quadratic model."""
    p = job.params
    seed = shared_seed(job)
    meta = models.quadratic_meta(p["n"], 1, p["lambda_low"], p["lambda_high"], seed).to(device)
    psi = models.quadratic_psi(meta, torch.tensor([[float(p["x"])]], dtype=torch.float64, device=device))
    zeta = (p["n"] / 2) ** -0.5
    theta = models.quadratic_init(seed, len(job.members), p["n"]).to(device).detach().requires_grad_()
    with torch.no_grad():
        lam0 = ntk.top_eig(ntk.ntk_quadratic(theta, psi, zeta))
    return psi, zeta, theta, lam0


def train_pure_quadratic(job: Job, ctx) -> pd.DataFrame:
    p = job.params
    psi, zeta, theta, lam0 = quadratic_setup(job, ctx.device)
    lr = per_member_lr(job, lam0)
    y = torch.full((1, 1), float(p["y"]), dtype=torch.float64, device=ctx.device)
    labels = job.labels().assign(
        lr=lr.cpu().numpy(),
        lambda0=lam0.cpu().numpy(),
        mean_sq_weight0=(theta.detach().pow(2).mean(1)).cpu().numpy(),
        width=p["n"],
        depth=0,
        model="pure_quadratic",
        activation="linear",
        slope=float("nan"),
        dataset=f"x{fmt(p['x'])}_y{fmt(p['y'])}",
    )

    def loss_fn(ps):
        return half_mse(models.quadratic_forward(ps[0], psi, zeta), y)

    def lam_fn(ps):
        return ntk.top_eig(ntk.ntk_quadratic(ps[0], psi, zeta))

    return run(job, ctx, [theta], loss_fn, lam_fn, lr, labels, lambda ps: {})


# ---------------------------------------------------------------- quadratic variants (E_c6)


def train_quadratic_part(job: Job, ctx) -> pd.DataFrame:
    """E_c6 quadratic variants (multi-sample, teacher-student, with bias), float64."""
    p = job.params
    st = quadratic_parts.setup(p, len(job.members))
    q, params = st["q"], st["params"]
    with torch.no_grad():
        lam0 = ntk.top_eig(q.ntk(params, st["psi"], st["phi"]))
    lr = per_member_lr(job, lam0)
    labels = job.labels().assign(
        lr=lr.numpy(),
        lambda0=lam0.numpy(),
        mean_sq_weight0=(models.theta_sq(params) / models.n_params(params)).numpy(),
        width=int(p["meta_dim"]),
        depth=0,
        model=f"quadratic_{p['part']}",
        activation=p.get("psi_act", "linear"),
        slope=float("nan"),
        dataset=p["part"],
        device=str(params[0].device),  # the quadratic parts are set up on the CPU whatever ctx.device is
        dtype=str(params[0].dtype).removeprefix("torch."),
    )

    def loss_fn(ps):
        return half_mse(q.forward(ps, st["psi"], st["phi"]), st["y"])

    def lam_fn(ps):
        return ntk.top_eig(q.ntk(ps, st["psi"], st["phi"]))

    def extra_final(ps):
        if st["xt"] is None:
            return {}
        return {"test_loss": quadratic_parts.test_loss(q, ps, st["xt"], st["yt"])}

    return run(job, ctx, params, loss_fn, lam_fn, lr, labels, extra_final)


# ---------------------------------------------------------------- the loop


def run(job: Job, ctx, params, loss_fn, lam_fn, lr, labels: pd.DataFrame, extra_final) -> pd.DataFrame:
    """Shared GD loop: logs loss, theta^2 ratio, eta*lambda_t on the NTK schedule, and summaries."""
    p = job.params
    steps = p["steps"]
    theta0 = models.theta_sq(params)
    log_steps = np.unique(np.append(np.arange(0, steps + 1, max(1, p["log_every"])), steps))
    dense = p.get("ntk_dense_steps", steps)
    sched = ntk_schedule(steps, dense, p.get("ntk_every", 1))
    calls = iter(log_steps)
    nan = torch.full_like(lr, float("nan"))

    def metrics(ps, loss):
        step = int(next(calls))
        out = {"theta2_ratio": models.theta_sq(ps) / theta0}
        out["eta_lambda"] = lr * lam_fn(ps) if step in sched else nan
        return out

    hist = engine_train(
        params,
        loss_fn,
        lr,
        steps,
        log_steps=log_steps,
        metrics=metrics,
        diverge_above=p["diverge_above"],
        on_log=engine_progress(ctx.log, f"meltzer2023 {job.key}", steps),
    )
    df = hist.frame(labels)
    df = df[~((df["metric"] == "eta_lambda") & ~df["step"].isin(sched))]
    loss = hist.metrics["loss"]
    l0 = loss[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        max_ratio = np.nanmax(np.where(np.isnan(loss), np.inf, loss), axis=0) / l0
    el = hist.metrics["eta_lambda"]
    summary = {
        "final_loss": loss[-1],
        "loss_max_ratio": max_ratio,
        "theta2_final_ratio": hist.metrics["theta2_ratio"][-1],
        "eta_lambda_final": el[-1],
    }
    with torch.no_grad():
        summary.update({k: v.cpu().numpy() for k, v in extra_final(hist.final_params).items()})
    parts = [df]
    for name, vals in summary.items():
        parts.append(
            labels.assign(member=np.arange(len(labels)), step=steps, metric=name, value=np.asarray(vals, dtype=float))
        )
    out = pd.concat(parts, ignore_index=True)
    for col in ("diverged", "diverged_step"):
        out[col] = out["member"].map(df.groupby("member")[col].first())
    out.insert(0, "experiment", job.experiment)
    return out
