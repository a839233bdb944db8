"""Prediction on large inputs in chunks, so no ``[M, N, H]`` hidden layer is ever materialised."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch


def predict(
    forward: Callable[[Sequence[torch.Tensor], torch.Tensor], torch.Tensor],
    params: Sequence[torch.Tensor],
    x: torch.Tensor,
    *,
    chunk: int = 4096,
) -> torch.Tensor:
    """``forward(params, x)`` ``[M, N, C]`` computed on at most ``chunk`` samples at a time, without autograd.

    ``x`` is ``[N, D]`` (shared) or ``[M, N, D]``; samples are along dim -2. The output equals one
    unchunked call (up to the BLAS kernel's choice for a smaller row count: ulps at most), at a peak
    memory of one chunk.
    """
    n = x.shape[-2]
    with torch.no_grad():
        if n <= chunk:
            return forward(params, x)
        parts = [forward(params, x[..., i : i + chunk, :]) for i in range(0, n, chunk)]
    return torch.cat(parts, dim=-2)
