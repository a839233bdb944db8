"""E5: sweep over the leaky slope. One curve, time stretched by 2/(1+alpha); collapse onto linear nets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim, NotApplicable
from ...tables import Tables, final, members, select, series
from .. import Job
from . import shallow, theory
from .common import T_LABEL, alpha_colours, first_seed, per_seed

EXP = "E5"
STEM = "zhang2024_fig_alpha_sweep"


def jobs(e: dict, cfg: dict) -> list[Job]:
    return shallow.teacher_jobs(EXP, e)


train = shallow.train
baselines = shallow.baselines


def _loss_members(t: Tables) -> pd.DataFrame:
    return members(t.runs_of(EXP, metric="loss"))


def _partner(m: pd.DataFrame, point, **labels):
    """The member number of the run at ``point`` with these labels, or None."""
    hit = m[(m["point"] == point)]
    for k, v in labels.items():
        hit = hit[hit[k] == v]
    return None if hit.empty else int(hit["member"].iloc[0])


def _relu(t: Tables) -> pd.DataFrame:
    return shallow.relu_members(t, EXP)


def collapse(t: Tables) -> dict:
    runs, m = t.runs_of(EXP), _loss_members(t)
    out = []
    for r in _relu(t).itertuples():
        ref = _partner(m, r.point, role="linear_ref", alpha=r.alpha, seed=r.seed)
        if r.alpha < 1 and ref is not None:
            _, loss = series(runs, "loss", point=r.point, member=r.member)
            _, l_ref = series(runs, "loss", point=r.point, member=ref)
            out.append((r.seed, float(np.abs(loss - l_ref).max() / loss[0])))
    return per_seed(out)


def time_rescaling(t: Tables) -> dict:
    m = _loss_members(t)
    out = []
    for r in _relu(t).itertuples():
        ref = _partner(m, r.point, role="linear_ref", alpha=r.alpha, seed=r.seed)
        if r.alpha < 1 and ref is not None:
            s = shallow.saxe_scalar(t, EXP, r.point, r.member, "s_mode0")
            c = float(theory.c_of(r.alpha))
            t_a = shallow.half_time_sim(t, EXP, r.point, r.member, 0, s)
            t_l = shallow.half_time_sim(t, EXP, r.point, ref, 0, s)
            out.append((r.seed, abs(c * t_a / t_l - 1)))
    return per_seed(out)


def common_floor(t: Tables) -> dict:
    runs, m = t.runs_of(EXP), _loss_members(t)
    out = []
    for r in _relu(t).itertuples():
        one = _partner(m, r.point, role="relu", alpha=1.0, seed=r.seed)
        if one is not None:
            _, loss = series(runs, "loss", point=r.point, member=r.member)
            out.append((r.seed, abs(loss[-1] - final(runs, "loss", point=r.point, member=one)) / loss[0]))
    return per_seed(out)


def raw_init_log_shift(t: Tables) -> dict:
    m = _loss_members(t)
    out = []
    for r in _relu(t).itertuples():
        one = _partner(m, r.point, role="relu", alpha=1.0, seed=r.seed)
        if r.alpha == 0.0 and one is not None:
            s = shallow.saxe_scalar(t, EXP, r.point, r.member, "s_mode0")
            c = float(theory.c_of(r.alpha))
            ratio = shallow.half_time_sim(t, EXP, r.point, r.member, 0, s) / shallow.half_time_sim(
                t, EXP, r.point, one, 0, s
            )
            u0_raw = shallow.saxe_scalar(t, EXP, r.point, one, "u0_mode0")  # c = 1: the raw draws
            out.append((r.seed, abs(ratio / theory.log_shift_ratio(s, u0_raw, c) - 1)))
    if not out:
        raise NotApplicable("E5 needs alpha = 0 and alpha = 1 at the same seed for the raw-init log shift")
    return per_seed(out)


CLAIMS = [
    Claim(
        "zhang2024.E5.collapse",
        "L_alpha(t) = L_lin(c t) for the linear net with draws x sqrt(c)",
        "max over alpha < 1 and t of |L_alpha(t) - L_lin,sqrt(c) sigma0(c t)| / L0",
        "<",
        collapse,
        thresholds={"smoke": 0.02, "quick": 0.02, "full": 0.02},
    ),
    Claim(
        "zhang2024.E5.time_rescaling",
        "leaky nets learn 2/(1+alpha) times slower than the sqrt(c)-init linear net",
        "max over alpha of |c t_half(alpha) / t_half(lin, sqrt(c) init) - 1|",
        "<=",
        time_rescaling,
        thresholds={"smoke": 0.01, "quick": 0.01, "full": 0.01},
    ),
    shallow.saxe_fit_claim(
        EXP,
        "the Saxe closed form from each run's own init tracks every alpha",
        "max over alpha of max_t |L - L_theory| / L0",
        0.03,
    ),
    Claim(
        "zhang2024.E5.common_floor",
        "all alpha converge to the same floor L*",
        "max over alpha of |L_final(alpha) - L_final(1)| / L0",
        "<",
        common_floor,
        thresholds={"smoke": 1e-3, "quick": 1e-3, "full": 1e-3},
    ),
    Claim(
        "zhang2024.E5.raw_init_log_shift",
        "at the same raw init the ReLU/linear half-time ratio is ln(s/(c u0) - 1) / (c ln(s/u0 - 1)), not 2",
        "|r / r_pred - 1|, r = t_half(alpha=0) / t_half(lin) at the same raw init",
        "<",
        raw_init_log_shift,
        thresholds={"smoke": 0.01, "quick": 0.01, "full": 0.01},
    ),
]


def figures(e: dict, cfg: dict) -> dict:
    return {STEM: draw}


def draw(t: Tables):
    from ... import plotting
    from ...plotting import REFERENCE, SIMULATION, THEORY

    runs, bases = t.runs_of(EXP), t.baselines_of(EXP)
    fig, ax = plotting.panels(3, ncols=3, size=4.0, title="Leaky slope α: one curve, time stretched by 2/(1+α)")
    m = _loss_members(t)
    rm = first_seed(m[m["role"] == "relu"])
    col = alpha_colours(rm["alpha"].unique())
    err_ax = ax[1].twinx()
    ratios = []
    for r in rm.sort_values("alpha").itertuples():
        c = float(theory.c_of(r.alpha))
        tt, loss = series(runs, "loss", x="t", point=r.point, member=r.member)
        t_th, l_th = series(bases, "loss", x="t", baseline="saxe", point=r.point, member=r.member)
        ax[0].plot(tt, loss, color=col[r.alpha], label=f"α={r.alpha:g}", **SIMULATION)
        ax[0].plot(t_th, l_th, color=col[r.alpha], **THEORY)
        ax[1].plot(c * tt, loss, color=col[r.alpha], label=f"α={r.alpha:g}", **SIMULATION)
        s = shallow.saxe_scalar(t, EXP, r.point, r.member, "s_mode0")
        ta = shallow.half_time_sim(t, EXP, r.point, r.member, 0, s)
        ref = _partner(m, r.point, role="linear_ref", alpha=r.alpha, seed=r.seed)
        if r.alpha < 1 and ref is not None:
            _, l_ref = series(runs, "loss", point=r.point, member=ref)
            err_ax.plot(c * tt, 100 * np.abs(loss - l_ref) / loss[0], color=col[r.alpha], **REFERENCE)
            ratios.append((r.alpha, ta / shallow.half_time_sim(t, EXP, r.point, ref, 0, s), "sqrtc"))
        one = _partner(m, r.point, role="relu", alpha=1.0, seed=r.seed)
        if one is not None:
            ratios.append((r.alpha, ta / shallow.half_time_sim(t, EXP, r.point, one, 0, s), "raw"))
            u0 = shallow.saxe_scalar(t, EXP, r.point, one, "u0_mode0")
            ratios.append((r.alpha, theory.log_shift_ratio(s, u0, c), "pred"))
    ls = select(bases, baseline="linreg", metric="loss_star")
    if not ls.empty:
        for a_ in ax[:2]:
            a_.axhline(ls["value"].iloc[0], color="grey", linewidth=1, linestyle="--")
    ax[0].set(xlabel=T_LABEL, ylabel="loss")
    ax[0].plot([], [], color="grey", label="Saxe theory", **THEORY)
    ax[0].legend(fontsize=7)
    ax[1].set(xlabel="c · t  (c = (1+α)/2)", ylabel="loss")
    ax[1].plot([], [], color="grey", label="Error (right axis)", **REFERENCE)
    err_ax.set_ylabel("Error |L_α − L_lin| / L0 (%)")
    err_ax.grid(False)
    ax[1].legend(fontsize=7, loc="center right")
    r = pd.DataFrame(ratios, columns=["alpha", "ratio", "kind"])
    x = 2 / (1 + r["alpha"])
    styles = {
        "sqrtc": dict(marker="o", color="tab:blue", label="t½(α) / t½(linear, draws×√c, lr×c)", linestyle="none"),
        "raw": dict(marker="s", color="tab:orange", label="t½(α) / t½(α=1), same raw draws", linestyle="none"),
        "pred": dict(color="tab:orange", label="log-shift prediction (raw init)", **THEORY),
    }
    for kind, st in styles.items():
        sel = (r["kind"] == kind).to_numpy()
        order = np.argsort(x[sel].to_numpy())
        ax[2].plot(x[sel].to_numpy()[order], r["ratio"][sel].to_numpy()[order], **st)
    xs = np.linspace(1, 2, 50)
    ax[2].plot(xs, xs, color="k", linewidth=1, label="2/(1+α)")
    ax[2].set(xlabel="2/(1+α)", ylabel="half-time ratio", title="time rescaling")
    ax[2].legend(fontsize=7)
    return fig
