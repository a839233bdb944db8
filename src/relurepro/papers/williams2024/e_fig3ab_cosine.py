"""Fig 3A/B: a bias-only RNN generates a cosine of period 25; the Jacobian D(b)W acquires a pair near the unit circle.

One job: the seeds of the bias-mode net (N units, gain g) as one ensemble, trained full-batch on
the whole sequence from a fixed random initial state. Logged: R² over training; at the start,
middle and end (engine snapshots) the eigenvalues of the Jacobian at the net's fixed point
(active-set Newton from states of the sequence's second half), its leading complex pair and the
fixed point's residual; eig(W); the generated sequence.
The claims of Fig 3B live in experiment ``fig3b`` (:mod:`.e_fig3b_jacobian`), which reads these runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim
from ...tables import Tables, per_member, select
from .. import Job

E = "fig3a"
STEM = "williams2024_fig3ab_cosine"
PRECISION = None  # trains in its own key experiments.fig3a.dtype


def dataset(e: dict) -> dict:
    return {"kind": "cosine", "steps": int(e["T"]), "period": float(e["period"])}


def jobs(e: dict, cfg: dict) -> list[Job]:
    keys = ("N", "gain", "leak", "T", "period", "steps", "lr_bias", "log_every", "r0", "dtype")
    params = {k: e[k] for k in keys}
    members = [{"seed": int(s), "mode": "bias", "gain": float(e["gain"])} for s in e["seeds"]]
    return [Job(E, f"N{e['N']}_g{e['gain']:g}", params, {"cosine": dataset(e)}, members)]


def snapshot_steps(steps: int) -> list[int]:
    """Start, middle and end of training."""
    return sorted({0, steps // 2, steps})


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    import torch

    from . import rnn

    p = job.params
    dt = rnn.dtype_of(job)
    y = torch.as_tensor(data["cosine"]["y"], dtype=dt, device=ctx.device)[:, None, :]  # [T, 1, 1]
    steps_t, leak = int(p["T"]), float(p["leak"])
    params, r0 = rnn.init(
        job.column("seed"), job.column("gain"), int(p["N"]), 0, 1, r0=p["r0"], dtype=dt, device=ctx.device
    )

    def run(ps):
        return rnn.rollout(ps, r0, None, steps_t, leak)

    def loss(ps):
        return ((run(ps)[1] - y[:, None]) ** 2).mean((0, 2, 3))

    def metrics(ps, _loss):
        return {"r2": rnn.r_squared(run(ps)[1], y)}

    snaps = snapshot_steps(int(p["steps"]))
    hist, labels, rows = rnn.fit(job, ctx, params, loss, d_out=1, metrics=metrics, snapshot_steps=snaps)
    rows.append(jacobian_rows(hist, labels, r0, steps_t, leak, snaps))
    with torch.no_grad():
        w_eig = rnn.sorted_eigs(params[0]).numpy()
        y_hat = run(params)[1][:, :, 0, 0].T.cpu().numpy()  # [M, T]
    vectors = {"w_eig_re": w_eig.real, "w_eig_im": w_eig.imag, "y_hat": y_hat}
    rows.append(rnn.final_rows(labels, snaps[-1], vectors, hist.diverged_step))
    return pd.concat(rows, ignore_index=True)


def jacobian_rows(hist, labels, r0, steps_t: int, leak: float, snaps) -> pd.DataFrame:
    """Eigenvalues of the Jacobian at each snapshot (vector metrics) and the leading complex pair."""
    import torch

    from ...engine import History
    from . import rnn

    re, im, modulus, period, residual = [], [], [], [], []
    with torch.no_grad():
        for s in snaps:
            ps = hist.snapshots[s]
            states = rnn.rollout(ps, r0, None, steps_t, leak)[0][:, :, 0, :]  # [T, M, N]
            late = states[steps_t // 2 :]
            starts = torch.cat([late.mean(0, keepdim=True), late[:: max(1, len(late) // 8)]])
            centre, res = rnn.fixed_point(ps, starts)
            residual.append(res.cpu().numpy())
            ps64 = [p.to(torch.float64) for p in ps]
            ev = rnn.sorted_eigs(rnn.jacobian(ps64, centre, leak=leak)).numpy()
            re.append(ev.real)
            im.append(ev.imag)
            lead = np.array([rnn.leading_pair(row) for row in ev])
            modulus.append(lead[:, 0])
            period.append(lead[:, 1])
    metrics = {
        "jac_eig_re": np.stack(re),
        "jac_eig_im": np.stack(im),
        "jac_lead_modulus": np.stack(modulus),
        "jac_lead_period": np.stack(period),
        "fixed_point_residual": np.stack(residual),
    }
    return History(np.array(snaps), metrics, hist.diverged_step).frame(labels)


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    y = data["cosine"]["y"][:, 0]
    return pd.DataFrame(
        {"baseline": "target", "metric": "y", "coord": np.arange(len(y)), "value": y, "t": data["cosine"]["t"]}
    )


# ---------------------------------------------------------------- claims


def final_r2(t: Tables) -> pd.Series:
    d = per_member(t.runs_of(E, mode="bias"), "r2")
    if d.empty:
        raise LookupError("no fig3a bias runs")
    return d.set_index("seed")["value"]


CLAIMS = [
    Claim(
        "williams2024.fig3a.cosine_r2",
        "a bias-only RNN (random W, B, C) generates cos(2 pi t / 25) (paper: R² > 0.99)",
        "R² of the generated sequence at the end of training, median over seeds",
        ">=",
        final_r2,
        {"smoke": None, "quick": 0.95, "full": 0.95},
        min_seeds=3,
    ),
]


# ---------------------------------------------------------------- figure


def figures(e: dict, cfg: dict) -> dict:
    return {STEM: draw}


def draw(t: Tables):
    from ... import plotting
    from ...plotting import REFERENCE, SIMULATION
    from ...tables import vector

    runs = t.runs_of(E)
    fig, ax = plotting.panels(2, ncols=2, size=4.6, title="Bias-only RNN generating a cosine (Fig 3A/B)")
    target = select(t.baselines_of(E), baseline="target").sort_values("coord")
    seeds = sorted(runs["seed"].unique())
    r2 = final_r2(t)
    for i, s in enumerate(seeds):
        coord, yh = vector(runs, "y_hat", seed=s)
        ax[0].plot(coord + 1, yh, color=f"C{i}", label=f"seed {s}: R² = {r2.get(s, np.nan):.3f}", **SIMULATION)
    ax[0].plot(target["coord"] + 1, target["value"], color="k", label="target cos(2πt/25)", **REFERENCE)
    ax[0].set(xlabel="time step t", ylabel="output ŷ_t", title="output vs target")
    ax[0].legend(fontsize=7, loc="lower left")

    s0 = seeds[0]
    th = np.linspace(0, 2 * np.pi, 200)
    ax[1].plot(np.cos(th), np.sin(th), color="grey", lw=1, label="unit circle")
    _, wr = vector(runs, "w_eig_re", seed=s0)
    _, wi = vector(runs, "w_eig_im", seed=s0)
    radius = max(1.0, float(np.abs(wr + 1j * wi).max()))
    ax[1].scatter(wr, wi, s=6, color="lightgrey", label="eig(W)")
    steps = sorted(select(runs, metric="jac_eig_re")["step"].unique())
    names = ["start", "middle", "end"] if len(steps) == 3 else [f"step {s}" for s in steps]
    for step, name, col in zip(steps, names, ("tab:blue", "tab:orange", "tab:red")):
        _, jr = vector(runs, "jac_eig_re", seed=s0, step=step)
        _, ji = vector(runs, "jac_eig_im", seed=s0, step=step)
        mod = select(runs, metric="jac_lead_modulus", seed=s0, step=step)["value"].iloc[0]
        per = select(runs, metric="jac_lead_period", seed=s0, step=step)["value"].iloc[0]
        ax[1].scatter(jr, ji, s=10, color=col, label=f"Jacobian, {name}: lead |λ|={mod:.3f}, period {per:.1f}")
    angle = 2 * np.pi / float(t.experiment(E).get("period", 25))
    for sign in (1, -1):
        ax[1].plot([0, radius * np.cos(angle)], [0, sign * radius * np.sin(angle)], color="k", lw=0.8, ls=":")
    ax[1].plot([], [], color="k", lw=0.8, ls=":", label="arg λ = ±2π/25")
    ax[1].set(xlabel="Re λ", ylabel="Im λ", title=f"eigenvalues (seed {s0})", aspect="equal")
    ax[1].set_xlim(-radius * 1.05, radius * 1.05)
    ax[1].set_ylim(-radius * 1.05, radius * 1.05)
    ax[1].legend(fontsize=6, loc="lower left")
    return fig
