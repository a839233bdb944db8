"""Neural tangent kernels ``Theta = (1/B) J J^T`` of batched ensembles, analytic and by autograd.

Shared by every paper that tracks the NTK (its top eigenvalue sets catapult learning rates).
"""

from __future__ import annotations

import torch

from .engine import activation as act_fn


def ntk_mlp(params, x, act: str, slope, scale: float) -> torch.Tensor:
    """Exact NTK of a bias-free MLP of any depth, ``[M, B, B]``, without autograd.

    ``Theta = (1/B) sum_l (A^{l-1} A^{l-1,T}) * (D^l D^{l,T})`` with A the layer inputs and
    D = df/dz the back-propagated signals. For two layers this is the formula of spec §8.
    """
    f, df = act_fn(act)
    acts, derivs, h = [x], [], x
    for w in params[:-1]:
        z = torch.matmul(h, w)
        derivs.append(df(z, slope))
        h = f(z, slope)
        acts.append(h)
    m, b = params[0].shape[0], x.shape[-2]
    delta = torch.full((m, b, 1), scale, dtype=params[0].dtype, device=params[0].device)
    theta = torch.zeros(m, b, b, dtype=params[0].dtype, device=params[0].device)
    for layer in range(len(params) - 1, -1, -1):
        a = acts[layer]
        theta = theta + torch.matmul(a, a.transpose(-1, -2)) * torch.matmul(delta, delta.transpose(-1, -2))
        if layer > 0:
            delta = torch.matmul(delta, params[layer].transpose(-1, -2)) * derivs[layer - 1]
    return theta / b


def ntk_two_layer(u, v, x, act: str, slope, d: int, width: int) -> torch.Tensor:
    """Spec §8 closed form for ``f = (dm)^{-1/2} v^T s(Ux)``; u ``[M, d, m]``, v ``[M, m, 1]``."""
    f, df = act_fn(act)
    z = torch.matmul(x, u)
    s, sp = f(z, slope), df(z, slope)
    xx = x @ x.T
    k = torch.matmul(s, s.transpose(-1, -2)) + xx * torch.matmul(sp * v.transpose(-1, -2) ** 2, sp.transpose(-1, -2))
    return k / (x.shape[0] * d * width)


def ntk_quadratic(theta: torch.Tensor, psi: torch.Tensor, zeta: float) -> torch.Tensor:
    """``Theta_ab = (zeta^2/B) theta^T psi_a psi_b theta`` ``[M, B, B]`` (psi symmetric)."""
    g = zeta * torch.einsum("bij,mj->mbi", psi, theta)
    return torch.matmul(g, g.transpose(-1, -2)) / psi.shape[0]


def ntk_autograd(fn, flat_params: torch.Tensor) -> torch.Tensor:
    """Reference NTK of one member by ``torch.func.jacrev``: ``fn(flat) -> [B]``, returns ``[B, B]``."""
    jac = torch.func.jacrev(fn)(flat_params)
    return jac @ jac.T / jac.shape[0]


def top_eig(theta: torch.Tensor) -> torch.Tensor:
    """Largest eigenvalue per member ``[M]``; NaN where the kernel is not finite (diverged members)."""
    ok = torch.isfinite(theta).flatten(1).all(1)
    safe = torch.where(ok[:, None, None], theta, torch.zeros_like(theta))
    if theta.shape[-1] == 1:
        top = safe[:, 0, 0]
    else:
        # float64 for the 128x128 eigenproblem (float32 eigh can fail on near-degenerate kernels)
        scale = safe.abs().amax(dim=(-2, -1), keepdim=True).clamp_min(torch.finfo(safe.dtype).tiny)
        try:
            top = (torch.linalg.eigvalsh((safe / scale).double())[:, -1]).to(safe.dtype) * scale[:, 0, 0]
        except torch.linalg.LinAlgError:
            top = power_top(safe)
    return torch.where(ok, top, torch.full_like(top, float("nan")))


def power_top(theta: torch.Tensor, iters: int = 200) -> torch.Tensor:
    """Largest eigenvalue of PSD kernels ``[M, B, B]`` by power iteration (fallback for eigh)."""
    v = torch.ones(theta.shape[:-1], dtype=theta.dtype, device=theta.device)[..., None]
    for _ in range(iters):
        v = torch.matmul(theta, v)
        v = v / v.norm(dim=-2, keepdim=True).clamp_min(torch.finfo(theta.dtype).tiny)
    return (v.transpose(-1, -2) @ theta @ v)[:, 0, 0]


def top_eigvec(theta: torch.Tensor) -> torch.Tensor:
    """Top eigenvector per member ``[M, B]``."""
    return torch.linalg.eigh(theta)[1][..., -1]
