"""Helpers shared by the zhang2024 experiments: data specs, result rows, mode metrics, figure bits.

Torch and plotting are imported inside the functions that need them, so that the grid and
the figure stems stay light.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...tables import select
from . import theory

PAPER = "zhang2024"
T_LABEL = "t = step × lr"


# ---------------------------------------------------------------- grid


def config_check(ok: bool, key: str, message: str) -> None:
    """Refuse a value the code cannot take: ``ValueError("experiments.<key>: ...")``, a config error naming the key."""
    if not ok:
        raise ValueError(f"experiments.{key}: {message}")


def check_teacher(exp: str, *, P, D, C, s, P_key="P", s_key="singular_values") -> None:
    """A whitened teacher data set needs ``P >= D`` (exact whitening) and at most ``min(D, C)`` singular values."""
    config_check(
        P >= D, f"{exp}.{P_key}", f"{P} samples cannot be whitened exactly in D = {D} dimensions (need P >= D)"
    )
    config_check(
        len(s) <= min(D, C),
        f"{exp}.{s_key}",
        f"{len(s)} singular values, but a teacher with D = {D}, C = {C} has rank at most {min(D, C)}",
    )


def teacher_spec(*, seed, P, D, C, s, noise=0.0, sym=True) -> dict:
    """The data spec of a whitened teacher data set (symmetrised after the noise unless ``sym`` is off)."""
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


# ---------------------------------------------------------------- training


def progress(ctx, key: str, steps: int):
    """The shared progress logger (:func:`relurepro.engine.progress`) for one of this paper's jobs."""
    from ... import engine

    return engine.progress(ctx.log, f"{PAPER} {key}", steps)


def finish(df: pd.DataFrame, job) -> pd.DataFrame:
    """Tag a job's rows with its experiment and add gradient-flow time ``t = step x lr`` where there is a lr."""
    df = df.assign(experiment=job.experiment)
    if "lr" in df.columns:
        df["t"] = df["step"] * df["lr"]
    return df


def rows(labels: pd.DataFrame, member: int, step: int, metric: str, values, coord=None) -> pd.DataFrame:
    """Long rows of one member's (scalar or vector) metric, with the member's labels."""
    values = np.atleast_1d(np.asarray(values, dtype=float))
    out = pd.DataFrame({"member": member, "step": step, "metric": metric, "value": values})
    out["coord"] = np.arange(len(values)) if coord is None else np.asarray(coord, dtype=float)
    lab = labels.reset_index(drop=True).iloc[[member]].assign(member=member)
    return out.merge(lab, on="member", how="left")


def tensors(job, x, y, ctx):
    """``x, y`` as tensors and the members' ``slope``, ``lr`` and ``c = (1 + slope) / 2``."""
    import torch

    dt, dev = ctx.dtype, ctx.device
    slope = job.tensor("slope", dtype=dt, device=dev)
    lr = job.tensor("lr", dtype=dt, device=dev)
    xt = torch.as_tensor(x, dtype=dt, device=dev)
    yt = torch.as_tensor(y, dtype=dt, device=dev)
    return xt, yt, slope, lr, (1 + slope) / 2


def mode_metrics(x: np.ndarray, y: np.ndarray, c, ctx):
    """Per-mode strengths ``u_i = c u_i^T W_L..W_1 v_i`` and ``c/4 sum_h (a_hi + b_hi)^2`` (2-layer only)."""
    import torch

    um, _, vm = theory.modes(x, y)
    umat = torch.as_tensor(um, dtype=ctx.dtype, device=ctx.device)
    vmat = torch.as_tensor(vm, dtype=ctx.dtype, device=ctx.device)

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


# ---------------------------------------------------------------- baselines


def floor_rows(experiment: str, point: str, x, y) -> pd.DataFrame:
    """The linear-regression floor ``L*`` and ``1/2 <|y|^2>`` of one data set."""
    _, l_star = theory.linreg(x, y)
    half = 0.5 * float((y**2).sum(-1).mean())
    return pd.DataFrame(
        [
            dict(experiment=experiment, baseline="linreg", point=point, step=np.nan, metric="loss_star", value=l_star),
            dict(experiment=experiment, baseline="half_y2", point=point, step=np.nan, metric="loss", value=half),
        ]
    )


def floor_baselines(jobs: dict, data) -> pd.DataFrame:
    """The regression floors of every job that trains on a data set."""
    parts = [
        floor_rows(job.experiment, point, data[job.params["data"]]["x"], data[job.params["data"]]["y"])
        for point, job in jobs.items()
        if "data" in job.params
    ]
    if not parts:
        return pd.DataFrame(columns=["experiment", "baseline", "step", "metric", "value"])
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------- claims and figures


def per_seed(values: list[tuple[int, float]], how=max) -> dict[int, float]:
    """``{seed: how(values of that seed)}`` from ``(seed, value)`` pairs."""
    out: dict[int, list[float]] = {}
    for seed, v in values:
        out.setdefault(int(seed), []).append(float(v))
    if not out:
        raise LookupError("no runs to measure")
    return {seed: how(vs) for seed, vs in out.items()}


def first_seed(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["seed"] == df["seed"].min()]


# The ends of alpha_colours: ReLU (alpha = 0) orange, linear (alpha = 1) dark blue, both visible on white.
RELU_COLOUR = "#f2844b"
LINEAR_COLOUR = "#0d0887"


def alpha_colours(alphas):
    """A colour per leaky slope, from orange (ReLU, alpha = 0) to dark blue (linear, alpha = 1)."""
    from ... import plotting

    return plotting.colours([float(a) for a in alphas] + [0.0, 1.0], cmap="plasma_r")


def threshold_line(ax, value: float, label: str, **kw) -> None:
    """A horizontal threshold line, drawn only where the profile has a threshold."""
    if np.isfinite(value):
        ax.axhline(value, color="tab:red", linestyle="--", linewidth=kw.pop("linewidth", 1.2), label=label, **kw)


def empty(ax, text="not run in this profile"):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def baseline_value(bases: pd.DataFrame, **labels) -> float:
    """The value of one scalar baseline row."""
    d = select(bases, **labels)
    if d.empty:
        raise LookupError(f"no baseline rows with {labels}")
    return float(d["value"].iloc[0])
