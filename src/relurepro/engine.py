"""Batched ensembles: M small networks trained together along a leading tensor dim.

Every parameter tensor has shape ``[M, ...]``; member ``m`` owns slice ``m``. One
optimizer step updates all members. Members may differ in seed, learning rate, init
scale and leaky slope, but not in shape. A member whose loss turns non-finite (or
exceeds ``diverge_above``) is frozen and recorded as diverged at that step; the
others go on unaffected, because no operation mixes members.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(name: str = "auto") -> torch.device:
    """Map ``auto`` to CUDA when present, else CPU; pass explicit names through."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but CUDA is not available")
    return torch.device(name)


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


def leaky(z: torch.Tensor, slope) -> torch.Tensor:
    """Leaky ReLU ``max(z, a z)`` with a per-member slope ``a`` (0 = ReLU, 1 = linear).

    ``slope`` is a float or a ``[M]`` tensor. When every member shares one slope (known
    without a device sync on the CPU) the fused kernel is used; otherwise
    ``relu(z) + a * min(z, 0)``, several times faster on the CPU than ``torch.where``.
    """
    slope = _shared_slope(slope)
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


def mlp(params: Sequence[torch.Tensor], x: torch.Tensor, slope=None, *, bias=False, activation="leaky", scale=1.0):
    """Forward pass of a batched MLP ``scale * W_L s(... s(W_1 x))``; ``x`` is ``[P, D]`` (shared) or ``[M, P, D]``.

    Bias-free nets with a piecewise-linear activation (ReLU, leaky ReLU, linear; slopes >= 0)
    take a path with a hand-written backward (:func:`_piecewise_backward`); the others go
    through autograd op by op. Both compute the same function and gradient.
    """
    fast = None if x.requires_grad else _fast_slope(activation, slope, bias)
    if fast is not None:
        return _PiecewiseLinearMLP.apply(x, fast, float(scale), *params)
    act = ACTIVATIONS[activation]
    step = 2 if bias else 1
    n_layers = len(params) // step
    h = x
    for i in range(n_layers):
        w = params[i * step]
        h = torch.matmul(h, w)
        if bias:
            h = h + params[i * step + 1]
        if i < n_layers - 1:
            h = act(h, slope)
    return h * scale if scale != 1.0 else h


_SLOPE_OF = {"leaky": None, "relu": 0.0, "linear": 1.0}


def _fast_slope(activation: str, slope, bias: bool, *, may_sync: bool = False):
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
    shared = _shared_slope(host)
    return shared if isinstance(shared, float) else slope


def _shared_slope(slope):
    """A float when every member has the same slope (checked only where it costs no device sync)."""
    if slope is None:
        return 0.0
    if isinstance(slope, torch.Tensor) and slope.device.type == "cpu" and bool((slope == slope[0]).all()):
        return float(slope[0])
    return slope


def _batched_matmul(h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``h @ w`` for ``w`` ``[M, K, N]``; a shared ``h`` ``[P, K]`` is broadcast as a stride-0 view, not copied."""
    return torch.bmm(h.expand(w.shape[0], *h.shape) if h.ndim == 2 else h, w)


def _piecewise_forward(x, slope, scale, weights):
    """Output ``[M, P, C]`` and the hidden activations of a bias-free net with slopes >= 0.

    Activations are applied in place on each fresh pre-activation, so a hidden layer costs
    one ``[M, P, H]`` tensor. ``slope`` is a float shared by all members or a ``[M]`` tensor.
    """
    hidden, h = [], x
    for w in weights[:-1]:
        h = _batched_matmul(h, w)
        if isinstance(slope, torch.Tensor):
            h = torch.where(h > 0, h, h * per_member(slope, h.ndim))
        elif slope == 0.0:
            h.relu_()
        elif slope != 1.0:
            torch.nn.functional.leaky_relu_(h, slope)
        hidden.append(h)
    out = _batched_matmul(h, weights[-1])
    return (out.mul_(scale) if scale != 1.0 else out), hidden


def _piecewise_backward(grad_out, x, slope, scale, weights, hidden):
    """Weight gradients of :func:`_piecewise_forward` given ``dL/d out``; overwrites ``hidden``.

    For two-layer scalar-output nets no ``[M, P, H]`` gradient is formed: with ``r = dL/df``
    and ``d = s'(z)``, positive homogeneity (``s(z) = z s'(z)``) gives both gradients from
    one ``[M, D, H]`` product ``K = (x r)^T d``: ``dL/dW1 = K W2^T`` and ``dL/dW2 = sum_i W1 K``.
    On the CPU the ``[M, P, H]`` tensors are memory-bound, so fewer passes over them is faster.
    """

    def slope_grad(a):  # s'(z), written over the activation a = s(z) once a is no longer needed
        if not isinstance(slope, torch.Tensor) and slope == 1.0:
            return None
        d = a.gt_(0)  # 1 where z > 0 (slopes are >= 0), else 0
        if isinstance(slope, torch.Tensor):
            s = per_member(slope, a.ndim)
            return d.mul_(1 - s).add_(s)
        return d.mul_(1 - slope).add_(slope) if slope != 0.0 else d

    g = grad_out * scale if scale != 1.0 else grad_out
    n = len(weights)
    if n == 2 and g.shape[-1] == 1:
        d = slope_grad(hidden[0])
        xr_t = x.transpose(-1, -2) * g.transpose(-1, -2)  # [M, D, P], laid out for the bmm
        k = torch.bmm(xr_t, d) if d is not None else xr_t.sum(-1, keepdim=True).expand_as(weights[0])
        return [k * weights[1].transpose(-1, -2), (k * weights[0]).sum(-2).unsqueeze(-1)]
    inputs = [x, *hidden]
    grads = [None] * n
    grads[-1] = torch.matmul(inputs[-1].transpose(-1, -2), g)
    for i in range(n - 2, -1, -1):
        g = torch.matmul(g, weights[i + 1].transpose(-1, -2))
        d = slope_grad(hidden[i])
        if d is not None:
            g.mul_(d)
        grads[i] = torch.matmul(inputs[i].transpose(-1, -2), g)
    return grads


class _PiecewiseLinearMLP(torch.autograd.Function):
    """Autograd wrapper of the hand-written forward and backward above (a second backward raises)."""

    @staticmethod
    def forward(ctx, x, slope, scale, *weights):
        out, hidden = _piecewise_forward(x, slope, scale, weights)
        ctx.slope, ctx.scale = slope, scale
        ctx.save_for_backward(x, *weights, *hidden)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        saved = ctx.saved_tensors
        n = (len(saved) + 1) // 2  # x, n weights, n - 1 hidden activations
        x, weights, hidden = saved[0], saved[1 : 1 + n], list(saved[1 + n :])
        return (None, None, None, *_piecewise_backward(grad_out, x, ctx.slope, ctx.scale, weights, hidden))


def half_mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-member ``(1/2P) sum_p ||y_p - f_p||^2`` (summed over outputs); pred ``[M, P, C]``."""
    return _half_mean_square(pred - y)


def _half_mean_square(r: torch.Tensor) -> torch.Tensor:
    """``(1/2P) sum_p ||r_p||^2`` per member, for residuals ``r`` ``[M, P, C]``."""
    return 0.5 * (r**2).sum(-1).mean(-1)


@dataclass
class MLPLoss:
    """Per-member half-MSE of a batched MLP on fixed data, the usual ``loss_fn`` of :func:`train`.

    Calling it gives the loss ``[M]`` through autograd; for bias-free piecewise-linear nets
    :meth:`value_and_grad` also gives the weight gradients by hand, and :func:`train` then
    skips autograd altogether.
    """

    x: torch.Tensor
    y: torch.Tensor
    slope: object = None
    bias: bool = False
    activation: str = "leaky"
    scale: float = 1.0

    def __post_init__(self):
        self._fast_slope = _fast_slope(self.activation, self.slope, self.bias, may_sync=True)

    def __call__(self, params):
        pred = mlp(params, self.x, self.slope, bias=self.bias, activation=self.activation, scale=self.scale)
        return half_mse(pred, self.y)

    def value_and_grad(self, params) -> tuple[torch.Tensor, list[torch.Tensor]] | None:
        """``(loss [M], gradients)`` without autograd, or None where the hand-written path does not apply."""
        fast = self._fast_slope
        if fast is None:
            return None
        with torch.no_grad():
            out, hidden = _piecewise_forward(self.x, fast, float(self.scale), params)
            r = out - self.y
            return _half_mean_square(r), _piecewise_backward(
                r / r.shape[-2], self.x, fast, float(self.scale), params, hidden
            )


def log_schedule(steps: int, every: int) -> np.ndarray:
    """Steps ``0, every, 2*every, ..., steps`` at which metrics are recorded."""
    return np.unique(np.append(np.arange(0, steps + 1, max(1, every)), steps))


@dataclass
class History:
    """Metrics recorded at ``steps``: ``metrics[name]`` is ``[len(steps), M]``."""

    steps: np.ndarray
    metrics: dict[str, np.ndarray]
    diverged_step: np.ndarray  # [M], -1 where the member never diverged
    final_params: list[torch.Tensor] = field(default_factory=list)

    def frame(self, members: pd.DataFrame) -> pd.DataFrame:
        """Long table (member labels..., step, metric, value) plus divergence columns."""
        n_steps, n_members = len(self.steps), len(members)
        parts = []
        for name, arr in self.metrics.items():
            parts.append(
                pd.DataFrame(
                    {
                        "member": np.tile(np.arange(n_members), n_steps),
                        "step": np.repeat(self.steps, n_members),
                        "metric": name,
                        "value": arr.reshape(-1),
                    }
                )
            )
        out = pd.concat(parts, ignore_index=True)
        labels = members.reset_index(drop=True).assign(
            member=np.arange(n_members),
            diverged=self.diverged_step >= 0,
            diverged_step=self.diverged_step,
        )
        return out.merge(labels, on="member", how="left")


def train(
    params: list[torch.Tensor],
    loss_fn: Callable[[list[torch.Tensor]], torch.Tensor],
    lr: torch.Tensor,
    steps: int,
    *,
    log_steps: np.ndarray | None = None,
    metrics: Callable[[list[torch.Tensor], torch.Tensor], dict[str, torch.Tensor]] | None = None,
    optimizer: str = "gd",
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    diverge_above: float = float("inf"),
    on_log: Callable[[int, torch.Tensor], None] | None = None,
) -> History:
    """Full-batch training of all members at once.

    ``loss_fn(params)`` returns the per-member loss ``[M]`` (when it also has a
    ``value_and_grad(params)``, like :class:`MLPLoss`, that is used instead of autograd
    wherever it does not return None); ``metrics(params, loss)``
    returns extra per-member ``[M]`` tensors recorded at ``log_steps`` (the loss is
    always recorded as ``loss``). ``optimizer`` is ``gd`` (plain gradient descent) or
    ``adam``; ``lr`` is a per-member ``[M]`` tensor.
    """
    if optimizer not in ("gd", "adam"):
        raise ValueError(f"unknown optimizer {optimizer!r}; expected 'gd' or 'adam'")
    log_steps = log_schedule(steps, 1) if log_steps is None else np.asarray(log_steps)
    log_set = set(int(s) for s in log_steps)
    n_members = lr.shape[0]
    alive = torch.ones(n_members, dtype=torch.bool, device=lr.device)
    diverged_step = torch.full((n_members,), -1, dtype=torch.long, device=lr.device)
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params] if optimizer == "adam" else None
    rates = [per_member(lr, p.ndim) for p in params]
    on_gpu = lr.device.type != "cpu"
    records: dict[str, list[torch.Tensor]] = {}
    logged = []

    by_hand = getattr(loss_fn, "value_and_grad", None)
    for step in range(steps + 1):
        fused = by_hand(params) if by_hand is not None and step < steps else None
        loss, grads = fused if fused is not None else (loss_fn(params), None)
        bad = ~torch.isfinite(loss) | (loss > diverge_above)
        newly = alive & bad
        diverged_step = torch.where(newly, torch.full_like(diverged_step, step), diverged_step)
        alive = alive & ~bad
        if step in log_set:
            with torch.no_grad():
                row = {"loss": loss.detach().clone()}
                if metrics is not None:
                    row.update({k: v.detach() for k, v in metrics(params, loss).items()})
            for k, v in row.items():
                records.setdefault(k, []).append(v)
            logged.append(step)
            if on_log is not None:
                on_log(step, loss.detach())
        if step == steps:
            break
        # Masking costs two passes per parameter; on the CPU we know for free whether it is needed.
        masked = on_gpu or not bool(alive.all())
        if grads is None:
            total = (torch.where(alive, loss, torch.zeros_like(loss)) if masked else loss).sum()
            grads = torch.autograd.grad(total, params)
        with torch.no_grad():
            for i, (p, g) in enumerate(zip(params, grads)):
                rate = rates[i]
                if moments is None:
                    # the same fused arithmetic whether or not some member is masked, so a
                    # diverging member never changes the others' numbers by a single ulp
                    if masked:
                        g = torch.where(per_member(alive, p.ndim), g, torch.zeros_like(g))
                    p.addcmul_(rate, g, value=-1.0)
                    continue
                m, v = moments[i]
                m.mul_(betas[0]).add_(g, alpha=1 - betas[0])
                v.mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
                m_hat = m / (1 - betas[0] ** (step + 1))
                v_hat = v / (1 - betas[1] ** (step + 1))
                update = rate * m_hat / (v_hat.sqrt() + eps)
                if masked:
                    update = torch.where(per_member(alive, p.ndim), update, torch.zeros_like(update))
                p.sub_(update)

    metrics_np = {k: torch.stack(v).cpu().numpy() for k, v in records.items()}
    return History(
        steps=np.asarray(logged),
        metrics=metrics_np,
        diverged_step=diverged_step.cpu().numpy(),
        final_params=[p.detach() for p in params],
    )
