"""Random orthonormal frames, rotations and uniform samples on spheres and balls.

``seed`` may be an int or a ``numpy.random.Generator`` (to draw several objects from one stream).
"""

from __future__ import annotations

import numpy as np


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(int(seed))


def orthonormal_frame(n: int, k: int, seed: int | np.random.Generator) -> np.ndarray:
    """An ``n x k`` matrix with orthonormal columns, Haar distributed (QR of a Gaussian, signs fixed by diag(R) > 0)."""
    if not 0 < k <= n:
        raise ValueError(f"orthonormal_frame needs 0 < k <= n, got n={n}, k={k}")
    q, r = np.linalg.qr(_rng(seed).standard_normal((n, k)))
    # Without the sign fix QR's convention biases the distribution away from Haar.
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return q * signs


def random_rotation(n: int, seed: int | np.random.Generator, proper: bool = False) -> np.ndarray:
    """A Haar-random ``n x n`` orthogonal matrix; with ``proper`` a rotation (det +1, Haar on SO(n))."""
    q = orthonormal_frame(n, n, seed)
    if proper and np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def uniform_sphere(n_samples: int, dim: int, seed: int | np.random.Generator) -> np.ndarray:
    """``n_samples`` points uniform on the unit sphere S^{dim-1} in R^dim (normalised Gaussians)."""
    g = _rng(seed).standard_normal((int(n_samples), int(dim)))
    norms = np.linalg.norm(g, axis=1, keepdims=True)
    return g / np.where(norms > 0, norms, 1.0)


def uniform_ball(n_samples: int, dim: int, radius: float, seed: int | np.random.Generator) -> np.ndarray:
    """``n_samples`` points uniform in the ball of ``radius`` in R^dim (direction on the sphere, radius r U^{1/dim})."""
    rng = _rng(seed)
    u = uniform_sphere(n_samples, dim, rng)
    return u * (float(radius) * rng.uniform(size=(int(n_samples), 1)) ** (1.0 / int(dim)))
