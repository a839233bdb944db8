"""Motor control: centre-out reaching with a point-mass plant; bias learning needs many more iterations
than full learning, then reaches held-out targets too.

Two jobs of N-unit nets driving the plant with their 2-D output as force: bias mode with the
readout-only baseline (``steps_bias`` iterations) and full mode (``steps_full``), members
(seed, mode). Trained full-batch on the training angles; logged: the loss over training, and
at the end, for training and held-out angles, the endpoint error, end/peak speed, end force,
the hand paths and the mean speed and force over time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim, Measured
from ...tables import Tables, per_member, select, series
from .. import Job

E = "motor"
STEM = "williams2024_figmotor_reach"
PRECISION = None
KEYS = (
    "N",
    "gain",
    "leak",
    "readout",
    "lr_bias",
    "lr_full",
    "lr_readout",
    "log_every",
    "dtype",
    "reg_velocity",
    "reg_force",
)


def dataset(e: dict) -> dict:
    task = e["task"]
    return {"kind": "reach", **{k: task[k] for k in ("steps", "go", "move", "radius", "n_targets")}}


def jobs(e: dict, cfg: dict) -> list[Job]:
    params = {k: e[k] for k in KEYS} | {"plant": dict(e["plant"])}
    gain = float(e["gain"])
    bias_modes = ["bias", "readout"] if e["readout_baseline"] else ["bias"]
    out = []
    for kind, modes, steps in (("bias", bias_modes, e["steps_bias"]), ("full", ["full"], e["steps_full"])):
        members = [{"seed": int(s), "mode": m, "gain": gain} for m in modes for s in e["seeds"]]
        out.append(Job(E, f"{kind}_N{e['N']}", {**params, "steps": int(steps)}, {"reach": dataset(e)}, members))
    return out


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    import torch

    from . import dynamics, rnn

    p = job.params
    dt = rnn.dtype_of(job)
    task = data["reach"]

    def tensor(a):
        return torch.as_tensor(np.asarray(a), dtype=dt, device=ctx.device)

    steps_t = task["train_u"].shape[0]
    radius = float(task["radius"])
    hold = int(np.argmax(task["train_path"][:, 0, 0] == task["train_path"][-1, 0, 0]))  # first step at the target
    mv, mp = (tensor(a) for a in dynamics.plant_matrices(steps_t, **p["plant"]))
    split = {
        s: (tensor(task[f"{s}_u"]), tensor(task[f"{s}_path"]), tensor(task[f"{s}_target"]))
        for s in ("train", "heldout")
    }
    leak = float(p["leak"])
    n = int(p["N"])
    params, r0 = rnn.init(
        job.column("seed"),
        job.column("gain"),
        n,
        3,
        2,
        readout_std=rnn.readout_std(p["readout"], n),
        dtype=dt,
        device=ctx.device,
    )

    def run(ps, s):
        force = rnn.rollout(ps, r0, split[s][0], steps_t, leak)[1]  # [T, M, n, 2]
        vel, pos = dynamics.plant(force, mv, mp)
        return force, vel, pos

    def loss(ps):
        force, vel, pos = run(ps, "train")
        track = ((pos - split["train"][1][:, None]) ** 2).sum(-1).mean((0, 2)) / radius**2
        still = (vel[hold:] ** 2).sum(-1).mean((0, 2)) * p["reg_velocity"]
        quiet = (force[hold:] ** 2).sum(-1).mean((0, 2)) * p["reg_force"]
        return track + still + quiet

    hist, labels, rows = rnn.fit(job, ctx, params, loss, d_out=2)
    final = {}
    with torch.no_grad():
        for s in ("train", "heldout"):
            force, vel, pos = run(params, s)
            speed = vel.norm(dim=-1)  # [T, M, n]
            final[f"end_error_{s}"] = ((pos[-1] - split[s][2]).norm(dim=-1) / radius).mean(-1)
            final[f"end_speed_ratio_{s}"] = (speed[-1] / speed.max(0).values).mean(-1)
            final[f"end_force_{s}"] = force[-1].norm(dim=-1).mean(-1)
            final[f"path_x_{s}"] = pos[..., 0].permute(1, 2, 0).flatten(1)  # coord = target * T + t
            final[f"path_y_{s}"] = pos[..., 1].permute(1, 2, 0).flatten(1)
            final[f"speed_{s}"] = speed.mean(-1).T
            final[f"force_{s}"] = force.norm(dim=-1).mean(-1).T
    values = {k: v.cpu().numpy() for k, v in final.items()}
    rows.append(rnn.final_rows(labels, int(p["steps"]), values, hist.diverged_step))
    return pd.concat(rows, ignore_index=True)


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    """The targets (train and held-out) and the readout-only nets' endpoint errors."""
    task = data["reach"]
    parts = []
    for s in ("train", "heldout"):
        tgt = task[f"{s}_target"]
        parts.append(
            pd.DataFrame(
                {"baseline": "target", "split": s, "coord": np.arange(len(tgt)), "x": tgt[:, 0], "y": tgt[:, 1]}
            )
        )
        ro = per_member(select(runs, mode="readout"), f"end_error_{s}")
        if not ro.empty:
            parts.append(
                ro[["point", "member", "seed", "mode", "value"]].assign(baseline="readout", metric=f"end_error_{s}")
            )
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------- claims


def _final(metric: str):
    def measure(t: Tables) -> pd.Series:
        d = per_member(t.runs_of(E, mode="bias"), metric)
        if d.empty:
            raise LookupError(f"no motor bias runs with {metric}")
        return d.set_index("seed")["value"]

    return measure


def iteration_ratio(t: Tables) -> Measured:
    """Per seed: first logged iteration where the bias loss reaches the full net's final loss, / full's iterations.

    A seed whose bias net never gets there counts its total iterations, a lower bound; the note lists each seed.
    """
    runs = t.runs_of(E)
    full = per_member(select(runs, mode="full"), "loss")
    if full.empty:
        raise LookupError("no motor full runs")
    full_steps = float(select(runs, mode="full", metric="loss")["step"].max())
    values, notes = [], []
    for r in full.itertuples():
        steps, loss = series(runs, "loss", mode="bias", seed=r.seed)
        hit = np.flatnonzero(loss <= r.value)
        values.append((steps[hit[0]] if len(hit) else steps[-1]) / full_steps)
        notes.append(f"seed {r.seed}: {values[-1]:.3g}{'' if len(hit) else ' (lower bound: never reached)'}")
    return Measured(float(np.median(values)), n_seeds=len(values), note="; ".join(notes))


CLAIMS = [
    Claim(
        "williams2024.motor.train_endpoint_error",
        "bias-only RNNs learn to reach the training targets",
        "bias: mean over training targets of |p_T - target| / radius; median over seeds",
        "<=",
        _final("end_error_train"),
        {"smoke": None, "quick": 0.10, "full": 0.10},
        min_seeds=3,
    ),
    Claim(
        "williams2024.motor.heldout_endpoint_error",
        "and generalise to held-out targets",
        "the same on the held-out targets (halfway between training angles)",
        "<=",
        _final("end_error_heldout"),
        {"smoke": None, "quick": 0.20, "full": 0.20},
        min_seeds=3,
    ),
    Claim(
        "williams2024.motor.endpoint_speed",
        "the hand stops at the target",
        "bias: mean over training targets of speed at T / peak speed; median over seeds",
        "<=",
        _final("end_speed_ratio_train"),
        {"smoke": None, "quick": 0.10, "full": 0.10},
        min_seeds=3,
    ),
    Claim(
        "williams2024.motor.bias_iteration_ratio",
        "bias learning needs many more iterations than full learning (paper: about 10x)",
        "iterations for bias to reach the full net's final loss / full's iterations (same seed); median over seeds",
        ">=",
        iteration_ratio,
        {"smoke": None, "quick": 3.0, "full": None},
        min_seeds=3,
    ),
]


# ---------------------------------------------------------------- figure


def figures(e: dict, cfg: dict) -> dict:
    return {STEM: draw}


MODES = {"bias": "tab:blue", "full": "tab:orange", "readout": "tab:green"}


def draw(t: Tables):
    from ... import plotting
    from ...plotting import REFERENCE, SIMULATION
    from ...stats import mean_se
    from ...tables import vector

    runs, bases = t.runs_of(E), t.baselines_of(E)
    fig, ax = plotting.panels(3, ncols=3, size=4.4, title="Centre-out reaching with random weights and learned biases")
    s0 = sorted(runs["seed"].unique())[0]
    th = np.linspace(0, 2 * np.pi, 200)
    tg = select(bases, baseline="target")
    radius = float(np.hypot(tg["x"], tg["y"]).max())
    ax[0].plot(radius * np.cos(th), radius * np.sin(th), color="lightgrey", lw=1)
    for s, ls, mk in (("train", "-", "o"), ("heldout", "--", "D")):
        _, px = vector(runs, f"path_x_{s}", seed=s0, mode="bias")
        _, py = vector(runs, f"path_y_{s}", seed=s0, mode="bias")
        n = len(select(tg, split=s))
        for k, (x, y) in enumerate(zip(px.reshape(n, -1), py.reshape(n, -1))):
            ax[0].plot(
                x,
                y,
                ls=ls,
                color="tab:blue" if s == "train" else "tab:purple",
                lw=1.2,
                label=f"bias, {s} targets" if k == 0 else None,
            )
        sel = select(tg, split=s)
        ax[0].scatter(
            sel["x"],
            sel["y"],
            marker=mk,
            color="k" if s == "train" else "tab:red",
            s=25,
            zorder=3,
            label=f"{s} targets",
        )
    ax[0].set(xlabel="x position", ylabel="y position", title=f"hand paths (seed {s0})", aspect="equal")
    ax[0].legend(fontsize=6, loc="lower left")

    for m, col in MODES.items():
        d = select(runs, mode=m, metric="loss")
        if d.empty:
            continue
        s = mean_se(d, "step", "value")
        ax[1].plot(
            s["step"], s["mean"], color=col, label=m if m != "readout" else "readout only (baseline)", **SIMULATION
        )
        ax[1].fill_between(s["step"], s["mean"] - s["se"], s["mean"] + s["se"], color=col, alpha=0.25, lw=0)
    ax[1].set(xlabel="iteration", ylabel="loss (mean ± SE over seeds)", title="loss vs iteration", yscale="log")
    ax[1].legend(fontsize=7)

    dt = float(t.experiment(E).get("plant", {}).get("dt", 0.05))
    twin = ax[2].twinx()
    twin.grid(False)
    for m in ("bias", "full"):
        for metric, axis, style in (("speed_train", ax[2], SIMULATION), ("force_train", twin, REFERENCE)):
            d = select(runs, mode=m, metric=metric)
            if d.empty:
                continue
            s = mean_se(d, "coord", "value")
            axis.plot(s["coord"] * dt, s["mean"], color=MODES[m], label=f"{m}: {metric.split('_')[0]}", **style)
    ax[2].set(xlabel=f"time (plant dt = {dt:g})", ylabel="speed |v| (solid)", title="speed and force, train targets")
    twin.set_ylabel("force |F| (dashed)")
    handles = ax[2].get_legend_handles_labels()
    twin_handles = twin.get_legend_handles_labels()
    ax[2].legend(handles[0] + twin_handles[0], handles[1] + twin_handles[1], fontsize=7, loc="upper right")
    return fig
