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


def six_panels(axes, r: pd.DataFrame, b: pd.DataFrame, label: str = "", test: bool = False, a_steps: int = 20):
    """Panels (a)-(f) of the paper's ``produce_plots`` for one point (seed = the first seed for trajectories)."""
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
    ax.set(xlabel="step", ylabel="training loss", title=f"(a) training loss {label}".strip())
    ax.legend(title=LR + " (dashed: linearised)", ncol=2, fontsize=7, title_fontsize=7)
    alive = r0[~r0["diverged"].astype(bool)]
    for ax, metric, ylab, name in (
        (axes[1], "theta2_ratio", r"$\theta^2_t/\theta^2_0$", "(b) weight norm"),
        (axes[2], "eta_lambda", r"$\eta\lambda_t$", "(c) curvature"),
    ):
        ax.set_title(name)
        for lr in lrs:
            tr = trace(alive[np.isclose(alive["eta_lambda0"], lr)], metric).dropna(subset=["value"])
            ax.plot(tr["step"], tr["value"], color=col[lr], **plotting.SIMULATION)
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(0, None)
        ax.set(xlabel="step", ylabel=ylab)
    axes[2].axhline(windows.LOWER_EDGE, color="k", lw=1, ls=":")
    axes[2].set_yscale("log")
    conv = s[~s["diverged"].astype(bool)]
    for ax, colname, ylab, logy, name in (
        (axes[3], "eta_lambda_final", r"$\eta\lambda_\infty$", False, "(d) final curvature"),
        (axes[4], "theta2_final_ratio", r"$\theta^2_\infty/\theta^2_0$", False, "(e) final weight norm"),
        (axes[5], "final_loss", "final loss (floored at 1e-32)", True, "(f) final loss"),
    ):
        ax.set_title(name)
        bands(ax, lo, hi, dfrom, up)
        m = med(conv, colname)
        if logy:
            m[["med", "lo", "hi"]] = m[["med", "lo", "hi"]].clip(lower=1e-32)
        ax.plot(
            m["x"],
            m["med"],
            "o-",
            color="tab:red",
            ms=3.5,
            label="train" if colname == "final_loss" else "trained nets",
        )
        if s["seed"].nunique() > 1:
            ax.fill_between(m["x"], m["lo"], m["hi"], color="tab:red", alpha=0.2, lw=0)
        ax.set(xlabel=LR, ylabel=ylab)
        if logy:
            ax.set_yscale("log")
    xs = np.linspace(0, windows.LOWER_EDGE, 50)
    axes[3].plot(xs, xs, color="grey", label="linearised", **plotting.REFERENCE)
    axes[3].axhline(windows.LOWER_EDGE, color="k", lw=1, ls=":")
    if test and "test_loss" in conv.columns:
        m = med(conv, "test_loss")
        m[["med", "lo", "hi"]] = m[["med", "lo", "hi"]].clip(lower=1e-32)
        axes[5].plot(m["x"], m["med"], "s-", color="tab:green", ms=3.5, label="test")
    axes[3].legend(fontsize=7)
    axes[5].legend(fontsize=7)
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
