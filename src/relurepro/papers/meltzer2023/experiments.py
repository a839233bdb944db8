"""Grid, data and training of the Meltzer & Liu experiments (E_c1..E_c6)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from ... import data as shared_data
from ... import ntk
from ...engine import MLPLoss, half_mse, member_tensor
from ...engine import train as engine_train
from ...papers import Job
from . import models, quadratic_parts

TOY = {"E_c1", "E_c2", "E_c3", "E_c4"}


def _fmt(v: float) -> str:
    return f"{v:g}"


# ---------------------------------------------------------------- grid


def grid(cfg: dict) -> list[Job]:
    """One job per (experiment, shape point); learning rates and seeds are ensemble members."""
    exps, jobs = cfg.get("experiments", {}), []
    e = exps.get("E_c1", {})
    if e.get("enabled", False):
        for n in e["widths"]:
            jobs.append(Job("E_c1", f"n{n}", {**_common(e), "width": n, "model": "uv"}))
    e = exps.get("E_c2", {})
    if e.get("enabled", False):
        keys = ("n", "lambda_low", "lambda_high", "x", "y")
        jobs.append(Job("E_c2", f"n{e['n']}", {**_common(e), **{k: e[k] for k in keys}, "model": "pure_quadratic"}))
    e = exps.get("E_c3", {})
    if e.get("enabled", False):
        for a in e["slopes"]:
            params = {**_common(e), "width": e["width"], "slope": a, "x": e["x"], "y": e["y"], "model": "leaky"}
            jobs.append(Job("E_c3", f"a{_fmt(a)}_w{e['width']}", params))
    e = exps.get("E_c4", {})
    if e.get("enabled", False):
        jobs.append(
            Job(
                "E_c4", f"w{e['width']}", {**_common(e), "width": e["width"], "x": e["x"], "y": e["y"], "model": "relu"}
            )
        )
    e = exps.get("E_c5", {})
    if e.get("enabled", False):
        for name in e["datasets"]:
            spec = dataset_spec(name, e)
            for w in e["widths"]:
                for depth in e["depths"]:
                    params = {
                        **_common(e),
                        "width": w,
                        "depth": depth,
                        "dataset": name,
                        "model": "relu",
                        "dtype": e["dtype"],
                        "ntk_dense_steps": e["ntk_dense_steps"],
                        "ntk_every": e["ntk_every"],
                    }
                    jobs.append(Job("E_c5", f"{name}_w{w}_L{depth}", params, {name: spec}))
    e = exps.get("E_c6", {})
    if e.get("enabled", False):
        for part in e["parts"]:
            q = e[part]
            params = {
                **_common({**q, "diverge_above": e["diverge_above"], "log_every": e["log_every"]}),
                **q,
                "part": part,
            }
            jobs.append(Job("E_c6", part, params))
    return jobs


def _common(e: dict) -> dict:
    seeds = e["seeds"] if "seeds" in e else [e["seed"]]
    return {
        "eta_lambda0": [float(v) for v in e["eta_lambda0"]],
        "steps": int(e["steps"]),
        "seeds": [int(s) for s in seeds],
        "diverge_above": float(e["diverge_above"]),
        "log_every": int(e.get("log_every", 1)),
    }


def dataset_spec(name: str, e: dict) -> dict:
    """The generation spec of a named E_c5 data set (includes its seed)."""
    base = {"n_train": int(e["n_train"]), "seed": int(e["data_seed"])}
    if name.startswith("digits") or name.startswith("mnist"):
        return {**base, "kind": name[:-2], "a": int(name[-2]), "b": int(name[-1])}
    if name == "templates":
        t = e["templates"]
        return {**base, "kind": "templates", "d": int(t["d"]), "n_test": int(t["n_test"]), "noise": float(t["noise"])}
    if name == "gaussian":
        t = e["templates"]
        return {**base, "kind": "gaussian", "d": int(t["d"]), "n_test": int(t["n_test"])}
    raise ValueError(f"unknown data set {name!r}")


def make_dataset(name: str, spec: dict) -> dict[str, np.ndarray]:
    """Load or generate one data set per its spec."""
    kind = spec["kind"]
    if kind == "digits":
        return shared_data.digits_pair(spec["a"], spec["b"], spec["n_train"], spec["seed"])
    if kind == "mnist":
        return shared_data.mnist_pair(spec["a"], spec["b"], spec["n_train"], spec["seed"])
    if kind == "templates":
        return shared_data.templates(spec["d"], spec["n_train"], spec["n_test"], spec["noise"], spec["seed"])
    if kind == "gaussian":
        return shared_data.gaussian_sign(spec["d"], spec["n_train"], spec["n_test"], spec["seed"])
    raise ValueError(f"unknown data kind {kind!r}")


# ---------------------------------------------------------------- training


def _members(p: dict) -> pd.DataFrame:
    rows = [(s, float(e)) for s in p["seeds"] for e in p["eta_lambda0"]]
    return pd.DataFrame(rows, columns=["seed", "eta_lambda0"])


def ntk_schedule(steps: int, dense: int, every: int) -> set[int]:
    """Steps at which the (expensive) top NTK eigenvalue is logged: dense early, sparse later."""
    return {s for s in range(steps + 1) if s <= dense or s % max(1, every) == 0 or s == steps}


def mlp_setup(job: Job, data: dict, ctx, dtype=None) -> dict:
    """Inputs, targets and the activation of an MLP job; toy experiments always run in float64."""
    p = job.params
    if dtype is None:
        dtype = getattr(torch, p["dtype"]) if "dtype" in p else torch.float64
    dev = ctx.device
    if job.experiment == "E_c5":
        arr = data[p["dataset"]]
        x, y = arr["x_train"], arr["y_train"]
        xt, yt = arr["x_test"], arr["y_test"]
    elif job.experiment == "E_c6":
        x, y, xt, yt = (None if a is None else a.numpy() for a in quadratic_parts.inputs(p))
    else:
        x, y = np.array([[float(p.get("x", 1.0))]]), np.array([float(p.get("y", 0.0))])
        xt = yt = None

    def t(a):
        return None if a is None else torch.as_tensor(np.asarray(a, dtype=float), dtype=dtype, device=dev)

    act = {"uv": "linear", "leaky": "leaky", "relu": "relu"}[p["model"]]
    return {
        "x": t(x),
        "y": t(np.asarray(y).reshape(-1, 1)),
        "x_test": t(xt),
        "y_test": None if yt is None else t(np.asarray(yt).reshape(-1, 1)),
        "act": act,
        "dtype": dtype,
        "depth": int(p.get("depth", 1)),
        "d": int(np.asarray(x).shape[1]),
    }


def mlp_initial(job: Job, s: dict, members: pd.DataFrame, device):
    """Initial weights (per-member seeds), slopes, output scale and per-member lambda_0."""
    p = job.params
    params = models.mlp_init(members["seed"].tolist(), s["d"], p["width"], s["depth"], dtype=s["dtype"], device=device)
    slope = member_tensor([float(p.get("slope", 0.0))] * len(members), params[0])
    scale = models.mlp_scale(s["d"], p["width"], s["depth"])
    with torch.no_grad():
        lam0 = ntk.top_eig(ntk.ntk_mlp(params, s["x"], s["act"], slope, scale))
    return params, slope, scale, lam0


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    """Train one job's ensemble (members = learning rates x seeds) by full-batch GD."""
    start = time.perf_counter()
    if job.params["model"] == "pure_quadratic":
        df = _train_quadratic(job, ctx)
    elif job.params["model"] == "quadratic":
        df = _train_quadratic_part(job, ctx)
    else:
        df = _train_mlp(job, data, ctx)
    df.insert(0, "experiment", job.experiment)
    ctx.log(f"meltzer2023 {job.key}: {df['member'].nunique()} members in {time.perf_counter() - start:.1f} s")
    return df


def _run(job, ctx, params, loss_fn, lam_fn, lr, members, extra_final):
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

    last = [0.0]

    def on_log(step, loss):
        if time.perf_counter() - last[0] > 20:
            last[0] = time.perf_counter()
            ctx.log(f"meltzer2023 {job.key}: step {step}/{steps}, median loss {float(loss.nanmedian()):.3g}")

    hist = engine_train(
        params,
        loss_fn,
        lr,
        steps,
        log_steps=log_steps,
        metrics=metrics,
        diverge_above=p["diverge_above"],
        on_log=on_log,
    )
    df = hist.frame(members)
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
            members.assign(member=np.arange(len(members)), step=steps, metric=name, value=np.asarray(vals, dtype=float))
        )
    out = pd.concat(parts, ignore_index=True)
    for col in ("diverged", "diverged_step"):
        out[col] = out["member"].map(df.groupby("member")[col].first())
    return out


def _train_mlp(job: Job, data: dict, ctx) -> pd.DataFrame:
    p = job.params
    s = mlp_setup(job, data, ctx)
    members = _members(p)
    params, slope, scale, lam0 = mlp_initial(job, s, members, ctx.device)
    lr = member_tensor(members["eta_lambda0"].to_numpy(), lam0) / lam0
    n_par = models.n_params(params)
    msw0 = (models.theta_sq(params) / n_par).cpu().numpy()
    members = members.assign(
        lr=lr.cpu().numpy(),
        lambda0=lam0.cpu().numpy(),
        mean_sq_weight0=msw0,
        width=p["width"],
        depth=s["depth"],
        model=p["model"],
        activation=s["act"],
        slope=float(p.get("slope", 0.0)),
        dataset=p.get("dataset", f"x{_fmt(p.get('x', 1.0))}_y{_fmt(p.get('y', 0.0))}"),
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
    return _run(job, ctx, params, loss_fn, lam_fn, lr, members, extra_final)


def quadratic_setup(job: Job, device):
    """Meta-feature psi ``[1, n, n]``, zeta, initial theta and lambda_0 of the pure quadratic model."""
    p = job.params
    seed = p["seeds"][0]
    meta = models.quadratic_meta(p["n"], 1, p["lambda_low"], p["lambda_high"], seed).to(device)
    psi = models.quadratic_psi(meta, torch.tensor([[float(p["x"])]], dtype=torch.float64, device=device))
    zeta = (p["n"] / 2) ** -0.5
    theta = models.quadratic_init(seed, len(p["eta_lambda0"]), p["n"]).to(device).detach().requires_grad_()
    with torch.no_grad():
        lam0 = ntk.top_eig(ntk.ntk_quadratic(theta, psi, zeta))
    return psi, zeta, theta, lam0


def _train_quadratic(job: Job, ctx) -> pd.DataFrame:
    p = job.params
    members = _members({**p, "seeds": p["seeds"][:1]})
    psi, zeta, theta, lam0 = quadratic_setup(job, ctx.device)
    lr = member_tensor(members["eta_lambda0"].to_numpy(), lam0) / lam0
    y = torch.full((1, 1), float(p["y"]), dtype=torch.float64, device=ctx.device)
    members = members.assign(
        lr=lr.cpu().numpy(),
        lambda0=lam0.cpu().numpy(),
        mean_sq_weight0=(theta.detach().pow(2).mean(1)).cpu().numpy(),
        width=p["n"],
        depth=0,
        model="pure_quadratic",
        activation="linear",
        slope=float("nan"),
        dataset=f"x{_fmt(p['x'])}_y{_fmt(p['y'])}",
    )

    def loss_fn(ps):
        return half_mse(models.quadratic_forward(ps[0], psi, zeta), y)

    def lam_fn(ps):
        return ntk.top_eig(ntk.ntk_quadratic(ps[0], psi, zeta))

    return _run(job, ctx, [theta], loss_fn, lam_fn, lr, members, lambda ps: {})


def _train_quadratic_part(job: Job, ctx) -> pd.DataFrame:
    """E_c6 quadratic variants (multi-sample, teacher-student, with bias), float64."""
    p = job.params
    members = _members(p)
    st = quadratic_parts.setup(p, len(members))
    q, params = st["q"], st["params"]
    with torch.no_grad():
        lam0 = ntk.top_eig(q.ntk(params, st["psi"], st["phi"]))
    lr = member_tensor(members["eta_lambda0"].to_numpy(), lam0) / lam0
    members = members.assign(
        lr=lr.numpy(),
        lambda0=lam0.numpy(),
        mean_sq_weight0=(models.theta_sq(params) / models.n_params(params)).numpy(),
        width=int(p["meta_dim"]),
        depth=0,
        model=f"quadratic_{p['part']}",
        activation=p.get("psi_act", "linear"),
        slope=float("nan"),
        dataset=p["part"],
    )

    def loss_fn(ps):
        return half_mse(q.forward(ps, st["psi"], st["phi"]), st["y"])

    def lam_fn(ps):
        return ntk.top_eig(q.ntk(ps, st["psi"], st["phi"]))

    def extra_final(ps):
        if st["xt"] is None:
            return {}
        return {"test_loss": quadratic_parts.test_loss(q, ps, st["xt"], st["yt"])}

    return _run(job, ctx, params, loss_fn, lam_fn, lr, members, extra_final)
