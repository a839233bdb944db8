"""Per-member summaries of the meltzer2023 runs, shared by the claim measures and the figures.

Everything here reads the aggregated long table through :mod:`relurepro.tables` queries.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...tables import members, per_member, select

LABELS = (
    "point",
    "member",
    "seed",
    "eta_lambda0",
    "lr",
    "lambda0",
    "mean_sq_weight0",
    "slope",
    "width",
    "depth",
    "dataset",
    "diverged",
    "diverged_step",
)
# the summaries each run logs once, at its last step (per-step metrics are left out: pandas'
# "last" skips NaN, so a diverged member's per-step "last" value would not be its final one)
FINAL = ("final_loss", "loss_max_ratio", "theta2_final_ratio", "eta_lambda_final", "train_acc", "test_loss", "test_acc")


def summary(runs: pd.DataFrame, **labels) -> pd.DataFrame:
    """One row per (point, member) of the selected runs: its labels and its final metrics as columns."""
    d = select(runs, **labels)
    if d.empty:
        return pd.DataFrame()
    present = set(d["metric"].unique())
    metrics = [m for m in FINAL if m in present] + sorted(m for m in present if m.startswith("sparsity_l"))
    first = members(d)
    out = first[[c for c in LABELS if c in first.columns]].copy()
    for metric in metrics:  # a left join: a point may lack a metric (only MLPs have a sparsity)
        pm = per_member(d, metric, how="last")[["point", "member", "value"]]
        out = out.merge(pm.rename(columns={"value": metric}), on=["point", "member"], how="left")
    out = out.sort_values(["point", "member"]).reset_index(drop=True)
    out["eta_lambda0"] = out["eta_lambda0"].round(6)
    return out


def initial(runs: pd.DataFrame, metric: str = "loss", **labels) -> pd.DataFrame:
    """``point, member, value`` of a metric's first logged value per member."""
    return per_member(runs, metric, how="first", **labels)[["point", "member", "value"]]


def vmax(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.max(x)) if x.size else math.nan


def vmin(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.min(x)) if x.size else math.nan


def frac(mask) -> float:
    mask = np.asarray(mask, dtype=bool)
    return float(mask.mean()) if mask.size else math.nan


def furthest_from(x, centre: float) -> float:
    """The value of ``x`` furthest from ``centre``: all of ``x`` lies in a band symmetric about ``centre``
    exactly when this value does (how one statistic checks a whole range)."""
    x = np.asarray(x, dtype=float)
    if not x.size:
        return math.nan
    return float(x[np.argmax(np.abs(x - centre))])


def median_by_lr(s: pd.DataFrame, cols, by=("dataset", "depth", "width")) -> pd.DataFrame:
    """Per (``by``..., eta*lambda0): the median over seeds of ``cols``, the seed count and whether all converged."""
    g = s.groupby([*by, "eta_lambda0"])
    med = g[list(cols)].median().reset_index()
    med["n_seeds"] = g.size().to_numpy()
    med["all_converged"] = g["diverged"].apply(lambda d: not d.astype(bool).any()).to_numpy()
    return med


def require(s: pd.DataFrame, experiment: str) -> pd.DataFrame:
    """``s`` itself, or a LookupError when the experiment left no runs (a failed claim names the cause)."""
    if s.empty:
        raise LookupError(f"no runs of {experiment} in the aggregated table")
    return s


def all_profiles(threshold) -> dict:
    """The same threshold in the smoke, quick and full profiles."""
    return {"smoke": threshold, "quick": threshold, "full": threshold}
