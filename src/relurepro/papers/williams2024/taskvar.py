"""Task variance (Yang et al. 2019) of the multitask bias net: clusters, selectivity, TV-bias correlation.

Reads the vector metrics ``tv`` and ``bias`` that Fig 1B's bias members log (one member per task).
TV_i(k) is normalised by its max over tasks and units silent in every task are dropped; k-means on the
normalised rows picks k in ``k_range`` by silhouette; a cluster's selectivity is the largest task's
share of its summed TV; rho_i is the Spearman correlation across tasks of TV_i(.) and b_.,i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...tables import select


@dataclass
class TaskVariance:
    tasks: list[str]
    tv: np.ndarray  # [units, tasks], normalised by each unit's max over tasks (active units only)
    bias: np.ndarray  # [units, tasks]
    labels: np.ndarray  # cluster of each unit
    k: int
    silhouettes: dict[int, float]
    n_units: int  # before dropping silent units

    def selectivity(self) -> pd.DataFrame:
        """Per cluster: size, the task with the largest share of summed TV, that share, mean rho."""
        rho = spearman_rows(self.tv, self.bias)
        rows = []
        for c in range(self.k):
            inside = self.labels == c
            total = self.tv[inside].sum(0)
            share = total / total.sum() if total.sum() > 0 else np.full(len(self.tasks), np.nan)
            top = int(np.nanargmax(share))
            rows.append(
                {
                    "cluster": c,
                    "size": int(inside.sum()),
                    "task": self.tasks[top],
                    "selectivity": float(share[top]),
                    "rho": float(np.nanmean(rho[inside])) if np.isfinite(rho[inside]).any() else np.nan,
                }
            )
        return pd.DataFrame(rows)


def task_order(runs: pd.DataFrame) -> list[str]:
    """The tasks in the order the bias members were declared (the config's order)."""
    d = select(runs, mode="bias", metric="tv").sort_values("member")
    return list(dict.fromkeys(d["task"]))


def matrices(runs: pd.DataFrame, tasks: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(tv, bias)`` ``[units, tasks]`` of one seed's bias members (the first seed when several)."""
    seed = int(select(runs, mode="bias", metric="tv")["seed"].min())
    out = []
    for metric in ("tv", "bias"):
        d = select(runs, mode="bias", metric=metric, seed=seed)
        if d.empty:
            raise LookupError(f"no {metric!r} vectors of fig1b's bias members")
        wide = d.pivot_table(index="coord", columns="task", values="value").reindex(columns=tasks)
        out.append(wide.to_numpy())
    return out[0], out[1]


def spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, the Spearman correlation of ``a[i]`` and ``b[i]`` (NaN where a row is constant)."""
    from ...stats import spearman

    return np.array([spearman(x, y) for x, y in zip(a, b)], dtype=np.float64)


def analyse(runs: pd.DataFrame, k_range=(2, 10), seed: int = 0, sample: int = 4000) -> TaskVariance:
    """Normalise, drop silent units, and cluster by k-means with k chosen by silhouette."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    tasks = task_order(runs)
    tv, bias = matrices(runs, tasks)
    peak = tv.max(1)
    active = peak > 0
    tv, bias = tv[active] / peak[active, None], bias[active]
    scores, fits = {}, {}
    for k in range(int(k_range[0]), min(int(k_range[1]), len(tv) - 1) + 1):
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(tv)
        n = min(sample, len(tv))
        scores[k] = float(silhouette_score(tv, km.labels_, sample_size=n, random_state=seed))
        fits[k] = km.labels_
    if not scores:
        raise LookupError(f"too few active units ({len(tv)}) to cluster")
    best = max(scores, key=scores.get)
    return TaskVariance(list(tasks), tv, bias, fits[best], best, scores, len(peak))
