"""Job building and table queries shared by the lin2021 experiments (no torch, no plotting)."""

from __future__ import annotations

import hashlib
import json
import math

import pandas as pd

from ...claims import NotApplicable
from ...tables import per_member
from .. import Job
from .data import order

TRAIN_KEYS = ("depth", "steps", "lr", "checkpoints", "val_fraction", "bump_points", "chunk", "dtype", "target")


def dataset(e: dict, d: int, m: int) -> tuple[str, dict]:
    """The data set of one (d, m): every seed's sample; its name carries a hash of the spec."""
    spec = {
        "kind": "lin2021_regression",
        "d": int(d),
        "m": int(m),
        "seeds": [int(s) for s in e["seeds"]],
        "target": e["target"],
        "noise": float(e["noise"]),
        "n_test": int(e["n_test"]),
    }
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]
    return f"d{d}_m{m}_{digest}", spec


def width_for(m: int, d: int, r: int, c: float, lo: int, hi: int) -> int:
    """A's width ``ceil(c m^(d/(2r+d)))`` clipped to ``[lo, hi]``."""
    return int(min(hi, max(lo, math.ceil(c * m ** (d / (2 * r + d))))))


def jobs_over_m(experiment: str, e: dict, **extra) -> list[Job]:
    """One job per (d, m) of a section; members are the seeds, each with its own sample."""
    out = []
    r = order(e["target"])
    for d in e["d"]:
        if e["target"] == "smooth2" and d != 1:
            raise ValueError(f"experiments.{experiment}.d: the target smooth2 is defined for d = 1 only, not {d}")
        for m in e["m"]:
            name, spec = dataset(e, d, m)
            w = width_for(m, d, r, e["width_c"], e["width_min"], e["width_max"])
            params = {"d": d, "m": m, "width": w, **{k: e[k] for k in TRAIN_KEYS}, **extra}
            out.append(Job(experiment, f"d{d}_m{m}", params, {name: spec}, [{"seed": int(s)} for s in e["seeds"]]))
    return out


def values(runs: pd.DataFrame, metric: str, **labels) -> pd.DataFrame:
    """One row per (point, member) of an evaluation metric, with its labels (``value``)."""
    df = per_member(runs, metric, "last", **labels)
    if df.empty:
        raise LookupError(f"no rows of {metric!r} with {labels}")
    return df


def per_seed(runs: pd.DataFrame, metric: str, how: str, **labels) -> pd.Series:
    """Per seed, the max or min over the (d, m) points of one metric."""
    df = values(runs, metric, **labels)
    return df.groupby("seed")["value"].agg(how)


def d1(runs: pd.DataFrame) -> pd.DataFrame:
    """The d = 1 rows (the quadrature that resolves the bumps exists for d = 1)."""
    out = runs[runs["d"] == 1] if "d" in runs.columns else runs.iloc[0:0]
    if out.empty:
        raise NotApplicable("no d = 1 runs in this grid")
    return out


def slope_per_seed(runs: pd.DataFrame, metric: str) -> pd.Series:
    """Per seed, the least-squares slope of log(metric) against log m."""
    from ...stats import loglog_slope

    df = values(runs, metric)
    if df["m"].nunique() < 2:
        raise LookupError(f"a slope needs at least 2 sample sizes, got {sorted(df['m'].unique())}")
    return df.groupby("seed").apply(lambda g: loglog_slope(g["m"], g["value"]).slope, include_groups=False)


def medians(runs: pd.DataFrame, metric: str, **labels) -> pd.DataFrame:
    """Per (d, m): median, min and max over seeds of one metric."""
    from ...stats import median_band

    return median_band(values(runs, metric, **labels), ["d", "m"], "value")
