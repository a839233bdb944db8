"""E_c4: a two-layer ReLU net on one point (x, y) = (4, 2), Fig. 10: catapults up to ~4, dead nets above.

One job; members are (seed, learning rate) pairs, seeds first (the authors' seed 123 leads).
Whether a single-input ReLU net dies at large eta*lambda0 depends on the draw, so the claims
are judged over the seeds (spec §12: 5 seeds in quick, 10 in full).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim, Measured, NotApplicable
from .. import Job
from .grid_common import common_params, lr_members
from .summary import all_profiles, furthest_from, require, summary, vmax, vmin

E = "E_c4"
P = "meltzer2023.E_c4"
LAZY_MAX = 1.9
CATAPULT = (2.0, 3.5)  # (low, high]: the catapult_converges range
DEAD_RANGE = (2.0, 4.5)  # (low, high]: the dead_fraction range
HIGH_FROM = 3.0
BASELINE_BAND = (0.45, 0.55)


def jobs(e: dict, cfg: dict) -> list[Job]:
    params = {**common_params(e), "width": e["width"], "x": e["x"], "y": e["y"], "model": "relu"}
    return [Job(E, f"w{e['width']}", params, members=lr_members(e["seeds"], e["eta_lambda0"]))]


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    from . import trainer

    return trainer.train_mlp(job, data, ctx)


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    from . import baseline_rows

    return baseline_rows.relu_baselines(jobs, runs, data, ctx, E)


# ---------------------------------------------------------------- claims


def _s(t) -> pd.DataFrame:
    return require(summary(t.runs_of(E)), E)


def dead_mask(s: pd.DataFrame, e: dict) -> pd.Series:
    """Dead nets: the final loss sits at y^2/2 (zero output) within ``dead_tol`` [DESIGN]."""
    return np.abs(s["final_loss"] - 0.5 * e["y"] ** 2) < e["dead_tol"]


def _per_seed(s: pd.DataFrame, fn) -> dict:
    return {int(seed): fn(g) for seed, g in s.groupby("seed")}


def _baseline(t) -> dict:
    s = _s(t)
    lazy = s[s["eta_lambda0"] <= LAZY_MAX]
    return _per_seed(lazy, lambda g: furthest_from(g["sparsity_l1"], float(np.mean(BASELINE_BAND))))


def _median_curve(s: pd.DataFrame) -> pd.Series:
    return s.groupby("eta_lambda0")["sparsity_l1"].median().sort_index()


def _monotone(t) -> Measured:
    s = _s(t)
    curve = _median_curve(s).to_numpy()
    drop = vmax(np.maximum(0, -np.diff(curve))) if curve.size > 1 else float("nan")
    per_seed = _per_seed(s, lambda g: vmax(np.maximum(0, -np.diff(_median_curve(g).to_numpy()))))
    note = "per seed: " + ", ".join(f"{k}: {v:.3g}" for k, v in per_seed.items())
    return Measured(drop, n_seeds=s["seed"].nunique(), note=note)


def _high(t) -> dict:
    s = _s(t)
    return _per_seed(s[s["eta_lambda0"] >= HIGH_FROM], lambda g: vmin(g["sparsity_l1"]))


def _converges(t) -> dict:
    s = _s(t)
    alive = s[~dead_mask(s, t.experiment(E))]
    cat = alive[(alive["eta_lambda0"] > CATAPULT[0]) & (alive["eta_lambda0"] <= CATAPULT[1])]
    out = _per_seed(cat, lambda g: vmax(g["final_loss"]))
    # a seed whose every catapult run died has no run to judge: it counts as failing
    return {**{int(k): float("inf") for k in s["seed"].unique()}, **out}


def _dead_fraction(t) -> Measured:
    s = _s(t)
    r = s[(s["eta_lambda0"] > DEAD_RANGE[0]) & (s["eta_lambda0"] <= DEAD_RANGE[1])]
    dead = dead_mask(r, t.experiment(E))
    per_lr = dead.groupby(r["eta_lambda0"]).mean()
    onset = per_lr[per_lr > 0].index.min() if (per_lr > 0).any() else float("nan")
    note = f"first LR with a dead run: {onset:g}; dead runs per LR in the figure, panel (g)"
    return Measured(float(dead.mean()) if len(dead) else float("nan"), n_seeds=s["seed"].nunique(), note=note)


def _dead_sparse(t) -> Measured:
    s = _s(t)
    dead = s[dead_mask(s, t.experiment(E))]
    if dead.empty:
        raise NotApplicable("no dead network in this grid")
    note = f"{len(dead)} dead runs over {dead['seed'].nunique()} seeds"
    return Measured(vmin(dead["sparsity_l1"]), n_seeds=dead["seed"].nunique(), note=note)


CLAIMS = [
    Claim(
        f"{P}.sparsity_baseline",
        "lazy sparsity near 1/2",
        "eta*lambda0 <= 1.9: the sparsity furthest from 1/2, per seed (all within [0.45, 0.55] iff it is)",
        "in[]",
        _baseline,
        all_profiles(BASELINE_BAND),
        min_seeds=3,
    ),
    Claim(
        f"{P}.sparsity_monotone",
        "sparsity does not fall with the LR",
        "max drop between consecutive LRs of the per-LR median sparsity over seeds",
        "<=",
        _monotone,
        all_profiles(0.03),
        version=2,
        min_seeds=3,
    ),
    Claim(
        f"{P}.sparsity_high_above_3",
        "sparse above 3",
        "eta*lambda0 >= 3: min sparsity, per seed",
        ">=",
        _high,
        all_profiles(0.6),
        min_seeds=3,
    ),
    Claim(
        f"{P}.catapult_converges",
        "catapult converges (the nets that do not die)",
        "eta*lambda0 in (2, 3.5]: max final loss of the runs that did not die, per seed",
        "<",
        _converges,
        all_profiles(1e-3),
        version=2,
        min_seeds=3,
    ),
    Claim(
        f"{P}.dead_fraction",
        "how often the net dies at super-critical LRs",
        "eta*lambda0 in (2, 4.5]: fraction of (seed, LR) runs that die",
        "report",
        _dead_fraction,
        all_profiles(None),
    ),
    Claim(
        f"{P}.dead_network_sparse",
        "dead nets are fully sparse",
        "runs with |L_fin - y^2/2| < dead_tol: min sparsity",
        ">",
        _dead_sparse,
        all_profiles(0.99),
    ),
]


# ---------------------------------------------------------------- figure


def figures(e: dict, cfg: dict) -> dict:
    return {"meltzer2023_fig10_relu_single": fig_relu_single}


def fig_relu_single(t):
    from ... import plotting
    from ...claims import threshold
    from . import panels, windows

    r, b = t.runs_of(E), t.baselines_of(E)
    e = t.experiment(E)
    n_seeds = r["seed"].nunique()
    title = (
        f"Two-layer ReLU net, width {int(r['width'].iloc[0])}, (x, y) = ({e['x']:g}, {e['y']:g}) (Fig. 10); "
        f"{n_seeds} seeds (trajectories: seed {r.sort_values('member', kind='stable')['seed'].iloc[0]})"
    )
    fig, axes = plotting.panels(8, ncols=4, title=title)
    s = panels.six_panels(axes[:6], r, b, a_steps=30)
    dead = s[dead_mask(s, e)]
    hi = float(s["eta_lambda0"].max()) * 1.03
    panels.bands(axes[6], 0, hi, panels.div_from(s), windows.RELU_EDGE)
    m = panels.med(s, "sparsity_l1")
    axes[6].plot(m["x"], m["med"], "o-", color="tab:red", ms=3.5, label=f"final sparsity (median of {n_seeds} seeds)")
    if n_seeds > 1:
        axes[6].fill_between(m["x"], m["lo"], m["hi"], color="tab:red", alpha=0.2, lw=0, label="range over seeds")
    axes[6].plot(dead["eta_lambda0"], dead["sparsity_l1"], "kx", ms=7, mew=2, label="dead net (L = y²/2)")
    panels.threshold_line(axes[6], threshold(CLAIMS, f"{P}.sparsity_high_above_3", t.profile), "claim: ≥ this above 3")
    axes[5].plot(dead["eta_lambda0"], dead["final_loss"], "kx", ms=7, mew=2, label="dead")
    axes[6].set(xlabel=panels.LR, ylabel="fraction of pre-activations < 0", title="(g) sparsity")
    axes[6].legend(fontsize=7)
    # (h) how often the net dies, per LR
    frac = dead_mask(s, e).groupby(s["eta_lambda0"]).mean()
    panels.bands(axes[7], 0, hi, None, windows.RELU_EDGE)
    axes[7].bar(frac.index, frac.to_numpy(), width=0.08, color="k", alpha=0.7)
    axes[7].set(xlabel=panels.LR, ylabel=f"fraction of {n_seeds} seeds dead", title="(h) dead nets", ylim=(0, 1.05))
    panels.letters(axes)
    return fig
