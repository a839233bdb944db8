"""E1: expressivity. Two-layer bias-free nets cannot fit an odd target orthogonal to linear functions;
three-layer bias-free and biased two-layer nets can."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...claims import Claim, Measured
from ...tables import Tables, final, members, n_seeds, series
from .. import Job
from .common import first_seed, floor_baselines, per_seed

EXP = "E1"
STEM = "zhang2024_fig_expressivity"
NAMES = {"relu2": "bias-free 2-layer", "relu3": "bias-free 3-layer", "bias2": "biased 2-layer"}
COLOURS = {"relu2": "tab:red", "relu3": "tab:blue", "bias2": "tab:green"}


def _nets(w2: int, w3: int) -> dict[str, dict]:
    return {
        "relu2": dict(hidden=[w2], bias=False),
        "relu3": dict(hidden=[w3, w3], bias=False),
        "bias2": dict(hidden=[w2], bias=True),
    }


def _members(e: dict, role: str, net: dict) -> list[dict]:
    return [
        dict(
            seed=s,
            alpha=0.0,
            lr=e["lr"],
            role=role,
            bias=net["bias"],
            depth=len(net["hidden"]) + 1,
            width=net["hidden"][0],
        )
        for s in e["seeds"]
    ]


def jobs(e: dict, cfg: dict) -> list[Job]:
    circ = {"kind": "circle", "P": e["P"], "frequency": e["frequency"]}
    common = dict(lr=e["lr"], steps=e["steps"], log_every=e["log_every"], n_grid=e["n_grid"], init=e["init"])
    out = []
    for name, net in _nets(e["width2"], e["width3"]).items():
        params = {**common, **net, "task": "circle", "data": "e1_circle"}
        out.append(Job(EXP, name, params, {"e1_circle": circ}, _members(e, name, net)))
    for w in e["gauss3_widths"]:
        g3 = {"kind": "gauss3", "P": e["gauss3_P"], "seed": e["data_seed"]}
        for name, net in _nets(w, w).items():
            params = {**common, **net, "steps": e["gauss3_steps"], "task": "gauss3", "data": "e1_gauss3", "width": w}
            point = f"g3_{name}_w{w}"
            out.append(Job(EXP, point, params, {"e1_gauss3": g3}, _members(e, point, net)))
    return out


def train(job: Job, data, ctx) -> pd.DataFrame:
    """Adam-trained bias-free / biased nets on the circle (or x1 x2 x3); samples of the learned function."""
    import torch

    from ... import engine
    from .common import finish, progress, rows

    p = job.params
    d = data[p["data"]]
    dt, dev = ctx.dtype, ctx.device
    x = torch.as_tensor(d["x"], dtype=dt, device=dev)
    y = torch.as_tensor(d["y"], dtype=dt, device=dev)
    sizes = [x.shape[1], *p["hidden"], y.shape[1]]
    seeds = job.column("seed")
    params = engine.init_layers(
        seeds, sizes, lambda fan_in: math.sqrt(2.0 / fan_in), bias=p["bias"], dtype=dt, device=dev
    )
    slope = job.tensor("alpha", dtype=dt, device=dev)
    lr = job.tensor("lr", dtype=dt, device=dev)
    loss_fn = engine.MLPLoss(x, y, slope, bias=p["bias"])
    hist = engine.train(
        params,
        loss_fn,
        lr,
        p["steps"],
        optimizer="adam",
        log_steps=engine.log_schedule(p["steps"], p["log_every"]),
        on_log=progress(ctx, job.key, p["steps"]),
    )
    labels = job.labels()
    parts = [hist.frame(labels)]
    half_y2 = 0.5 * float((d["y"] ** 2).sum(-1).mean())
    for m in range(len(seeds)):
        parts.append(rows(labels, m, p["steps"], "half_y2", half_y2))
    if p["task"] == "circle":
        theta = 2 * np.pi * np.arange(p["n_grid"]) / p["n_grid"]
        grid_x = torch.as_tensor(np.stack([np.cos(theta), np.sin(theta)], 1), dtype=dt, device=dev)
        with torch.no_grad():
            f = engine.mlp(hist.final_params, grid_x, slope, bias=p["bias"])[..., 0].cpu().numpy()
        for m in range(len(seeds)):
            parts.append(rows(labels, m, p["steps"], "f", f[m], coord=theta))
    else:
        with torch.no_grad():
            fp = engine.mlp(hist.final_params, x, slope, bias=p["bias"])[..., 0]
            fn = engine.mlp(hist.final_params, -x, slope, bias=p["bias"])[..., 0]
            fo = (0.5 * (fp - fn)).cpu().numpy()
        xs = d["x"]
        for m in range(len(seeds)):
            w, *_ = np.linalg.lstsq(xs, fo[m], rcond=None)
            parts.append(rows(labels, m, p["steps"], "odd_linear_residual", np.abs(fo[m] - xs @ w).max()))
    return finish(pd.concat(parts, ignore_index=True), job)


def baselines(jobs: dict, runs, data, ctx) -> pd.DataFrame:
    return floor_baselines(jobs, data)


# ---------------------------------------------------------------- claims


def odd_fit_residual(theta: np.ndarray, f: np.ndarray) -> float:
    """Max residual of a least-squares linear fit to the odd part of ``f`` sampled at equispaced angles."""
    n = len(theta)
    fo = 0.5 * (f - np.roll(f, -n // 2))
    x = np.stack([np.cos(theta), np.sin(theta)], 1)
    w, *_ = np.linalg.lstsq(x, fo, rcond=None)
    return float(np.abs(fo - x @ w).max())


def _loss_ratio(runs: pd.DataFrame, point: str, member: int) -> float:
    return final(runs, "loss", point=point, member=member) / final(runs, "half_y2", point=point, member=member)


def _circle_members(t: Tables, point) -> pd.DataFrame:
    m = members(t.runs_of(EXP, metric="loss"), point=point)
    if m.empty:
        raise LookupError(f"no E1 runs at {point}")
    return m


def two_layer_floor(t: Tables) -> Measured:
    runs = t.runs_of(EXP)
    ratios = [_loss_ratio(runs, "relu2", r.member) for r in _circle_members(t, "relu2").itertuples()]
    return Measured(min(ratios), n_seeds(runs))


def odd_part_linear(t: Tables) -> Measured:
    runs = t.runs_of(EXP)
    res = []
    for r in _circle_members(t, "relu2").itertuples():
        coord, f = series(runs, "f", x="coord", point="relu2", member=r.member)
        res.append(odd_fit_residual(coord, f))
    return Measured(max(res), n_seeds(runs))


def deep_and_biased_fit(t: Tables) -> dict:
    runs = t.runs_of(EXP)
    fits = [(r.seed, _loss_ratio(runs, r.point, r.member)) for r in _circle_members(t, ["relu3", "bias2"]).itertuples()]
    return per_seed(fits, max)


CLAIMS = [
    Claim(
        "zhang2024.E1.two_layer_odd_floor",
        "a two-layer bias-free ReLU net cannot beat f = 0 on an odd target orthogonal to linear functions",
        "min over seeds of L_final / (1/2 <y^2>), bias-free 2-layer",
        ">=",
        two_layer_floor,
        thresholds={"smoke": 0.999, "quick": 0.999, "full": 0.999},
        # MSE = <(y - l)^2> + <g^2> >= 1/2 <y^2> for every weight value on symmetric data (spec 3.2):
        # an exact inequality of the construction, so only a bug can break it
        kind="invariant",
    ),
    Claim(
        "zhang2024.E1.odd_part_linear",
        "the odd part of a trained two-layer bias-free ReLU net is linear",
        "max residual of a least-squares linear fit to f_o on the circle",
        "<",
        odd_part_linear,
        thresholds={"smoke": 1e-8, "quick": 1e-8, "full": 1e-8},
        kind="invariant",  # f_o = c W2 W1 x exactly (spec 3.1), whatever the weights
    ),
    Claim(
        "zhang2024.E1.deep_and_biased_fit",
        "a 3-layer bias-free net and a biased 2-layer net fit sin(3 theta)",
        "max of L_final / (1/2 <y^2>) over the 3-layer bias-free and 2-layer biased nets",
        "<",
        deep_and_biased_fit,
        thresholds={"smoke": 0.02, "quick": 0.02, "full": 0.02},
    ),
]


# ---------------------------------------------------------------- figures


def figures(e: dict, cfg: dict) -> dict:
    return {STEM: draw}


def draw(t: Tables):
    from ... import plotting
    from ...plotting import REFERENCE, SIMULATION, THEORY

    d = t.runs_of(EXP)
    has_g3 = d["point"].str.startswith("g3_").any()
    fig, ax = plotting.panels(
        4 if has_g3 else 3,
        ncols=4 if has_g3 else 3,
        size=3.8,
        title="Expressivity: odd target sin 3θ on the unit circle",
    )
    th = None
    for point, name in NAMES.items():
        m = first_seed(members(d, metric="loss", point=point))
        if m.empty:
            continue
        mem = int(m["member"].iloc[0])
        th, fv = series(d, "f", x="coord", point=point, member=mem)
        ax[0].plot(th, fv, color=COLOURS[point], label=name, **SIMULATION)
        step, loss = series(d, "loss", point=point, member=mem)
        half = final(d, "half_y2", point=point, member=mem)
        ax[1].plot(step, loss / half, color=COLOURS[point], label=name, **SIMULATION)
        if point == "relu2":
            fo = 0.5 * (fv - np.roll(fv, -len(fv) // 2))
            x = np.stack([np.cos(th), np.sin(th)], 1)
            w, *_ = np.linalg.lstsq(x, fo, rcond=None)
            ax[2].plot(th, fo, color=COLOURS[point], label="odd part f_o", **SIMULATION)
            ax[2].plot(th, x @ w, color="k", label="least-squares linear fit", **THEORY)
            ax[2].set_title(f"max residual {odd_fit_residual(th, fv):.1e}", fontsize=9)
    if th is not None:
        ax[0].plot(th, np.sin(3 * th), color="k", label="target sin 3θ", **THEORY)
    ax[1].axhline(1.0, color="grey", label="2-layer optimum ½⟨y²⟩ (f ≡ 0)", **REFERENCE)
    ax[0].set(xlabel="θ (rad)", ylabel="f(cos θ, sin θ)")
    ax[1].set(xlabel="Adam step", ylabel="loss / ½⟨y²⟩", yscale="log")
    ax[2].set(xlabel="θ (rad)", ylabel="½(f(x) − f(−x))")
    for a in ax[:3]:
        a.legend(fontsize=7)
    if has_g3:
        g3 = d[d["point"].str.startswith("g3_") & (d["metric"] == "loss")]
        out = []
        for (point, mem), grp in g3.groupby(["point", "member"]):
            grp = grp.sort_values("step")
            half = final(d, "half_y2", point=point, member=mem)
            out.append((point.split("_")[1], int(grp["width"].iloc[0]), grp["value"].iloc[-1] / half))
        r = pd.DataFrame(out, columns=["net", "width", "ratio"]).groupby(["net", "width"])["ratio"].mean().reset_index()
        for net, grp in r.groupby("net"):
            ax[3].plot(grp["width"], grp["ratio"], "o-", color=COLOURS[net], label=NAMES[net])
        ax[3].set(xscale="log", yscale="log", xlabel="width", ylabel="final loss / ½⟨y²⟩", title="y = x1 x2 x3, D=3")
        ax[3].legend(fontsize=7)
    return fig
