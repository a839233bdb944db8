"""Catapult window edges of spec §4, in units of eta*lambda_0 (the lower edge is always 2).

The constants are read by figures too, so torch is imported only where a formula needs it.
"""

from __future__ import annotations

import numpy as np

LOWER_EDGE = 2.0
RELU_EDGE = 4.0
UV_EDGE = 4.0  # eta_max = 4/lambda_0 of the uv model (Lewkowycz et al. §5)
LEWKOWYCZ_RELU_MAX = 12.0  # empirical eta_max ~ 12/lambda_0 of ReLU nets (Lewkowycz et al.)


def leaky_edge(lambda0, mean_sq_weight, x: np.ndarray) -> np.ndarray:
    """Eq. 180: ``2 lambda_0 / (mean theta_0^2 * lambda_max(X X^T / B))`` for two-layer leaky/linear nets."""
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    top = float(np.linalg.eigvalsh(x @ x.T / len(x))[-1])
    return 2.0 * np.asarray(lambda0) / (np.asarray(mean_sq_weight) * top)


def uv_edges(lambda0, mean_sq_weight) -> tuple[np.ndarray, np.ndarray]:
    """uv model at x = 1: edges (2, 2 lambda_0 / mean theta^2) = (2, 4) exactly."""
    return np.full_like(np.asarray(lambda0, dtype=float), LOWER_EDGE), leaky_edge(
        lambda0, mean_sq_weight, np.ones((1, 1))
    )


def quadratic_psi_eff_edge(theta0, psi, zeta: float, ntk0):
    """Eq. 154: ``4 lambda_0 / (zeta^2 ||theta_0||^2 lambda_max(psi_eff^2))`` per member.

    ``psi_eff = B^{-1/2} sum_a v_a psi(x_a)`` with v the top NTK eigenvector.
    """
    import torch

    evals, evecs = torch.linalg.eigh(ntk0)
    lam0, v = evals[:, -1], evecs[..., -1]
    psi_eff = torch.einsum("ma,aij->mij", v, psi) / np.sqrt(psi.shape[0])
    top = torch.linalg.eigvalsh(psi_eff @ psi_eff)[:, -1]
    return 4 * lam0 / (zeta**2 * theta0.pow(2).sum(1) * top)


def quadratic_omega_edge(theta0, psi, zeta: float, lambda0):
    """Eq. 138: ``4 lambda_0 / (||theta_0||^2 lambda_max(Omega))``, lambda_max(Omega) = (zeta^2/B) lambda_max(sum_a psi_a^2)."""
    import torch

    s = torch.einsum("aij,ajk->ik", psi, psi)
    top = torch.linalg.eigvalsh(s)[-1] * zeta**2 / psi.shape[0]
    return 4 * lambda0 / (theta0.pow(2).sum(1) * top)
