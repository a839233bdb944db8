"""Queries over the aggregated long tables, shared by claims and figures.

``runs.parquet`` holds one row per (experiment, point, member, logged step, metric[, coord]);
``baselines.parquet`` one row per (experiment, baseline, point, member, step, metric). These
helpers select from either without knowing which paper wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


def select(df: pd.DataFrame, **labels) -> pd.DataFrame:
    """Rows whose columns equal the given values; a list or tuple value means "any of these".

    A label the table lacks selects nothing (an empty frame), so a query for a run that was
    never made reads as missing data rather than raising deep inside a claim.
    """
    mask = np.ones(len(df), dtype=bool)
    for key, want in labels.items():
        if key not in df.columns:
            return df.iloc[0:0]
        col = df[key]
        mask &= (col.isin(want) if isinstance(want, list | tuple | set) else col == want).to_numpy()
    return df[mask]


def series(df: pd.DataFrame, metric: str, *, x: str = "step", **labels) -> tuple[np.ndarray, np.ndarray]:
    """``(x, value)`` of one metric over training, sorted by ``x`` (``step`` or another column such as ``t``)."""
    d = select(df, metric=metric, **labels).sort_values(x)
    if d.empty:
        raise LookupError(f"no rows for metric {metric!r} with {labels}")
    return d[x].to_numpy(), d["value"].to_numpy()


def vector(df: pd.DataFrame, metric: str, **labels) -> tuple[np.ndarray, np.ndarray]:
    """``(coord, value)`` of a vector-valued metric at one step (the last logged one unless ``step`` is given)."""
    d = select(df, metric=metric, **labels)
    if d.empty:
        raise LookupError(f"no rows for metric {metric!r} with {labels}")
    if "step" not in labels:
        d = d[d["step"] == d["step"].max()]
    d = d.sort_values("coord")
    return d["coord"].to_numpy(), d["value"].to_numpy()


def final(df: pd.DataFrame, metric: str = "loss", **labels) -> float:
    """The value of a scalar metric at the last logged step of one run."""
    return float(series(df, metric, **labels)[1][-1])


def members(df: pd.DataFrame, **labels) -> pd.DataFrame:
    """One row of labels per (point, member) among the selected rows."""
    d = select(df, **labels)
    return d.drop_duplicates(["point", "member"]).reset_index(drop=True)


def per_member(df: pd.DataFrame, metric: str, how: str = "last", **labels) -> pd.DataFrame:
    """One row per (point, member) with its labels and ``value`` summarising ``metric`` over steps.

    ``how`` is ``last``, ``first``, ``min``, ``max`` or ``mean``; rows are ordered by step first.
    """
    if how not in ("last", "first", "min", "max", "mean"):
        raise ValueError(f"unknown summary {how!r}")
    d = select(df, metric=metric, **labels).sort_values("step")
    if d.empty:
        return d
    keys = ["point", "member"]
    if how in ("first", "last"):  # by position: pandas' first/last would skip a diverged member's NaN
        ends = d.groupby(keys, sort=False).tail(1) if how == "last" else d.groupby(keys, sort=False).head(1)
        value = ends.set_index(keys)["value"]
    else:
        value = d.groupby(keys, sort=False)["value"].agg(how)
    labels_df = d.drop_duplicates(["point", "member"]).drop(columns=["value", "step"]).set_index(["point", "member"])
    return labels_df.assign(value=value).reset_index()


def n_seeds(df: pd.DataFrame, **labels) -> int:
    """How many distinct seeds the selected rows hold."""
    d = select(df, **labels)
    return int(d["seed"].nunique()) if "seed" in d else 0


@dataclass
class Tables:
    """What a claim measure or a figure reads: a paper's aggregated tables and its config section."""

    runs: pd.DataFrame
    baselines: pd.DataFrame
    cfg: dict = field(default_factory=dict)

    def experiment(self, name: str) -> dict:
        """The config section of one experiment (empty when absent)."""
        return self.cfg.get("experiments", {}).get(name, {})

    def runs_of(self, experiment: str, **labels) -> pd.DataFrame:
        return select(self.runs, experiment=experiment, **labels)

    def baselines_of(self, experiment: str, **labels) -> pd.DataFrame:
        return select(self.baselines, experiment=experiment, **labels)

    @property
    def profile(self) -> str:
        return self.cfg.get("profile", "quick")
