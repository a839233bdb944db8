"""The grid and the training jobs of zhang2024 (E0-E7)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ... import engine
from .. import Job
from . import theory


def _fmt(v) -> str:
    return f"{v:g}"


def _teacher_spec(e: dict, *, seed, P, D, C, s, noise=0.0, sym=True) -> dict:
    return {
        "kind": "teacher",
        "seed": int(seed),
        "P": int(P),
        "D": int(D),
        "C": int(C),
        "singular_values": [float(v) for v in s],
        "noise_std": float(noise),
        "symmetrise": bool(sym),
        "whiten": True,
    }


def _saxe_members(alphas, seeds, sigma0s, lr, with_refs=True) -> list[dict]:
    """leaky members per (alpha, sigma0, seed) plus linear references: draws x sqrt(c), lr x c."""
    out = []
    for sig in sigma0s:
        for seed in seeds:
            for a in alphas:
                out.append(dict(role="relu", alpha=a, slope=a, seed=seed, sigma0=sig, init_scale=sig, lr=lr))
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
                            )
                        )
    return out


def grid(cfg: dict) -> list[Job]:
    """One job per (experiment, shape point); disabled experiments yield none."""
    ex = cfg["experiments"]
    jobs: list[Job] = []
    on = lambda k: k in ex and ex[k].get("enabled", True)  # noqa: E731

    if on("E0"):
        e = ex["E0"]
        jobs.append(Job("E0", "main", {k: e[k] for k in ("H", "D", "C", "alphas", "n_points", "n_scatter", "seed")}))

    if on("E1"):
        e = ex["E1"]
        circ = {"kind": "circle", "P": e["P"], "frequency": e["frequency"]}
        common = dict(
            lr=e["lr"], steps=e["steps"], seeds=e["seeds"], log_every=e["log_every"], n_grid=e["n_grid"], init=e["init"]
        )
        nets = {
            "relu2": dict(hidden=[e["width2"]], bias=False),
            "relu3": dict(hidden=[e["width3"], e["width3"]], bias=False),
            "bias2": dict(hidden=[e["width2"]], bias=True),
        }
        for name, net in nets.items():
            jobs.append(Job("E1", name, {**common, **net, "task": "circle", "data": "e1_circle"}, {"e1_circle": circ}))
        for w in e["gauss3_widths"]:
            g3 = {"kind": "gauss3", "P": e["gauss3_P"], "seed": e["data_seed"]}
            for name, net in {
                "relu2": dict(hidden=[w], bias=False),
                "relu3": dict(hidden=[w, w], bias=False),
                "bias2": dict(hidden=[w], bias=True),
            }.items():
                p = {**common, **net, "steps": e["gauss3_steps"], "task": "gauss3", "data": "e1_gauss3", "width": w}
                jobs.append(Job("E1", f"g3_{name}_w{w}", p, {"e1_gauss3": g3}))

    if on("E2"):
        e = ex["E2"]
        for sym in [True] + ([False] if e["without_symmetry"] else []):
            name = "e2_sym" if sym else "e2_nosym"
            spec = _teacher_spec(
                e,
                seed=e["data_seed"],
                P=e["P"],
                D=e["D"],
                C=e["C"],
                s=e["singular_values"],
                noise=e["noise_std"],
                sym=sym,
            )
            members = []
            for seed in e["seeds"]:
                for a in e["alphas"]:
                    c = float(theory.c_of(a))
                    members.append(
                        dict(role="paired", alpha=a, slope=a, seed=seed, sigma0=e["sigma0"], init_scale=1.0, lr=e["lr"])
                    )
                    members.append(
                        dict(
                            role="linear_ref",
                            alpha=a,
                            slope=1.0,
                            seed=seed,
                            sigma0=e["sigma0"],
                            init_scale=math.sqrt(2 * c),
                            lr=e["lr"] * c,
                        )
                    )
            params = dict(
                K=e["K"], steps=e["steps"], log_every=e["log_every"], symmetric=sym, data=name, members=members
            )
            jobs.append(Job("E2", "sym" if sym else "nosym", params, {name: spec}))

    for exp in ("E3", "E4", "E5"):
        if not on(exp):
            continue
        e = ex[exp]
        s = [e["s"]] if "s" in e else e["singular_values"]
        C = e.get("C", 1)
        name = f"{exp.lower()}_sym"
        spec = _teacher_spec(e, seed=e["data_seed"], P=e["P"], D=e["D"], C=C, s=s, noise=e.get("noise_std", 0.0))
        widths = e["H"] if isinstance(e["H"], list) else [e["H"]]
        sigma0s = e["sigma0"] if isinstance(e["sigma0"], list) else [e["sigma0"]]
        steps = e["steps"] if "steps" in e else int(round(e["t_max"] / e["lr"]))
        for H in widths:
            members = _saxe_members(e["alphas"], e["seeds"], sigma0s, e["lr"], with_refs=e.get("linear_refs", True))
            params = dict(H=H, steps=steps, log_every=e["log_every"], data=name, members=members)
            jobs.append(Job(exp, f"h{H}", params, {name: spec}))

    if on("E6"):
        e = ex["E6"]
        for P in e["P"]:
            name = f"e6_p{P}"
            spec = _teacher_spec(
                e, seed=e["data_seed"], P=P, D=e["D"], C=1, s=[e["s"]], noise=e["noise_std"], sym=False
            )
            members = _saxe_members(e["alphas"], e["seeds"], [e["sigma0"]], e["lr"], with_refs=False)
            params = dict(H=e["H"], steps=e["steps"], log_every=e["log_every"], data=name, members=members)
            jobs.append(Job("E6", f"p{P}", params, {name: spec}))
        x = e["xor"]
        if x["enabled"]:
            spec = {"kind": "xor", "seed": x["data_seed"], "P": x["P"], "whiten": x["whiten"]}
            members = _saxe_members([0.0, 1.0], e["seeds"], [x["sigma0"]], x["lr"], with_refs=False)
            params = dict(
                H=x["H"], steps=x["steps"], log_every=x["log_every"], data="e6_xor", members=members, modes=False
            )
            jobs.append(Job("E6", "xor", params, {"e6_xor": spec}))

    if on("E7"):
        e = ex["E7"]
        if len(e["sigma0s"]) != len(e["depths"]):
            raise ValueError("zhang2024 E7: sigma0s needs one entry per entry of depths")
        test = {"kind": "gaussian_test", "seed": e["data_seed"] + 1, "P": e["n_test"], "D": e["D"]}
        teachers = {"r1": ([e["s_rank1"]], e["steps_rank1"]), "r3": (e["singular_values_rank3"], e["steps_rank3"])}
        for tname, (s, steps) in teachers.items():
            name = f"e7_{tname}"
            spec = _teacher_spec(e, seed=e["data_seed"], P=e["P"], D=e["D"], C=e["C"], s=s)
            for depth, sig in zip(e["depths"], e["sigma0s"]):
                members = []
                for seed in e["seeds"]:
                    members.append(
                        dict(role="relu", alpha=0.0, slope=0.0, seed=seed, sigma0=sig, init_scale=sig, lr=e["lr"])
                    )
                    members.append(
                        dict(role="linear", alpha=1.0, slope=1.0, seed=seed, sigma0=sig, init_scale=sig, lr=e["lr"])
                    )
                    if e["paired"] and tname == "r1":
                        members.append(
                            dict(role="paired", alpha=0.0, slope=0.0, seed=seed, sigma0=sig, init_scale=sig, lr=e["lr"])
                        )
                params = dict(
                    depth=depth, width=e["width"], steps=steps, log_every=e["log_every"], data=name, members=members
                )
                jobs.append(Job("E7", f"d{depth}_{tname}", params, {name: spec, "e7_test": test}))
    return jobs


# ---------------------------------------------------------------- training


def _members_frame(members: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(members)


def _progress(ctx, key: str, steps: int):
    every = max(1, steps // 5)

    def on_log(step, loss):
        if step % every == 0 or step == steps:
            ctx.log(f"zhang2024 {key}: step {step}/{steps}, loss {float(loss.min()):.4g}..{float(loss.max()):.4g}")

    return on_log


def _finish(df: pd.DataFrame, job: Job) -> pd.DataFrame:
    df = df.assign(experiment=job.experiment)
    if "lr" in df.columns:
        df["t"] = df["step"] * df["lr"]
    return df


def _rows(member_df: pd.DataFrame, member: int, step: int, metric: str, values, coord=None) -> pd.DataFrame:
    values = np.atleast_1d(np.asarray(values, dtype=float))
    out = pd.DataFrame({"member": member, "step": step, "metric": metric, "value": values})
    out["coord"] = np.arange(len(values)) if coord is None else np.asarray(coord, dtype=float)
    labels = member_df.reset_index(drop=True).iloc[[member]].assign(member=member)
    return out.merge(labels, on="member", how="left")


def train_e0(job: Job, ctx) -> pd.DataFrame:
    """The odd/even identity on standard-normal weights; residuals at float64."""
    p = job.params
    rng = np.random.default_rng(p["seed"])
    w1 = rng.standard_normal((p["H"], p["D"]))
    w2 = rng.standard_normal((p["C"], p["H"]))
    x = rng.standard_normal((p["n_points"], p["D"]))
    dt = ctx.dtype
    t1, t2, tx = (torch.as_tensor(a, dtype=dt, device=ctx.device) for a in (w1, w2, x))
    params = [t1.T.unsqueeze(0), t2.T.unsqueeze(0)]
    members = pd.DataFrame({"alpha": p["alphas"], "seed": p["seed"], "role": "identity"})
    parts = []
    for m, a in enumerate(p["alphas"]):
        slope = torch.tensor([a], dtype=dt, device=ctx.device)
        f_pos = engine.mlp(params, tx, slope)[0]
        f_neg = engine.mlp(params, -tx, slope)[0]
        odd_lhs = (f_pos - f_neg).cpu().numpy()
        odd_rhs = (1 + a) * (tx @ t1.T @ t2.T).cpu().numpy()
        even_lhs = (f_pos + f_neg).cpu().numpy()
        even_rhs = (1 - a) * ((tx @ t1.T).abs() @ t2.T).cpu().numpy()
        odd_err, even_err = np.abs(odd_lhs - odd_rhs).max(), np.abs(even_lhs - even_rhs).max()
        ctx.log(f"zhang2024 E0: alpha={a}: odd residual {odd_err:.2e}, even residual {even_err:.2e}")
        n = p["n_scatter"]
        parts += [
            _rows(members, m, 0, "odd_residual", odd_err),
            _rows(members, m, 0, "even_residual", even_err),
            _rows(members, m, 0, "odd_lhs", odd_lhs[:n, 0]),
            _rows(members, m, 0, "odd_rhs", odd_rhs[:n, 0]),
            _rows(members, m, 0, "even_lhs", even_lhs[:n, 0]),
            _rows(members, m, 0, "even_rhs", even_rhs[:n, 0]),
        ]
    return _finish(pd.concat(parts, ignore_index=True), job)


def train_e1(job: Job, data, ctx) -> pd.DataFrame:
    """Adam-trained bias-free / biased nets on the circle (or x1 x2 x3); learned function samples."""
    p = job.params
    d = data[p["data"]]
    dt, dev = ctx.dtype, ctx.device
    x = torch.as_tensor(d["x"], dtype=dt, device=dev)
    y = torch.as_tensor(d["y"], dtype=dt, device=dev)
    sizes = [x.shape[1], *p["hidden"], y.shape[1]]
    seeds = p["seeds"]
    params = engine.init_layers(
        seeds, sizes, lambda fan_in: math.sqrt(2.0 / fan_in), bias=p["bias"], dtype=dt, device=dev
    )
    slope = engine.member_tensor([0.0] * len(seeds), dtype=dt, device=dev)
    lr = engine.member_tensor([p["lr"]] * len(seeds), dtype=dt, device=dev)

    loss_fn = engine.MLPLoss(x, y, slope, bias=p["bias"])
    hist = engine.train(
        params,
        loss_fn,
        lr,
        p["steps"],
        optimizer="adam",
        log_steps=engine.log_schedule(p["steps"], p["log_every"]),
        on_log=_progress(ctx, job.key, p["steps"]),
    )
    members = pd.DataFrame({"seed": seeds, "alpha": 0.0, "lr": p["lr"], "role": job.point, "bias": p["bias"]})
    members["depth"] = len(p["hidden"]) + 1
    members["width"] = p["hidden"][0]
    df = hist.frame(members)
    parts = [df]
    half_y2 = 0.5 * float((d["y"] ** 2).sum(-1).mean())
    for m in range(len(seeds)):
        parts.append(_rows(members, m, p["steps"], "half_y2", half_y2))
    if p["task"] == "circle":
        theta = 2 * np.pi * np.arange(p["n_grid"]) / p["n_grid"]
        grid_x = torch.as_tensor(np.stack([np.cos(theta), np.sin(theta)], 1), dtype=dt, device=dev)
        with torch.no_grad():
            f = engine.mlp(hist.final_params, grid_x, slope, bias=p["bias"])[..., 0].cpu().numpy()
        for m in range(len(seeds)):
            parts.append(_rows(members, m, p["steps"], "f", f[m], coord=theta))
    else:
        with torch.no_grad():
            fp = engine.mlp(hist.final_params, x, slope, bias=p["bias"])[..., 0]
            fn = engine.mlp(hist.final_params, -x, slope, bias=p["bias"])[..., 0]
            fo = (0.5 * (fp - fn)).cpu().numpy()
        xs = d["x"]
        for m in range(len(seeds)):
            w, *_ = np.linalg.lstsq(xs, fo[m], rcond=None)
            parts.append(_rows(members, m, p["steps"], "odd_linear_residual", np.abs(fo[m] - xs @ w).max()))
    return _finish(pd.concat(parts, ignore_index=True), job)


def _mode_metrics(umat: torch.Tensor, vmat: torch.Tensor, c: torch.Tensor):
    """Per-mode strengths ``u_i = c u_i^T W_L..W_1 v_i`` and ``c/4 sum_h (a_hi + b_hi)^2`` (2-layer only)."""

    def fn(ps, loss):
        prod = ps[0]
        for w in ps[1:]:
            prod = prod @ w  # [M, D, C]
        u = torch.einsum("dr,mdc,cr->mr", vmat, prod, umat) * c[:, None]
        out = {f"u_mode{i}": u[:, i] for i in range(u.shape[1])}
        if len(ps) == 2:
            a = torch.einsum("dr,mdh->mrh", vmat, ps[0])
            b = torch.einsum("mhc,cr->mrh", ps[1], umat)
            ueff = 0.25 * ((a + b) ** 2).sum(-1) * c[:, None]
            out.update({f"ueff_mode{i}": ueff[:, i] for i in range(u.shape[1])})
        return out

    return fn


def _member_tensors(members: pd.DataFrame, dt, dev):
    slope = engine.member_tensor(members["slope"].to_numpy(), dtype=dt, device=dev)
    lr = engine.member_tensor(members["lr"].to_numpy(), dtype=dt, device=dev)
    return slope, lr, (1 + slope) / 2


def train_shallow(job: Job, data, ctx) -> pd.DataFrame:
    """Two-layer bias-free leaky nets from small random init (E3-E6), batched over members."""
    p = job.params
    d = data[p["data"]]
    dt, dev = ctx.dtype, ctx.device
    x = torch.as_tensor(d["x"], dtype=dt, device=dev)
    y = torch.as_tensor(d["y"], dtype=dt, device=dev)
    members = _members_frame(p["members"])
    slope, lr, c = _member_tensors(members, dt, dev)
    params = engine.init_layers(
        members["seed"].tolist(),
        [x.shape[1], p["H"], y.shape[1]],
        [1.0, 1.0],
        init_scale=members["init_scale"].tolist(),
        dtype=dt,
        device=dev,
    )
    metrics = None
    if p.get("modes", True):
        um, _, vm = theory.modes(d["x"], d["y"])
        metrics = _mode_metrics(torch.as_tensor(um, dtype=dt, device=dev), torch.as_tensor(vm, dtype=dt, device=dev), c)

    loss_fn = engine.MLPLoss(x, y, slope)
    hist = engine.train(
        params,
        loss_fn,
        lr,
        p["steps"],
        log_steps=engine.log_schedule(p["steps"], p["log_every"]),
        metrics=metrics,
        on_log=_progress(ctx, job.key, p["steps"]),
    )
    members["H"] = p["H"]
    return _finish(hist.frame(members), job)


def _paired_init(seed: int, d: int, k: int, c_out: int, sigma0: float):
    gen = torch.Generator().manual_seed(int(seed))
    u = torch.randn(k, d, generator=gen, dtype=torch.float64) * sigma0
    v = torch.randn(c_out, k, generator=gen, dtype=torch.float64) * sigma0
    return u, v


def train_e2(job: Job, data, ctx) -> pd.DataFrame:
    """Theorem A: paired ReLU nets ``[U;-U], [V,-V]`` vs width-K linear nets ``sqrt(2c)(U, V)`` at lr ``c eta``.

    Both live in one width-2K ensemble: the linear members' second half is exactly zero
    and stays zero under gradient descent, so they are width-K linear networks.
    """
    p = job.params
    d = data[p["data"]]
    dt, dev = ctx.dtype, ctx.device
    x = torch.as_tensor(d["x"], dtype=dt, device=dev)
    y = torch.as_tensor(d["y"], dtype=dt, device=dev)
    members = _members_frame(p["members"])
    K, D, C = p["K"], x.shape[1], y.shape[1]
    w1s, w2s = [], []
    for r in members.itertuples():
        u, v = _paired_init(r.seed, D, K, C, r.sigma0)
        if r.role == "paired":
            w1 = torch.cat([u, -u], 0)  # H x D
            w2 = torch.cat([v, -v], 1)  # C x H
        else:
            w1 = torch.cat([u, torch.zeros_like(u)], 0) * r.init_scale
            w2 = torch.cat([v, torch.zeros_like(v)], 1) * r.init_scale
        w1s.append(w1.T)
        w2s.append(w2.T)
    params = [torch.stack(w1s).to(dt).to(dev).requires_grad_(), torch.stack(w2s).to(dt).to(dev).requires_grad_()]
    slope = engine.member_tensor(members["slope"].to_numpy(), dtype=dt, device=dev)
    lr = engine.member_tensor(members["lr"].to_numpy(), dtype=dt, device=dev)
    paired = engine.member_tensor((members["role"] == "paired").to_numpy(), dtype=dt, device=dev)

    loss_fn = engine.MLPLoss(x, y, slope)

    def metrics(ps, loss):
        w1, w2 = ps
        e1 = (w1[:, :, :K] + w1[:, :, K:]).abs().amax((1, 2))
        e2 = (w2[:, :K] + w2[:, K:]).abs().amax((1, 2))
        return {"pair_err": torch.maximum(e1, e2) * paired}

    hist = engine.train(
        params,
        loss_fn,
        lr,
        p["steps"],
        log_steps=engine.log_schedule(p["steps"], p["log_every"]),
        metrics=metrics,
        on_log=_progress(ctx, job.key, p["steps"]),
    )
    members["symmetric"] = p["symmetric"]
    members["K"] = K
    return _finish(hist.frame(members), job)


def _deep_paired_init(seed: int, sizes: list[int], sigma0: float) -> list[torch.Tensor]:
    """``W1 = [U; -U]``, ``W_mid = [[A, -A], [-A, A]]`` (B = -A), ``W_L = [V, -V]`` in engine orientation."""
    gen = torch.Generator().manual_seed(int(seed) + 7919)
    out = []
    n_layers = len(sizes) - 1
    for i, (fi, fo) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i == 0:
            u = torch.randn(fi, fo // 2, generator=gen, dtype=torch.float64) * sigma0
            out.append(torch.cat([u, -u], 1))
        elif i == n_layers - 1:
            v = torch.randn(fi // 2, fo, generator=gen, dtype=torch.float64) * sigma0
            out.append(torch.cat([v, -v], 0))
        else:
            a = torch.randn(fi // 2, fo // 2, generator=gen, dtype=torch.float64) * sigma0
            out.append(torch.cat([torch.cat([a, -a], 1), torch.cat([-a, a], 1)], 0))
    return out


def train_e7(job: Job, data, ctx) -> pd.DataFrame:
    """Deep bias-free ReLU vs deep linear nets (same draws), and a paired ReLU run from B = -A."""
    p = job.params
    d = data[p["data"]]
    dt, dev = ctx.dtype, ctx.device
    x = torch.as_tensor(d["x"], dtype=dt, device=dev)
    y = torch.as_tensor(d["y"], dtype=dt, device=dev)
    members = _members_frame(p["members"])
    D, C, W, L = x.shape[1], y.shape[1], p["width"], p["depth"]
    sizes = [D] + [W] * (L - 1) + [C]
    rand = engine.init_layers(
        members["seed"].tolist(), sizes, [1.0] * L, init_scale=members["init_scale"].tolist(), dtype=dt, device=dev
    )
    params = []
    for li in range(L):
        layer = rand[li].detach().clone()
        for m, r in enumerate(members.itertuples()):
            if r.role == "paired":
                layer[m] = _deep_paired_init(r.seed, sizes, r.sigma0)[li].to(dt).to(dev)
        params.append(layer.requires_grad_())
    slope, lr, c = _member_tensors(members, dt, dev)
    um, _, vm = theory.modes(d["x"], d["y"])
    modes_fn = _mode_metrics(torch.as_tensor(um, dtype=dt, device=dev), torch.as_tensor(vm, dtype=dt, device=dev), c)
    half = W // 2

    def mode_fn(ps, loss):
        out = modes_fn(ps, loss)
        for li in range(1, L - 1):  # ||A + B|| / ||W_mid||: drift away from the linear-equivalent B = -A
            w = ps[li]
            ab = w[:, :half, :half] + w[:, :half, half:]
            out[f"ab_layer{li + 1}"] = ab.flatten(1).norm(dim=1) / w.flatten(1).norm(dim=1)
        return out

    loss_fn = engine.MLPLoss(x, y, slope)
    hist = engine.train(
        params,
        loss_fn,
        lr,
        p["steps"],
        log_steps=engine.log_schedule(p["steps"], p["log_every"]),
        metrics=mode_fn,
        on_log=_progress(ctx, job.key, p["steps"]),
    )
    members["depth"] = L
    members["width"] = W
    df = hist.frame(members)
    final = [w.cpu().numpy() for w in hist.final_params]
    xt = torch.as_tensor(data["e7_test"]["x"], dtype=dt, device=dev)
    with torch.no_grad():
        fp = engine.mlp(hist.final_params, xt, slope).cpu().numpy()
        fn = engine.mlp(hist.final_params, -xt, slope).cpu().numpy()
    target = data["e7_test"]["x"] @ d["w_teacher"].T
    parts = [df]
    for m, r in enumerate(members.itertuples()):
        fo, fe = 0.5 * (fp[m] - fn[m]), 0.5 * (fp[m] + fn[m])
        rows = {
            "test_rel_error": np.sum((fp[m] - target) ** 2) / np.sum(target**2),
            "even_over_odd": np.linalg.norm(fe) / np.linalg.norm(fo),
        }
        for li, w in enumerate(final):
            sv = np.linalg.svd(w[m], compute_uv=False)
            parts.append(_rows(members, m, p["steps"], f"sv_layer{li + 1}", sv[:6]))
        if r.role == "paired":
            dev_max = 0.0
            for li, w in enumerate(final):
                wm = w[m]  # engine orientation: [fan_in, fan_out]
                if li == 0:
                    dev_max = max(dev_max, np.abs(wm[:, :half] + wm[:, half:]).max())
                elif li == L - 1:
                    dev_max = max(dev_max, np.abs(wm[:half] + wm[half:]).max())
                else:
                    a, b = wm[:half, :half], wm[:half, half:]
                    dev_max = max(dev_max, np.abs(wm[half:, half:] - a).max(), np.abs(wm[half:, :half] - b).max())
                    rows[f"a_plus_b_layer{li + 1}"] = np.linalg.norm(a + b) / np.linalg.norm(wm)
            rows["paired_structure_dev"] = dev_max
        for k, v in rows.items():
            parts.append(_rows(members, m, p["steps"], k, v))
    return _finish(pd.concat(parts, ignore_index=True), job)


def train(job: Job, data, ctx) -> pd.DataFrame:
    """Dispatch one job to its experiment's trainer."""
    if job.experiment == "E0":
        return train_e0(job, ctx)
    if job.experiment == "E1":
        return train_e1(job, data, ctx)
    if job.experiment == "E2":
        return train_e2(job, data, ctx)
    if job.experiment == "E7":
        return train_e7(job, data, ctx)
    return train_shallow(job, data, ctx)
