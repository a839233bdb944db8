"""Tubes around spheres embedded in R^D: points within distance ``q`` of a unit d-sphere.

The sphere S^d lives in the span of the first ``d + 1`` columns of an orthogonal ``frame``
``[D, D]`` (e.g. :func:`relurepro.data.random_rotation`); the remaining ``D - d - 1`` columns
span the directions orthogonal to that subspace. At a point p of the sphere the normal space
(dimension ``D - d``) is spanned by p itself (the radial direction in the subspace) and those
orthogonal columns, so a point of the tube has *normal coordinates* ``nu``: ``nu[0]`` radial,
``nu[1:]`` along the orthogonal columns in order. With ``q < 1`` (the reach of the unit sphere)
the projection onto the sphere is unique: ``pi(x) = P x / ||P x||``, P the projection onto the subspace.
"""

from __future__ import annotations

import numpy as np

from .frames import _rng, uniform_ball, uniform_sphere


def _check(frame: np.ndarray, d: int) -> None:
    D = frame.shape[0]
    if frame.shape != (D, D) or not 1 <= d < D:
        raise ValueError(f"a d-sphere tube needs a square D x D frame with 1 <= d < D, got {frame.shape}, d={d}")


def sphere_tube(n: int, frame: np.ndarray, d: int, q: float, seed, *, seeds=None) -> dict[str, np.ndarray]:
    """``n`` points uniform on the unit d-sphere, each moved by a normal offset uniform in the q-ball.

    Step 1 draws p uniform on S^d (``d + 1`` local coordinates), step 2 a normal offset uniform in
    the ``(D - d)``-dimensional q-ball of the normal space at p (direction uniform, radius
    ``q U^{1/(D-d)}``). ``seed`` is an int or a generator; with ``seeds=(rng_p, rng_nu)`` the
    points and the offsets come from two separate streams (so equal seeds give the same points p
    in every ambient dimension). Returns ``x`` ``[n, D]``, ``p`` ``[n, d+1]`` (local coordinates of
    the foot point) and ``nu`` ``[n, D-d]`` (normal coordinates).
    """
    _check(frame, d)
    if not 0 < q < 1:
        raise ValueError(f"tube radius q must lie in (0, 1) (below the unit sphere's reach), got {q}")
    D = frame.shape[0]
    rng_p, rng_nu = seeds if seeds is not None else (_rng(seed), _rng(seed))
    p = uniform_sphere(n, d + 1, rng_p)
    nu = uniform_ball(n, D - d, q, rng_nu)
    x = ((1.0 + nu[:, :1]) * p) @ frame[:, : d + 1].T + nu[:, 1:] @ frame[:, d + 1 :].T
    return {"x": x, "p": p, "nu": nu}


def sphere_coordinates(x: np.ndarray, frame: np.ndarray, d: int) -> dict[str, np.ndarray]:
    """Foot point and normal coordinates of points ``x`` ``[n, D]`` near the d-sphere of ``frame``.

    Returns ``p`` ``[n, d+1]`` (local coordinates of ``pi(x)``), ``pi`` ``[n, D]`` (the projection
    in R^D), ``nu`` ``[n, D-d]`` (radial offset, then the orthogonal coordinates) and ``dist``
    (``||x - pi(x)||``). Points on the sphere's axis (``P x = 0``) have no projection: refused.
    """
    _check(frame, d)
    local = x @ frame[:, : d + 1]
    r = np.linalg.norm(local, axis=1, keepdims=True)
    if (r <= 0).any():
        raise ValueError("a point projects onto the centre of the sphere's subspace: its projection is undefined")
    p = local / r
    pi = p @ frame[:, : d + 1].T
    nu = np.concatenate([r - 1.0, x @ frame[:, d + 1 :]], axis=1)
    return {"p": p, "pi": pi, "nu": nu, "dist": np.linalg.norm(x - pi, axis=1)}
