"""Activations with a per-member slope, their derivatives, and the slope test of the hand-written path."""

from __future__ import annotations

from collections.abc import Callable

import torch

from .members import per_member


def leaky(z: torch.Tensor, slope) -> torch.Tensor:
    """Leaky ReLU ``max(z, a z)`` with a per-member slope ``a`` (0 = ReLU, 1 = linear).

    ``slope`` is a float or a ``[M]`` tensor. When every member shares one slope (known
    without a device sync on the CPU) the fused kernel is used; otherwise
    ``relu(z) + a * min(z, 0)``, several times faster on the CPU than ``torch.where``.
    """
    slope = shared_slope(slope)
    if not isinstance(slope, torch.Tensor):
        return torch.relu(z) if slope == 0 else torch.nn.functional.leaky_relu(z, slope)
    pos = torch.relu(z)
    return torch.addcmul(pos, per_member(slope, z.ndim), z - pos)


ACTIVATIONS: dict[str, Callable] = {
    "leaky": leaky,
    "relu": lambda z, slope: torch.relu(z),
    "linear": lambda z, slope: z,
    "tanh": lambda z, slope: torch.tanh(z),
}


_GRADS: dict[str, Callable] = {
    "leaky": lambda z, slope: (
        torch.where(z > 0, torch.ones_like(z), per_member(slope, z.ndim).expand_as(z))
        if isinstance(slope, torch.Tensor)
        else torch.where(z > 0, 1.0, float(slope)).to(z.dtype)
    ),
    "relu": lambda z, slope: (z > 0).to(z.dtype),
    "linear": lambda z, slope: torch.ones_like(z),
    "tanh": lambda z, slope: 1 - torch.tanh(z) ** 2,
}


def activation(name: str) -> tuple[Callable, Callable]:
    """The activation ``s(z, slope)`` and its derivative ``s'(z, slope)`` (for analytic NTKs)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name], _GRADS[name]


_SLOPE_OF = {"leaky": None, "relu": 0.0, "linear": 1.0}


def piecewise_slope(activation: str, slope, bias: bool, *, may_sync: bool = False):
    """The slope for the hand-written path (a float, or a ``[M]`` tensor of differing slopes),
    or None where that path does not apply: biases, a smooth activation, a slope below 0
    (then ``s(z) > 0`` no longer means ``z > 0``) or one that needs a gradient. Slopes on a
    GPU are inspected only when ``may_sync`` (once per training run, not once per step).
    """
    if bias or activation not in _SLOPE_OF:
        return None
    if _SLOPE_OF[activation] is not None:
        return _SLOPE_OF[activation]
    if not isinstance(slope, torch.Tensor):
        return None if slope is not None and slope < 0 else float(slope or 0.0)
    if slope.requires_grad or (slope.device.type != "cpu" and not may_sync):
        return None
    host = slope.detach().cpu()
    if bool((host < 0).any()):
        return None
    shared = shared_slope(host)
    return shared if isinstance(shared, float) else slope


def shared_slope(slope):
    """A float when every member has the same slope (checked only where it costs no device sync)."""
    if slope is None:
        return 0.0
    if isinstance(slope, torch.Tensor) and slope.device.type == "cpu" and bool((slope == slope[0]).all()):
        return float(slope[0])
    return slope


def piecewise_(h: torch.Tensor, slope) -> torch.Tensor:
    """``s(h)`` in place for a slope >= 0 from :func:`piecewise_slope` (per-member slopes: a new tensor)."""
    if isinstance(slope, torch.Tensor):
        return torch.where(h > 0, h, h * per_member(slope, h.ndim))
    if slope == 0.0:
        return h.relu_()
    if slope != 1.0:
        return torch.nn.functional.leaky_relu_(h, slope)
    return h


def piecewise_grad_(a: torch.Tensor, slope) -> torch.Tensor | None:
    """``s'(z)`` written over the activation ``a = s(z)`` (None for the identity); slopes >= 0."""
    if not isinstance(slope, torch.Tensor) and slope == 1.0:
        return None
    d = a.gt_(0)  # 1 where z > 0 (slopes are >= 0), else 0
    if isinstance(slope, torch.Tensor):
        s = per_member(slope, a.ndim)
        return d.mul_(1 - s).add_(s)
    return d.mul_(1 - slope).add_(slope) if slope != 0.0 else d
