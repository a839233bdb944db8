"""E6: the need for symmetric data. Unsymmetrised teacher data, and XOR plus a linear part."""

from __future__ import annotations

import pandas as pd

from ...claims import Claim, NotApplicable, threshold
from ...tables import Tables, final, members, select, series
from .. import Job
from . import shallow
from .common import (
    LINEAR_COLOUR,
    RELU_COLOUR,
    T_LABEL,
    alpha_colours,
    empty,
    first_seed,
    per_seed,
    teacher_spec,
)

EXP = "E6"
STEM = "zhang2024_fig_symmetry_breaking"


def jobs(e: dict, cfg: dict) -> list[Job]:
    from .common import check_teacher

    out = []
    for P in e["P"]:
        check_teacher(EXP, P=P, D=e["D"], C=1, s=[e["s"]], s_key="s")
        name = f"e6_p{P}"
        spec = teacher_spec(seed=e["data_seed"], P=P, D=e["D"], C=1, s=[e["s"]], noise=e["noise_std"], sym=False)
        mem = shallow.saxe_members(e["alphas"], e["seeds"], [e["sigma0"]], e["lr"], e["H"], with_refs=False)
        params = dict(H=e["H"], steps=e["steps"], log_every=e["log_every"], data=name)
        out.append(Job(EXP, f"p{P}", params, {name: spec}, mem))
    x = e["xor"]
    if x["enabled"]:
        spec = {"kind": "xor", "seed": x["data_seed"], "P": x["P"], "whiten": x["whiten"]}
        mem = shallow.saxe_members([0.0, 1.0], e["seeds"], [x["sigma0"]], x["lr"], x["H"], with_refs=False)
        params = dict(H=x["H"], steps=x["steps"], log_every=x["log_every"], data="e6_xor", modes=False)
        out.append(Job(EXP, "xor", params, {"e6_xor": spec}, mem))
    return out


train = shallow.train
baselines = shallow.baselines


def deviation(point: str, alpha: float, how):
    """Measure: per seed, ``max_t |L - L_theory| / L0`` of the leaky runs at one sample size and slope."""

    def measure(t: Tables) -> dict:
        m = members(t.runs_of(EXP, metric="loss"), role="relu", point=point, alpha=alpha)
        if m.empty:
            raise NotApplicable(f"no E6 run at {point} with alpha = {alpha:g} in this config")
        return per_seed([(r.seed, shallow.saxe_error(t, EXP, r.point, r.member)) for r in m.itertuples()], how)

    return measure


def xor_nonlinear(t: Tables) -> dict:
    runs = t.runs_of(EXP, point="xor")
    m = members(select(runs, metric="loss"))
    if m.empty:
        raise NotApplicable("the XOR + linear run is off in this config")
    ratios = []
    for seed, grp in m.groupby("seed"):
        m0 = int(grp[grp["alpha"] == 0.0]["member"].iloc[0])
        m1 = int(grp[grp["alpha"] == 1.0]["member"].iloc[0])
        ratios.append((seed, final(runs, "loss", member=m0) / final(runs, "loss", member=m1)))
    return per_seed(ratios)


CLAIMS = [
    Claim(
        "zhang2024.E6.relu_deviates_without_symmetry",
        "without S a ReLU net leaves the linear (Saxe) time course",
        "alpha=0, P=100 unsymmetrised: max_t |L - L_theory| / L0",
        ">",
        deviation("p100", 0.0, min),
        thresholds={"smoke": 0.1, "quick": 0.1, "full": 0.1},
    ),
    Claim(
        "zhang2024.E6.linear_unaffected_without_symmetry",
        "a linear net still follows the Saxe time course without S",
        "alpha=1, P=100 unsymmetrised: max_t |L - L_theory| / L0",
        "<",
        deviation("p100", 1.0, max),
        thresholds={"smoke": 0.05, "quick": 0.05, "full": 0.05},
    ),
    Claim(
        "zhang2024.E6.large_p_recovers",
        "with many samples the empirical asymmetry vanishes and ReLU follows the linear time course",
        "alpha=0, P=1e4 unsymmetrised: max_t |L - L_theory| / L0",
        "<",
        deviation("p10000", 0.0, max),
        thresholds={"full": 0.02},  # the P = 1e4 run belongs to the full profile only
    ),
    Claim(
        "zhang2024.E6.xor_nonlinear",
        "on asymmetric (XOR + linear) data the ReLU net fits the even part a linear net cannot",
        "L_final(ReLU) / L_final(linear), XOR + linear data",
        "<",
        xor_nonlinear,
        thresholds={"smoke": 0.5, "quick": 0.5, "full": 0.5},
    ),
]


def figures(e: dict, cfg: dict) -> dict:
    return {STEM: draw}


def draw(t: Tables):
    from ... import plotting
    from ...plotting import REFERENCE, SIMULATION

    fig, ax = plotting.panels(3, ncols=3, size=4.0, title="Without symmetric data ReLU nets stop being linear nets")
    loss = t.runs_of(EXP, metric="loss")
    pts = sorted((p for p in loss["point"].unique() if p != "xor"), key=lambda p: int(p[1:]))
    if pts:
        shallow.saxe_panels(t, EXP, ax[0], None, point=pts[0])
        ax[0].set_title(f"unsymmetrised, P={pts[0][1:]}", fontsize=9)
        _deviation_panel(ax[1], t, loss)
    else:
        empty(ax[0])
        empty(ax[1])
    xm = members(select(loss, point="xor"))
    if not xm.empty:
        for r in first_seed(xm).itertuples():
            tt, lv = series(loss, "loss", x="t", point="xor", member=r.member)
            name = "ReLU (α=0)" if r.alpha == 0 else "linear (α=1)"
            ax[2].plot(tt, lv, color=RELU_COLOUR if r.alpha == 0 else LINEAR_COLOUR, label=name, **SIMULATION)
        ls = select(t.baselines_of(EXP), baseline="linreg", point="xor", metric="loss_star")
        if not ls.empty:
            ax[2].axhline(ls["value"].iloc[0], color="grey", label="linear-regression optimum", **REFERENCE)
        ax[2].set(xlabel=T_LABEL, ylabel="loss", yscale="log", title="y = x1 x2 + x3 (XOR + linear)")
        ax[2].legend(fontsize=7)
    else:
        empty(ax[2])
    return fig


def _deviation_panel(ax, t: Tables, loss) -> None:
    """Largest deviation from the Saxe theory per slope: against P when there are several P, else as bars."""
    import numpy as np

    out = []
    for r in members(loss, role="relu").itertuples():
        if r.point != "xor":
            out.append((int(r.point[1:]), r.alpha, shallow.saxe_error(t, EXP, r.point, r.member)))
    err = pd.DataFrame(out, columns=["P", "alpha", "err"]).groupby(["alpha", "P"])["err"].max().reset_index()
    col = alpha_colours(err["alpha"].unique())
    name = {0.0: "ReLU (α=0)", 1.0: "linear (α=1)"}
    sizes = sorted(err["P"].unique())
    if len(sizes) > 1:
        for a, grp in err.groupby("alpha"):
            ax.plot(grp["P"], grp["err"], "o-", color=col[a], label=name.get(a, f"α={a:g}"))
        ax.set(xscale="log", xlabel="P (samples, unsymmetrised)")
        ax.set_xticks(sizes, [f"{p:g}" for p in sizes])
        ax.minorticks_off()
    else:  # one sample size (smoke and quick profiles): one bar per slope, not one point on a log axis
        alphas = sorted(err["alpha"].unique())
        values = err.set_index("alpha").loc[alphas, "err"].to_numpy()
        ax.bar(range(len(alphas)), values, width=0.5, color=[col[a] for a in alphas])
        for i, v in enumerate(values):
            ax.annotate(f"{v:.2g}", (i, v), ha="center", va="bottom", xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(range(len(alphas)), [name.get(a, f"α={a:g}") for a in alphas])
        ax.set_xlim(-0.6, len(alphas) - 0.4)
        ax.set_ylim(values.min() / 4, values.max() * 20)  # room above the bars for the legend
        ax.set_xlabel(f"P = {sizes[0]:g} samples, unsymmetrised")
    for claim, label in (
        ("zhang2024.E6.relu_deviates_without_symmetry", "ReLU must exceed"),
        ("zhang2024.E6.linear_unaffected_without_symmetry", "linear must stay below"),
    ):
        limit = threshold(CLAIMS, claim, t.profile)
        if np.isfinite(limit):
            ax.axhline(limit, color="tab:red", ls="--" if "ReLU" in label else ":", lw=1.2, label=f"{label} {limit:g}")
    ax.set(yscale="log", ylabel="max |L − L_theory| / L0", title="deviation from theory")
    ax.legend()
