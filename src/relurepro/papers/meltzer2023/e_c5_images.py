"""E_c5 (headline): bias-free ReLU nets on two-class images sparsify at super-critical LRs (Figs. 3, 11-16).

One job per (data set, width, depth); members are (seed, learning rate) pairs, seeds first. The
claims are evaluated per data set on the per-LR median over seeds, and each claim's row shows
the worst data set (the note lists every data set's value). The centred-Gaussian control and
the 3-layer nets are full-profile parts.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...claims import Claim, Measured, NotApplicable
from ...tables import select
from .. import Job
from .grid_common import common_params, lr_members
from .summary import all_profiles, furthest_from, median_by_lr, require, summary, vmax, vmin

E = "E_c5"
P = "meltzer2023.E_c5"
# No precision need: E_c5 trains in its own key experiments.E_c5.dtype (float32 by default, for speed),
# not in the paper-wide float64 of the toy experiments.
PRECISION = None
COLS = ["sparsity_l1", "final_loss", "loss_max_ratio", "eta_lambda_final", "test_loss"]
BASELINE_MAX = 1.5
LAZY_MAX = 1.9
CATAPULT = (2.5, 8.0)  # [low, high]
HIGH_AT = 8.0
REFERENCE_LR = 1.0
BASELINE_BAND = (0.45, 0.55)


def dataset_spec(name: str, e: dict) -> dict:
    """The shared-data spec (``relurepro.data.make``) of a named data set, with its seed."""
    base = {"n_train": int(e["n_train"]), "seed": int(e["data_seed"])}
    if name.startswith("digits") or name.startswith("mnist"):
        return {**base, "kind": f"{name[:-2]}_pair", "a": int(name[-2]), "b": int(name[-1])}
    t = e["templates"]
    if name == "templates":
        return {**base, "kind": "templates", "d": int(t["d"]), "n_test": int(t["n_test"]), "noise": float(t["noise"])}
    if name == "gaussian":
        return {**base, "kind": "gaussian_sign", "d": int(t["d"]), "n_test": int(t["n_test"])}
    raise ValueError(f"unknown data set {name!r}")


def jobs(e: dict, cfg: dict) -> list[Job]:
    from .grid_common import PAIR_IMAGES, config_check

    members = lr_members(e["seeds"], e["eta_lambda0"])
    out = []
    for name in e["datasets"]:
        if name in PAIR_IMAGES:  # a stratified split keeps at least one test image per class
            most = PAIR_IMAGES[name] - 2
            config_check(e["n_train"] <= most, f"{E}.n_train", f"{e['n_train']} > {most}, the most {name} can give")
        spec = dataset_spec(name, e)
        for w in e["widths"]:
            for depth in e["depths"]:
                params = {
                    **common_params(e),
                    "width": w,
                    "depth": depth,
                    "dataset": name,
                    "model": "relu",
                    "dtype": e["dtype"],
                    "ntk_dense_steps": e["ntk_dense_steps"],
                    "ntk_every": e["ntk_every"],
                }
                out.append(Job(E, f"{name}_w{w}_L{depth}", params, {name: spec}, members=members))
    return out


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    from . import trainer

    return trainer.train_mlp(job, data, ctx)


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    from . import baseline_rows

    return baseline_rows.relu_baselines(jobs, runs, data, ctx, E)


# ---------------------------------------------------------------- claims


def _s(t) -> pd.DataFrame:
    return require(summary(t.runs_of(E)), E)


def _medians(t) -> pd.DataFrame:
    """Per-LR medians over seeds of the two-layer runs on the image-like data sets (not the Gaussian control)."""
    med = median_by_lr(_s(t), COLS)
    med = med[(med["dataset"] != "gaussian") & (med["depth"] == 1)]
    if med.empty:
        raise LookupError("no two-layer E_c5 runs on image-like data")
    return med


def _per_dataset(stat, worst: str):
    """A measure: ``stat(g)`` on each (data set, width) median curve, the row keeping the worst one.

    ``worst`` is ``max`` or ``min`` (the failing side of the test) or a number: the value
    furthest from it (for a band around that number).
    """

    def measure(t) -> Measured:
        med = _medians(t)
        values = {f"{ds} (width {int(w)})": stat(g) for (ds, w), g in med.groupby(["dataset", "width"])}
        v = np.array(list(values.values()), dtype=float)
        if worst == "max":
            value = vmax(v)
        elif worst == "min":
            value = vmin(v)
        else:
            value = furthest_from(v, float(worst))
        note = "; ".join(f"{k}: {x:.4g}" for k, x in values.items())
        return Measured(value, n_seeds=int(med["n_seeds"].min()), note=note)

    return measure


def _catapult(g: pd.DataFrame) -> pd.DataFrame:
    return g[(g["eta_lambda0"] >= CATAPULT[0]) & (g["eta_lambda0"] <= CATAPULT[1])]


def _baseline(g) -> float:
    return furthest_from(g[g["eta_lambda0"] <= BASELINE_MAX]["sparsity_l1"], float(np.mean(BASELINE_BAND)))


def _at8(g) -> float:
    return vmax(g[np.isclose(g["eta_lambda0"], HIGH_AT)]["sparsity_l1"])


def _rises(g) -> float:
    from ...stats import spearman

    conv = g[g["all_converged"]]
    return spearman(conv["eta_lambda0"], conv["sparsity_l1"]) if len(conv) >= 3 else math.nan


def _lazy_curvature(g) -> float:
    lazy = g[g["eta_lambda0"] <= LAZY_MAX]
    return vmax(np.abs(lazy["eta_lambda_final"] - lazy["eta_lambda0"]))


def _generalises(g) -> float:
    ref = g[np.isclose(g["eta_lambda0"], REFERENCE_LR)]["test_loss"]
    cat = g[(g["eta_lambda0"] > 2) & g["all_converged"]]["test_loss"]
    return vmin(cat) - vmax(ref)


def _gaussian(t) -> Measured:
    med = median_by_lr(_s(t), COLS)
    gs = med[med["dataset"] == "gaussian"]
    if gs.empty:
        raise NotApplicable("the centred-Gaussian control is not in this grid")
    conv = gs[gs["all_converged"]]
    onset = vmin(gs[~gs["all_converged"]]["eta_lambda0"])
    value = conv.sort_values("eta_lambda0")["sparsity_l1"].iloc[-1] if len(conv) else math.nan
    return Measured(value, n_seeds=int(gs["n_seeds"].min()), note=f"divergence onset eta*lambda0 = {onset:g}")


def _three_layer(t) -> Measured:
    s = _s(t)
    deep = s[s["depth"] >= 2]
    if deep.empty:
        raise NotApplicable("no 3-layer nets in this grid")
    layer_cols = [k for k in deep.columns if k.startswith("sparsity_l")]
    m2 = deep.groupby(["dataset", "eta_lambda0"])[layer_cols].median().reset_index()
    top = m2.sort_values("eta_lambda0").groupby("dataset").tail(1)
    note = "; ".join(
        f"{r.dataset} @ {r.eta_lambda0:g}: " + ", ".join(f"{k}={getattr(r, k):.3f}" for k in layer_cols)
        for r in top.itertuples()
    )
    return Measured(float(top["sparsity_l1"].mean()), n_seeds=int(deep["seed"].nunique()), note=note)


CLAIMS = [
    Claim(
        f"{P}.sparsity_baseline",
        "lazy sparsity near 1/2, per data set",
        "eta*lambda0 <= 1.5: the median sparsity furthest from 1/2 (all within [0.45, 0.55] iff it is); worst data set",
        "in[]",
        _per_dataset(_baseline, np.mean(BASELINE_BAND)),
        all_profiles(BASELINE_BAND),
        min_seeds=3,
    ),
    Claim(
        f"{P}.sparsity_high_at_8",
        "sparse at eta*lambda0 = 8, per data set",
        "median sparsity at eta*lambda0 = 8; worst data set",
        ">=",
        _per_dataset(_at8, "min"),
        all_profiles(0.8),
        min_seeds=3,
    ),
    Claim(
        f"{P}.sparsity_rises",
        "sparsity rises with the LR, per data set",
        "Spearman(eta*lambda0, median sparsity), converged LRs; worst data set",
        ">=",
        _per_dataset(_rises, "min"),
        all_profiles(0.9),
        min_seeds=3,
    ),
    Claim(
        f"{P}.catapult_converges",
        "catapult LRs converge, per data set",
        "eta*lambda0 in [2.5, 8]: max median final loss; worst data set",
        "<",
        _per_dataset(lambda g: vmax(_catapult(g)["final_loss"]), "max"),
        all_profiles(1e-3),
        min_seeds=3,
    ),
    Claim(
        f"{P}.catapult_loss_spike",
        "catapult LRs spike, per data set",
        "same LRs: min median max_t L_t/L_0; worst data set",
        ">",
        _per_dataset(lambda g: vmin(_catapult(g)["loss_max_ratio"]), "min"),
        all_profiles(2.0),
        min_seeds=3,
    ),
    Claim(
        f"{P}.catapult_curvature_drops",
        "catapult ends at eta*lambda <= 2, per data set",
        "same LRs: max median eta*lambda_inf; worst data set",
        "<=",
        _per_dataset(lambda g: vmax(_catapult(g)["eta_lambda_final"]), "max"),
        all_profiles(2.1),
        min_seeds=3,
    ),
    Claim(
        f"{P}.lazy_curvature",
        "lazy curvature constant, per data set",
        "eta*lambda0 <= 1.9: max |median eta*lambda_inf - eta*lambda0|; worst data set",
        "<",
        _per_dataset(_lazy_curvature, "max"),
        all_profiles(0.15),
        min_seeds=3,
    ),
    Claim(
        f"{P}.catapult_generalises",
        "catapult generalises better, per data set",
        "best median test loss over converged catapult LRs - test loss at eta*lambda0 = 1 (expected < 0); "
        "largest over data sets",
        "report",
        _per_dataset(_generalises, "max"),
        {"smoke": None, "quick": None, "full": None},
    ),
    Claim(
        f"{P}.gaussian_control",
        "centred Gaussian control: sparsity at the largest converged LR",
        "median sparsity at the largest converged eta*lambda0",
        "report",
        _gaussian,
        {"full": None},
    ),
    Claim(
        f"{P}.three_layer_sparsity",
        "3-layer ReLU nets: per-layer sparsity at the largest LR",
        "median layer-1 sparsity at the largest eta*lambda0 (mean over data sets)",
        "report",
        _three_layer,
        {"full": None},
    ),
]


# ---------------------------------------------------------------- figures


def figures(e: dict, cfg: dict) -> dict:
    out = {"meltzer2023_fig03_relu_binary": fig_relu_binary, "meltzer2023_fig_sparsity": fig_sparsity}
    if max(e["depths"]) >= 2:
        out["meltzer2023_fig14_16_relu_3layer"] = fig_relu_3layer
    return out


def fig_relu_binary(t):
    from ... import plotting
    from . import panels

    r_all = select(t.runs_of(E), depth=1)
    b_all = t.baselines_of(E)
    points = sorted(r_all["point"].unique())
    # two rows of three panels per data set, as in Fig. 1: six panels in a row shrink every label to nothing
    fig, axes = plotting.panels(
        6 * len(points),
        ncols=3,
        size=4.0,
        title="Two-layer ReLU nets on two-class images (Figs. 3, 11-13); ReLU edge 4",
    )
    for i, pt in enumerate(points):
        r, b = select(r_all, point=pt), select(b_all, point=pt)
        width = f" (width {pt.split('_w')[1].split('_')[0]})" if r_all["width"].nunique() > 1 else ""
        name = pt.split("_")[0] + width
        panels.six_panels(axes[6 * i : 6 * i + 6], r, b, label=name, test=True)
    panels.letters(axes)
    return fig


def fig_sparsity(t):
    from ... import plotting
    from ...claims import threshold
    from . import panels, windows

    s = summary(select(t.runs_of(E), depth=1))
    fig, axes = plotting.panels(
        2, ncols=2, size=4.6, title="Super-critical learning rates sparsify ReLU nets (headline, Figs. 11-13)"
    )
    hi = float(s["eta_lambda0"].max()) * 1.05
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    pal = dict(zip(sorted(s["dataset"].unique()), colours))
    for ax, colname, ylab in (
        (axes[0], "sparsity_l1", "final sparsity (fraction of pre-activations < 0)"),
        (axes[1], "test_loss", "final test loss"),
    ):
        ax.axvspan(0, windows.LOWER_EDGE, color=plotting.PHASE_COLOURS["lazy"], lw=0, zorder=0)
        ax.axvspan(windows.LOWER_EDGE, hi, color=plotting.PHASE_COLOURS["catapult"], lw=0, zorder=0)
        for x, lab, ls in (
            (windows.LOWER_EDGE, r"$\eta_{crit}=2/\lambda_0$", "-"),
            (windows.RELU_EDGE, f"ReLU window edge {windows.RELU_EDGE:g}", "--"),
            (windows.LEWKOWYCZ_RELU_MAX, r"Lewkowycz $\eta_{max}\approx 12/\lambda_0$", ":"),
        ):
            ax.axvline(x, color="k", ls=ls, lw=1.2, label=lab)
        for (ds, w), g in s.groupby(["dataset", "width"]):
            conv = g[~g["diverged"].astype(bool)]
            m = panels.med(conv, colname)
            ax.plot(m["x"], m["med"], "o-", color=pal[ds], label=f"{ds} (width {int(w)}, {g['seed'].nunique()} seeds)")
            ax.fill_between(m["x"], m["lo"], m["hi"], color=pal[ds], alpha=0.25, lw=0)
        ax.set(xlabel=panels.LR, ylabel=ylab, xlim=(0, hi))
    at8 = threshold(CLAIMS, f"{P}.sparsity_high_at_8", t.profile)
    if np.isfinite(at8):
        axes[0].plot(
            [HIGH_AT], [at8], marker=6, ms=11, color="tab:gray", ls="none", label=f"claim: ≥ {at8:g} at {HIGH_AT:g}"
        )
    band = next(c for c in CLAIMS if c.id == f"{P}.sparsity_baseline").bounds(t.profile)
    if np.all(np.isfinite(band)):
        axes[0].axhspan(*band, xmax=BASELINE_MAX / hi, color="tab:gray", alpha=0.25, lw=0, label="claim: lazy band")
    axes[0].set_ylim(0.4, 1.02)
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=7, loc="lower right")
    panels.letters(axes)
    return fig


def fig_relu_3layer(t):
    from ... import plotting
    from . import panels, windows

    r = t.runs_of(E)
    s = summary(r[r["depth"] >= 2])
    ds_list = sorted(s["dataset"].unique())
    fig, axes = plotting.panels(
        len(ds_list), ncols=min(3, len(ds_list)), title="Three-layer ReLU nets: per-layer sparsity (Figs. 14-16)"
    )
    for ax, ds in zip(axes, ds_list):
        g = s[(s["dataset"] == ds) & ~s["diverged"].astype(bool)]
        hi = float(s["eta_lambda0"].max()) * 1.05
        ax.axvspan(0, windows.LOWER_EDGE, color=plotting.PHASE_COLOURS["lazy"], lw=0, zorder=0)
        ax.axvspan(windows.LOWER_EDGE, hi, color=plotting.PHASE_COLOURS["catapult"], lw=0, zorder=0)
        for k, c in (("sparsity_l1", "tab:blue"), ("sparsity_l2", "tab:orange")):
            if k in g.columns:
                m = panels.med(g, k)
                ax.plot(m["x"], m["med"], "o-", color=c, label=f"layer {k[-1]}")
                ax.fill_between(m["x"], m["lo"], m["hi"], color=c, alpha=0.25, lw=0)
        ax.set(xlabel=panels.LR, ylabel="final sparsity", title=f"(a) {ds}", xlim=(0, hi))
        ax.legend(fontsize=7)
    panels.letters(axes)
    return fig
