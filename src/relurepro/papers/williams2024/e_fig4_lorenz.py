"""Fig 4: one-dimensional Lorenz, next-sample prediction; teacher-forced fits are good, self-sustained runs degrade.

One job: N-unit nets in the modes bias, full and readout (the random-feature baseline) as one
ensemble, members (seed, mode), on mini-batches of windows each member draws from its own seed.
Logged: the teacher-forced test R² over training; at the end the test predictions and the
closed-loop RMSE per step ahead. Baselines: the autocorrelation with its HWHM lag tau, the test
series, and ridge autoregression (one step and closed loop).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim, Measured
from ...tables import Tables, per_member, select
from .. import Job

E = "fig4"
STEM = "williams2024_fig4_lorenz"
PRECISION = None
KEYS = ("N", "gain", "leak", "readout", "steps", "batch", "lr_bias", "lr_full", "lr_readout", "log_every", "dtype")
KEYS_EVAL = ("washout", "warmup", "horizon", "ar_lags", "ar_ridge")


def dataset(e: dict) -> dict:
    lz = e["lorenz"]
    keys = ("sigma", "rho", "beta", "dt", "transient", "samples", "window", "train_fraction", "max_lag")
    return {"kind": "lorenz", **{k: lz[k] for k in keys}}


def jobs(e: dict, cfg: dict) -> list[Job]:
    if e["warmup"] + e["horizon"] > e["lorenz"]["window"] + 1:
        raise ValueError(
            f"experiments.{E}: warmup + horizon ({e['warmup']} + {e['horizon']}) must fit a window of "
            f"{e['lorenz']['window']} + 1 samples"
        )
    params = {k: e[k] for k in KEYS + KEYS_EVAL}
    members = [{"seed": int(s), "mode": m, "gain": float(e["gain"])} for m in e["modes"] for s in e["seeds"]]
    return [Job(E, f"N{e['N']}", params, {"lorenz": dataset(e)}, members)]


def _series(windows, dt, device):
    """Windows ``[n, L + 1]`` as inputs ``[L, n, 1]`` and next-sample targets ``[L, n, 1]``."""
    import torch

    w = torch.as_tensor(windows, dtype=dt, device=device).T[:, :, None]
    return w[:-1], w[1:]


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    import torch

    from ...batching import MemberBatches, take
    from . import rnn

    p = job.params
    dt = rnn.dtype_of(job)
    lz = data["lorenz"]
    train_w = torch.as_tensor(lz["train"], dtype=dt, device=ctx.device)  # [n, L + 1]
    u_test, y_test = _series(lz["test"], dt, ctx.device)
    steps_t, leak, wash = u_test.shape[0], float(p["leak"]), int(p["washout"])
    n = int(p["N"])
    params, r0 = rnn.init(
        job.column("seed"),
        job.column("gain"),
        n,
        1,
        1,
        readout_std=rnn.readout_std(p["readout"], n),
        dtype=dt,
        device=ctx.device,
    )
    batches = MemberBatches(job.column("seed"), len(train_w), int(p["batch"]), device=ctx.device)

    def loss(ps, state):
        w = take(train_w, state.batch).permute(2, 0, 1)[:, :, :, None]  # [L + 1, M, B, 1]
        out = rnn.rollout(ps, r0, w[:-1], steps_t, leak)[1]
        return ((out - w[1:]) ** 2)[wash:].mean((0, 2, 3))

    def test_r2(ps):
        return rnn.r_squared(rnn.rollout(ps, r0, u_test, steps_t, leak)[1][wash:], y_test[wash:])

    def metrics(ps, _loss, state):
        return {"r2": test_r2(ps)}

    hist, labels, rows = rnn.fit(job, ctx, params, loss, d_out=1, metrics=metrics, batches=batches)
    with torch.no_grad():
        pred = rnn.rollout(params, r0, u_test, steps_t, leak)[1][:, :, :, 0]  # [L, M, n]
        rmse = closed_loop_rmse(params, r0, lz["test"], int(p["warmup"]), int(p["horizon"]), leak, dt)
    vectors = {"y_hat_test": pred.permute(1, 2, 0).reshape(pred.shape[1], -1).cpu().numpy(), "closed_rmse": rmse}
    rows.append(rnn.final_rows(labels, int(p["steps"]), vectors, hist.diverged_step))
    return pd.concat(rows, ignore_index=True)


def closed_loop_rmse(params, r0, windows, warmup: int, horizon: int, leak: float, dt) -> np.ndarray:
    """RMSE ``[M, horizon]`` over the test windows of predictions 1..horizon steps ahead, self-sustained
    after ``warmup`` teacher-forced samples (step 1 is the last teacher-forced prediction)."""
    import torch

    from . import rnn

    u, _ = _series(windows, dt, params[0].device)
    states, outs = rnn.rollout(params, r0, u[:warmup], warmup, leak)
    free = rnn.closed_loop(params, states[-1], outs[-1], horizon - 1, leak)
    pred = torch.cat([outs[-1:], free])[:, :, :, 0]  # [horizon, M, n]
    truth = torch.as_tensor(windows[:, warmup : warmup + horizon].T, dtype=dt, device=pred.device)[:, None]
    return ((pred - truth) ** 2).mean(2).sqrt().T.cpu().numpy()


# ---------------------------------------------------------------- baselines


def ridge_ar(lz: dict, lags: int, lam: float, warmup: int, horizon: int, washout: int) -> dict:
    """Ridge AR(lags) on the training series: one-step test R² (from t = washout) and closed-loop RMSE."""
    from ...references import linear_predict, ridge
    from ...stats import r_squared

    series = lz["x"][: int(lz["n_train"])]
    x = np.stack([series[i : len(series) - lags + i] for i in range(lags)], 1)
    model = ridge(x, series[lags:], lam)
    test = lz["test"]
    t0 = max(lags, washout + 1)
    feats = np.stack([test[:, t0 - lags + i : test.shape[1] - lags + i] for i in range(lags)], 2)
    one_step = np.stack([linear_predict(model, f) for f in feats])  # [n, L + 1 - t0]
    r2 = r_squared(test[:, t0:].ravel(), one_step.ravel())
    hist = list(test[:, warmup - lags : warmup].T)  # lags x [n]
    preds = []
    for _ in range(horizon):
        nxt = linear_predict(model, np.stack(hist[-lags:], 1))
        preds.append(nxt)
        hist.append(nxt)
    rmse = np.sqrt(((np.stack(preds, 1) - test[:, warmup : warmup + horizon]) ** 2).mean(0))
    return {"r2": r2, "rmse": rmse}


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    lz = data["lorenz"]
    (job,) = jobs.values()
    e = job.params
    acf = lz["acf"]
    parts = [
        pd.DataFrame({"baseline": "autocorrelation", "metric": "acf", "coord": np.arange(len(acf)), "value": acf}),
        pd.DataFrame(
            {"baseline": "autocorrelation", "metric": "tau", "value": [float(lz["tau"])], "dt": float(lz["dt"])}
        ),
        pd.DataFrame(
            {
                "baseline": "target",
                "metric": "x_test",
                "coord": np.arange(lz["test"][:, 1:].size),
                "value": lz["test"][:, 1:].ravel(),
            }
        ),
    ]
    ar = ridge_ar(lz, int(e["ar_lags"]), float(e["ar_ridge"]), int(e["warmup"]), int(e["horizon"]), int(e["washout"]))
    parts.append(pd.DataFrame({"baseline": "ridge_ar", "metric": "r2", "value": [ar["r2"]]}))
    parts.append(
        pd.DataFrame(
            {"baseline": "ridge_ar", "metric": "closed_rmse", "coord": np.arange(len(ar["rmse"])), "value": ar["rmse"]}
        )
    )
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------- claims


def tau(t: Tables) -> float:
    d = select(t.baselines_of(E), baseline="autocorrelation", metric="tau")
    if d.empty:
        raise LookupError("no fig4 autocorrelation baseline")
    return float(d["value"].iloc[0])


def _r2(t: Tables, mode: str) -> pd.DataFrame:
    d = per_member(t.runs_of(E, mode=mode), "r2")
    if d.empty:
        raise LookupError(f"no fig4 runs in mode {mode}")
    return d


def teacher_forced(t: Tables) -> Measured:
    med = {m: float(_r2(t, m)["value"].median()) for m in ("bias", "full")}
    n = min(int(_r2(t, m)["seed"].nunique()) for m in med)
    return Measured(min(med.values()), n_seeds=n, note="; ".join(f"{m}: {v:.4f}" for m, v in med.items()))


def closed_rmse(t: Tables, mode: str) -> pd.DataFrame:
    """Closed-loop RMSE per (seed, step ahead) of one mode: columns seed, coord, value."""
    d = select(t.runs_of(E, mode=mode), metric="closed_rmse")
    if d.empty:
        raise LookupError(f"no fig4 closed-loop errors in mode {mode}")
    return d[["seed", "coord", "value"]]


def degrades(t: Tables) -> Measured:
    ratios = {}
    for m in ("bias", "full"):
        d = closed_rmse(t, m).pivot_table(index="seed", columns="coord", values="value")
        ratios[m] = d[d.columns.max()] / d[d.columns.min()]
    med = {m: float(r.median()) for m, r in ratios.items()}
    note = "; ".join(f"{m}: {v:.3g} (RMSE at {len(d.columns)} steps / 1 step)" for m, v in med.items())
    return Measured(min(med.values()), n_seeds=min(len(r) for r in ratios.values()), note=note)


CLAIMS = [
    Claim(
        "williams2024.fig4.hwhm_lag",
        "the sampling step tau = HWHM lag of the Lorenz x autocorrelation (paper: 27, units unknown)",
        "first lag (RK4 steps of dt) where the autocorrelation of x is <= 1/2",
        ">=",
        tau,
        {"smoke": 5, "quick": 5, "full": 5},
    ),
    Claim(
        "williams2024.fig4.teacher_forced_r2",
        "bias and full RNNs both learn next-sample prediction under teacher forcing (paper: R² > 0.99)",
        "min over bias, full of the median (over seeds) teacher-forced test R²",
        ">=",
        teacher_forced,
        {"smoke": None, "quick": 0.9, "full": 0.9},
        min_seeds=3,
    ),
    Claim(
        "williams2024.fig4.closed_loop_degrades",
        "both degrade when their own output is fed back (self-sustained)",
        "closed-loop RMSE at the last step ahead / at 1 step, median over seeds; min over bias, full",
        ">",
        degrades,
        {"smoke": None, "quick": 2.0, "full": 2.0},
        min_seeds=3,
    ),
]


# ---------------------------------------------------------------- figure


def figures(e: dict, cfg: dict) -> dict:
    return {STEM: draw}


MODES = {"bias": ("tab:blue", "o-"), "full": ("tab:orange", "s-"), "readout": ("tab:green", "^--")}


def draw(t: Tables):
    from ... import plotting
    from ...plotting import REFERENCE, SIMULATION
    from ...stats import mean_se
    from ...tables import vector

    runs, bases = t.runs_of(E), t.baselines_of(E)
    fig, ax = plotting.panels(
        3, ncols=3, size=4.4, title="One-dimensional Lorenz: teacher forcing vs self-sustained (Fig 4)"
    )
    acf = select(bases, baseline="autocorrelation", metric="acf").sort_values("coord")
    lag = tau(t)
    ax[0].plot(acf["coord"], acf["value"], color="k", **SIMULATION)
    ax[0].axhline(0.5, color="grey", lw=1, ls=":")
    ax[0].axvline(lag, color="tab:red", lw=1.2, ls="--", label=f"HWHM lag τ = {lag:g} steps")
    ax[0].set(xlabel="lag (RK4 steps, dt = 0.01)", ylabel="autocorrelation of x", title="autocorrelation")
    ax[0].legend(fontsize=7)

    window = int(t.experiment(E).get("lorenz", {}).get("window", 40))
    shown = 3 * window
    target = select(bases, baseline="target").sort_values("coord").head(shown)
    ax[1].plot(target["coord"], target["value"], color="k", label="true x (test)", **REFERENCE)
    s0 = sorted(runs["seed"].unique())[0]
    for m in ("bias", "full"):
        coord, yh = vector(select(runs, mode=m), "y_hat_test", seed=s0)
        r2 = float(_r2(t, m).set_index("seed")["value"].get(s0, np.nan))
        ax[1].plot(coord[:shown], yh[:shown], color=MODES[m][0], label=f"{m}: R² = {r2:.3f}", **SIMULATION)
    for k in range(1, 3):
        ax[1].axvline(k * window - 0.5, color="grey", lw=0.6)
    ax[1].set(
        xlabel=f"sample (τ apart), {shown // window} test windows",
        ylabel="x (z-scored)",
        title="teacher-forced fit",
    )
    ax[1].legend(fontsize=7, loc="lower left")

    for m, (col, style) in MODES.items():
        d = select(runs, mode=m, metric="closed_rmse")
        if d.empty:
            continue
        s = mean_se(d, "coord", "value")
        ax[2].plot(
            s["coord"] + 1, s["mean"], style, color=col, label=m if m != "readout" else "readout only (baseline)"
        )
        ax[2].fill_between(s["coord"] + 1, s["mean"] - s["se"], s["mean"] + s["se"], color=col, alpha=0.25, lw=0)
    ar = select(bases, baseline="ridge_ar", metric="closed_rmse").sort_values("coord")
    ax[2].plot(ar["coord"] + 1, ar["value"], "k:", lw=2, label="ridge AR (baseline)")
    ax[2].set(
        xlabel="steps ahead (self-sustained)",
        ylabel="RMSE (mean ± SE over seeds)",
        title="closed-loop error",
        yscale="log",
    )
    ax[2].legend(fontsize=7)
    return fig
