"""Figures of E_a2 (the circle): half-spaces per layer, overlap kernel, hyperplane offsets, accuracies."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import threshold
from ...tables import select
from .common import by_seed, vector_at

E, P = "E_a2", "yadav2024.E_a2"
NAMES = {"dlgn": "DLGN (trained gates)", "frozen": "DLGN, frozen gates", "dln": "deep linear net", "relu": "ReLU MLP"}
COLOURS = {"dlgn": "tab:red", "frozen": "tab:blue", "dln": "tab:gray", "relu": "tab:green"}


def _claims():
    from .e_a2_circle import CLAIMS

    return CLAIMS


def _dlgn_runs(t) -> pd.DataFrame:
    from .e_a2_circle import main_runs

    r = main_runs(t)
    return r[r["family"] == "dlgn"]


def _hyperplanes(r, variant: str, when: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(vector_at(r, k, when, variant=variant)[seed] for k in ("hp_w0", "hp_w1", "hp_b"))


def _draw_lines(ax, w0, w1, b, colour, lw=1.0, ls="-", alpha=0.9):
    """Each line ``w0 x + w1 y + b = 0`` across the square [-1, 1]^2 (lines missing it are not drawn)."""
    t = np.linspace(-3, 3, 2)
    for a0, a1, c in zip(w0, w1, b):
        n2 = a0 * a0 + a1 * a1
        if n2 == 0:
            continue
        p0 = -c * np.array([a0, a1]) / n2
        ax.plot(p0[0] - a1 * t / np.sqrt(n2), p0[1] + a0 * t / np.sqrt(n2), color=colour, lw=lw, ls=ls, alpha=alpha)


def _square(ax, radius: float, x=None, y=None):
    if x is not None:
        ax.scatter(x[:, 0], x[:, 1], c=np.where(y > 0, "#f4a582", "#92c5de"), s=3, lw=0, alpha=0.6, zorder=0)
    th = np.linspace(0, 2 * np.pi, 200)
    ax.plot(radius * np.cos(th), radius * np.sin(th), "k--", lw=1.2, label="true circle")
    ax.set(xlim=(-1, 1), ylim=(-1, 1), aspect="equal", xlabel="$x_1$", ylabel="$x_2$")


def _data_sample(t, n=600):
    from .data import circle

    e = t.experiment(E)
    d = circle(int(e["data_seed"]), min(n, int(e["n_train"])), 1, float(e["radius"]))
    return d["x_train"], d["y_train"]


def halfspaces(t):
    from ... import plotting

    r = _dlgn_runs(t)
    e = t.experiment(E)
    depth, radius = int(e["depth"]), float(e["radius"])
    seed = int(sorted(r["seed"].unique())[0])
    x, y = _data_sample(t)
    rows = [("frozen", "init", "frozen gates\n(= gates at init)"), ("dlgn", "final", "trained DLGN,\nafter training")]
    rows = [row for row in rows if row[0] in set(r["variant"])]
    fig, axes = plotting.panels(
        len(rows) * (depth + 1),
        ncols=depth + 1,
        size=3.4,
        title=f"Effective hyperplanes of each gating layer in input space (seed {seed}; grey dotted: at init); "
        "last column: regions R_p of the highest-weight paths (|v_p| x share of points in R_p)",
    )
    grid = np.linspace(-1, 1, 241)
    gx, gy = np.meshgrid(grid, grid)
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    for row, (variant, when, label) in enumerate(rows):
        w0, w1, b = _hyperplanes(r, variant, when, seed)
        w0i, w1i, bi = _hyperplanes(r, variant, "init", seed)
        m = len(b) // depth
        for layer in range(depth):
            ax = axes[row * (depth + 1) + layer]
            _square(ax, radius, x, y)
            sl = slice(layer * m, (layer + 1) * m)
            if when == "final":
                _draw_lines(ax, w0i[sl], w1i[sl], bi[sl], "tab:gray", lw=0.8, ls=":", alpha=0.8)
            _draw_lines(ax, w0[sl], w1[sl], b[sl], "tab:red" if when == "final" else "tab:blue", lw=1.2)
            ax.set_title(f"layer {layer + 1}")
            if layer == 0:
                ax.set_ylabel(f"{label}\n$x_2$")
        ax = axes[row * (depth + 1) + depth]
        _square(ax, radius)
        ax.set_title("top-weight paths", loc="right")
        try:
            units = vector_at(r, "top_path_unit", "final", variant=variant)[seed]
            values = vector_at(r, "top_path_value", "final", variant=variant)[seed]
        except LookupError:  # the value network is fed x: no path values
            ax.text(0, 0, "no path values\n(value feed x)", ha="center", va="center")
            continue
        units = units.reshape(len(values), depth).astype(int)
        g = (pts[:, :1] * w0 + pts[:, 1:] * w1 + b > 0).reshape(len(pts), depth, m)
        for path, v in zip(units, values):
            inside = np.all(g[:, np.arange(depth), path], axis=1).reshape(gx.shape).astype(float)
            colour = "tab:red" if v > 0 else "tab:blue"
            ax.contourf(gx, gy, inside, levels=[0.5, 1.5], colors=[colour], alpha=0.18)
            ax.contour(gx, gy, inside, levels=[0.5], colors=[colour], linewidths=0.8)
        ax.plot([], [], color="tab:red", lw=4, alpha=0.4, label="v_p > 0")
        ax.plot([], [], color="tab:blue", lw=4, alpha=0.4, label="v_p < 0")
        ax.legend(fontsize=7, loc="lower right")
    return fig


def kernel(t):
    from ... import plotting

    r = _dlgn_runs(t)
    seed = int(sorted(r["seed"].unique())[0])
    fig, axes = plotting.panels(
        3,
        ncols=3,
        size=4.4,
        title="Trained DLGN: hard-gate overlap kernel K(x, x') on "
        "training points sorted by label (outside the disc first), and its alignment with the labels",
    )
    for ax, when in zip(axes[:2], ("init", "final")):
        img = vector_at(r, "kernel_image", when, variant="dlgn")[seed]
        nb = int(round(np.sqrt(len(img))))
        im = ax.imshow(img.reshape(nb, nb), cmap="viridis", origin="upper", extent=(0, 1, 1, 0))
        ax.grid(False)
        ax.set(xlabel="point (sorted by label, fraction)", ylabel="point (sorted by label, fraction)")
        ax.set_title(f"seed {seed}, {'at init' if when == 'init' else 'after training'}")
        fig.colorbar(im, ax=ax, shrink=0.8, label="K / m^L (tile mean)")
    ax = axes[2]
    from ...stats import median_band

    for variant in ("dlgn", "frozen"):
        d = select(r, metric="alignment", variant=variant)
        d = d[d["coord"].isna()] if "coord" in d else d
        if d.empty:
            continue
        band = median_band(d.assign(epoch=d["step"] / d["steps_per_epoch"]), "epoch", "value")
        ax.plot(band["epoch"], band["median"], color=COLOURS[variant], label=f"{NAMES[variant]} (median)")
        ax.fill_between(band["epoch"], band["lower"], band["upper"], color=COLOURS[variant], alpha=0.2, lw=0)
    thr = threshold(_claims(), f"{P}.kernel_alignment_rises", t.profile)
    if np.isfinite(thr):
        start = by_seed(r, "alignment", "first", variant="dlgn").median()
        ax.axhline(start + thr, color="k", ls="--", lw=1, label=f"claim: init median + {thr:g}")
    ax.set(xlabel="epoch", ylabel="alignment <K, yy^T> / (|K| |yy^T|)")
    ax.legend(fontsize=7)
    return fig


def layer_offsets(t):
    from ... import plotting

    r = _dlgn_runs(t)
    e = t.experiment(E)
    depth, radius, tol = int(e["depth"]), float(e["radius"]), float(e["near_tol"])
    fig, axes = plotting.panels(
        depth + 1,
        ncols=depth + 1,
        size=3.3,
        title="Distance of each gating hyperplane "
        "from the origin |b~|/||w~||, trained DLGN, all seeds pooled; dashed: the circle's radius r",
    )
    bins = np.linspace(0, 2.5, 26)
    init, final = vector_at(r, "offset", "init", variant="dlgn"), vector_at(r, "offset", "final", variant="dlgn")
    for layer in range(depth):
        ax = axes[layer]
        for data, lab, c in ((init, "init", "tab:blue"), (final, "after training", "tab:red")):
            v = np.concatenate([np.split(x, depth)[layer] for x in data.values()])
            ax.hist(np.clip(v, 0, 2.5), bins=bins, histtype="step", lw=1.5, color=c, label=lab)
        ax.axvspan(radius - tol, radius + tol, color="tab:gray", alpha=0.2, lw=0, label=f"r ± {tol:g} (near circle)")
        ax.axvline(radius, color="k", ls="--", lw=1)
        ax.set(xlabel="|b~| / ||w~|| (clipped at 2.5)", ylabel="units", title=f"layer {layer + 1}")
        ax.legend(fontsize=7)
    ax = axes[depth]
    for variant in ("dlgn", "frozen"):
        if variant not in set(r["variant"]):
            continue
        for when, ls in (("init", ":"), ("final", "-")):
            v = np.array(list(vector_at(r, "near_circle", when, variant=variant).values()))
            layers = np.arange(1, depth + 1)
            ax.plot(
                layers, np.median(v, 0), ls=ls, marker="o", color=COLOURS[variant], label=f"{NAMES[variant]}, {when}"
            )
            ax.fill_between(layers, v.min(0), v.max(0), color=COLOURS[variant], alpha=0.15, lw=0)
    ax.set(xlabel="layer", ylabel="near-circle fraction", xticks=range(1, depth + 1), ylim=(0, 1))
    ax.legend(fontsize=7)
    return fig


def accuracy(t):
    from ... import plotting

    r_all = t.runs_of(E)
    b_all = t.baselines_of(E)
    widths = sorted(int(w) for w in r_all["width"].unique())
    fig, axes = plotting.panels(
        len(widths),
        ncols=len(widths),
        size=6.0,
        title="Circle: test accuracy per model, "
        "soft and hard gates (median over seeds, bars = range); baselines overlaid",
    )
    for ax, width in zip(axes, widths):
        _accuracy_panel(ax, t, select(r_all, width=width), b_all, width)
    return fig


def _accuracy_panel(ax, t, r, b, width: int):
    variants = [v for v in ("dlgn", "frozen", "dln", "relu") if v in set(r["variant"])]
    for i, v in enumerate(variants):
        for metric, dx, marker in (("test_acc", -0.12, "o"), ("test_acc_hard", 0.12, "s")):
            try:
                s = by_seed(r, metric, variant=v)
            except LookupError:
                continue
            med = s.median()
            ax.errorbar(
                i + dx,
                med,
                yerr=[[med - s.min()], [s.max() - med]],
                fmt=marker,
                color=COLOURS[v],
                capsize=4,
                mfc="white" if metric == "test_acc_hard" else None,
            )
    if not b.empty:
        lr = select(b, baseline="logistic_regression")
        if not lr.empty:
            ax.axhline(float(lr["value"].iloc[0]), color="k", ls="--", lw=1, label="logistic regression (same split)")
        for when, marker in (("init", "v"), ("final", "^")):
            kr = select(b, baseline=f"kernel_ridge_{when}", variant="dlgn", width=width)
            if len(kr) and "dlgn" in variants:
                ax.plot(
                    variants.index("dlgn") + 0.32,
                    kr["value"].median(),
                    marker,
                    color="k",
                    ms=7,
                    label=f"kernel ridge, hard-gate kernel at {'init' if when == 'init' else 'end'} (median)",
                )
    cl = _claims()
    marks = (  # claim, variant, x span relative to the variant's tick, legend text, line style
        ("dlgn_soft_acc", "dlgn", (-0.4, -0.02), "claim: DLGN soft-gate accuracy ≥", "-."),
        ("dlgn_hard_acc", "dlgn", (0.02, 0.4), "claim: DLGN hard-gate accuracy ≥", ":"),
        ("dln_fails", "dln", (-0.35, 0.35), "claim: DLN accuracy ≤", "--"),
    )
    for cid, v, (lo, hi), txt, ls in marks:
        thr = threshold(cl, f"{P}.{cid}", t.profile)
        if np.isfinite(thr) and v in variants:
            i = variants.index(v)
            ax.hlines(thr, i + lo, i + hi, color="tab:purple", lw=1.8, ls=ls, label=f"{txt} {thr:g}")
    ax.set_xticks(range(len(variants)), [NAMES[v] for v in variants], fontsize=8)
    ax.set(ylabel="test accuracy", ylim=(0.4, 1.02), title=f"width m = {width}")
    ax.plot([], [], "o", color="k", label="soft gates / own forward")
    ax.plot([], [], "s", color="k", mfc="white", label="hard gates at test")
    handles, labels = ax.get_legend_handles_labels()
    keep = {lab: h for lab, h in zip(labels, handles) if lab not in ("_", "")}
    ax.legend(keep.values(), keep.keys(), fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2)
