"""Helpers shared by the williams2024 feed-forward experiments (no torch at import: the grid is built at parse time)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...tables import per_member, select

P = "williams2024"
COLOURS = {
    "bias": "tab:blue",
    "bias uniform": "tab:blue",
    "bias gaussian": "tab:cyan",
    "full": "tab:red",
    "mask": "tab:purple",
    "readout": "tab:green",
    "untrained": "tab:gray",
    "logistic": "k",
}


def training_params(e: dict) -> dict:
    """The job parameters every image experiment shares (its own ``dtype`` key, optimiser, init)."""
    return {
        "dtype": e["dtype"],
        "lr_bias": float(e["lr_bias"]),
        "lr_full": float(e["lr_full"]),
        "epochs": int(e["epochs"]),
        "batch": int(e["batch"]),
        "u_in": float(e["u_in"]),
    }


def members(modes_laws, seeds) -> list[dict]:
    """One member per (mode, law) and seed, seeds innermost."""
    return [{"mode": mode, "law": law, "seed": int(s)} for mode, law in modes_laws for s in seeds]


def final_acc(runs: pd.DataFrame, metric: str = "test_acc", how: str = "last") -> pd.DataFrame:
    """One row per member with its labels and ``value`` = the metric at its last (or first) logged step."""
    out = per_member(runs, metric, how)
    if out.empty:
        raise LookupError(f"no {metric!r} rows in these runs")
    return out


def curve(df: pd.DataFrame, x: str) -> pd.DataFrame:
    """Seed mean and standard error of ``value`` per ``x``."""
    from ...stats import mean_se

    return mean_se(df, x, "value")


def line(ax, df: pd.DataFrame, x: str, label: str, colour: str, marker: str = "o", **kw) -> None:
    """A seed-mean line with a +-1 SE band."""
    c = curve(df, x)
    n = int(df["seed"].nunique()) if "seed" in df else 1
    ax.plot(c[x], c["mean"], marker=marker, color=colour, label=f"{label} ({n} seed{'s' * (n > 1)})", **kw)
    ax.fill_between(c[x], c["mean"] - c["se"], c["mean"] + c["se"], color=colour, alpha=0.2, lw=0)


def label_of(row) -> str:
    return f"bias {row['law']}" if row["mode"] == "bias" else row["mode"]


def bias_curves(acc: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Bias-mode members per weight law."""
    return {law: g for law, g in select(acc, mode="bias").groupby("law")}


def chance(n_classes: int = 10) -> float:
    return 1.0 / n_classes


def seed_values(df: pd.DataFrame) -> pd.Series:
    """``value`` indexed by seed (one member per seed expected)."""
    if df.empty:
        raise LookupError("no members selected")
    if df["seed"].duplicated().any():
        raise ValueError(f"several members per seed: {df[['seed', 'point']].to_dict('records')}")
    return pd.Series(df["value"].to_numpy(dtype=float), index=df["seed"].to_numpy())


def largest_drop(x: np.ndarray, y: np.ndarray) -> float:
    """The largest decrease of ``y`` between consecutive ``x`` (0 when ``y`` never decreases)."""
    order = np.argsort(x)
    y = np.asarray(y, dtype=float)[order]
    return float(max(0.0, np.max(y[:-1] - y[1:]))) if len(y) > 1 else 0.0


def mnist_fallback(t, profile: str) -> tuple[str, str]:
    """Judge a full run that fell back to MNIST-5k (no IDX folder named) with the quick thresholds (spec §3)."""
    runs = t.runs_of("fig1a")
    if profile == "full" and "dataset" in runs and set(runs["dataset"]) == {"mnist5k"}:
        return "quick", "judged with the quick thresholds: no MNIST folder in data.idx_dirs, so it ran on MNIST-5k"
    return profile, ""
