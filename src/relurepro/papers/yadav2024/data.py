"""Data sets of yadav2024: the disc in a square ("circle"); digits and MNIST-1D come from the shared builders."""

from __future__ import annotations

import math

import numpy as np

# The radius that splits the square [-1, 1]^2 in two equal areas: pi r^2 = 2.
BALANCED_RADIUS = math.sqrt(2.0 / math.pi)


def circle(seed: int, n_train: int, n_test: int, radius: float = BALANCED_RADIUS) -> dict[str, np.ndarray]:
    """x ~ U([-1, 1]^2), label 1 inside the disc ``||x|| < radius`` and 0 outside (int64)."""
    if not 0 < radius < math.sqrt(2):
        raise ValueError(f"circle radius must lie in (0, sqrt 2) to leave both classes in the square, got {radius}")
    rng = np.random.default_rng(int(seed))
    x = rng.uniform(-1.0, 1.0, size=(int(n_train) + int(n_test), 2))
    y = (np.linalg.norm(x, axis=1) < radius).astype(np.int64)
    return {"x_train": x[:n_train], "y_train": y[:n_train], "x_test": x[n_train:], "y_test": y[n_train:]}


def make_dataset(name: str, spec: dict) -> dict[str, np.ndarray]:
    """The circle data here; every other kind from :func:`relurepro.data.make`."""
    if spec.get("kind") == "circle":
        return circle(**{k: v for k, v in spec.items() if k != "kind"})
    from ... import data

    return data.make(spec)
