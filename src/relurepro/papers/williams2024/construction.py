"""The masking-by-bias construction of Theorem 1's proof (spec §1), in float64 numpy.

A gamma-bounded net CN1 (weights and biases in [-gamma, gamma]) is hidden in a much wider random net
CN2 with weights U[-R, R]: each CN1 unit is matched to the unused CN2 unit whose in- and out-weights
are nearest (sup distance), that unit takes CN1's bias, and every other unit gets the bias
``-(max_x |w_i . x| + 1)``, below the ReLU's threshold on the whole input set, so it outputs exactly 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def relu_net(x: np.ndarray, w: np.ndarray, b: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(outputs [P], hidden activations [P, N])`` of ``y = sum_i a_i relu(w_i . x + b_i)``."""
    h = np.maximum(x @ w.T + b, 0.0)
    return h @ a, h


def silencing_bias(x: np.ndarray, w: np.ndarray, margin: float = 1.0) -> np.ndarray:
    """Per unit, ``-(max_x |w_i . x| + margin)``: its pre-activation is <= -margin on every input of ``x``."""
    return -(np.abs(x @ w.T).max(0) + margin)


def mask_by_bias(x: np.ndarray, w: np.ndarray, b: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The bias vector that keeps the units ``keep`` (their own ``b``) and silences every other unit on ``x``."""
    out = silencing_bias(x, w)
    out[keep] = b[keep]
    return out


@dataclass
class Construction:
    masked_max_activation: float  # max activation of a silenced unit over the inputs (0 exactly)
    subnet_error: float  # max |y_masked - y_subnet|: the masked wide net equals its kept units alone
    match_error: float  # max |y_CN2 - y_CN1|: how well the wide random net reproduces CN1
    window: float  # largest sup distance between a CN1 unit's weights and its CN2 match
    kept: np.ndarray


def construct(seed: int, d: int, small: int, big: int, gamma: float, r: float, n_points: int) -> Construction:
    """Hide a random gamma-bounded width-``small`` net in a random U[-r, r] width-``big`` net by biases alone."""
    if not 0 < gamma < r:
        raise ValueError(f"the construction needs 0 < gamma < R, got gamma={gamma}, R={r}")
    if big < small:
        raise ValueError(f"the wide net ({big}) must be at least as wide as the small one ({small})")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n_points, d))
    w1, b1, a1 = (
        rng.uniform(-gamma, gamma, (small, d)),
        rng.uniform(-gamma, gamma, small),
        rng.uniform(-gamma, gamma, small),
    )
    w2, a2 = rng.uniform(-r, r, (big, d)), rng.uniform(-r, r, big)
    kept, window = np.empty(small, dtype=np.int64), 0.0
    free = np.ones(big, dtype=bool)
    for j in range(small):
        dist = np.maximum(np.abs(w2 - w1[j]).max(1), np.abs(a2 - a1[j]))
        dist[~free] = np.inf
        kept[j] = int(np.argmin(dist))
        free[kept[j]] = False
        window = max(window, float(dist[kept[j]]))
    b2 = mask_by_bias(x, w2, np.zeros(big), kept)
    b2[kept] = b1
    y2, h2 = relu_net(x, w2, b2, a2)
    y_sub, _ = relu_net(x, w2[kept], b2[kept], a2[kept])
    y1, _ = relu_net(x, w1, b1, a1)
    silenced = np.ones(big, dtype=bool)
    silenced[kept] = False
    return Construction(
        masked_max_activation=float(h2[:, silenced].max()),
        subnet_error=float(np.abs(y2 - y_sub).max()),
        match_error=float(np.abs(y2 - y1).max()),
        window=window,
        kept=kept,
    )
