"""The batched MLP: one forward for every variant, and a hand-written backward for bias-free
piecewise-linear nets.

Weights are ``[M, fan_in, fan_out]`` (per member) or ``[fan_in, fan_out]`` / ``[1, fan_in, fan_out]``
(one frozen matrix shared by all members, broadcast, never copied); biases ``[M, 1, fan_out]``.
``x`` is ``[P, D]`` (shared by all members) or ``[M, P, D]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .activations import ACTIVATIONS, piecewise_, piecewise_grad_, piecewise_slope


def mlp(params: Sequence[torch.Tensor], x: torch.Tensor, slope=None, *, bias=False, activation="leaky", scale=1.0):
    """Forward pass of a batched MLP ``scale * (W_L s(... s(W_1 x + b_1)) + b_L)``; output ``[M, P, C]``.

    Bias-free nets with a piecewise-linear activation (ReLU, leaky ReLU, linear; slopes >= 0)
    and per-member weights take a path with a hand-written backward (:func:`piecewise_backward`);
    the others go through autograd op by op. Both compute the same function and gradient.
    """
    fast = None if x.requires_grad else piecewise_slope(activation, slope, bias)
    if fast is not None and stacked(params):
        return _PiecewiseLinearMLP.apply(x, fast, float(scale), *params)
    act = ACTIVATIONS[activation]
    return _forward(params, x, lambda h: act(h, slope), bias, scale)


def stacked(params: Sequence[torch.Tensor]) -> bool:
    """True when every tensor is a per-member ``[M, K, N]`` with one M (what the hand-written path needs)."""
    m = params[0].shape[0] if params[0].ndim == 3 else None
    return m is not None and all(p.ndim == 3 and p.shape[0] == m for p in params)


def _matmul(h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``h @ w``; a shared ``[1, K, N]`` weight against ``[M, P, K]`` folds into one ``[M P, K]`` GEMM."""
    if w.ndim == 3 and w.shape[0] == 1 and h.ndim == 3 and h.shape[0] > 1:
        w = w[0]
    return torch.matmul(h, w)


def _forward(params, x, act, bias: bool, scale: float, hidden: list | None = None):
    """The layer loop shared by both paths.

    With ``hidden`` (the hand-written path, no autograd) activations are applied in place on each
    fresh pre-activation and kept for the backward, and a shared ``x`` is broadcast to ``[M, P, D]``
    as a stride-0 view, so a hidden layer costs one ``[M, P, H]`` tensor.
    """
    step = 2 if bias else 1
    n_layers = len(params) // step
    h = x
    if hidden is not None and x.ndim == 2:
        h = x.expand(params[0].shape[0], *x.shape)
    for i in range(n_layers):
        h = _matmul(h, params[i * step])
        if bias:
            h = h + params[i * step + 1]
        if i < n_layers - 1:
            h = act(h)
            if hidden is not None:
                hidden.append(h)
    if scale == 1.0:
        return h
    return h.mul_(scale) if hidden is not None else h * scale


def piecewise_forward(x, slope, scale, weights):
    """Output ``[M, P, C]`` and the hidden activations of a bias-free net with slopes >= 0 (no autograd)."""
    hidden = []
    out = _forward(weights, x, lambda h: piecewise_(h, slope), False, scale, hidden)
    return out, hidden


def piecewise_backward(grad_out, x, slope, scale, weights, hidden):
    """Weight gradients of :func:`piecewise_forward` given ``dL/d out``; overwrites ``hidden``.

    For two-layer scalar-output nets no ``[M, P, H]`` gradient is formed: with ``r = dL/df``
    and ``d = s'(z)``, positive homogeneity (``s(z) = z s'(z)``) gives both gradients from
    one ``[M, D, H]`` product ``K = (x r)^T d``: ``dL/dW1 = K W2^T`` and ``dL/dW2 = sum_i W1 K``.
    On the CPU the ``[M, P, H]`` tensors are memory-bound, so fewer passes over them is faster.
    """
    g = grad_out * scale if scale != 1.0 else grad_out
    n = len(weights)
    if n == 2 and g.shape[-1] == 1:
        d = piecewise_grad_(hidden[0], slope)
        xr_t = x.transpose(-1, -2) * g.transpose(-1, -2)  # [M, D, P], laid out for the bmm
        k = torch.bmm(xr_t, d) if d is not None else xr_t.sum(-1, keepdim=True).expand_as(weights[0])
        return [k * weights[1].transpose(-1, -2), (k * weights[0]).sum(-2).unsqueeze(-1)]
    inputs = [x, *hidden]
    grads = [None] * n
    grads[-1] = torch.matmul(inputs[-1].transpose(-1, -2), g)
    for i in range(n - 2, -1, -1):
        g = torch.matmul(g, weights[i + 1].transpose(-1, -2))
        d = piecewise_grad_(hidden[i], slope)
        if d is not None:
            g.mul_(d)
        grads[i] = torch.matmul(inputs[i].transpose(-1, -2), g)
    return grads


class _PiecewiseLinearMLP(torch.autograd.Function):
    """Autograd wrapper of the hand-written forward and backward above (a second backward raises)."""

    @staticmethod
    def forward(ctx, x, slope, scale, *weights):
        out, hidden = piecewise_forward(x, slope, scale, weights)
        ctx.slope, ctx.scale = slope, scale
        ctx.save_for_backward(x, *weights, *hidden)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        saved = ctx.saved_tensors
        n = (len(saved) + 1) // 2  # x, n weights, n - 1 hidden activations
        x, weights, hidden = saved[0], saved[1 : 1 + n], list(saved[1 + n :])
        return (None, None, None, *piecewise_backward(grad_out, x, ctx.slope, ctx.scale, weights, hidden))
