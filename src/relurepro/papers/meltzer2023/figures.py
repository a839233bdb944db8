"""Figures of spec §12. Every function reads only the aggregated runs and baselines tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import plotting
from .claims import summary

LR = r"$\eta\lambda_0$"


def _fmt_slope(a: float) -> str:
    return f"{int(round(a * 100)):03d}"


def leaky_stem(a: float) -> str:
    known = {0.5: "meltzer2023_fig02_leaky_a050", 0.75: "meltzer2023_fig08_leaky_a075"}
    return known.get(round(float(a), 6), f"meltzer2023_fig_leaky_a{_fmt_slope(a)}")


def figures(cfg: dict) -> dict:
    """Stems of the enabled experiments mapped to their drawing functions."""
    ex = cfg.get("experiments", {})
    on = {k for k, v in ex.items() if v.get("enabled", False)}
    out = {}
    if "E_c1" in on:
        out["meltzer2023_fig_uv_model"] = fig_uv_model
    if "E_c2" in on:
        out["meltzer2023_fig01_pure_quadratic"] = fig_pure_quadratic
    if "E_c3" in on:
        for a in ex["E_c3"]["slopes"]:
            out[leaky_stem(a)] = _leaky_factory(a)
    if "E_c4" in on:
        out["meltzer2023_fig10_relu_single"] = fig_relu_single
    if "E_c5" in on:
        out["meltzer2023_fig03_relu_binary"] = fig_relu_binary
        out["meltzer2023_fig_sparsity"] = fig_sparsity
        if max(ex["E_c5"]["depths"]) >= 2:
            out["meltzer2023_fig14_16_relu_3layer"] = fig_relu_3layer
    if "E_c6" in on:
        for part in ex["E_c6"]["parts"]:
            out[E6_STEMS[part]] = _e6_factory(part)
    return out


E6_STEMS = {
    "fig04": "meltzer2023_fig04_quadratic_multi",
    "fig05": "meltzer2023_fig05_quadratic_ts",
    "fig06": "meltzer2023_fig06_quadratic_bias",
    "fig07": "meltzer2023_fig07_quadratic_bias_ts",
    "fig09": "meltzer2023_fig09_leaky_multi",
}
E6_TITLES = {
    "fig04": "Pure quadratic model, d = 2, 32 points (Fig. 4)",
    "fig05": "Pure quadratic teacher-student, tanh meta-features (Fig. 5)",
    "fig06": "Quadratic model with bias, x = 1, y = 0 (Fig. 6)",
    "fig07": "Quadratic model with bias, teacher-student, tanh (Fig. 7)",
    "fig09": "Two-layer leaky-ReLU net (a = 1/2), 32 points (Fig. 9)",
}


def _e6_factory(part):
    def fig(runs, bases, cfg):
        r, b = _part(runs, bases, "E_c6", part)
        f = _six(r, b, E6_TITLES[part], test="test_loss" in set(r["metric"]))
        omega = _edge(b, "edge_upper_omega")
        if omega is not None:
            for ax in f.axes[3:6]:
                ax.axvline(omega, color="tab:red", lw=1.5, label=f"Omega edge {omega:.2f}")
            f.axes[3].legend(fontsize=7)
        return f

    return fig


# ---------------------------------------------------------------- helpers


def _pick(values, k=6):
    """About ``k`` LRs spread over the grid, always including the lazy/catapult neighbourhood."""
    values = np.sort(np.unique(np.round(values, 6)))
    if len(values) <= k:
        return list(values)
    idx = np.unique(np.round(np.linspace(0, len(values) - 1, k)).astype(int))
    return list(values[idx])


def _bands(ax, lo, hi, div_from=None, upper_edge=None):
    """Shade lazy / catapult / divergent phases and mark the window edges."""
    ax.axvspan(lo, 2.0, color=plotting.PHASE_COLOURS["lazy"], zorder=0, lw=0)
    cat_hi = div_from if div_from is not None else hi
    ax.axvspan(2.0, cat_hi, color=plotting.PHASE_COLOURS["catapult"], zorder=0, lw=0)
    if div_from is not None:
        ax.axvspan(div_from, hi, color=plotting.PHASE_COLOURS["divergent"], zorder=0, lw=0)
    ax.axvline(2.0, color="k", lw=1.0, ls="-", alpha=0.6)
    if upper_edge is not None and np.isfinite(upper_edge):
        ax.axvline(upper_edge, color="tab:blue", label=f"window edge {upper_edge:.2f}", **plotting.REFERENCE)
    ax.set_xlim(lo, hi)


def _series(r: pd.DataFrame, metric: str) -> pd.DataFrame:
    return r[r["metric"] == metric].sort_values("step")


def _div_from(s: pd.DataFrame):
    d = s[s["diverged"].astype(bool)]["eta_lambda0"]
    return float(d.min()) - 0.05 if len(d) else None


def _edge(b: pd.DataFrame, metric="edge_upper"):
    e = b[(b["baseline"] == "window") & (b["metric"] == metric)]["value"] if not b.empty else []
    return float(np.median(e)) if len(e) else None


def _med(s: pd.DataFrame, col: str) -> pd.DataFrame:
    g = s.groupby("eta_lambda0")[col]
    return pd.DataFrame({"x": g.median().index, "med": g.median().values, "lo": g.min().values, "hi": g.max().values})


def six_panels(axes, r: pd.DataFrame, b: pd.DataFrame, label: str = "", test: bool = False, a_steps: int = 20):
    """Panels (a)-(f) of the paper's ``produce_plots`` for one point (seed = the first seed for trajectories)."""
    s = summary(r, r["experiment"].iloc[0])
    seed0 = sorted(r["seed"].unique())[0]
    r0 = r[r["seed"] == seed0]
    lrs = _pick(s["eta_lambda0"].unique())
    col = plotting.colours(lrs, "plasma_r")
    lo, hi = 0.0, float(s["eta_lambda0"].max()) * 1.03
    div_from, edge = _div_from(s), _edge(b)
    ax = axes[0]
    for lr in lrs:
        m = r0[np.isclose(r0["eta_lambda0"], lr)]
        tr = _series(m, "loss")
        tr = tr[tr["step"] <= a_steps]
        ax.plot(tr["step"], tr["value"], color=col[lr], label=f"{lr:g}", **plotting.SIMULATION)
        if not b.empty:
            lin = b[(b["baseline"] == "linearised") & np.isclose(b["eta_lambda0"], lr) & (b["seed"] == seed0)]
            lin = lin[lin["step"] <= a_steps].sort_values("step")
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
            tr = _series(alive[np.isclose(alive["eta_lambda0"], lr)], metric).dropna(subset=["value"])
            ax.plot(tr["step"], tr["value"], color=col[lr], **plotting.SIMULATION)
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(0, None)
        ax.set(xlabel="step", ylabel=ylab)
    axes[2].axhline(2.0, color="k", lw=1, ls=":")
    axes[2].set_yscale("log")
    conv = s[~s["diverged"].astype(bool)]
    for ax, colname, ylab, logy, name in (
        (axes[3], "eta_lambda_final", r"$\eta\lambda_\infty$", False, "(d) final curvature"),
        (axes[4], "theta2_final_ratio", r"$\theta^2_\infty/\theta^2_0$", False, "(e) final weight norm"),
        (axes[5], "final_loss", "final loss (floored at 1e-32)", True, "(f) final loss"),
    ):
        ax.set_title(name)
        _bands(ax, lo, hi, div_from, edge)
        m = _med(conv, colname)
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
    xs = np.linspace(0, 2, 50)
    axes[3].plot(xs, xs, color="grey", label="linearised", **plotting.REFERENCE)
    axes[3].axhline(2.0, color="k", lw=1, ls=":")
    if test and "test_loss" in conv.columns:
        m = _med(conv, "test_loss")
        m[["med", "lo", "hi"]] = m[["med", "lo", "hi"]].clip(lower=1e-32)
        axes[5].plot(m["x"], m["med"], "s-", color="tab:green", ms=3.5, label="test")
    axes[3].legend(fontsize=7)
    axes[5].legend(fontsize=7)
    return s


def _letters(axes):
    """Move each panel's centre title into the bold left title, re-lettered in order."""
    for ax, letter in zip(axes, "abcdefghijklmnop"):
        t = ax.get_title()
        rest = t.split(")", 1)[1].strip() if t.startswith("(") else t
        ax.set_title("")
        ax.set_title(f"({letter}) {rest}".strip(), loc="left", fontsize=10, fontweight="bold")


def _part(runs, bases, experiment, point=None):
    r = runs[runs["experiment"] == experiment]
    b = bases[bases["experiment"] == experiment] if not bases.empty else bases
    if point is not None:
        r, b = r[r["point"] == point], b[b["point"] == point] if not b.empty else b
    return r, b


def _six(r, b, title, **kw):
    fig, axes = plotting.panels(6, ncols=3, title=title)
    six_panels(axes, r, b, **kw)
    _letters(axes)
    return fig


# ---------------------------------------------------------------- figures


def fig_uv_model(runs, bases, cfg):
    r_all, b_all = _part(runs, bases, "E_c1")
    points = sorted(r_all["point"].unique(), key=lambda p: int(p[1:]))
    fig, axes = plotting.panels(4 * len(points), ncols=4, title="uv model: catapult (Lewkowycz et al. Thm 1)")
    for i, pt in enumerate(points):
        r, b = r_all[r_all["point"] == pt], b_all[b_all["point"] == pt]
        ax = axes[4 * i : 4 * i + 4]
        s = summary(r, "E_c1")
        lrs = sorted(s["eta_lambda0"].unique())
        col = plotting.colours(lrs, "plasma_r")
        for lr in lrs:
            tr = _series(r[np.isclose(r["eta_lambda0"], lr)], "loss")
            ax[0].plot(tr["step"], tr["value"], color=col[lr], label=f"{lr:g}", **plotting.SIMULATION)
            el = _series(r[np.isclose(r["eta_lambda0"], lr) & ~r["diverged"].astype(bool)], "eta_lambda")
            ax[1].plot(el["step"], el["value"], color=col[lr], **plotting.SIMULATION)
            rec = b[
                (b["baseline"] == "uv_recursion") & np.isclose(b["eta_lambda0"], lr) & (b["metric"] == "eta_lambda")
            ]
            ax[1].plot(rec["step"], rec["value"], color=col[lr], **plotting.THEORY)
        ax[0].set(yscale="log", xscale="symlog", xlabel="step", ylabel="loss", title=f"(a) loss, n = {pt[1:]}")
        ax[0].set_ylim(1e-35, None)
        ax[0].legend(title=LR, ncol=2, fontsize=6, title_fontsize=7)
        ax[1].set(
            yscale="log",
            xscale="symlog",
            xlabel="step",
            ylabel=r"$\eta\lambda_t$",
            title="(b) curvature (dotted: recursion)",
        )
        ax[1].set_ylim(1e-2, 20)
        ax[1].axhline(2, color="k", lw=1, ls=":")
        ax[0].set_xlim(0, None)
        ax[1].set_xlim(0, None)
        div_from = _div_from(s)
        hi = max(4.6, float(s["eta_lambda0"].max()) * 1.03)
        curve = b[(b["baseline"] == "uv_recursion_curve") & (b["metric"] == "eta_lambda_final")].sort_values(
            "eta_lambda0"
        )
        _bands(ax[2], 0, hi, div_from, 4.0)
        ax[2].plot(curve["eta_lambda0"], curve["value"].clip(upper=5), color="k", label="recursion", **plotting.THEORY)
        conv = s[~s["diverged"].astype(bool)]
        ax[2].plot(conv["eta_lambda0"], conv["eta_lambda_final"], "o", color="tab:red", label="trained uv net")
        ax[2].set(xlabel=LR, ylabel=r"$\eta\lambda_\infty$", title="(c) final curvature", ylim=(0, 4.5))
        ax[2].legend(fontsize=7)
        _bands(ax[3], 0, hi, div_from, 4.0)
        ax[3].plot(
            conv["eta_lambda0"],
            conv["theta2_final_ratio"],
            "o-",
            color="tab:purple",
            label=r"$\|\theta_\infty\|^2/\|\theta_0\|^2$",
        )
        ax3b = ax[3].twinx()
        ax3b.plot(
            s["eta_lambda0"], s["loss_max_ratio"].clip(upper=1e12), "s--", color="tab:orange", label=r"$\max_t L_t/L_0$"
        )
        ax3b.set_yscale("log")
        ax3b.set_ylabel(r"$\max_t L_t/L_0$ (orange)")
        ax3b.grid(False)
        ax[3].set(xlabel=LR, ylabel=r"$\|\theta_\infty\|^2/\|\theta_0\|^2$ (purple)", title="(d) norm and loss spike")
    _letters(axes)
    return fig


def fig_pure_quadratic(runs, bases, cfg):
    r, b = _part(runs, bases, "E_c2")
    n = r["width"].iloc[0]
    return _six(r, b, f"Pure quadratic model (Fig. 1): n = {n}, x = 1, y = 0")


def _leaky_factory(a):
    def fig(runs, bases, cfg):
        r, b = _part(runs, bases, "E_c3")
        r = r[np.isclose(r["slope"], a)]
        b = b[b["point"].isin(r["point"].unique())]
        w = r["width"].iloc[0]
        return _six(
            r,
            b,
            f"Two-layer leaky-ReLU net, slope a = {a:g}, width {w}, x = 1, y = 0 (edge $2\\lambda_0/\\bar\\theta_0^2$)",
        )

    return fig


def fig_relu_single(runs, bases, cfg):
    r, b = _part(runs, bases, "E_c4")
    e = cfg["experiments"]["E_c4"]
    title = f"Two-layer ReLU net, width {r['width'].iloc[0]}, (x, y) = ({e['x']:g}, {e['y']:g}) (Fig. 10)"
    fig, axes = plotting.panels(7, ncols=4, title=title)
    s = six_panels(axes[:6], r, b, a_steps=30)
    dead = s[np.abs(s["final_loss"] - 0.5 * e["y"] ** 2) < e["dead_tol"]]
    hi = float(s["eta_lambda0"].max()) * 1.03
    _bands(axes[6], 0, hi, _div_from(s), 4.0)
    axes[6].plot(s["eta_lambda0"], s["sparsity_l1"], "o-", color="tab:red", ms=3.5, label="final sparsity")
    axes[6].plot(dead["eta_lambda0"], dead["sparsity_l1"], "kx", ms=7, mew=2, label="dead net (L = y²/2)")
    for ax in axes[3:6]:
        ax.plot(dead["eta_lambda0"], np.full(len(dead), np.nan))
    axes[5].plot(dead["eta_lambda0"], dead["final_loss"], "kx", ms=7, mew=2, label="dead")
    axes[6].set(xlabel=LR, ylabel="fraction of pre-activations < 0", title="(g) sparsity")
    axes[6].legend(fontsize=7)
    _letters(axes)
    return fig


def fig_relu_binary(runs, bases, cfg):
    r_all, b_all = _part(runs, bases, "E_c5")
    r_all = r_all[r_all["depth"] == 1]
    points = sorted(r_all["point"].unique())
    fig, axes = plotting.panels(
        6 * len(points),
        ncols=6,
        size=3.2,
        title="Two-layer ReLU nets on two-class images (Figs. 3, 11-13); ReLU edge 4",
    )
    for i, pt in enumerate(points):
        r, b = r_all[r_all["point"] == pt], b_all[b_all["point"] == pt]
        six_panels(axes[6 * i : 6 * i + 6], r, b, label=pt.split("_")[0], test=True)
        axes[6 * i].set_title(f"(a) {pt}")
    _letters(axes)
    return fig


def fig_sparsity(runs, bases, cfg):
    r = runs[(runs["experiment"] == "E_c5") & (runs["depth"] == 1)]
    s = summary(r, "E_c5")
    fig, axes = plotting.panels(
        2, ncols=2, size=4.6, title="Super-critical learning rates sparsify ReLU nets (headline, Figs. 11-13)"
    )
    hi = float(s["eta_lambda0"].max()) * 1.05
    pal = dict(
        zip(
            sorted(s["dataset"].unique()), ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
        )
    )
    for ax, colname, ylab in (
        (axes[0], "sparsity_l1", "final sparsity (fraction of pre-activations < 0)"),
        (axes[1], "test_loss", "final test loss"),
    ):
        ax.axvspan(0, 2, color=plotting.PHASE_COLOURS["lazy"], lw=0, zorder=0)
        ax.axvspan(2, hi, color=plotting.PHASE_COLOURS["catapult"], lw=0, zorder=0)
        for x, lab, ls in (
            (2, r"$\eta_{crit}=2/\lambda_0$", "-"),
            (4, "ReLU window edge 4", "--"),
            (12, r"Lewkowycz $\eta_{max}\approx 12/\lambda_0$", ":"),
        ):
            ax.axvline(x, color="k", ls=ls, lw=1.2, label=lab)
        for (ds, w), g in s.groupby(["dataset", "width"]):
            conv = g[~g["diverged"].astype(bool)]
            m = _med(conv, colname)
            ax.plot(m["x"], m["med"], "o-", color=pal[ds], label=f"{ds} (width {w}, {g['seed'].nunique()} seeds)")
            ax.fill_between(m["x"], m["lo"], m["hi"], color=pal[ds], alpha=0.25, lw=0)
        ax.set(xlabel=LR, ylabel=ylab, xlim=(0, hi))
    axes[0].set_ylim(0.4, 1.02)
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=7, loc="lower right")
    _letters(axes)
    return fig


def fig_relu_3layer(runs, bases, cfg):
    r = runs[(runs["experiment"] == "E_c5") & (runs["depth"] >= 2)]
    s = summary(r, "E_c5")
    ds_list = sorted(s["dataset"].unique())
    fig, axes = plotting.panels(
        len(ds_list), ncols=min(3, len(ds_list)), title="Three-layer ReLU nets: per-layer sparsity (Figs. 14-16)"
    )
    for ax, ds in zip(axes, ds_list):
        g = s[(s["dataset"] == ds) & ~s["diverged"].astype(bool)]
        hi = float(s["eta_lambda0"].max()) * 1.05
        ax.axvspan(0, 2, color=plotting.PHASE_COLOURS["lazy"], lw=0, zorder=0)
        ax.axvspan(2, hi, color=plotting.PHASE_COLOURS["catapult"], lw=0, zorder=0)
        for k, c in (("sparsity_l1", "tab:blue"), ("sparsity_l2", "tab:orange")):
            if k in g.columns:
                m = _med(g, k)
                ax.plot(m["x"], m["med"], "o-", color=c, label=f"layer {k[-1]}")
                ax.fill_between(m["x"], m["lo"], m["hi"], color=c, alpha=0.25, lw=0)
        ax.set(xlabel=LR, ylabel="final sparsity", title=f"(a) {ds}", xlim=(0, hi))
        ax.legend(fontsize=7)
    _letters(axes)
    return fig
