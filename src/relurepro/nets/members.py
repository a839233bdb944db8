"""Per-member vectors, per-member random draws and initial weights of stacked ensembles.

Every trained tensor is ``[M, ...]``: member ``m`` owns slice ``m``. A frozen tensor that all
members share may instead be ``[...]`` or ``[1, ...]``; it broadcasts without being copied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch


def member_tensor(values: Sequence[float], like: torch.Tensor | None = None, *, dtype=None, device=None):
    """A per-member vector ``[M]`` on the ensemble's dtype and device."""
    if like is not None:
        dtype, device = like.dtype, like.device
    return torch.as_tensor(np.asarray(values, dtype=float), dtype=dtype, device=device)


def per_member(v: torch.Tensor, ndim: int) -> torch.Tensor:
    """Reshape a ``[M]`` vector so it broadcasts against a ``[M, ...]`` tensor of ``ndim`` dims."""
    return v.reshape(-1, *([1] * (ndim - 1)))


def generators(seeds: Sequence[int]) -> list[torch.Generator]:
    """One CPU generator per member, so a member's draws depend on its seed alone."""
    return [torch.Generator().manual_seed(int(s)) for s in seeds]


def normal(gens: list[torch.Generator], shape: Sequence[int], *, dtype, device) -> torch.Tensor:
    """Standard-normal draws ``[M, *shape]``, one generator per member.

    Draws happen on the CPU and are moved afterwards, so CPU and CUDA runs start
    from identical weights.
    """
    draws = [torch.randn(*shape, generator=g, dtype=torch.float64) for g in gens]
    return torch.stack(draws).to(dtype=dtype, device=device)


def init_layers(
    seeds: Sequence[int],
    sizes: Sequence[int],
    std: Sequence[float] | Callable[[int], float],
    *,
    init_scale: Sequence[float] | None = None,
    bias: bool = False,
    dtype=torch.float64,
    device="cpu",
) -> list[torch.Tensor]:
    """Gaussian weights for an MLP with layer widths ``sizes`` (input first).

    ``std`` is one std per layer or a function of fan-in (e.g. He: ``sqrt(2/fan_in)``);
    each member's draws are further multiplied by its ``init_scale``. Weights are
    ``[M, fan_in, fan_out]``; with ``bias`` a zero ``[M, 1, fan_out]`` bias follows each.
    """
    gens = generators(seeds)
    scale = member_tensor(init_scale if init_scale is not None else [1.0] * len(seeds), dtype=dtype, device=device)
    params = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        s = std(fan_in) if callable(std) else std[i]
        w = normal(gens, (fan_in, fan_out), dtype=dtype, device=device) * (s * per_member(scale, 3))
        params.append(w.requires_grad_())
        if bias:
            params.append(torch.zeros(len(seeds), 1, fan_out, dtype=dtype, device=device, requires_grad=True))
    return params
