"""The tube data sets and the targets T1-T3 of the illustration (spec section 2).

One data set per (manifold, ambient dimension D): a circle (d = 1) or a 2-sphere (d = 2) rotated
into R^D by a seeded random orthogonal map, labelled training and validation pools and a
noise-free test set. The foot points p, the label noise and the random map come from their own
streams, so the points p and the noise are the same in every D (only the normal offsets change):
T1's labels are then identical across D and the learning curves differ only by the ambient dimension.
"""

from __future__ import annotations

import numpy as np

TARGETS = ("T1", "T2", "T3")
SMOOTHNESS = 1.5  # s of g: |sin|^{3/2} and |p3|^{3/2} are C^{1,1/2}
MANIFOLD_DIM = {"circle": 1, "sphere": 2}
K_MAX = 6  # T3 uses the first min(D - d, 6) normal coordinates


def g(p: np.ndarray) -> np.ndarray:
    """The function on the manifold: circle ``sin 3θ + |sin θ|^{3/2} / 2``, sphere ``p1 p2 + |p3|^{3/2}``."""
    if p.shape[1] == 2:
        theta = np.arctan2(p[:, 1], p[:, 0])
        return np.sin(3 * theta) + 0.5 * np.abs(np.sin(theta)) ** 1.5
    return p[:, 0] * p[:, 1] + np.abs(p[:, 2]) ** 1.5


def t3_product(nu: np.ndarray, d: int, q: float) -> np.ndarray:
    """``prod_{j<=k} sin(pi nu~_j)`` with ``nu~ = nu sqrt(D - d + 2) / q`` (unit variance), k = min(D - d, 6)."""
    n_normal = nu.shape[1]
    k = min(n_normal, K_MAX)
    z = nu[:, :k] * np.sqrt(n_normal + 2.0) / q
    return np.prod(np.sin(np.pi * z), axis=1)


def second_set_distance(pi_local_x: np.ndarray, m2: str) -> np.ndarray:
    """Distance to M2 in the manifold's subspace coordinates: the point 2 e1, or the segment 2 e1 + t e2, |t| <= 1."""
    c = np.zeros(pi_local_x.shape[1])
    c[0] = 2.0
    r = pi_local_x - c
    if m2 == "segment":
        r[:, 1] -= np.clip(r[:, 1], -1.0, 1.0)
    elif m2 != "point":
        raise ValueError(f"unknown second set M2 {m2!r}; expected 'point' or 'segment'")
    return np.linalg.norm(r, axis=1)


def targets(x: np.ndarray, frame: np.ndarray, d: int, q: float, a_d: float, m2: str) -> dict[str, np.ndarray]:
    """Noise-free T1, T2, T3 (and T3's added term) at points ``x`` of the tube."""
    from ... import data

    c = data.sphere_coordinates(x, frame, d)
    t1 = g(c["p"])
    extra = a_d * t3_product(c["nu"], d, q)
    # T2's second set lies in the full space: x's offset from M2 counts the orthogonal directions too
    local = x @ frame[:, : d + 1]
    off = np.sqrt(np.maximum(np.sum(x**2, axis=1) - np.sum(local**2, axis=1), 0.0))
    d2 = np.hypot(second_set_distance(local, m2), off)
    t2 = np.cos(2 * np.pi * c["dist"] / q) + np.exp(-4.0 * d2**2)
    return {"T1": t1, "T2": t2, "T3": t1 + extra, "T3_extra": extra}


def t3_scale(frame: np.ndarray, d: int, q: float, samples: int, seed: int) -> float:
    """``a_D``: the scale that gives T3's added term the variance of ``g(pi(x))``, on ``samples`` fresh tube points."""
    from ... import data

    s = data.sphere_tube(samples, frame, d, q, seed)
    return float(np.sqrt(np.var(g(s["p"])) / np.var(t3_product(s["nu"], d, q))))


def make_tube(
    manifold: str,
    D: int,
    q: float,
    n_train: int,
    n_val: int,
    n_test: int,
    noise: float,
    seed: int,
    var_samples: int,
    var_seed: int,
    m2: str = "point",
) -> dict[str, np.ndarray]:
    """The data set: x and noisy labels of every target for the training and validation pools, noise-free test targets."""
    from ... import data

    if manifold not in MANIFOLD_DIM:
        raise ValueError(f"unknown manifold {manifold!r}; expected one of {sorted(MANIFOLD_DIM)}")
    d = MANIFOLD_DIM[manifold]
    if D < d + 1:
        raise ValueError(f"ambient dimension D = {D} must be at least {d + 1} for the {manifold}")
    rng_frame, rng_p, rng_nu, rng_noise, rng_test = [
        np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(5)
    ]
    frame = data.random_rotation(D, rng_frame)
    a_d = t3_scale(frame, d, q, var_samples, var_seed)
    out = {"frame": frame, "a_D": np.array(a_d), "noise": np.array(noise), "q": np.array(q)}
    for part, n in (("train", n_train), ("val", n_val)):
        s = data.sphere_tube(n, frame, d, q, None, seeds=(rng_p, rng_nu))
        f = targets(s["x"], frame, d, q, a_d, m2)
        eps = noise * rng_noise.standard_normal(n)  # one noise draw shared by the targets
        out[f"x_{part}"], out[f"p_{part}"] = s["x"], s["p"]
        out.update({f"y_{t}_{part}": f[t] + eps for t in TARGETS})
    s = data.sphere_tube(n_test, frame, d, q, rng_test)
    f = targets(s["x"], frame, d, q, a_d, m2)
    out.update({"x_test": s["x"], "p_test": s["p"], "nu_test": s["nu"]})
    out.update({f"f_{t}_test": f[t] for t in (*TARGETS, "T3_extra")})
    return out


def make_dataset(name: str, spec: dict) -> dict[str, np.ndarray]:
    """The paper's data sets (``kind: tube``); see :func:`make_tube`."""
    if spec.get("kind") != "tube":
        raise ValueError(f"cloninger2020 data set {name!r}: unknown kind {spec.get('kind')!r}; expected 'tube'")
    return make_tube(**{k: v for k, v in spec.items() if k != "kind"})
