"""The deep linearly gated network (DLGN) as a batched ensemble, its path expansion and its overlap kernel.

Parameters of an ensemble of ``M`` DLGNs of depth ``L`` and width ``m`` on ``d`` inputs, ``C`` outputs,
in one flat list (the order :func:`init` returns and every function here reads):

- gating network, a deep linear network with biases: ``W[l]`` ``[M, d_(l-1), m]`` and ``b[l]``
  ``[M, 1, m]`` for l = 1..L (``d_0 = d``), so ``g^l(x) = g^(l-1)(x) W[l] + b[l]``, ``g^0 = x``;
- value network: ``U[1]`` ``[M, 1, m]`` (input feed ``ones``) or ``[M, d, m]`` (input feed ``x``),
  ``U[l]`` ``[M, m, m]`` for l = 2..L and the readout ``U[L+1]`` ``[M, m, C]``;
  ``h^0`` is the all-ones vector or x, ``h^l = (h^(l-1) U[l]) * G^l(x)``, ``f(x) = h^L U[L+1]``.

Gates are ``G^l = sigmoid(beta g^l)`` (soft, for training) or ``1[g^l > 0]`` (hard, beta -> infinity).
Because the gating network is linear, every gating unit is a half-space of input space:
``g^l_i(x) = <w~^l_i, x> + b~^l_i`` with ``w~^l = W[1] ... W[l]`` and ``b~^l = b~^(l-1) W[l] + b[l]``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch

from ...nets import generators, normal


def n_params(depth: int) -> int:
    """Length of the parameter list of a depth-``depth`` DLGN (2L gating tensors, L+1 value tensors)."""
    return 3 * depth + 1


def split(params: Sequence[torch.Tensor], depth: int):
    """``(W list, b list, U list)`` of a DLGN parameter list."""
    if len(params) != n_params(depth):
        raise ValueError(f"a depth-{depth} DLGN has {n_params(depth)} parameter tensors, got {len(params)}")
    gating = params[: 2 * depth]
    return list(gating[0::2]), list(gating[1::2]), list(params[2 * depth :])


def init(
    seeds: Sequence[int],
    d: int,
    width: int,
    depth: int,
    outputs: int,
    *,
    bias_std: float,
    feed: str = "ones",
    dtype=torch.float64,
    device="cpu",
) -> list[torch.Tensor]:
    """Initial DLGN parameters, one member per seed: weights N(0, 1/fan_in), gating biases N(0, bias_std^2)."""
    if feed not in ("ones", "x"):
        raise ValueError(f"value-network input feed must be 'ones' or 'x', got {feed!r}")
    gens = generators(seeds)
    out = []
    fan_in = d
    for _ in range(depth):
        out.append(normal(gens, (fan_in, width), dtype=dtype, device=device) / math.sqrt(fan_in))
        out.append(normal(gens, (1, width), dtype=dtype, device=device) * bias_std)
        fan_in = width
    fan_in = 1 if feed == "ones" else d
    for fan_out in [width] * depth + [outputs]:
        out.append(normal(gens, (fan_in, fan_out), dtype=dtype, device=device) / math.sqrt(fan_in))
        fan_in = width
    return [p.requires_grad_() for p in out]


def gating_values(params, x: torch.Tensor, depth: int) -> list[torch.Tensor]:
    """Pre-gate values ``g^l(x)`` ``[M, N, m]`` of every gating layer (x ``[N, d]`` or ``[M, N, d]``)."""
    ws, bs, _ = split(params, depth)
    g, out = x, []
    for w, b in zip(ws, bs):
        g = torch.matmul(g, w) + b
        out.append(g)
    return out


def gates(params, x: torch.Tensor, depth: int, beta: float | None) -> list[torch.Tensor]:
    """Gates ``G^l(x)``: ``sigmoid(beta g)`` for a number ``beta``, hard ``1[g > 0]`` for ``beta=None``."""
    gs = gating_values(params, x, depth)
    if beta is None:
        return [(g > 0).to(g.dtype) for g in gs]
    return [torch.sigmoid(beta * g) for g in gs]


def value_forward(params, x: torch.Tensor, gate_list: Sequence[torch.Tensor], depth: int, feed: str) -> torch.Tensor:
    """The value network on given gates: output ``[M, N, C]``."""
    _, _, us = split(params, depth)
    if feed == "ones":
        h = us[0] * gate_list[0]  # h^0 = 1: (1 U[1]) is the row U[1] itself, broadcast over samples
    else:
        h = torch.matmul(x, us[0]) * gate_list[0]
    for u, g in zip(us[1:depth], gate_list[1:]):
        h = torch.matmul(h, u) * g
    return torch.matmul(h, us[depth])


def forward(params, x: torch.Tensor, depth: int, beta: float | None, feed: str = "ones") -> torch.Tensor:
    """DLGN output ``[M, N, C]`` with soft gates (``beta``) or hard gates (``beta=None``)."""
    return value_forward(params, x, gates(params, x, depth, beta), depth, feed)


def effective_hyperplanes(params, depth: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every gating unit as a half-space of input space: ``w~`` ``[M, L, d, m]`` and ``b~`` ``[M, L, m]``."""
    ws, bs, _ = split(params, depth)
    w_eff, b_eff, ww, bb = [], [], None, None
    for w, b in zip(ws, bs):
        ww = w if ww is None else torch.matmul(ww, w)
        bb = b if bb is None else torch.matmul(bb, w) + b
        w_eff.append(ww)
        b_eff.append(bb[:, 0, :])
    return torch.stack(w_eff, 1), torch.stack(b_eff, 1)


def hyperplane_offsets(params, depth: int) -> torch.Tensor:
    """Distance of each unit's hyperplane from the origin, ``|b~| / ||w~||`` ``[M, L, m]``."""
    w_eff, b_eff = effective_hyperplanes(params, depth)
    return b_eff.abs() / w_eff.norm(dim=2).clamp_min(torch.finfo(w_eff.dtype).tiny)


def overlap_kernel(gate_list: Sequence[torch.Tensor], gate_list2: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
    """The overlap kernel in product form ``K(x, x') = prod_l <G^l(x), G^l(x')>`` ``[M, N, N']``."""
    other = gate_list if gate_list2 is None else gate_list2
    k = None
    for g, g2 in zip(gate_list, other):
        f = torch.matmul(g, g2.transpose(-1, -2))
        k = f if k is None else k * f
    return k


def path_values(params, depth: int) -> torch.Tensor:
    """Path values ``v_p`` ``[M, m, ..., m, C]`` (one index per layer) of a DLGN with input feed ones.

    ``v_p = (U[1] 1)_(i_1) * prod_(l>=2) U[l]_(i_(l-1), i_l) * U[L+1]_(i_L, :)``.
    """
    _, _, us = split(params, depth)
    if us[0].shape[-2] != 1:
        raise ValueError("path values are defined here for input feed 'ones' (U[1] of shape [M, 1, m])")
    v = us[0][:, 0, :]  # [M, m]
    for u in us[1:depth]:
        v = v.unsqueeze(-1) * u.reshape(u.shape[0], *([1] * (v.ndim - 2)), *u.shape[1:])
    readout = us[depth]
    return v.unsqueeze(-1) * readout.reshape(readout.shape[0], *([1] * (v.ndim - 2)), *readout.shape[1:])


def path_features(gate_list: Sequence[torch.Tensor]) -> torch.Tensor:
    """Path features ``phi_p(x) = prod_l G^l_(i_l)(x)`` ``[M, N, m, ..., m]`` by explicit enumeration."""
    m, depth = gate_list[0].shape[-1], len(gate_list)
    lead = gate_list[0].shape[:-1]
    out = torch.ones(*lead, *([m] * depth), dtype=gate_list[0].dtype, device=gate_list[0].device)
    for p in itertools.product(range(m), repeat=depth):
        phi = torch.ones(lead, dtype=out.dtype, device=out.device)
        for layer, i in enumerate(p):
            phi = phi * gate_list[layer][..., i]
        out[(..., *p)] = phi
    return out


def path_usage(params, x: torch.Tensor, depth: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Hard-gate path usage per input: active path count ``prod_l |G^l(x)|`` ``[M, N]`` and
    path-weight mass ``sum_p |v_p| phi_p(x)`` ``[M, N]`` (summed over outputs), one forward with absolute weights."""
    g = gates(params, x, depth, None)
    count = torch.stack([gl.sum(-1) for gl in g]).prod(0)
    _, _, us = split(params, depth)
    h = us[0].abs() * g[0]
    for u, gl in zip(us[1:depth], g[1:]):
        h = torch.matmul(h, u.abs()) * gl
    return count, torch.matmul(h, us[depth].abs()).sum(-1)
