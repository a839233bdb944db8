"""Statistics shared by claims and figures: log-log slopes with a t interval, rank correlation,
kernel alignment, R^2, rate lines and seed summaries (pandas). No scipy.

The Student t quantile is computed here without scipy: the t CDF is written through the
regularised incomplete beta function (evaluated by its continued fraction, Lentz's method),
and inverted by bisection to machine precision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd


def _betacf(a: float, b: float, x: float) -> float:
    # Continued fraction of I_x(a, b) (modified Lentz); converges fast for x < (a+1)/(a+b+2).
    tiny, eps = 1e-300, 1e-16
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for num in (
            m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function ``I_x(a, b)`` for ``a, b > 0`` and ``0 <= x <= 1``."""
    if not (a > 0 and b > 0) or not 0.0 <= x <= 1.0:
        raise ValueError(f"betainc needs a, b > 0 and 0 <= x <= 1, got a={a}, b={b}, x={x}")
    if x in (0.0, 1.0):
        return x
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """The Student t distribution function ``P(T <= t)`` with ``df > 0`` degrees of freedom."""
    if not df > 0:
        raise ValueError(f"t_cdf needs df > 0, got {df}")
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The Student t quantile: the ``t`` with ``t_cdf(t, df) = p`` (bisection on the exact CDF)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"t_quantile needs 0 < p < 1, got {p}")
    if p == 0.5:
        return 0.0
    q = max(p, 1.0 - p)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < q:
        lo, hi = hi, 2.0 * hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if t_cdf(mid, df) < q else (lo, mid)
    t = 0.5 * (lo + hi)
    return t if p > 0.5 else -t


class SlopeFit(NamedTuple):
    """A fitted line ``log y = intercept + slope * log x`` (natural logs) with a CI on the slope."""

    slope: float
    intercept: float
    lo: float
    hi: float
    stderr: float
    r2: float
    n: int


def linear_fit(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> SlopeFit:
    """OLS of ``y`` on ``x`` with a two-sided ``level`` t interval on the slope (nan bounds when n = 2)."""
    x, y = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in length: {x.size} vs {y.size}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite")
    n = x.size
    sxx = float(((x - x.mean()) ** 2).sum()) if n else 0.0
    if n < 2 or sxx == 0.0:
        raise ValueError(f"a line needs at least 2 distinct x values, got {np.unique(x).size}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    slope = float(((x - x.mean()) * (y - y.mean())).sum() / sxx)
    intercept = float(y.mean() - slope * x.mean())
    resid = y - (intercept + slope * x)
    syy = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / syy if syy > 0 else 1.0
    if n == 2:
        return SlopeFit(slope, intercept, math.nan, math.nan, math.nan, r2, n)
    stderr = math.sqrt(float((resid**2).sum()) / (n - 2) / sxx)
    half = t_quantile(0.5 + level / 2.0, n - 2) * stderr
    return SlopeFit(slope, intercept, slope - half, slope + half, stderr, r2, n)


def loglog_slope(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> SlopeFit:
    """OLS of ``log y`` on ``log x`` (natural logs; all values must be > 0) with a t interval on the slope."""
    x, y = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    if (x <= 0).any() or (y <= 0).any() or np.isnan(x).any() or np.isnan(y).any():
        raise ValueError("loglog_slope needs x > 0 and y > 0 (a log-log fit)")
    return linear_fit(np.log(x), np.log(y), level)


def rate_line(
    x: Sequence[float], y: Sequence[float], slope: float, anchor: str = "fit", at: Sequence[float] | None = None
) -> np.ndarray:
    """Values of the power law ``C * x**slope`` with the slope fixed and ``C`` anchored on ``(x, y)``.

    ``anchor="fit"`` takes C from the least-squares intercept in log space (mean of
    ``log y - slope log x``); ``anchor="first"`` passes the line through the point of smallest x.
    The line is evaluated at ``at`` (default: ``x``).
    """
    x, y = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    if x.size == 0 or x.shape != y.shape or (x <= 0).any() or (y <= 0).any():
        raise ValueError("rate_line needs equal-length, non-empty x > 0 and y > 0")
    if anchor == "fit":
        log_c = float(np.mean(np.log(y) - slope * np.log(x)))
    elif anchor == "first":
        i = int(np.argmin(x))
        log_c = float(np.log(y[i]) - slope * np.log(x[i]))
    else:
        raise ValueError(f"anchor must be 'fit' or 'first', got {anchor!r}")
    at = x if at is None else np.asarray(at, dtype=np.float64)
    return np.exp(log_c) * at**slope


def rankdata(a: Sequence[float]) -> np.ndarray:
    """Ranks 1..n of a 1-D array, ties given the average of the ranks they span."""
    a = np.asarray(a, dtype=np.float64).ravel()
    order = np.argsort(a, kind="mergesort")
    sorted_a = a[order]
    starts = np.flatnonzero(np.r_[True, sorted_a[1:] != sorted_a[:-1]])
    ends = np.r_[starts[1:], a.size]
    avg = (starts + ends + 1) / 2.0  # mean of the 1-based ranks starts+1 .. ends
    ranks = np.empty(a.size)
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks


def pearson(a: Sequence[float], b: Sequence[float]) -> float:
    """Pearson correlation of two equal-length 1-D arrays (nan when either is constant)."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape or a.size < 2:
        raise ValueError(f"pearson needs two arrays of equal length >= 2, got {a.size} and {b.size}")
    a, b = a - a.mean(), b - b.mean()
    denom = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum()) / denom if denom > 0 else math.nan


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman rank correlation (Pearson of average ranks; nan when either is constant)."""
    if np.isnan(np.asarray(a, dtype=np.float64)).any() or np.isnan(np.asarray(b, dtype=np.float64)).any():
        raise ValueError("spearman: inputs contain nan")
    return pearson(rankdata(a), rankdata(b))


def r_squared(y: Sequence[float], y_hat: Sequence[float]) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` over all entries (multi-output pooled)."""
    y, y_hat = np.asarray(y, dtype=np.float64), np.asarray(y_hat, dtype=np.float64)
    if y.shape != y_hat.shape:
        raise ValueError(f"r_squared: shapes differ {y.shape} vs {y_hat.shape}")
    y2 = y.reshape(y.shape[0], -1) if y.ndim > 1 else y[:, None]
    ss_tot = float(((y2 - y2.mean(axis=0)) ** 2).sum())
    ss_res = float(((y - y_hat) ** 2).sum())
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else math.nan


def kernel_alignment(k1: np.ndarray, k2: np.ndarray, centered: bool = False) -> float:
    """Alignment ``<K1, K2>_F / (||K1||_F ||K2||_F)``; with ``centered``, of ``H K H`` (H = I - 11^T/n)."""
    k1, k2 = np.asarray(k1, dtype=np.float64), np.asarray(k2, dtype=np.float64)
    if k1.ndim != 2 or k1.shape != k2.shape or k1.shape[0] != k1.shape[1]:
        raise ValueError(f"kernel_alignment needs two square matrices of one shape, got {k1.shape} and {k2.shape}")
    if centered:
        k1 = k1 - k1.mean(0, keepdims=True) - k1.mean(1, keepdims=True) + k1.mean()
        k2 = k2 - k2.mean(0, keepdims=True) - k2.mean(1, keepdims=True) + k2.mean()
    denom = float(np.linalg.norm(k1) * np.linalg.norm(k2))
    return float((k1 * k2).sum()) / denom if denom > 0 else math.nan


def interp_logx(x_new: Sequence[float] | float, x: Sequence[float], y: Sequence[float]) -> np.ndarray:
    """Linear interpolation of ``y`` in ``log x`` (e.g. accuracy at a parameter count), x > 0; clamps outside."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    x_new = np.asarray(x_new, dtype=np.float64)
    if (x <= 0).any() or (x_new <= 0).any():
        raise ValueError("interp_logx needs x > 0")
    order = np.argsort(x)
    return np.interp(np.log(x_new), np.log(x[order]), y[order])


def _groups(by: str | Sequence[str]) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def median_band(
    df: pd.DataFrame, x: str | Sequence[str], y: str, lower: float = 0.0, upper: float = 1.0
) -> pd.DataFrame:
    """Per value of ``x`` (a column or columns), the median of ``y`` and its ``lower``/``upper`` quantiles.

    The defaults give the range over seeds. Returns columns ``x..., median, lower, upper, n``.
    """
    if not 0.0 <= lower <= upper <= 1.0:
        raise ValueError(f"need 0 <= lower <= upper <= 1, got {lower}, {upper}")
    g = df.groupby(_groups(x), sort=True, dropna=False)[y]
    out = pd.DataFrame({"median": g.median(), "lower": g.quantile(lower), "upper": g.quantile(upper), "n": g.count()})
    return out.reset_index()


def mean_se(df: pd.DataFrame, x: str | Sequence[str], y: str) -> pd.DataFrame:
    """Per value of ``x``, the mean of ``y``, its standard error (sd/sqrt n, ddof 1; 0 when n = 1), sd and n."""
    g = df.groupby(_groups(x), sort=True, dropna=False)[y]
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n": g.count()})
    out["sd"] = out["sd"].fillna(0.0)
    out["se"] = out["sd"] / np.sqrt(out["n"])
    return out.reset_index()[[*_groups(x), "mean", "se", "sd", "n"]]


def trapezoid_weights(nodes: Sequence[float]) -> np.ndarray:
    """Trapezoid-rule weights of sorted nodes: ``sum(w * g(nodes))`` integrates ``g`` over ``[nodes[0], nodes[-1]]``.

    Node ``j`` gets half the length of its two neighbouring cells, so the rule is exact for every
    function that is linear between consecutive nodes (continuous piecewise-linear functions whose
    kinks are nodes). Repeated nodes are allowed (their cells have length 0).
    """
    x = np.asarray(nodes, dtype=np.float64).ravel()
    if x.size < 2:
        raise ValueError(f"trapezoid_weights needs at least 2 nodes, got {x.size}")
    cells = np.diff(x)
    if not np.isfinite(x).all() or (cells < 0).any():
        raise ValueError("trapezoid_weights needs finite nodes in increasing order")
    w = np.zeros_like(x)
    w[:-1] += cells / 2
    w[1:] += cells / 2
    return w
