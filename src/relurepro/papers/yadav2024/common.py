"""Job building and per-seed queries over the yadav2024 runs, shared by E_a2-E_a4 (no torch: the grid is built at parse time)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...tables import per_member, select


def by_seed(runs: pd.DataFrame, metric: str, how: str = "last", **labels) -> pd.Series:
    """One value per seed of a scalar metric (``how``: last, first, ...), for the selected members."""
    d = per_member(runs[runs["coord"].isna()] if "coord" in runs else runs, metric, how, **labels)
    if d.empty:
        raise LookupError(f"no rows for {metric!r} with {labels}")
    return d.set_index("seed")["value"].sort_index()


def vector_at(runs: pd.DataFrame, metric: str, step: str, **labels) -> dict[int, np.ndarray]:
    """Per seed, a vector metric at the first (``step="init"``) or last (``"final"``) step, in coord order."""
    d = select(runs, metric=metric, **labels)
    if d.empty:
        raise LookupError(f"no rows for vector metric {metric!r} with {labels}")
    at = d["step"].min() if step == "init" else d["step"].max()
    d = d[d["step"] == at].sort_values(["seed", "coord"])
    return {int(s): g["value"].to_numpy() for s, g in d.groupby("seed")}


def paired(a: pd.Series, b: pd.Series) -> pd.Series:
    """``a - b`` on the seeds both have (a clear error when they share none)."""
    common = a.index.intersection(b.index)
    if common.empty:
        raise LookupError(f"no common seeds: {sorted(a.index)} vs {sorted(b.index)}")
    return (a.loc[common] - b.loc[common]).astype(float)


DLGN_VARIANTS = ("dlgn", "frozen")


def family_of(variant: str) -> str:
    """The job (model family) a variant trains in: trained and frozen DLGNs share one ensemble."""
    return "dlgn" if variant in DLGN_VARIANTS else variant


def members(seeds, variants) -> list[dict]:
    """Members of one family's job: DLGN seeds x {dlgn, frozen}; other families one member per seed."""
    return [{"seed": int(s), "variant": v} for v in variants for s in seeds]


def job_params(e: dict, dataset: str, family: str, outputs: int, **override) -> dict:
    """Everything a training job needs from its experiment's config section (``override`` wins)."""
    e = {**e, **override}
    keys = ("width", "depth", "beta", "bias_std", "lr", "epochs", "log_every", "dtype", "feed")
    p = {k: e[k] for k in keys}
    p.update(dataset=dataset, family=family, outputs=int(outputs))
    for k in (
        "batches_per_epoch",
        "batch_size",
        "n_kernel",
        "radius",
        "near_tol",
        "top_paths",
        "kernel_blocks",
        "ridge_lam",
        "near_band",
        "n_usage",
    ):
        if k in e:
            p[k] = e[k]
    return p


def check_circle_section(e: dict, experiment: str) -> None:
    """Refuse circle settings the jobs cannot honour, naming the key."""
    if int(e["n_kernel"]) > int(e["n_train"]):
        raise ValueError(f"experiments.{experiment}.n_kernel: {e['n_kernel']} exceeds n_train = {e['n_train']}")
    if int(e["batches_per_epoch"]) > int(e["n_train"]):
        raise ValueError(
            f"experiments.{experiment}.batches_per_epoch: {e['batches_per_epoch']} exceeds n_train = {e['n_train']}"
        )
