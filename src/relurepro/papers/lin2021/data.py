"""The regression data of lin2021: targets of known Hölder order on [0,1]^d, bounded uniform noise.

One data set per (d, m) holds every seed's sample, each drawn from ``numpy.random.default_rng(seed)``
alone (inputs, then noise, then the test inputs), so a member's data never depend on the other seeds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# target name -> (Hölder order r, {d: f})
TARGETS: dict[str, tuple[int, dict[int, Callable[[np.ndarray], np.ndarray]]]] = {
    "lipschitz": (
        1,
        {
            1: lambda x: np.abs(x[..., 0] - 0.3) + 0.5 * np.sin(4 * np.pi * x[..., 0]),
            2: lambda x: (
                np.abs(x[..., 0] - 0.4) + np.abs(x[..., 1] - 0.6) + 0.3 * np.sin(2 * np.pi * (x[..., 0] + x[..., 1]))
            ),
        },
    ),
    "smooth2": (
        2,
        {1: lambda x: (x[..., 0] - 0.3) * np.abs(x[..., 0] - 0.3) + np.sin(4 * np.pi * x[..., 0])},
    ),
}


def target(name: str, d: int) -> Callable[[np.ndarray], np.ndarray]:
    """The regression function ``f`` of a named target in dimension ``d`` (x ``[..., d]`` -> ``[...]``)."""
    if name not in TARGETS:
        raise ValueError(f"unknown lin2021 target {name!r}; expected one of {sorted(TARGETS)}")
    by_d = TARGETS[name][1]
    if d not in by_d:
        raise ValueError(f"lin2021 target {name!r} is defined for d in {sorted(by_d)}, not d = {d}")
    return by_d[d]


def order(name: str) -> int:
    """The Hölder order r of a named target."""
    return TARGETS[name][0]


def rate_exponent(name: str, d: int) -> float:
    """The minimax exponent ``-2r/(2r+d)`` of the excess risk in m."""
    r = order(name)
    return -2.0 * r / (2.0 * r + d)


def make_dataset(name: str, spec: dict) -> dict[str, np.ndarray]:
    """Every seed's sample: ``x_train [S, m, d]``, ``y_train [S, m]``, ``x_test [S, n_test, d]``, ``seed [S]``."""
    if spec.get("kind") != "lin2021_regression":
        raise ValueError(f"lin2021 data set {name!r}: unknown kind {spec.get('kind')!r}")
    d, m, n_test, noise = int(spec["d"]), int(spec["m"]), int(spec["n_test"]), float(spec["noise"])
    f = target(spec["target"], d)
    xs, ys, ts = [], [], []
    for seed in spec["seeds"]:
        rng = np.random.default_rng(int(seed))
        x = rng.random((m, d))
        ys.append(f(x) + rng.uniform(-noise, noise, m))
        xs.append(x)
        ts.append(rng.random((n_test, d)))
    return {
        "x_train": np.stack(xs),
        "y_train": np.stack(ys),
        "x_test": np.stack(ts),
        "seed": np.asarray(spec["seeds"], dtype=np.int64),
    }


def norms(name: str, d: int, n: int = 2001) -> dict[str, float]:
    """``||f||^2`` and ``Var f`` under the uniform law on [0,1]^d (trapezoid rule on an n^d grid)."""
    from ...stats import trapezoid_weights

    t = np.linspace(0.0, 1.0, n)
    w1 = trapezoid_weights(t)
    f = target(name, d)
    if d == 1:
        values, w = f(t[:, None]), w1
    else:
        grid = np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1).reshape(-1, 2)
        values, w = f(grid), np.outer(w1, w1).ravel()
    mean = float(w @ values)
    sq = float(w @ values**2)
    return {"f_norm_sq": sq, "var_f": sq - mean**2}
