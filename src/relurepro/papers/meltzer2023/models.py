"""Batched-ensemble models of Meltzer & Liu: NTK-parameterised bias-free MLPs and quadratic models.

Every parameter has a leading member axis ``[M, ...]``. The MLP is
``f(x) = (d m^L)^{-1/2} W^{L+1} s(W^L ... s(W^1 x))`` with all weights N(0, 1); the uv model of
Lewkowycz et al. is the linear two-layer MLP with d = 1. The pure quadratic model is
``z(x) = (zeta/2) theta^T psi(x) theta`` with ``psi`` shared by all members.

Training uses the engine's MLP (``engine.MLPLoss`` with its hand-written backward). The
op-by-op :func:`mlp_forward` here is kept on purpose, for two uses only: (1) it is the
*independent* reference that E_c0 differentiates with ``torch.func.jacrev`` to check the
analytic NTKs (a check of ``ntk.ntk_mlp`` against a forward that shares its code would prove
little), and (2) it returns the hidden pre-activations that the sparsity metrics count (with the
final outputs for the train/test metrics computed from the same pass).
"""

from __future__ import annotations

import numpy as np
import torch

from ...engine import activation, init_layers


def mlp_scale(d: int, width: int, depth: int) -> float:
    """The NTK output factor ``(d m^L)^{-1/2}``."""
    return float(d * width**depth) ** -0.5


def mlp_init(seeds, d: int, width: int, depth: int, *, dtype=torch.float64, device="cpu") -> list[torch.Tensor]:
    """N(0, 1) weights ``[M, fan_in, fan_out]`` for sizes ``d, m (x depth), 1``; one generator per seed."""
    sizes = [d] + [width] * depth + [1]
    return init_layers(seeds, sizes, [1.0] * (depth + 1), dtype=dtype, device=device)


def mlp_forward(params, x, act: str, slope, scale: float):
    """Outputs ``[M, B, 1]`` and the hidden pre-activations ``[M, B, m]`` per layer (op by op; see the module docstring)."""
    f, _ = activation(act)
    h, pre = x, []
    for w in params[:-1]:
        z = torch.matmul(h, w)
        pre.append(z)
        h = f(z, slope)
    return scale * torch.matmul(h, params[-1]), pre


def sparsity(pre: list[torch.Tensor]) -> list[torch.Tensor]:
    """Per hidden layer, the per-member fraction of (sample, unit) pairs with pre-activation < 0."""
    return [(z < 0).to(z.dtype).mean(dim=(-2, -1)) for z in pre]


def theta_sq(params) -> torch.Tensor:
    """Per-member sum of squared parameters ``[M]``."""
    return sum(p.detach().pow(2).flatten(1).sum(1) for p in params)


def n_params(params) -> int:
    return sum(int(np.prod(p.shape[1:])) for p in params)


# ---------------------------------------------------------------- quadratic models


def orthogonal_from_normal(b: torch.Tensor) -> torch.Tensor:
    """``q = expm((B - B^T)/sqrt 2)`` (eqs. 185-187 of the paper's appendix)."""
    return torch.linalg.matrix_exp((b - b.T) / np.sqrt(2.0))


def quadratic_meta(n: int, d: int, lam_low: float, lam_high: float, seed: int, *, dtype=torch.float64) -> torch.Tensor:
    """The d matrices ``W^i = q^i diag(lam^i) q^iT`` ``[d, n, n]`` with lam = (lam+, -lam+), lam+ ~ U[lo, hi]."""
    if n % 2:
        raise ValueError("the pure quadratic model needs an even hidden dimension")
    g = torch.Generator().manual_seed(int(seed))
    out = []
    for _ in range(d):
        q = orthogonal_from_normal(torch.randn(n, n, generator=g, dtype=torch.float64))
        lp = lam_low + (lam_high - lam_low) * torch.rand(n // 2, generator=g, dtype=torch.float64)
        lam = torch.cat([lp, -lp])
        out.append((q * lam) @ q.T)
    return torch.stack(out).to(dtype)


def quadratic_psi(meta: torch.Tensor, x: torch.Tensor, act: str = "linear") -> torch.Tensor:
    """``psi(x_a) = g(sum_i x_ai W^i / sqrt d)`` ``[B, n, n]``."""
    d = meta.shape[0]
    z = torch.einsum("bi,ijk->bjk", x.to(meta.dtype), meta) / np.sqrt(d)
    if act in ("linear", "identity"):
        return z
    if act == "tanh":
        return torch.tanh(z)
    if act == "relu":
        return torch.relu(z)
    raise ValueError(f"unknown meta-feature activation {act!r}")


def quadratic_init(seed: int, n_members: int, n: int, *, dtype=torch.float64) -> torch.Tensor:
    """theta ~ N(0, I_n), identical for every member (members differ in learning rate)."""
    g = torch.Generator().manual_seed(int(seed) + 1)
    theta = torch.randn(n, generator=g, dtype=torch.float64).to(dtype)
    return theta.expand(n_members, n).clone().requires_grad_()


def quadratic_forward(theta: torch.Tensor, psi: torch.Tensor, zeta: float) -> torch.Tensor:
    """``z_a = (zeta/2) theta^T psi_a theta`` as ``[M, B, 1]``."""
    pt = torch.einsum("bij,mj->mbi", psi, theta)
    return (0.5 * zeta * (pt * theta[:, None, :]).sum(-1))[..., None]
