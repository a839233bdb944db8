"""Closed-form and convex references shared by the papers: OLS, ridge (primal and dual),
kernel ridge, and L2-regularised logistic regression (binary and multinomial, L-BFGS).

All in float64 numpy and deterministic. ``mse`` is the mean over samples and outputs of the
squared error (no factor 1/2). Fitted models are dicts; ``linear_predict`` and
``logistic_predict_proba`` / ``logistic_predict`` apply them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def _xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim not in (1, 2) or x.shape[0] != y.shape[0]:
        raise ValueError(f"need x [N, D] and y [N] or [N, k] with the same N, got {x.shape} and {y.shape}")
    return x, y


def _mse(y: np.ndarray, y_hat: np.ndarray) -> float:
    return float(np.mean((y - y_hat) ** 2))


def linear_predict(model: dict, x: np.ndarray) -> np.ndarray:
    """Predictions ``x @ w + b`` of a model returned by ``ols`` or ``ridge``."""
    return np.asarray(x, dtype=np.float64) @ model["w"] + model["b"]


def _finish(w, b, x, y, x_test, y_test, **extra) -> dict:
    model = {"w": w, "b": b, **extra}
    model["train_mse"] = _mse(y, linear_predict(model, x))
    model["test_mse"] = math.nan
    if x_test is not None and y_test is not None:
        model["test_mse"] = _mse(np.asarray(y_test, dtype=np.float64), linear_predict(model, x_test))
    return model


def ols(x_train, y_train, x_test=None, y_test=None, intercept: bool = True) -> dict:
    """Ordinary least squares (minimum-norm ``w`` when rank-deficient, intercept unpenalised).

    Returns ``{"w", "b", "rank", "train_mse", "test_mse"}`` (``test_mse`` nan without a test set).
    """
    x, y = _xy(x_train, y_train)
    x_mean = x.mean(0) if intercept else np.zeros(x.shape[1])
    y_mean = y.mean(0) if intercept else np.zeros(y.shape[1:])
    w, _, rank, _ = np.linalg.lstsq(x - x_mean, y - y_mean, rcond=None)
    return _finish(w, y_mean - x_mean @ w, x, y, x_test, y_test, rank=int(rank))


def ridge(x_train, y_train, lam: float, x_test=None, y_test=None, intercept: bool = True, solver: str = "auto") -> dict:
    """Ridge regression ``min ||X w + b - y||^2 + lam ||w||^2`` (sums, as scikit-learn's ``Ridge(alpha=lam)``).

    ``solver``: ``primal`` solves the D x D system, ``dual`` the N x N one (``w = X^T (X X^T + lam I)^-1 y``),
    ``auto`` picks dual when D > N. ``lam = 0`` gives the minimum-norm least-squares solution.
    Returns ``{"w", "b", "solver", "train_mse", "test_mse"}``.
    """
    x, y = _xy(x_train, y_train)
    if lam < 0:
        raise ValueError(f"ridge needs lam >= 0, got {lam}")
    if solver not in ("auto", "primal", "dual"):
        raise ValueError(f"solver must be 'auto', 'primal' or 'dual', got {solver!r}")
    n, d = x.shape
    solver = ("dual" if d > n else "primal") if solver == "auto" else solver
    x_mean = x.mean(0) if intercept else np.zeros(d)
    y_mean = y.mean(0) if intercept else np.zeros(y.shape[1:])
    xc, yc = x - x_mean, y - y_mean
    if solver == "primal":
        a, rhs = xc.T @ xc + lam * np.eye(d), xc.T @ yc
        w = np.linalg.solve(a, rhs) if lam > 0 else np.linalg.lstsq(a, rhs, rcond=None)[0]
    else:
        w = xc.T @ _kernel_solve(xc @ xc.T, yc, lam)
    return _finish(w, y_mean - x_mean @ w, x, y, x_test, y_test, solver=solver)


def _kernel_solve(k: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    a = k + lam * np.eye(k.shape[0])
    return np.linalg.solve(a, y) if lam > 0 else np.linalg.lstsq(a, y, rcond=None)[0]


def kernel_ridge(k_train, y_train, lam: float, k_test=None, y_test=None) -> dict:
    """Kernel ridge without intercept: ``alpha = (K + lam I)^-1 y`` (``lam = 0``: least-squares interpolation).

    ``k_test`` is the ``[N_test, N_train]`` cross-kernel. Returns ``{"alpha", "train_mse", "test_mse",
    "test_pred"}`` (``test_pred`` None without ``k_test``).
    """
    k, y = _xy(k_train, y_train)
    if k.shape[0] != k.shape[1]:
        raise ValueError(f"k_train must be square, got {k.shape}")
    if lam < 0:
        raise ValueError(f"kernel_ridge needs lam >= 0, got {lam}")
    alpha = _kernel_solve(k, y, lam)
    out = {"alpha": alpha, "train_mse": _mse(y, k @ alpha), "test_mse": math.nan, "test_pred": None}
    if k_test is not None:
        out["test_pred"] = np.asarray(k_test, dtype=np.float64) @ alpha
        if y_test is not None:
            out["test_mse"] = _mse(np.asarray(y_test, dtype=np.float64), out["test_pred"])
    return out


def lbfgs(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    max_iter: int = 1000,
    gtol: float = 1e-8,
    memory: int = 10,
) -> tuple[np.ndarray, int, bool]:
    """Minimise a smooth ``fun(x) -> (value, gradient)`` by L-BFGS with Armijo backtracking.

    Stops when the largest gradient entry is ``<= gtol``; returns ``(x, iterations, converged)``.
    """
    x = np.array(x0, dtype=np.float64)
    f, g = fun(x)
    pairs: list[tuple[np.ndarray, np.ndarray, float]] = []
    for it in range(max_iter):
        if np.max(np.abs(g)) <= gtol:
            return x, it, True
        q, alphas = g.copy(), []
        for s, y, rho in reversed(pairs):
            a = rho * float(s @ q)
            alphas.append(a)
            q -= a * y
        if pairs:
            s, y, _ = pairs[-1]
            q *= float(s @ y) / float(y @ y)
        else:
            q /= max(1.0, float(np.linalg.norm(g)))
        for (s, y, rho), a in zip(pairs, reversed(alphas)):
            q += (a - rho * float(y @ q)) * s
        d = -q
        slope = float(g @ d)
        if slope >= 0:  # not a descent direction: restart from steepest descent
            pairs.clear()
            d = -g / max(1.0, float(np.linalg.norm(g)))
            slope = float(g @ d)
        step = 1.0
        while True:
            x_new = x + step * d
            f_new, g_new = fun(x_new)
            if f_new <= f + 1e-4 * step * slope:
                break
            # Near the optimum f stops resolving the decrease; a smaller gradient is then progress.
            if f_new <= f + 8 * np.finfo(float).eps * abs(f) and np.linalg.norm(g_new) < np.linalg.norm(g):
                break
            step *= 0.5
            if step < 1e-16:  # no progress possible at this precision
                return x, it, bool(np.max(np.abs(g)) <= gtol)
        s, y = x_new - x, g_new - g
        sy = float(s @ y)
        if sy > 1e-12 * float(np.linalg.norm(s) * np.linalg.norm(y)):
            pairs.append((s, y, 1.0 / sy))
            if len(pairs) > memory:
                pairs.pop(0)
        x, f, g = x_new, f_new, g_new
    return x, max_iter, bool(np.max(np.abs(g)) <= gtol)


def _logsumexp(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]


def logistic_predict_proba(model: dict, x: np.ndarray) -> np.ndarray:
    """Class probabilities ``[N, K]`` (columns in ``model["classes"]`` order) of a ``logistic_regression`` fit."""
    z = np.asarray(x, dtype=np.float64) @ model["w"] + model["b"]
    if z.ndim == 1:
        p1 = 0.5 * (1.0 + np.tanh(0.5 * z))  # the sigmoid, without overflow
        return np.stack([1.0 - p1, p1], axis=1)
    return np.exp(z - _logsumexp(z)[:, None])


def logistic_predict(model: dict, x: np.ndarray) -> np.ndarray:
    """Predicted labels (values of ``model["classes"]``) of a ``logistic_regression`` fit."""
    return model["classes"][np.argmax(logistic_predict_proba(model, x), axis=1)]


def _log_loss(model: dict, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    p = logistic_predict_proba(model, x)
    if not np.isin(y, model["classes"]).all():
        raise ValueError(
            f"labels {sorted(set(np.unique(y).tolist()) - set(model['classes'].tolist()))} not seen in training"
        )
    idx = np.searchsorted(model["classes"], y)
    loss = -float(np.mean(np.log(np.maximum(p[np.arange(y.size), idx], 1e-300))))
    acc = float(np.mean(idx == np.argmax(p, axis=1)))
    return loss, acc


def logistic_regression(
    x_train,
    y_train,
    x_test=None,
    y_test=None,
    l2: float = 1e-4,
    intercept: bool = True,
    max_iter: int = 1000,
    gtol: float = 1e-8,
) -> dict:
    """L2-regularised logistic regression: ``min mean CE + (l2/2) ||W||_F^2`` (intercept unpenalised), by L-BFGS.

    Two classes give one weight vector (sigmoid); more give a ``[D, K]`` softmax. Equals
    scikit-learn's ``LogisticRegression(C=1/(l2 * N))``. Labels are any sortable values.
    Returns ``{"w", "b", "classes", "n_iter", "converged", "train_loss", "train_acc", "test_loss", "test_acc"}``.
    """
    x = np.asarray(x_train, dtype=np.float64)
    y = np.asarray(y_train)
    if x.ndim != 2 or y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise ValueError(f"need x [N, D] and labels [N], got {x.shape} and {y.shape}")
    if l2 < 0:
        raise ValueError(f"logistic_regression needs l2 >= 0, got {l2}")
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(f"logistic_regression needs at least 2 classes, got {classes.tolist()}")
    n, d = x.shape
    idx = np.searchsorted(classes, y)
    k = 1 if classes.size == 2 else classes.size
    xb = np.hstack([x, np.ones((n, 1))]) if intercept else x
    target = (idx == 1).astype(np.float64)[:, None] if k == 1 else np.eye(k)[idx]
    penal = np.ones((xb.shape[1], 1))
    if intercept:
        penal[-1] = 0.0

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta.reshape(xb.shape[1], k)
        z = xb @ w
        if k == 1:
            loss = float(np.mean(np.logaddexp(0.0, z[:, 0]) - target[:, 0] * z[:, 0]))
            resid = 0.5 * (1.0 + np.tanh(0.5 * z)) - target  # stable sigmoid
        else:
            lse = _logsumexp(z)
            loss = float(np.mean(lse - (z * target).sum(1)))
            resid = np.exp(z - lse[:, None]) - target
        grad = xb.T @ resid / n + l2 * penal * w
        return loss + 0.5 * l2 * float(((penal * w) ** 2).sum()), grad.ravel()

    theta, n_iter, converged = lbfgs(fun, np.zeros(xb.shape[1] * k), max_iter=max_iter, gtol=gtol)
    w = theta.reshape(xb.shape[1], k)
    b = w[-1].copy() if intercept else np.zeros(k)
    w = w[:d]
    if k == 1:
        w, b = w[:, 0].copy(), float(b[0])
    model = {"w": w, "b": b, "classes": classes, "n_iter": n_iter, "converged": converged}
    model["train_loss"], model["train_acc"] = _log_loss(model, x, y)
    model["test_loss"], model["test_acc"] = math.nan, math.nan
    if x_test is not None and y_test is not None:
        model["test_loss"], model["test_acc"] = _log_loss(
            model, np.asarray(x_test, dtype=np.float64), np.asarray(y_test)
        )
    return model


def _nearest(x: np.ndarray, k: int, block: int = 2048) -> Callable[[np.ndarray], np.ndarray]:
    """A function giving the indices ``[P, k]`` of the k nearest rows of ``x``, nearest first."""
    if x.shape[1] <= 8:
        from sklearn.neighbors import KDTree

        tree = KDTree(x)
        return lambda points: tree.query(points, k=k, return_distance=False)
    sq = (x**2).sum(1)

    def query(points):
        parts = []
        for i in range(0, len(points), block):
            dist = sq[None, :] - 2.0 * points[i : i + block] @ x.T  # + |point|^2, the same for every row
            idx = np.argpartition(dist, k - 1, axis=1)[:, :k]
            order = np.argsort(np.take_along_axis(dist, idx, axis=1), axis=1, kind="stable")
            parts.append(np.take_along_axis(idx, order, axis=1))
        return np.concatenate(parts)

    return query


def knn_regression(x_train, y_train, x_val, y_val, x_test=None, y_test=None, ks=(1, 2, 4, 8, 16, 32, 64, 128)) -> dict:
    """k-nearest-neighbour regression (Euclidean, uniform weights), k chosen on a validation set.

    ``y_train`` may hold several targets ``[N, T]`` that share the neighbours (one search for all);
    each column gets its own k, the one of ``ks`` (those at most N) with the lowest validation MSE.
    Returns ``{"k", "val_mse", "test_mse"}``, arrays of one entry per target (test_mse nan
    without a test set). Neighbours come from a k-d tree (scikit-learn) for x of up to 8 dimensions,
    else from squared distances computed by blocks of matrix products (exact ties may order differently).
    """
    x, y = _xy(x_train, y_train)
    y = y[:, None] if y.ndim == 1 else y
    yv = np.asarray(y_val, dtype=np.float64).reshape(len(x_val), -1)
    ks = sorted(k for k in set(int(k) for k in ks) if 1 <= k <= len(x))
    if not ks:
        raise ValueError(f"knn_regression needs some k in 1..{len(x)}, got {ks}")
    nearest = _nearest(x, ks[-1])

    def means(points):
        """``[len(ks), P, T]``: the mean label of each point's k nearest training points, per k."""
        idx = nearest(np.asarray(points, dtype=np.float64))
        running = np.cumsum(y[idx], axis=1)  # [P, kmax, T]
        return np.stack([running[:, k - 1] / k for k in ks])

    val_mse = ((means(x_val) - yv[None]) ** 2).mean(axis=1)  # [len(ks), T]
    best = val_mse.argmin(axis=0)
    out = {
        "k": np.asarray(ks)[best],
        "val_mse": val_mse[best, np.arange(y.shape[1])],
        "test_mse": np.full(y.shape[1], math.nan),
    }
    if x_test is not None and y_test is not None:
        yt = np.asarray(y_test, dtype=np.float64).reshape(len(x_test), -1)
        pred = means(x_test)[best, :, np.arange(y.shape[1])].T  # [P, T]
        out["test_mse"] = ((pred - yt) ** 2).mean(axis=0)
    return out
