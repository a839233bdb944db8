"""Batched ensembles: M small networks trained together along a leading tensor dim.

Every trained tensor has shape ``[M, ...]``; member ``m`` owns slice ``m``. One optimizer step
updates all members; no operation mixes members. Tensors are trained in groups, each with its
own per-member learning rate and an on/off mask per member; tensors in no group stay frozen
(and may be shared by all members, broadcast rather than copied). Training is full-batch or
on mini-batches that each member draws from its own seed (:mod:`relurepro.batching`). A member
whose loss turns non-finite (or exceeds ``diverge_above``) is frozen and recorded as diverged
at that step; a member whose validation metric stops improving may be stopped the same way.

Network forwards live in :mod:`relurepro.nets`, losses in :mod:`relurepro.losses`; their names
used by the papers are re-exported here.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from .losses import MLPLoss, half_mse
from .nets import ACTIVATIONS, activation, generators, init_layers, leaky, member_tensor, mlp, normal, per_member

__all__ = [
    "ACTIVATIONS",
    "DTYPES",
    "Group",
    "History",
    "MLPLoss",
    "Select",
    "Step",
    "activation",
    "constant",
    "cosine",
    "generators",
    "half_mse",
    "init_layers",
    "leaky",
    "log_schedule",
    "member_tensor",
    "mlp",
    "normal",
    "per_member",
    "resolve_device",
    "train",
]

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(name: str = "auto") -> torch.device:
    """Map ``auto`` to CUDA when present, else CPU; pass explicit names through."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but CUDA is not available")
    return torch.device(name)


@dataclass
class Group:
    """Tensors ``[M, ...]`` trained with one per-member learning rate ``lr`` ``[M]``.

    ``mask`` ``[M]`` (bool) switches the group off for some members: their slices never change,
    so members that train different subsets (biases only, readout only, all) share one ensemble.
    """

    params: list[torch.Tensor]
    lr: torch.Tensor
    mask: torch.Tensor | None = None


@dataclass(frozen=True)
class Step:
    """What the loss and the metrics may see of training: the step, the batch, the fraction done."""

    step: int
    steps: int
    batch: torch.Tensor | None = None  # [M, B] sample indices of this step, per member
    epoch: np.ndarray | None = None  # [M] epoch that each member's batch comes from

    @property
    def frac(self) -> float:
        """Fraction of training done, ``step / steps`` (0 at the start, 1 at the end)."""
        return self.step / self.steps if self.steps else 1.0


@dataclass(frozen=True)
class Select:
    """Keep each member's parameters at its best logged value of ``metric`` (``mode`` min or max).

    With ``patience``, a member whose metric has not improved for that many logged evaluations
    stops updating (masked like divergence; recorded in ``History.stopped_step``).
    """

    metric: str
    mode: str = "min"
    patience: int | None = None


def constant(step: int, steps: int) -> float:
    """The constant learning-rate schedule (factor 1)."""
    return 1.0


def cosine(warmup: int = 0, floor: float = 0.0) -> Callable[[int, int], float]:
    """Cosine decay of the learning rate from 1 to ``floor`` (factors), after ``warmup`` linear steps.

    Factor at step t (T steps, w warmup): ``(t+1)/w`` for t < w, else
    ``floor + (1 - floor) (1 + cos(pi (t - w) / (T - w))) / 2``.
    """

    def factor(step: int, steps: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        span = max(1, steps - warmup)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / span))

    return factor


SCHEDULES: dict[str, Callable[[int, int], float]] = {"constant": constant, "cosine": cosine()}


def log_schedule(steps: int, every: int) -> np.ndarray:
    """Steps ``0, every, 2*every, ..., steps`` at which metrics are recorded."""
    return np.unique(np.append(np.arange(0, steps + 1, max(1, every)), steps))


@dataclass
class History:
    """Metrics recorded at ``steps``: ``metrics[name]`` is ``[len(steps), M]`` or ``[len(steps), M, K]``.

    ``best_*`` are filled with a :class:`Select`: per member, the logged step with the best metric,
    its value and the parameters at that step; ``snapshots[step]`` are the parameters at chosen steps
    (frozen tensors by reference). ``stopped_step`` is -1 for members never stopped by patience.
    """

    steps: np.ndarray
    metrics: dict[str, np.ndarray]
    diverged_step: np.ndarray  # [M], -1 where the member never diverged
    final_params: list[torch.Tensor] = field(default_factory=list)
    best_step: np.ndarray | None = None
    best_value: np.ndarray | None = None
    best_params: list[torch.Tensor] | None = None
    stopped_step: np.ndarray | None = None
    snapshots: dict[int, list[torch.Tensor]] = field(default_factory=dict)

    def frame(self, members: pd.DataFrame) -> pd.DataFrame:
        """Long table (member labels..., step, metric, value) plus divergence columns.

        When some metric is a vector ``[M, K]`` a ``coord`` column (0..K-1) is added, NaN on the rows
        of scalar metrics; without vector metrics the column is left out. With a :class:`Select`,
        ``best_step`` and ``stopped_step`` columns are added per member.
        """
        n_steps, n_members = len(self.steps), len(members)
        vector = any(a.ndim == 3 for a in self.metrics.values())
        parts = []
        for name, arr in self.metrics.items():
            k = arr.shape[2] if arr.ndim == 3 else 1
            part = {
                "member": np.tile(np.repeat(np.arange(n_members), k), n_steps),
                "step": np.repeat(self.steps, n_members * k),
                "metric": name,
                "value": arr.reshape(-1),
            }
            if vector:
                part["coord"] = np.tile(np.arange(k), n_steps * n_members) if arr.ndim == 3 else np.nan
            parts.append(pd.DataFrame(part))
        out = pd.concat(parts, ignore_index=True)
        labels = members.reset_index(drop=True).assign(
            member=np.arange(n_members),
            diverged=self.diverged_step >= 0,
            diverged_step=self.diverged_step,
        )
        if self.best_step is not None:
            labels = labels.assign(best_step=self.best_step, stopped_step=self.stopped_step)
        return out.merge(labels, on="member", how="left")


def _takes_state(fn: Callable, n: int) -> bool:
    """Whether ``fn`` wants a :class:`Step` after its ``n`` arguments: it has a parameter named
    ``state``, more than ``n`` required positional parameters, or ``*args`` (older losses and
    metrics, and lambdas with default arguments, are called without it).
    """
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    ps = sig.parameters.values()
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = sum(p.kind in positional and p.default is inspect.Parameter.empty for p in ps)
    return "state" in sig.parameters or required > n or any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in ps)


def _with_state(fn: Callable | None, n: int) -> Callable | None:
    """``fn`` called as ``fn(*args, state)``, dropping ``state`` where ``fn`` predates it."""
    if fn is None or _takes_state(fn, n):
        return fn
    return lambda *args: fn(*args[:n])


def _groups(params, lr, groups) -> list[Group]:
    if groups is None:
        if lr is None:
            raise ValueError("train needs a learning rate `lr` or parameter `groups`")
        return [Group(list(params), lr)]
    if lr is not None:
        raise ValueError("give either `lr` (one group of all params) or `groups`, not both")
    ids = [id(p) for g in groups for p in g.params]
    if len(set(ids)) != len(ids):
        raise ValueError("a tensor belongs to more than one parameter group")
    if not set(ids) <= {id(p) for p in params}:
        raise ValueError("every grouped tensor must be one of `params` (the loss sees only those)")
    return [
        g if g.mask is None else Group(g.params, g.lr, torch.as_tensor(g.mask, device=g.lr.device).bool())
        for g in groups
    ]


def _update(p, g, rate, keep, masked: bool, moments, step: int, betas, eps) -> None:
    """One in-place step of ``p``; members where ``keep`` is False are left bit-identical."""
    if g is None:  # the loss does not depend on p
        return
    if moments is None:
        # the same fused arithmetic whether or not some member is masked, so a masked
        # member never changes the others' numbers by a single ulp
        if masked:
            g = torch.where(per_member(keep, p.ndim), g, torch.zeros_like(g))
        p.addcmul_(rate, g, value=-1.0)
        return
    m, v = moments[id(p)]
    m.mul_(betas[0]).add_(g, alpha=1 - betas[0])
    v.mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
    m_hat = m / (1 - betas[0] ** (step + 1))
    v_hat = v / (1 - betas[1] ** (step + 1))
    update = rate * m_hat / (v_hat.sqrt() + eps)
    if masked:
        update = torch.where(per_member(keep, p.ndim), update, torch.zeros_like(update))
    p.sub_(update)


class _Selection:
    """Per-member best value, step and parameters of a :class:`Select`, and its patience counter."""

    def __init__(self, select: Select, trained: list[torch.Tensor], active: torch.Tensor):
        self.select = select
        self.best = [p.detach().clone() for p in trained]
        self.value = None
        self.step = torch.full_like(active, -1, dtype=torch.long)
        self.stopped = torch.full_like(active, -1, dtype=torch.long)
        self.since = torch.zeros_like(active, dtype=torch.long)

    def update(self, step: int, row: dict, trained: list[torch.Tensor], active: torch.Tensor) -> torch.Tensor:
        """Take this step where a still-active member improved; return the members still active."""
        s = self.select
        if s.metric not in row:
            raise KeyError(f"select metric {s.metric!r} is not among the logged metrics {sorted(row)}")
        v = row[s.metric]
        if v.ndim != 1:
            raise ValueError(f"select metric {s.metric!r} must be one value per member, got shape {tuple(v.shape)}")
        if self.value is None:
            self.value = torch.full_like(v, math.inf if s.mode == "min" else -math.inf)
        better = v < self.value if s.mode == "min" else v > self.value  # NaN never improves
        improved = better & active
        self.value = torch.where(improved, v, self.value)
        self.step = torch.where(improved, torch.full_like(self.step, step), self.step)
        for b, p in zip(self.best, trained):
            b.copy_(torch.where(per_member(improved, p.ndim), p.detach(), b))
        if s.patience is None:
            return active
        self.since = torch.where(improved, torch.zeros_like(self.since), self.since + 1)
        stop = active & (self.since >= s.patience)
        self.stopped = torch.where(stop, torch.full_like(self.stopped, step), self.stopped)
        return active & ~stop

    def finish(self, hist: History, params: list[torch.Tensor], trained: list[torch.Tensor]) -> None:
        best = {id(p): b for p, b in zip(trained, self.best)}
        hist.best_params = [best.get(id(p), p.detach()) for p in params]
        hist.best_step = self.step.cpu().numpy()
        hist.best_value = self.value.cpu().numpy() if self.value is not None else None
        hist.stopped_step = self.stopped.cpu().numpy()


def progress(
    log: Callable[[str], None], label: str, steps: int, every_s: float = 20.0
) -> Callable[[int, torch.Tensor], None]:
    """An ``on_log`` callback for :func:`train`: the members' loss range at the first logged step,
    then at most every ``every_s`` seconds, and at the last step (diverged members left out)."""
    last = [-math.inf]

    def on_log(step: int, loss: torch.Tensor) -> None:
        now = time.perf_counter()
        if step < steps and now - last[0] < every_s:
            return
        last[0] = now
        finite = loss[torch.isfinite(loss)]
        spread = (
            f"loss {float(finite.min()):.4g} .. {float(finite.median()):.4g} .. {float(finite.max()):.4g} (min, median, max)"
            if finite.numel()
            else "every member diverged"
        )
        log(f"{label}: step {step}/{steps}, {spread}")

    return on_log


def train(
    params: list[torch.Tensor],
    loss_fn: Callable[..., torch.Tensor],
    lr: torch.Tensor | None = None,
    steps: int | None = None,
    *,
    groups: Sequence[Group] | None = None,
    batches=None,
    schedule: str | Callable[[int, int], float] = "constant",
    log_steps: np.ndarray | None = None,
    metrics: Callable[..., dict[str, torch.Tensor]] | None = None,
    select: Select | None = None,
    snapshot_steps: Iterable[int] = (),
    optimizer: str = "gd",
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    diverge_above: float = float("inf"),
    on_log: Callable[[int, torch.Tensor], None] | None = None,
) -> History:
    """Train all members at once for ``steps`` steps of ``optimizer`` (``gd`` or ``adam``).

    ``loss_fn(params[, state])`` returns the per-member loss ``[M]``, where ``state`` is a
    :class:`Step` (its ``batch`` ``[M, B]`` comes from ``batches``, a
    :class:`~relurepro.batching.MemberBatches`; None for full-batch). When it also has a
    ``value_and_grad`` (like :class:`~relurepro.losses.MLPLoss`) that is used instead of autograd
    wherever it does not return None. ``lr`` ``[M]`` trains all ``params`` as one group; else
    ``groups`` say what is trained and the rest is frozen. ``schedule`` (``constant``, ``cosine``
    or ``f(step, steps)``) multiplies every learning rate at each step. ``metrics(params, loss[,
    state])`` returns extra ``[M]`` or ``[M, K]`` tensors recorded at ``log_steps`` (the loss
    is always recorded as ``loss``); ``select`` keeps each member's best step on one of them.
    """
    if optimizer not in ("gd", "adam"):
        raise ValueError(f"unknown optimizer {optimizer!r}; expected 'gd' or 'adam'")
    if steps is None:
        raise ValueError("train needs `steps`")
    if select is not None and select.mode not in ("min", "max"):
        raise ValueError(f"select mode must be 'min' or 'max', got {select.mode!r}")
    groups = _groups(params, lr, groups)
    factor = SCHEDULES[schedule] if isinstance(schedule, str) else schedule
    log_steps = log_schedule(steps, 1) if log_steps is None else np.asarray(log_steps)
    log_set = set(int(s) for s in log_steps)
    snap_set = set(int(s) for s in snapshot_steps)
    trained = [p for g in groups for p in g.params]
    trained_ids = {id(p) for p in trained}
    position = {id(p): i for i, p in enumerate(params)}
    ref = groups[0].lr
    n_members = ref.shape[0]
    active = torch.ones(n_members, dtype=torch.bool, device=ref.device)
    diverged_step = torch.full((n_members,), -1, dtype=torch.long, device=ref.device)
    moments = {id(p): (torch.zeros_like(p), torch.zeros_like(p)) for p in trained} if optimizer == "adam" else None
    on_gpu = ref.device.type != "cpu"
    loss_call = _with_state(loss_fn, 1)
    by_hand = _with_state(getattr(loss_fn, "value_and_grad", None), 1)
    metrics_call = _with_state(metrics, 2)
    records: dict[str, list[torch.Tensor]] = {}
    logged, snapshots = [], {}
    sel = _Selection(select, trained, active) if select is not None else None

    for step in range(steps + 1):
        batch = batches.next() if batches is not None else None
        state = Step(step, steps, batch, batches.epoch if batches is not None else None)
        fused = by_hand(params, state) if by_hand is not None and step < steps else None
        loss, grads = fused if fused is not None else (loss_call(params, state), None)
        bad = ~torch.isfinite(loss) | (loss > diverge_above)
        newly = active & bad
        diverged_step = torch.where(newly, torch.full_like(diverged_step, step), diverged_step)
        active = active & ~bad
        if step in log_set:
            with torch.no_grad():
                row = {"loss": loss.detach().clone()}
                if metrics_call is not None:
                    row.update({k: v.detach() for k, v in metrics_call(params, loss, state).items()})
            for k, v in row.items():
                records.setdefault(k, []).append(v)
            logged.append(step)
            if sel is not None:
                active = sel.update(step, row, trained, active)
            if on_log is not None:
                on_log(step, loss.detach())
        if step in snap_set:
            snapshots[step] = [p.detach().clone() if id(p) in trained_ids else p.detach() for p in params]
        if step == steps:
            break
        # Masking costs two passes per parameter; on the CPU we know for free whether it is needed.
        masked = on_gpu or not bool(active.all())
        if grads is None:
            total = (torch.where(active, loss, torch.zeros_like(loss)) if masked else loss).sum()
            grads = torch.autograd.grad(total, trained, allow_unused=True)
        else:
            grads = [grads[position[id(p)]] for p in trained]
        f = factor(step, steps)
        i = 0
        with torch.no_grad():
            for g in groups:
                keep = active if g.mask is None else active & g.mask
                g_masked = masked if g.mask is None else on_gpu or not bool(keep.all())
                lr_now = g.lr if f == 1.0 else g.lr * f
                for p in g.params:
                    _update(p, grads[i], per_member(lr_now, p.ndim), keep, g_masked, moments, step, betas, eps)
                    i += 1

    metrics_np = {k: torch.stack(v).cpu().numpy() for k, v in records.items()}
    hist = History(
        steps=np.asarray(logged),
        metrics=metrics_np,
        diverged_step=diverged_step.cpu().numpy(),
        final_params=[p.detach() for p in params],
        snapshots=snapshots,
    )
    if sel is not None:
        sel.finish(hist, params, trained)
    return hist
