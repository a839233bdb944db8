"""Unit tests of relurepro.references against hand-computed values and scikit-learn."""

import math

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from relurepro import references as ref


def _regression(n, d, k=None, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) + 0.5
    w = rng.standard_normal((d,) if k is None else (d, k))
    y = x @ w + 0.7 + 0.1 * rng.standard_normal((n,) if k is None else (n, k))
    return x, y


def test_ols_recovers_an_exact_line():
    x = np.arange(6.0)[:, None]
    m = ref.ols(x, 2 * x[:, 0] + 1, x_test=np.array([[10.0]]), y_test=np.array([21.0]))
    assert m["w"] == pytest.approx([2.0]) and m["b"] == pytest.approx(1.0)
    assert m["train_mse"] < 1e-24 and m["test_mse"] < 1e-20 and m["rank"] == 1
    assert math.isnan(ref.ols(x, x[:, 0])["test_mse"])


@pytest.mark.parametrize("intercept", [True, False])
def test_ols_matches_sklearn(intercept):
    x, y = _regression(50, 4)
    xt, yt = _regression(20, 4, seed=1)
    m = ref.ols(x, y, xt, yt, intercept=intercept)
    sk = LinearRegression(fit_intercept=intercept).fit(x, y)
    np.testing.assert_allclose(m["w"], sk.coef_, atol=1e-10)
    assert m["b"] == pytest.approx(sk.intercept_, abs=1e-10)
    assert m["test_mse"] == pytest.approx(np.mean((sk.predict(xt) - yt) ** 2))


def test_ols_underdetermined_is_minimum_norm_interpolant():
    x, y = _regression(5, 12)
    m = ref.ols(x, y, intercept=False)
    np.testing.assert_allclose(m["w"], np.linalg.pinv(x) @ y, atol=1e-10)
    assert m["train_mse"] < 1e-20 and m["rank"] == 5


@pytest.mark.parametrize("n,d,k", [(60, 5, None), (60, 5, 3), (15, 40, None)])
def test_ridge_primal_dual_and_sklearn_agree(n, d, k):
    x, y = _regression(n, d, k)
    xt, yt = _regression(10, d, k, seed=2)
    primal = ref.ridge(x, y, 0.3, xt, yt, solver="primal")
    dual = ref.ridge(x, y, 0.3, xt, yt, solver="dual")
    sk = Ridge(alpha=0.3).fit(x, y)
    np.testing.assert_allclose(primal["w"], dual["w"], atol=1e-10)
    np.testing.assert_allclose(primal["w"], sk.coef_.T, atol=1e-8)
    np.testing.assert_allclose(dual["b"], sk.intercept_, atol=1e-8)
    assert dual["test_mse"] == pytest.approx(np.mean((sk.predict(xt) - yt) ** 2), rel=1e-8)
    assert ref.ridge(x, y, 0.3)["solver"] == ("dual" if d > n else "primal")


def test_ridge_lambda_zero_dual_interpolates_with_minimum_norm():
    x, y = _regression(10, 30)
    m = ref.ridge(x, y, 0.0, intercept=False)
    assert m["solver"] == "dual" and m["train_mse"] < 1e-20
    np.testing.assert_allclose(m["w"], np.linalg.pinv(x) @ y, atol=1e-8)
    with pytest.raises(ValueError, match="lam >= 0"):
        ref.ridge(x, y, -1.0)


def test_kernel_ridge_with_linear_kernel_is_ridge_without_intercept():
    x, y = _regression(30, 6)
    xt, yt = _regression(8, 6, seed=3)
    kr = ref.kernel_ridge(x @ x.T, y, 0.5, k_test=xt @ x.T, y_test=yt)
    r = ref.ridge(x, y, 0.5, xt, yt, intercept=False)
    np.testing.assert_allclose(kr["test_pred"], ref.linear_predict(r, xt), atol=1e-10)
    assert kr["test_mse"] == pytest.approx(r["test_mse"]) and kr["train_mse"] == pytest.approx(r["train_mse"])


def test_lbfgs_minimises_a_quadratic():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((8, 8))
    h, c = a @ a.T + np.eye(8), rng.standard_normal(8)
    x, n_iter, ok = ref.lbfgs(lambda v: (0.5 * v @ h @ v - c @ v, h @ v - c), np.zeros(8), gtol=1e-10)
    assert ok and n_iter < 100
    np.testing.assert_allclose(x, np.linalg.solve(h, c), atol=1e-9)


def _classes(n, d, k, seed):
    rng = np.random.default_rng(seed)
    centres = 1.5 * rng.standard_normal((k, d))
    y = rng.integers(0, k, n)
    return centres[y] + rng.standard_normal((n, d)), y


@pytest.mark.parametrize("k,l2", [(2, 1e-2), (2, 1e-3), (4, 1e-2), (4, 1e-3)])
def test_logistic_regression_matches_sklearn(k, l2):
    x, y = _classes(300, 5, k, 0)
    xt, yt = _classes(100, 5, k, 1)
    labels = np.array([-1, 1]) if k == 2 else np.arange(k) * 10  # arbitrary label values
    y, yt = labels[y], labels[yt]
    m = ref.logistic_regression(x, y, xt, yt, l2=l2)
    sk = LogisticRegression(C=1.0 / (l2 * len(y)), tol=1e-12, max_iter=10_000).fit(x, y)
    assert m["converged"]
    np.testing.assert_allclose(ref.logistic_predict_proba(m, xt), sk.predict_proba(xt), atol=1e-6)
    np.testing.assert_allclose(m["w"], sk.coef_[0] if k == 2 else sk.coef_.T, atol=1e-5)
    assert (ref.logistic_predict(m, xt) == sk.predict(xt)).all()
    assert m["test_acc"] == pytest.approx(sk.score(xt, yt))
    p = sk.predict_proba(xt)[np.arange(len(yt)), np.searchsorted(sk.classes_, yt)]
    assert m["test_loss"] == pytest.approx(-np.mean(np.log(p)), rel=1e-5)
    assert m["classes"].tolist() == labels.tolist()


def test_logistic_regression_is_deterministic_and_checks_labels():
    x, y = _classes(200, 4, 3, 5)
    a, b = ref.logistic_regression(x, y, l2=1e-3), ref.logistic_regression(x, y, l2=1e-3)
    assert np.array_equal(a["w"], b["w"]) and np.array_equal(a["b"], b["b"])
    assert 0.0 <= a["train_acc"] <= 1.0 and math.isnan(a["test_acc"])
    with pytest.raises(ValueError, match="not seen in training"):
        ref.logistic_regression(x, y, x[:3], np.array([0, 1, 7]))
    with pytest.raises(ValueError, match="at least 2 classes"):
        ref.logistic_regression(x, np.zeros(len(y)))


def test_logistic_regression_without_intercept():
    x, y = _classes(200, 3, 2, 7)
    m = ref.logistic_regression(x, y, l2=1e-2, intercept=False)
    sk = LogisticRegression(C=1.0 / (1e-2 * len(y)), fit_intercept=False, tol=1e-12, max_iter=10_000).fit(x, y)
    assert m["b"] == 0.0
    np.testing.assert_allclose(m["w"], sk.coef_[0], atol=1e-6)
