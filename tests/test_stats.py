"""Unit tests of relurepro.stats: t quantiles, slopes with intervals, ranks, alignment, seed summaries."""

import math

import numpy as np
import pandas as pd
import pytest

from relurepro import stats

# Two-sided 95 % (p = 0.975) and one 90 % value of the t distribution, from printed tables.
T_TABLE = [
    (0.975, 1, 12.7062047),
    (0.975, 2, 4.30265273),
    (0.975, 5, 2.57058184),
    (0.975, 10, 2.22813885),
    (0.975, 30, 2.04227246),
    (0.95, 3, 2.35336343),
    (0.995, 4, 4.60409487),
    (0.975, 1e6, 1.95996636),
]


@pytest.mark.parametrize("p,df,expected", T_TABLE)
def test_t_quantile_matches_table(p, df, expected):
    assert stats.t_quantile(p, df) == pytest.approx(expected, rel=1e-7)
    assert stats.t_quantile(1 - p, df) == pytest.approx(-expected, rel=1e-7)
    assert stats.t_cdf(expected, df) == pytest.approx(p, abs=1e-9)


def test_t_quantile_matches_scipy_on_a_grid():
    t = pytest.importorskip("scipy.stats", reason="scipy (a scikit-learn dependency) gives the reference").t
    for df in (1, 1.5, 3, 7, 25, 200):
        for p in (0.001, 0.05, 0.3, 0.5, 0.8, 0.975, 0.9999):
            assert stats.t_quantile(p, df) == pytest.approx(t.ppf(p, df), rel=1e-8, abs=1e-12)


def test_betainc_closed_forms():
    for x in (0.0, 0.1, 0.5, 0.93, 1.0):
        assert stats.betainc(1, 1, x) == pytest.approx(x)
        assert stats.betainc(3.5, 1, x) == pytest.approx(x**3.5)
        assert stats.betainc(1, 2.5, x) == pytest.approx(1 - (1 - x) ** 2.5)
    with pytest.raises(ValueError):
        stats.betainc(0, 1, 0.5)


def test_loglog_slope_exact_power_law():
    x = np.array([128, 256, 512, 1024, 2048])
    fit = stats.loglog_slope(x, 3.0 * x**-0.67)
    assert fit.slope == pytest.approx(-0.67, abs=1e-12)
    assert fit.intercept == pytest.approx(math.log(3.0), abs=1e-10)
    assert fit.hi - fit.lo < 1e-10 and fit.r2 == pytest.approx(1.0)
    assert fit.n == 5


def test_linear_fit_hand_computed():
    # x = 1..5, y = [2, 4, 5, 4, 5]: slope 0.6, intercept 2.2, SSE 2.4, Sxx 10, se = sqrt(0.8 / 10).
    fit = stats.linear_fit([1, 2, 3, 4, 5], [2, 4, 5, 4, 5], level=0.95)
    assert fit.slope == pytest.approx(0.6) and fit.intercept == pytest.approx(2.2)
    se = math.sqrt(2.4 / 3 / 10)
    assert fit.stderr == pytest.approx(se)
    assert fit.lo == pytest.approx(0.6 - 3.18244631 * se, rel=1e-7)
    assert fit.hi == pytest.approx(0.6 + 3.18244631 * se, rel=1e-7)
    assert fit.r2 == pytest.approx(1 - 2.4 / 6.0)


def test_slope_interval_covers_at_its_level():
    rng = np.random.default_rng(0)
    x = np.geomspace(100, 10_000, 6)
    hits = 0
    for _ in range(600):
        y = 2.0 * x**-0.5 * np.exp(0.2 * rng.standard_normal(x.size))
        fit = stats.loglog_slope(x, y, level=0.9)
        hits += fit.lo <= -0.5 <= fit.hi
    assert 0.86 <= hits / 600 <= 0.94


def test_slope_two_points_and_bad_input():
    fit = stats.loglog_slope([1, 10], [1, 0.1])
    assert fit.slope == pytest.approx(-1.0) and math.isnan(fit.lo) and math.isnan(fit.hi)
    with pytest.raises(ValueError, match="x > 0 and y > 0"):
        stats.loglog_slope([1, 2, 3], [1, 0, 2])
    with pytest.raises(ValueError, match="2 distinct"):
        stats.linear_fit([1, 1, 1], [1, 2, 3])


def test_rate_line_anchors():
    x, y = np.array([10.0, 100.0, 1000.0]), np.array([1.0, 0.3, 0.05])
    first = stats.rate_line(x, y, -0.5, anchor="first")
    assert first[0] == pytest.approx(1.0) and first[2] == pytest.approx(0.1)
    fit = stats.rate_line(x, y, -0.5, anchor="fit")
    assert np.mean(np.log(y) - np.log(fit)) == pytest.approx(0.0, abs=1e-12)
    assert stats.rate_line(x, y, -0.5, anchor="first", at=[40.0])[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="anchor"):
        stats.rate_line(x, y, -0.5, anchor="last")


def test_rankdata_averages_ties():
    assert stats.rankdata([10, 20, 20, 30]).tolist() == [1, 2.5, 2.5, 4]
    assert stats.rankdata([3, 1, 3, 3, 0]).tolist() == [4, 2, 4, 4, 1]


def test_spearman_against_pandas_and_hand_values():
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 5, 40), rng.integers(0, 7, 40)  # many ties
    expected = pd.Series(a).corr(pd.Series(b), method="spearman")
    assert stats.spearman(a, b) == pytest.approx(expected, abs=1e-12)
    assert stats.spearman([1, 2, 3, 4], [1, 8, 27, 64]) == pytest.approx(1.0)
    assert stats.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(stats.spearman([1, 2, 3], [5, 5, 5]))


def test_pearson_and_r_squared():
    assert stats.pearson([1, 2, 3], [2, 4, 7]) == pytest.approx(np.corrcoef([1, 2, 3], [2, 4, 7])[0, 1])
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert stats.r_squared(y, y) == 1.0
    assert stats.r_squared(y, np.full(4, y.mean())) == pytest.approx(0.0)
    assert stats.r_squared(y, [1.5, 1.5, 3.5, 3.5]) == pytest.approx(1 - 1.0 / 5.0)


def test_kernel_alignment():
    n = 6
    y = np.array([1, -1, 1, 1, -1, -1.0])
    assert stats.kernel_alignment(np.outer(y, y), 3 * np.outer(y, y)) == pytest.approx(1.0)
    assert stats.kernel_alignment(np.eye(n), np.ones((n, n))) == pytest.approx(1 / math.sqrt(n))
    # Centring removes the constant kernel entirely.
    assert math.isnan(stats.kernel_alignment(np.eye(n), np.ones((n, n)), centered=True))
    k = np.eye(n) + 0.5
    assert stats.kernel_alignment(k, np.outer(y, y), centered=True) == pytest.approx(
        stats.kernel_alignment(np.eye(n), np.outer(y, y), centered=True)
    )
    with pytest.raises(ValueError, match="square"):
        stats.kernel_alignment(np.ones((2, 3)), np.ones((2, 3)))


def test_interp_logx():
    assert stats.interp_logx(10.0, [1.0, 100.0], [0.2, 0.6]) == pytest.approx(0.4)
    assert stats.interp_logx([1000.0], [100.0, 1.0], [0.6, 0.2])[0] == pytest.approx(0.6)


def test_median_band_and_mean_se():
    df = pd.DataFrame(
        {
            "m": [1, 1, 1, 2, 2, 2, 2],
            "seed": [0, 1, 2, 0, 1, 2, 3],
            "risk": [3.0, 1.0, 2.0, 10.0, 40.0, 20.0, 30.0],
        }
    )
    band = stats.median_band(df, "m", "risk")
    assert band.columns.tolist() == ["m", "median", "lower", "upper", "n"]
    assert band["median"].tolist() == [2.0, 25.0]
    assert band["lower"].tolist() == [1.0, 10.0] and band["upper"].tolist() == [3.0, 40.0]
    assert band["n"].tolist() == [3, 4]
    q = stats.median_band(df, ["m"], "risk", lower=0.25, upper=0.75)
    assert q["lower"].tolist() == [1.5, 17.5] and q["upper"].tolist() == [2.5, 32.5]
    ms = stats.mean_se(df, "m", "risk")
    assert ms["mean"].tolist() == [2.0, 25.0]
    assert ms["se"].iloc[0] == pytest.approx(1.0 / math.sqrt(3))
    single = stats.mean_se(df[df["seed"] == 0], "m", "risk")
    assert single["se"].tolist() == [0.0, 0.0]


def test_trapezoid_is_exact_on_piecewise_linear_functions():
    rng = np.random.default_rng(3)
    kinks = np.sort(rng.random(30))
    values = rng.standard_normal(32)
    nodes = np.concatenate([[0.0], kinks, [1.0]])

    def g(t):
        return np.interp(t, nodes, values)

    exact = float(np.sum((values[1:] + values[:-1]) / 2 * np.diff(nodes)))
    finer = np.sort(np.concatenate([nodes, rng.random(500), [0.5, 0.5]]))  # a repeated node too
    assert stats.trapezoid_weights(finer) @ g(finer) == pytest.approx(exact, rel=1e-13, abs=1e-15)
    with pytest.raises(ValueError, match="increasing"):
        stats.trapezoid_weights([0.0, 1.0, 0.5])
