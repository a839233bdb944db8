"""Per-member losses ``[M]`` and accuracies of batched ensembles, and the loss objects that
:func:`relurepro.engine.train` calls.

Predictions are ``[M, B, C]``. Targets are shared by all members (``[B, ...]``) or per member
(``[M, B, ...]``). Every function takes an optional ``mask`` ``[M, B]`` of valid samples (padded
data sets with a per-member size): the mean runs over a member's valid samples only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .batching import take
from .nets.activations import piecewise_slope
from .nets.mlp import mlp, piecewise_backward, piecewise_forward, stacked


def _mean(v: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Per-member mean over samples ``[M, B] -> [M]``, over the valid ones where masked."""
    if mask is None:
        return v.mean(-1)
    return torch.where(mask, v, torch.zeros_like(v)).sum(-1) / mask.sum(-1).to(v.dtype)


def half_mse(pred: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Per-member ``(1/2P) sum_p ||y_p - f_p||^2`` (summed over outputs); pred ``[M, P, C]``."""
    if mask is None:
        return _half_mean_square(pred - y)
    return _mean(0.5 * ((pred - y) ** 2).sum(-1), mask)


def _half_mean_square(r: torch.Tensor) -> torch.Tensor:
    """``(1/2P) sum_p ||r_p||^2`` per member, for residuals ``r`` ``[M, P, C]``."""
    return 0.5 * (r**2).sum(-1).mean(-1)


def _labels(labels: torch.Tensor, m: int, b: int) -> torch.Tensor:
    return labels.expand(m, b).reshape(-1)


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Per-member softmax cross-entropy of logits ``[M, B, C]`` on integer labels ``[B]`` or ``[M, B]``."""
    m, b, c = logits.shape
    nll = F.cross_entropy(logits.reshape(m * b, c), _labels(labels, m, b), reduction="none")
    return _mean(nll.view(m, b), mask)


def _binary_logits(logits: torch.Tensor) -> torch.Tensor:
    return logits[..., 0] if logits.ndim == 3 else logits


def binary_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Per-member logistic loss of logits ``[M, B, 1]`` (or ``[M, B]``) on targets in {0, 1}."""
    z = _binary_logits(logits)
    t = targets.to(z.dtype).expand_as(z)
    return _mean(F.binary_cross_entropy_with_logits(z, t, reduction="none"), mask)


def accuracy(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Per-member fraction of samples whose argmax logit is the label (first index wins ties)."""
    hit = logits.argmax(-1) == labels
    return _mean(hit.to(logits.dtype), mask)


def binary_accuracy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Per-member fraction of samples with ``sign(logit)`` matching the target (> 0 is class 1; {0,1} or ±1)."""
    z = _binary_logits(logits)
    hit = (z > 0) == (targets > 0)
    return _mean(hit.to(z.dtype), mask)


LOSSES: dict[str, Callable] = {
    "mse": half_mse,
    "cross_entropy": cross_entropy,
    "binary_cross_entropy": binary_cross_entropy,
}


def valid_mask(n: torch.Tensor | Sequence[int], size: int, *, device=None) -> torch.Tensor:
    """``[M, size]`` mask of the first ``n[m]`` samples of each member (padded data sets)."""
    n = torch.as_tensor(n, device=device)
    return torch.arange(size, device=n.device) < n.unsqueeze(-1)


@dataclass
class DataLoss:
    """Per-member loss of any batched ``forward(params, x) -> [M, B, C]`` on data, full-batch or mini-batch.

    ``x`` and ``y`` are shared (``[N, ...]``) or, with ``stacked``, per member (``[M, N, ...]``,
    padded, with valid sizes ``n``). Called as ``loss_fn(params, state)`` by the engine: with
    ``state.batch`` ``[M, B]`` each member's rows are gathered; without, the whole (valid) set is used.
    Gradients come from autograd.
    """

    forward: Callable[[Sequence[torch.Tensor], torch.Tensor], torch.Tensor]
    x: torch.Tensor
    y: torch.Tensor
    loss: str | Callable = "mse"
    stacked: bool = False
    n: torch.Tensor | Sequence[int] | None = None

    def __post_init__(self):
        self._loss = LOSSES[self.loss] if isinstance(self.loss, str) else self.loss
        size = self.x.shape[1 if self.stacked else 0]
        self._mask = None if self.n is None else valid_mask(self.n, size, device=self.x.device)

    def __call__(self, params, state=None) -> torch.Tensor:
        idx = getattr(state, "batch", None)
        xb, yb = take(self.x, idx, stacked=self.stacked), take(self.y, idx, stacked=self.stacked)
        return self._loss(self.forward(params, xb), yb, self._mask if idx is None else None)


@dataclass
class MLPLoss:
    """Per-member half-MSE of a batched MLP on fixed data, the usual ``loss_fn`` of ``engine.train``.

    Calling it gives the loss ``[M]`` through autograd; for bias-free piecewise-linear nets
    :meth:`value_and_grad` also gives the weight gradients by hand, and ``train`` then skips
    autograd altogether. ``x`` ``[P, D]`` / ``y`` ``[P, C]`` are shared, or ``[M, P, ...]`` per member;
    with mini-batches (``state.batch``) each member's rows are gathered first.
    """

    x: torch.Tensor
    y: torch.Tensor
    slope: object = None
    bias: bool = False
    activation: str = "leaky"
    scale: float = 1.0

    def __post_init__(self):
        self._fast_slope = piecewise_slope(self.activation, self.slope, self.bias, may_sync=True)

    def _data(self, state):
        idx = getattr(state, "batch", None)
        if idx is None:
            return self.x, self.y
        return take(self.x, idx, stacked=self.x.ndim == 3), take(self.y, idx, stacked=self.y.ndim == 3)

    def __call__(self, params, state=None):
        x, y = self._data(state)
        pred = mlp(params, x, self.slope, bias=self.bias, activation=self.activation, scale=self.scale)
        return half_mse(pred, y)

    def value_and_grad(self, params, state=None) -> tuple[torch.Tensor, list[torch.Tensor]] | None:
        """``(loss [M], gradients)`` without autograd, or None where the hand-written path does not apply."""
        fast = self._fast_slope
        if fast is None or not stacked(params):
            return None
        x, y = self._data(state)
        with torch.no_grad():
            out, hidden = piecewise_forward(x, fast, float(self.scale), params)
            r = out - y
            return _half_mean_square(r), piecewise_backward(r / r.shape[-2], x, fast, float(self.scale), params, hidden)
