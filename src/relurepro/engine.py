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
    if isinstance(slope, torch.Tensor) and slope.device.type == "cpu" and bool((slope == slope[0]).all()):
        slope = float(slope[0])
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


def mlp(params: Sequence[torch.Tensor], x: torch.Tensor, slope=None, *, bias=False, activation="leaky"):
    """Forward pass of a batched MLP; ``x`` is ``[P, D]`` (shared) or ``[M, P, D]``."""
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
    return h


def half_mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-member ``(1/2P) sum_p ||y_p - f_p||^2`` (summed over outputs); pred ``[M, P, C]``."""
    return 0.5 * ((pred - y) ** 2).sum(-1).mean(-1)


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

    ``loss_fn(params)`` returns the per-member loss ``[M]``; ``metrics(params, loss)``
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

    for step in range(steps + 1):
        loss = loss_fn(params)
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
