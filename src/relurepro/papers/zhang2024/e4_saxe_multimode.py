"""E4: the Saxe closed form for a multi-mode teacher: stage-like learning, strongest mode first."""

from __future__ import annotations

from ...claims import Claim
from ...tables import Tables, members, select, series
from .. import Job
from . import shallow
from .common import T_LABEL, first_seed

EXP = "E4"
STEM = "zhang2024_fig_saxe_multimode"
MODE_COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]


def jobs(e: dict, cfg: dict) -> list[Job]:
    return shallow.teacher_jobs(EXP, e)


train = shallow.train
baselines = shallow.baselines

CLAIMS = [
    shallow.saxe_fit_claim(
        EXP,
        "the Saxe closed form from each run's own init tracks the loss of every leaky net",
        "max over runs and t of |L - L_theory| / L0",
        0.05,
    ),
    Claim(
        "zhang2024.E4.half_time",
        "each mode is half-learned when the closed form says (t_half = ln(s/u0 - 1) / (2 c s))",
        "median over seeds of the max over modes and alpha of |t_half_sim / t_half_theory - 1|",
        "<=",
        shallow.half_time(EXP),
        # with 3 seeds the median passes at smoke size too (0.013; seed 0 alone is 2.3% late at H = 100)
        thresholds={"smoke": 0.02, "quick": 0.02, "full": 0.02},
        version=2,  # spec: judged on the median over >= 3 seeds (was the single seed 0)
        min_seeds=3,
    ),
]


def figures(e: dict, cfg: dict) -> dict:
    return {STEM: draw}


def draw(t: Tables):
    from ... import plotting

    runs, bases = t.runs_of(EXP), t.baselines_of(EXP)
    rm = first_seed(members(select(runs, metric="loss"), role="relu")).sort_values("alpha", ascending=False)
    fig, ax = plotting.panels(
        1 + len(rm), ncols=min(4, 1 + len(rm)), title="Multi-mode teacher: stage-like learning, strongest mode first"
    )
    from ...plotting import SIMULATION, THEORY

    shallow.saxe_panels(t, EXP, ax[0], None)
    for a_, r in zip(ax[1:], rm.itertuples()):
        for i in range(shallow.n_modes(t, EXP, r.point, r.member)):
            s = shallow.saxe_scalar(t, EXP, r.point, r.member, f"s_mode{i}")
            tt, u = series(runs, f"u_mode{i}", x="t", point=r.point, member=r.member)
            t_th, u_th = series(bases, f"u_mode{i}", x="t", baseline="saxe", point=r.point, member=r.member)
            c = MODE_COLOURS[i % len(MODE_COLOURS)]
            a_.plot(tt, u, color=c, label=f"mode {i + 1} (s={s:.2g})", **SIMULATION)
            a_.plot(t_th, u_th, color=c, **THEORY)
        a_.set(xlabel=T_LABEL, ylabel="mode strength u_i", title=f"α={r.alpha:g} (dotted: theory)")
        a_.legend(fontsize=7)
    return fig
