"""Closed forms of zhang2024: the odd/even identity, Saxe time courses, linear regression."""

from __future__ import annotations

import numpy as np


def c_of(alpha) -> np.ndarray:
    """The linear coefficient ``c = (1 + alpha) / 2`` of the leaky ReLU ``max(z, alpha z)``."""
    return (1.0 + np.asarray(alpha, dtype=float)) / 2.0


def modes(x: np.ndarray, y: np.ndarray, tol: float = 1e-12):
    """SVD of ``Syx = <y x^T>``: left vectors ``[C, r]``, strengths ``[r]``, right vectors ``[D, r]``."""
    syx = y.T @ x / len(x)
    u, s, vt = np.linalg.svd(syx, full_matrices=False)
    keep = s > tol * max(1.0, s.max(initial=0.0))
    return u[:, keep], s[keep], vt[keep].T


def linreg(x: np.ndarray, y: np.ndarray):
    """The linear-regression optimum ``W* = Syx Sxx^-1`` and its loss ``L* = 1/2 <||y - W* x||^2>``."""
    w, *_ = np.linalg.lstsq(x, y, rcond=None)  # [D, C] with x @ w ~ y
    resid = y - x @ w
    return w.T, 0.5 * float((resid**2).sum(-1).mean())


def saxe_loss_star(y: np.ndarray, s: np.ndarray) -> float:
    """``L* = 1/2 (<||y||^2> - sum_i s_i^2)``, the floor when ``Sxx = I``."""
    return 0.5 * (float((y**2).sum(-1).mean()) - float((s**2).sum()))


def saxe_u(t, s: float, u0: float, c: float) -> np.ndarray:
    """Mode strength ``u(t) = s / (1 + (s/u0 - 1) exp(-2 c s t))`` solving ``du/dt = 2 c u (s - u)``."""
    t = np.asarray(t, dtype=float)
    return s / (1.0 + (s / u0 - 1.0) * np.exp(-2.0 * c * s * t))


def saxe_half_time(s: float, u0: float, c: float) -> float:
    """Time at which ``u`` reaches ``s/2``: ``ln(s/u0 - 1) / (2 c s)``."""
    return float(np.log(s / u0 - 1.0) / (2.0 * c * s))


def saxe_loss(t, s: np.ndarray, u0: np.ndarray, c: float, loss_star: float) -> np.ndarray:
    """``L(t) = L* + 1/2 sum_i (s_i - u_i(t))^2``."""
    t = np.asarray(t, dtype=float)
    out = np.full(t.shape, loss_star, dtype=float)
    for si, ui in zip(s, u0):
        out += 0.5 * (si - saxe_u(t, si, ui, c)) ** 2
    return out


def log_shift_ratio(s: float, u0_raw: float, c: float) -> float:
    """Predicted ``t_half(alpha) / t_half(linear)`` at the same raw init: ``ln(s/(c u0) - 1) / (c ln(s/u0 - 1))``."""
    return float(np.log(s / (c * u0_raw) - 1.0) / (c * np.log(s / u0_raw - 1.0)))


def leaky_np(z: np.ndarray, alpha: float) -> np.ndarray:
    """``max(z, alpha z)`` for 0 <= alpha <= 1."""
    return np.maximum(z, alpha * z)


def two_layer(w1: np.ndarray, w2: np.ndarray, x: np.ndarray, alpha: float) -> np.ndarray:
    """``f(x) = W2 sigma(W1 x)`` for rows of ``x`` (W1 is H x D, W2 is C x H)."""
    return leaky_np(x @ w1.T, alpha) @ w2.T


def depth2_odd_example(x: np.ndarray) -> np.ndarray:
    """The odd, non-linear depth-2-hidden-layer ReLU function ``s(s(x1)-s(x2)) - s(s(-x1)-s(-x2))``."""
    s = lambda z: np.maximum(z, 0.0)  # noqa: E731
    x1, x2 = x[..., 0], x[..., 1]
    return s(s(x1) - s(x2)) - s(s(-x1) - s(-x2))


def crossing_time(t: np.ndarray, v: np.ndarray, level: float, downward: bool = True) -> float:
    """First time ``v`` crosses ``level`` (linear interpolation); NaN if it never does."""
    t, v = np.asarray(t, dtype=float), np.asarray(v, dtype=float)
    hit = v <= level if downward else v >= level
    idx = np.flatnonzero(hit)
    if len(idx) == 0:
        return float("nan")
    i = int(idx[0])
    if i == 0:
        return float(t[0])
    v0, v1 = v[i - 1], v[i]
    frac = (level - v0) / (v1 - v0) if v1 != v0 else 1.0
    return float(t[i - 1] + frac * (t[i] - t[i - 1]))
