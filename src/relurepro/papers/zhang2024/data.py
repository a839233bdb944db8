"""Data sets of zhang2024: whitened, optionally symmetrised teacher data; circle; XOR; test points."""

from __future__ import annotations

import numpy as np


def whiten(x: np.ndarray) -> np.ndarray:
    """Exact whitening ``X <- U V^T sqrt(P)`` so that ``X^T X / P = I``."""
    u, _, vt = np.linalg.svd(x, full_matrices=False)
    return u @ vt * np.sqrt(len(x))


def random_orthonormal(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``k`` random orthonormal columns in ``R^n``."""
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return q * np.sign(np.diag(r))


def teacher(spec: dict) -> dict[str, np.ndarray]:
    """Gaussian inputs (whitened), targets ``W_t x + noise``, symmetrised after the noise."""
    rng = np.random.default_rng(spec["seed"])
    d, c, p = spec["D"], spec["C"], spec["P"]
    s = np.asarray(spec["singular_values"], dtype=float)
    x = rng.standard_normal((p, d))
    if spec.get("whiten", True):
        x = whiten(x)
    u = random_orthonormal(rng, c, len(s)) if c > 1 else np.ones((1, 1))
    v = random_orthonormal(rng, d, len(s))
    w_t = (u * s) @ v.T  # [C, D]
    y = x @ w_t.T + spec.get("noise_std", 0.0) * rng.standard_normal((p, c))
    if spec.get("symmetrise", True):
        x, y = np.concatenate([x, -x]), np.concatenate([y, -y])
    return {"x": x, "y": y, "w_teacher": w_t}


def circle(spec: dict) -> dict[str, np.ndarray]:
    """Equispaced points on the unit circle (antipodes included when P is even), ``y = sin(k theta)``."""
    theta = 2 * np.pi * np.arange(spec["P"]) / spec["P"]
    x = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    return {"x": x, "y": np.sin(spec["frequency"] * theta)[:, None], "theta": theta}


def gauss3(spec: dict) -> dict[str, np.ndarray]:
    """Symmetrised Gaussian inputs in ``R^3`` with the odd target ``x1 x2 x3``."""
    rng = np.random.default_rng(spec["seed"])
    x = rng.standard_normal((spec["P"] // 2, 3))
    x = np.concatenate([x, -x])
    return {"x": x, "y": np.prod(x, axis=1, keepdims=True)}


def xor_linear(spec: dict) -> dict[str, np.ndarray]:
    """``y = x1 x2 + x3`` with ``x1, x2`` uniform on ``{+-1}`` and ``x3`` standard normal (not symmetrised)."""
    rng = np.random.default_rng(spec["seed"])
    p = spec["P"]
    x12 = rng.choice([-1.0, 1.0], size=(p, 2))
    x = np.concatenate([x12, rng.standard_normal((p, 1))], axis=1)
    if spec.get("whiten", False):
        x = whiten(x)
    return {"x": x, "y": (x[:, 0] * x[:, 1] + x[:, 2])[:, None]}


def gaussian_test(spec: dict) -> dict[str, np.ndarray]:
    """Standard-normal test inputs."""
    rng = np.random.default_rng(spec["seed"])
    return {"x": rng.standard_normal((spec["P"], spec["D"]))}


KINDS = {"teacher": teacher, "circle": circle, "gauss3": gauss3, "xor": xor_linear, "gaussian_test": gaussian_test}


def make_dataset(name: str, spec: dict) -> dict[str, np.ndarray]:
    """Generate the data set ``name`` from its ``spec`` (``kind`` plus sizes and seed)."""
    if spec["kind"] not in KINDS:
        raise ValueError(f"{name}: unknown data kind {spec['kind']!r}")
    return {k: np.asarray(v, dtype=np.float64) for k, v in KINDS[spec["kind"]](spec).items()}
