"""Panel helpers of the meltzer2023 figures: the paper's 6-panel grid (``plots.produce_plots``),
phase bands and window edges. Imported only inside figure functions (it imports the plotting stack).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import plotting
from ...stats import median_band
from ...tables import select
from . import windows
from .summary import summary

LR = r"$\eta\lambda_0$"


def pick(values, k=6):
    """About ``k`` LRs spread over the grid."""
    values = np.sort(np.unique(np.round(values, 6)))
    if len(values) <= k:
        return list(values)
    idx = np.unique(np.round(np.linspace(0, len(values) - 1, k)).astype(int))
    return list(values[idx])


def bands(ax, lo, hi, div_from=None, upper_edge=None):
    """Shade lazy / catapult / divergent phases and mark the window edges."""
    ax.axvspan(lo, windows.LOWER_EDGE, color=plotting.PHASE_COLOURS["lazy"], zorder=0, lw=0)
    cat_hi = div_from if div_from is not None else hi
    ax.axvspan(windows.LOWER_EDGE, cat_hi, color=plotting.PHASE_COLOURS["catapult"], zorder=0, lw=0)
    if div_from is not None:
        ax.axvspan(div_from, hi, color=plotting.PHASE_COLOURS["divergent"], zorder=0, lw=0)
    ax.axvline(windows.LOWER_EDGE, color="k", lw=1.0, ls="-", alpha=0.6)
    if upper_edge is not None and np.isfinite(upper_edge):
        ax.axvline(upper_edge, color="tab:blue", label=f"window edge {upper_edge:.2f}", **plotting.REFERENCE)
    ax.set_xlim(lo, hi)


def trace(r: pd.DataFrame, metric: str) -> pd.DataFrame:
    return select(r, metric=metric).sort_values("step")


def div_from(s: pd.DataFrame):
    d = s[s["diverged"].astype(bool)]["eta_lambda0"]
    return float(d.min()) - 0.05 if len(d) else None


def edge(b: pd.DataFrame, metric="edge_upper"):
    e = select(b, baseline="window", metric=metric)["value"] if not b.empty else []
    return float(np.median(e)) if len(e) else None


def med(s: pd.DataFrame, col: str) -> pd.DataFrame:
    """Per eta*lambda0: median and range over seeds of ``col`` (columns x, med, lo, hi)."""
    m = median_band(s, "eta_lambda0", col)
    return pd.DataFrame({"x": m["eta_lambda0"], "med": m["median"], "lo": m["lower"], "hi": m["upper"]})


CONVERGED = 1e-8  # the loss below which the claims count a run as converged
FLOOR = 1e-32  # final losses are drawn no lower than this (float64 reaches exact zero)


def steps_to_converge(r: pd.DataFrame, below: float = CONVERGED) -> pd.DataFrame:
    """Per member: ``eta_lambda0``, ``seed`` and ``steps``, the first logged step with loss < ``below`` (NaN if none)."""
    loss = select(r, metric="loss")
    first = loss.drop_duplicates(["point", "member"]).set_index(["point", "member"])[["eta_lambda0", "seed"]]
    hit = loss[loss["value"] < below].groupby(["point", "member"])["step"].min()
    out = first.assign(steps=hit.reindex(first.index)).reset_index()
    out["eta_lambda0"] = out["eta_lambda0"].round(6)
    return out


def plain_log(ax) -> None:
    """Label a log y axis that spans few decades at 1, 2 and 5 x 10^k, as plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = ax.get_ylim()
    if lo > 0 and hi / lo < 1e3:
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())


def _legend(ax, **kw):
    """A legend whose frame lets the data show through."""
    ax.legend(framealpha=0.85, **kw)


def emptiest_corner(ax, size=(0.5, 0.4)) -> str:
    """The legend location whose box (``size`` in axes fractions) covers the least of the panel's curves.

    (matplotlib's "best" counts the phase shading as data and then covers the curves.)
    """
    ax.autoscale_view()  # the limits the panel will be drawn with
    to_axes = ax.transData + ax.transAxes.inverted()
    pts = []
    for line in ax.get_lines():
        xy = line.get_xydata()
        if len(xy) > 2:  # curves, not the axhline/axvline references
            xy = to_axes.transform(xy)
            xy = xy[np.all(np.isfinite(xy), axis=1)]
            t = np.linspace(0, len(xy) - 1, 20 * len(xy))
            pts.append(np.column_stack([np.interp(t, np.arange(len(xy)), xy[:, k]) for k in (0, 1)]))
    xy = np.concatenate(pts) if pts else np.zeros((0, 2))
    w, h = size
    spots = {
        "upper left": (0, 1 - h),
        "upper right": (1 - w, 1 - h),
        "lower left": (0, 0),
        "lower right": (1 - w, 0),
        "center right": (1 - w, 0.5 - h / 2),
        "center left": (0, 0.5 - h / 2),
        "upper center": (0.5 - w / 2, 1 - h),
        "lower center": (0.5 - w / 2, 0),
    }

    def covered(spot):
        x0, y0 = spots[spot]
        return int(np.sum((xy[:, 0] >= x0) & (xy[:, 0] <= x0 + w) & (xy[:, 1] >= y0) & (xy[:, 1] <= y0 + h)))

    return min(spots, key=covered)


def six_panels(axes, r: pd.DataFrame, b: pd.DataFrame, label: str = "", test: bool = False, a_steps: int = 20):
    """Panels (a)-(f) of the paper's ``produce_plots`` for one point (seed = the first seed for trajectories).

    (f) shows the final loss; where every converged run ends at the float floor (a flat line
    that says nothing), it shows instead how many steps each run takes to converge.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    prefix = f"{label}: " if label else ""
    s = summary(r)
    seed0 = r.sort_values("member", kind="stable")["seed"].iloc[0]  # member 0: the first seed listed
    r0 = select(r, seed=seed0)
    lrs = pick(s["eta_lambda0"].unique())
    col = plotting.colours(lrs, "plasma_r")
    lo, hi = 0.0, float(s["eta_lambda0"].max()) * 1.03
    dfrom, up = div_from(s), edge(b)
    ax = axes[0]
    for lr in lrs:
        m = r0[np.isclose(r0["eta_lambda0"], lr)]
        tr = trace(m, "loss")
        tr = tr[tr["step"] <= a_steps]
        ax.plot(tr["step"], tr["value"], color=col[lr], label=f"{lr:g}", **plotting.SIMULATION)
        if not b.empty:
            lin = select(b, baseline="linearised", seed=seed0)
            lin = lin[np.isclose(lin["eta_lambda0"], lr) & (lin["step"] <= a_steps)].sort_values("step")
            ax.plot(lin["step"], lin["value"], color=col[lr], **plotting.REFERENCE, alpha=0.6)
    ax.set_yscale("log")
    shown = r0[(r0["metric"] == "loss") & (r0["step"] <= a_steps) & r0["eta_lambda0"].round(6).isin(lrs)]["value"]
    top = float(np.nanmax(shown.replace(np.inf, np.nan))) if len(shown) else 1.0
    ax.set_ylim(max(1e-12, ax.get_ylim()[0]), min(ax.get_ylim()[1], max(top, 1e-12) * 1e3))
    ax.set(xlabel="step", ylabel="training loss", title=f"(a) {prefix}training loss")
    _legend(ax, title=LR + " (dashed: linearised)", ncol=2, fontsize=8, title_fontsize=8)
    alive = r0[~r0["diverged"].astype(bool)]
    for ax, metric, ylab, name in (
        (axes[1], "theta2_ratio", r"$\theta^2_t/\theta^2_0$", "weight norm"),
        (axes[2], "eta_lambda", r"$\eta\lambda_t$", "curvature"),
    ):
        ax.set_title(f"(x) {prefix}{name}")
        for lr in lrs:
            tr = trace(alive[np.isclose(alive["eta_lambda0"], lr)], metric).dropna(subset=["value"])
            ax.plot(tr["step"], tr["value"], color=col[lr], **plotting.SIMULATION)
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(0, None)
        ax.set(xlabel="step", ylabel=ylab)
    axes[2].axhline(windows.LOWER_EDGE, color="k", lw=1.2, ls=":", label=r"$\eta\lambda = 2$ (GD stability limit)")
    axes[2].set_yscale("log")
    plain_log(axes[2])
    _legend(axes[2], fontsize=8)
    conv = s[~s["diverged"].astype(bool)]
    floored = bool(len(conv)) and bool((conv["final_loss"].fillna(0) <= 1e3 * FLOOR).all()) and not test
    for ax, colname, ylab, logy, name in (
        (axes[3], "eta_lambda_final", r"$\eta\lambda_\infty$", False, "final curvature"),
        (axes[4], "theta2_final_ratio", r"$\theta^2_\infty/\theta^2_0$", False, "final weight norm"),
        (axes[5], "final_loss", "final loss", True, "final loss"),
    ):
        ax.set_title(f"(x) {prefix}{name}")
        bands(ax, lo, hi, dfrom, up)
        ax.set_xlabel(LR)
        if colname == "final_loss" and floored:
            continue
        m = med(conv, colname)
        if logy:
            m[["med", "lo", "hi"]] = m[["med", "lo", "hi"]].clip(lower=FLOOR)
        label = "train" if colname == "final_loss" else "trained nets"
        ax.plot(m["x"], m["med"], "o-", color="tab:red", ms=3.5, label=label)
        if s["seed"].nunique() > 1:
            ax.fill_between(m["x"], m["lo"], m["hi"], color="tab:red", alpha=0.2, lw=0)
        ax.set_ylabel(ylab)
        if logy:
            ax.set_yscale("log")
    xs = np.linspace(0, windows.LOWER_EDGE, 50)
    axes[3].plot(xs, xs, color="grey", label="linearised", **plotting.REFERENCE)
    axes[3].axhline(windows.LOWER_EDGE, color="k", lw=1.2, ls=":", label=r"$\eta\lambda_\infty = 2$")
    if floored:  # every converged run ends at exactly zero loss: show how fast it gets there
        ax = axes[5]
        st = steps_to_converge(r[~r["diverged"].astype(bool)])
        m = med(st.dropna(subset=["steps"]), "steps")
        ax.plot(m["x"], m["med"], "o-", color="tab:red", ms=3.5, label="train")
        if s["seed"].nunique() > 1:
            ax.fill_between(m["x"], m["lo"], m["hi"], color="tab:red", alpha=0.2, lw=0)
        ax.set(ylabel=r"steps until loss < $10^{-8}$", title=f"(x) {prefix}time to converge")
        ax.set_ylim(0, None)
    if test and "test_loss" in conv.columns:
        m = med(conv, "test_loss")
        m[["med", "lo", "hi"]] = m[["med", "lo", "hi"]].clip(lower=FLOOR)
        axes[5].plot(m["x"], m["med"], "s-", color="tab:green", ms=3.5, label="test")
    # (d) explains its lines, (e) the phases and their edges (shared by (d)-(f)), (f) its data
    handles, labels = axes[3].get_legend_handles_labels()
    kept = [h for h, lab in zip(handles, labels) if not lab.startswith("window edge")]
    _legend(axes[3], handles=kept, fontsize=8, loc=emptiest_corner(axes[3]))
    phases = [Patch(color=plotting.PHASE_COLOURS[k], label=k) for k in ("lazy", "catapult")]
    if dfrom is not None:
        phases.append(Patch(color=plotting.PHASE_COLOURS["divergent"], label="divergent"))
    phases.append(Line2D([], [], color="k", lw=1.0, alpha=0.6, label=r"$\eta_{crit}$: $\eta\lambda_0 = 2$"))
    if up is not None and np.isfinite(up):
        phases.append(Line2D([], [], color="tab:blue", **plotting.REFERENCE, label=f"window edge {up:.2f}"))
    where = emptiest_corner(axes[4], size=(0.5, 0.5))
    _legend(axes[4], handles=phases, title="phase", fontsize=8, title_fontsize=8, loc=where)
    data = [h for h, lab in zip(*axes[5].get_legend_handles_labels()) if lab in ("train", "test")]
    if data:
        _legend(axes[5], handles=data, fontsize=8, loc=emptiest_corner(axes[5], size=(0.3, 0.2)))
    return s


def letters(axes):
    """Move each panel's centre title into the bold left title, re-lettered in order."""
    for ax, letter in zip(axes, "abcdefghijklmnop"):
        t = ax.get_title()
        rest = t.split(")", 1)[1].strip() if t.startswith("(") else t
        ax.set_title("")
        ax.set_title(f"({letter}) {rest}".strip(), loc="left", fontsize=10, fontweight="bold")


def six(r, b, title, **kw):
    """A figure with the six panels of one point."""
    fig, axes = plotting.panels(6, ncols=3, title=title)
    six_panels(axes, r, b, **kw)
    letters(axes)
    return fig


def threshold_line(ax, value: float, label: str, horizontal: bool = True):
    """A claim's threshold drawn on a panel (values come from the declared claims)."""
    if value is None or not np.isfinite(value):
        return
    line = ax.axhline if horizontal else ax.axvline
    line(value, color="tab:gray", ls="-.", lw=1.0, label=label)
