"""Fig 3C/D: bias-only RNNs learn the van der Pol limit cycle only above a gain g; full nets at a matched
parameter count do at every g.

Two jobs: the N-unit nets (bias mode, and the readout-only baseline with W, B, b frozen), members
(gain, seed, mode); and the parameter-matched full nets (width n_f with n_f^2 + n_f (d_in + d_out + 1)
+ d_out closest to N + d_out), members (gain, seed). Each generates x(t) of the z-scored limit cycle
from its fixed random initial state, trained full-batch on the whole sequence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim, Measured
from ...tables import Tables, per_member, select
from .. import Job

E = "fig3d"
STEM = "williams2024_fig3cd_vdp_gain"
PRECISION = None
KEYS = ("leak", "steps", "lr_bias", "lr_full", "lr_readout", "log_every", "r0", "dtype", "T")


def dataset(e: dict) -> dict:
    v = e["vdp"]
    return {
        "kind": "van_der_pol",
        "mu": float(v["mu"]),
        "dt": float(v["dt"]),
        "steps": int(e["T"]),
        "transient": int(v["transient"]),
        "substeps": int(v["substeps"]),
    }


def matched_full_width(n: int, d_in: int = 0, d_out: int = 1) -> int:
    """The full-RNN width whose trainable count n^2 + n (d_in + d_out + 1) + d_out is closest to N + d_out."""
    widths = np.arange(1, n + 1)
    counts = widths**2 + widths * (d_in + d_out + 1) + d_out
    return int(widths[np.argmin(np.abs(counts - (n + d_out)))])


def vdp_jobs(experiment: str, e: dict, sizes: dict[str, list[int]], gains, modes_at, data_name="vdp") -> list[Job]:
    """Jobs of the van der Pol task: one per (width kind, width), members (gain, seed, mode)."""
    params = {k: e[k] for k in KEYS}
    out = []
    for kind, widths in sizes.items():
        for n in widths:
            members = [
                {"seed": int(s), "gain": float(g), "mode": m} for m in modes_at[kind] for g in gains for s in e["seeds"]
            ]
            out.append(Job(experiment, f"{kind}_N{n}", {**params, "N": int(n)}, {data_name: dataset(e)}, members))
    return out


def jobs(e: dict, cfg: dict) -> list[Job]:
    full = [int(e["full_width"]) or matched_full_width(int(n)) for n in e["widths"]]
    bias_modes = ["bias", "readout"] if e["readout_baseline"] else ["bias"]
    sizes = {"bias": list(e["widths"]), "full": sorted(set(full))}
    return vdp_jobs(E, e, sizes, e["gains"], {"bias": bias_modes, "full": ["full"]})


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    """Train a van der Pol job; logs r2 over training and the generated x(t) at the end."""
    import torch

    from . import rnn

    p = job.params
    dt = rnn.dtype_of(job)
    (vdp,) = data.values()
    y = torch.as_tensor(vdp["y"][:, :1], dtype=dt, device=ctx.device)[:, None, :]  # [T, 1, 1]
    steps_t, leak = int(p["T"]), float(p["leak"])
    params, r0 = rnn.init(
        job.column("seed"), job.column("gain"), int(p["N"]), 0, 1, r0=p["r0"], dtype=dt, device=ctx.device
    )

    def run(ps):
        return rnn.rollout(ps, r0, None, steps_t, leak)[1]

    def loss(ps):
        return ((run(ps) - y[:, None]) ** 2).mean((0, 2, 3))

    def metrics(ps, _loss):
        return {"r2": rnn.r_squared(run(ps), y)}

    hist, labels, rows = rnn.fit(job, ctx, params, loss, d_out=1, metrics=metrics)
    with torch.no_grad():
        y_hat = run(params)[:, :, 0, 0].T.cpu().numpy()
    rows.append(rnn.final_rows(labels, int(p["steps"]), {"y_hat": y_hat}, hist.diverged_step))
    return pd.concat(rows, ignore_index=True)


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    """The target; the readout-only nets' and the untrained nets' (step 0) final R²."""
    y = data["vdp"]["y"][:, 0]
    parts = [pd.DataFrame({"baseline": "target", "metric": "x", "coord": np.arange(len(y)), "value": y})]
    keep = ["point", "member", "seed", "gain", "mode", "N", "value"]
    ro = per_member(select(runs, mode="readout"), "r2")
    if not ro.empty:
        parts.append(ro[keep].assign(baseline="readout", metric="r2"))
    un = per_member(select(runs, mode="bias"), "r2", how="first")
    if not un.empty:
        parts.append(un[keep].assign(baseline="untrained", metric="r2"))
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------- claims


def final_r2(t: Tables, mode: str) -> pd.DataFrame:
    d = per_member(t.runs_of(E, mode=mode), "r2")
    if d.empty:
        raise LookupError(f"no fig3d runs in mode {mode}")
    return d


def _bias_at(side: str, gain: float):
    """Per seed, the bias R² that decides the claim over the gains on one side of ``gain``."""

    def measure(t: Tables) -> pd.Series:
        d = final_r2(t, "bias")
        d = d[d["gain"] <= gain] if side == "low" else d[d["gain"] >= gain]
        if d.empty:
            raise LookupError(f"no fig3d bias runs with gain {'<=' if side == 'low' else '>='} {gain:g}")
        how = "max" if side == "low" else "min"  # the seed's least favourable gain
        return d.groupby("seed")["value"].agg(how)

    return measure


def full_insensitive(t: Tables) -> Measured:
    med = final_r2(t, "full").groupby(["N", "gain"])["value"].agg(["median", "count"])
    note = "; ".join(f"n={n}, g={g:g}: {m:.3f}" for (n, g), m in med["median"].items())
    return Measured(float(med["median"].min()), n_seeds=int(med["count"].min()), note=note)


CLAIMS = [
    Claim(
        "williams2024.fig3d.bias_fails_low_gain",
        "bias-only learning fails for small gain (the paper: for all g < 1)",
        "per seed the best bias R² over g <= 0.5; median over seeds",
        "<=",
        _bias_at("low", 0.5),
        {"smoke": None, "quick": 0.5, "full": 0.5},
        min_seeds=3,
    ),
    Claim(
        "williams2024.fig3d.bias_succeeds_high_gain",
        "bias-only learning succeeds at large gain",
        "per seed the worst bias R² over g >= 1.5; median over seeds",
        ">=",
        _bias_at("high", 1.5),
        {"smoke": None, "quick": 0.9, "full": 0.9},
        min_seeds=3,
    ),
    Claim(
        "williams2024.fig3d.full_gain_insensitive",
        "parameter-matched full RNNs learn at every gain",
        "min over g of the median (over seeds) full-net R²",
        ">=",
        full_insensitive,
        {"smoke": None, "quick": 0.9, "full": 0.9},
        min_seeds=3,
    ),
]


# ---------------------------------------------------------------- figure


def figures(e: dict, cfg: dict) -> dict:
    return {STEM: draw}


def draw(t: Tables):
    from ... import plotting
    from ...claims import threshold
    from ...plotting import REFERENCE, SIMULATION
    from ...stats import mean_se
    from ...tables import vector

    runs, bases = t.runs_of(E), t.baselines_of(E)
    fig, ax = plotting.panels(2, ncols=2, size=4.8, title="Van der Pol with random weights: bias learning needs gain")
    target = select(bases, baseline="target").sort_values("coord")
    gains = sorted(runs["gain"].unique())
    shown = [g for g in (min(gains), max(g for g in gains if g <= 1.5)) if g in gains]
    s0 = sorted(runs["seed"].unique())[0]
    ax[0].plot(target["coord"], target["value"], color="k", label="target x(t) (z-scored)", **REFERENCE)
    for i, g in enumerate(dict.fromkeys(shown)):
        coord, yh = vector(runs, "y_hat", seed=s0, gain=g, mode="bias")
        ax[0].plot(coord, yh, color=f"C{i}", label=f"bias, g = {g:g} (seed {s0})", **SIMULATION)
    ax[0].set(xlabel="time step (Δt = 0.1)", ylabel="x", title="generated outputs")
    ax[0].legend(fontsize=7, loc="lower left")

    curves = [
        (final_r2(t, "bias"), "bias (N = {})", "tab:blue", "o-"),
        (final_r2(t, "full"), "full, matched (n = {})", "tab:orange", "s-"),
        (select(bases, baseline="readout"), "readout only, baseline (N = {})", "tab:green", "^--"),
        (select(bases, baseline="untrained"), "untrained, baseline (N = {})", "tab:grey", "x:"),
    ]
    for d, label, col, style in curves:
        if d.empty:
            continue
        for k, (n, dn) in enumerate(d.groupby("N")):
            lost = int((~np.isfinite(dn["value"])).sum())  # diverged nets: left out of the mean, counted in the label
            m = mean_se(dn[np.isfinite(dn["value"])], "gain", "value")
            name = label.format(int(n)) + (f", {lost} diverged" if lost else "")
            ax[1].plot(m["gain"], m["mean"], style, color=col, alpha=1 - 0.4 * k, label=name)
            ax[1].fill_between(m["gain"], m["mean"] - m["se"], m["mean"] + m["se"], color=col, alpha=0.2, lw=0)
    for cid, ls in (("bias_fails_low_gain", ":"), ("bias_succeeds_high_gain", "--")):
        thr = threshold(CLAIMS, f"williams2024.{E}.{cid}", t.profile)
        if np.isfinite(thr):
            ax[1].axhline(thr, color="grey", lw=1, ls=ls, label=f"claim {cid}: {thr:g}")
    ax[1].axvline(1.0, color="k", lw=0.8, ls=":")
    ax[1].set(xlabel="gain g of W = (g/√N) N(0, 1)", ylabel="R² (mean ± SE over seeds)", title="R² vs gain")
    ax[1].set_ylim(max(-1.0, ax[1].get_ylim()[0]), 1.05)
    ax[1].legend(fontsize=6, loc="lower right")
    return fig
