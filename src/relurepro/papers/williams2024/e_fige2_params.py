"""Fig E2: accuracy vs number of trained parameters, bias vs full at matched counts.

No jobs of its own: panel (a) and the claims read fig1a's runs (bias members of every law, full members
with label ``matched``, the widths ``fig1a.full_widths``); panel (c) reads the recurrent runs of experiment
``fige2_rnn`` (per-member final ``r2``, labels ``mode``, ``n_params``, ``seed``) when they are in the tables.
Counts are matched by interpolating the full curve linearly in log #params at each bias count inside it.
"""

from __future__ import annotations

import pandas as pd

from ...claims import Claim, Measured
from ...tables import select
from .. import Job
from .common import COLOURS, P, final_acc

E = "fige2"
SOURCE = "fig1a"
RNN = "fige2_rnn"
LOW_COUNT = 1000


def jobs(e: dict, cfg: dict) -> list[Job]:
    return []


def _curves(t) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seed means ``(bias per law and count, full per count)`` from fig1a's runs."""
    runs = t.runs_of(SOURCE)
    if runs.empty:
        raise LookupError("fige2 reads fig1a's runs, and there are none (enable fig1a)")
    acc = final_acc(runs)
    bias = select(acc, mode="bias").groupby(["law", "n_params"], as_index=False)["value"].mean()
    full = select(acc, mode="full", matched=True).groupby("n_params", as_index=False)["value"].mean()
    if bias.empty or len(full) < 2:
        raise LookupError(f"need bias members and >= 2 matched full widths, got {len(full)} full widths")
    return bias, full


def matched(t) -> pd.DataFrame:
    """Bias seed-mean accuracies with the full curve interpolated at the same counts (inside its range)."""
    from ...stats import interp_logx

    bias, full = _curves(t)
    lo, hi = full["n_params"].min(), full["n_params"].max()
    inside = bias[(bias["n_params"] >= lo) & (bias["n_params"] <= hi)].copy()
    inside["full"] = interp_logx(inside["n_params"], full["n_params"], full["value"])
    inside["gap"] = inside["value"] - inside["full"]  # bias - full
    return inside


def _n_seeds(t) -> int:
    return int(t.runs_of(SOURCE)["seed"].nunique())


def _low(t) -> Measured:
    m = matched(t)
    low = m[m["n_params"] <= LOW_COUNT]
    if low.empty:
        raise LookupError(f"no bias count <= {LOW_COUNT} inside the full curve's range")
    note = "; ".join(f"{r.law} @ {int(r.n_params)}: {r.gap:+.4f}" for r in low.itertuples())
    return Measured(float(low["gap"].min()), n_seeds=_n_seeds(t), note=note)


def _high(t) -> Measured:
    m = select(matched(t), law="uniform")
    if m.empty:
        raise LookupError("no uniform bias count inside the full curve's range")
    top = m.sort_values("n_params").iloc[-1]
    return Measured(-float(top["gap"]), n_seeds=_n_seeds(t), note=f"at {int(top['n_params'])} trained parameters")


CLAIMS = [
    Claim(
        f"{P}.{E}.bias_wins_low_params",
        "at small parameter counts bias-only training is not worse than full training",
        f"min over bias counts <= {LOW_COUNT} (both laws) of acc_bias - acc_full (full log-interpolated), seed means",
        ">=",
        _low,
        {"smoke": None, "quick": -0.02, "full": -0.02},
    ),
    Claim(
        f"{P}.{E}.full_wins_high_params",
        "at the largest matched count full training is at least as good",
        "acc_full - acc_bias (uniform) at the largest bias count inside the full curve, seed means",
        ">=",
        _high,
        {"smoke": None, "quick": 0.0, "full": 0.0},
    ),
]


def figures(e: dict, cfg: dict) -> dict:
    return {f"{P}_fige2_params": fig_params}


def rnn_panel(ax, t) -> None:
    """R² vs number of trained parameters of the recurrent runs (fige2_rnn), or a note when absent."""
    from .common import line

    runs = t.runs_of(RNN)
    r2 = final_acc(runs, "r2") if not runs.empty and "r2" in set(runs["metric"]) else pd.DataFrame()
    if r2.empty:
        ax.text(
            0.5,
            0.5,
            "RNN runs (experiment fige2_rnn)\nare not in this run",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set(xticks=[], yticks=[])
        return
    for mode, colour in (("bias", COLOURS["bias uniform"]), ("full", COLOURS["full"])):
        g = select(r2, mode=mode)
        if not g.empty:
            line(ax, g, "n_params", mode, colour)
    ylabel = "R² (RNN, van der Pol)"
    if (r2["value"] < -1).any():  # a diverged net's R² would flatten every other curve
        ax.set_ylim(-1, 1.05)
        ylabel += ", axis cut at -1"
    ax.set(xscale="log", xlabel="number of trained parameters (log scale)", ylabel=ylabel)
    ax.legend(fontsize=8)


def fig_params(t):
    from ... import plotting
    from .e_fig1a_width import panel_params

    fig, axes = plotting.panels(2, ncols=2, size=4.6, title="Fig E2: performance vs number of trained parameters")
    acc = final_acc(t.runs_of(SOURCE))
    panel_params(axes[0], acc)
    axes[0].axvline(LOW_COUNT, color="tab:gray", ls=":", lw=1, label=f"{LOW_COUNT} parameters")
    axes[0].set_ylim(0, 1.02)
    axes[0].set_title("(a) FFN", loc="left", fontsize=10, fontweight="bold")
    axes[0].legend(fontsize=7, loc="lower right")
    rnn_panel(axes[1], t)
    axes[1].set_title("(c) RNN", loc="left", fontsize=10, fontweight="bold")
    return fig
