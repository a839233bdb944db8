"""The batched rate RNN with random weights and (optionally) learned biases.

``r_t = (1 - a) r_{t-1} + a relu(W r_{t-1} + B u_t + b)``, ``y_t = C r_t + c``, members stacked on
the leading dimension: ``W [M, N, N]`` (acting on column vectors), ``B [M, d_in, N]``,
``C [M, N, d_out]``, ``b [M, N]``, ``c [M, d_out]``. Sequences are time-first: inputs
``u [T, Bt, d_in]`` (shared) or ``[T, M, Bt, d_in]``, states and outputs ``[T, M, Bt, .]``.

Modes say which tensors a member trains: ``bias`` (b, c), ``full`` (all), ``readout`` (C, c: the
random-feature baseline with W, B, b frozen). Members of different modes share one ensemble; the
engine's parameter groups switch each tensor on per member (a tensor nobody trains is in no group
and stays bit-identical).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from ...engine import Group, History, member_tensor, normal, per_member
from ...nets import generators

NAMES = ("W", "B", "C", "b", "c")
# which tensors each mode trains
TRAINS = {"bias": {"b", "c"}, "full": set(NAMES), "readout": {"C", "c"}}


def init(
    seeds: Sequence[int],
    gains: Sequence[float],
    n: int,
    d_in: int,
    d_out: int,
    *,
    readout_std: float | None = None,
    r0: str = "zero",
    dtype=torch.float64,
    device="cpu",
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """``([W, B, C, b, c], r0)`` per member: W = (g/sqrt N) N(0,1), B ~ N(0,1), C ~ N(0, readout_std^2).

    ``readout_std`` defaults to 1/N (C ~ N(0, 1/N^2)). ``r0`` is ``zero`` or ``random`` (U[0, 1] per unit,
    the member's fixed initial state). b = c = 0. Draws come from the member's seed alone.
    """
    gens = generators(seeds)
    m = len(seeds)
    g = member_tensor(gains, dtype=dtype, device=device)
    w = normal(gens, (n, n), dtype=dtype, device=device) * per_member(g, 3) / math.sqrt(n)
    b_in = normal(gens, (d_in, n), dtype=dtype, device=device)
    c_out = normal(gens, (n, d_out), dtype=dtype, device=device) * (readout_std if readout_std is not None else 1.0 / n)
    if r0 == "random":
        start = torch.stack([torch.rand(n, generator=gen, dtype=torch.float64) for gen in gens]).to(
            dtype=dtype, device=device
        )
    elif r0 == "zero":
        start = torch.zeros(m, n, dtype=dtype, device=device)
    else:
        raise ValueError(f"r0 must be 'zero' or 'random', not {r0!r}")
    bias = torch.zeros(m, n, dtype=dtype, device=device)
    out_bias = torch.zeros(m, d_out, dtype=dtype, device=device)
    return [w, b_in, c_out, bias, out_bias], start


READOUT_LAWS = ("1/N", "1/sqrt(N)")


def readout_std(law: str, n: int) -> float:
    """The std of C's entries under a readout law: ``1/N`` (C ~ N(0, 1/N^2), the paper's Fig 3C/D) or ``1/sqrt(N)``."""
    if law not in READOUT_LAWS:
        raise ValueError(f"readout law must be one of {READOUT_LAWS}, not {law!r}")
    return 1.0 / n if law == "1/N" else 1.0 / math.sqrt(n)


def drive(params: Sequence[torch.Tensor], u: torch.Tensor | None, steps: int, batch: int) -> torch.Tensor:
    """``B u_t + b`` for every step at once, ``[T, M, Bt, N]`` (b alone, broadcast, without inputs)."""
    _, b_in, _, bias, _ = params
    m, n = bias.shape
    if u is None or b_in.shape[1] == 0:
        return bias[None, :, None, :].expand(steps, m, batch, n)
    if u.ndim == 3:  # shared inputs [T, Bt, d_in]
        return torch.einsum("tbi,min->tmbn", u, b_in) + bias[None, :, None, :]
    return torch.einsum("tmbi,min->tmbn", u, b_in) + bias[None, :, None, :]


def step(r: torch.Tensor, d: torch.Tensor, w_t: torch.Tensor, leak: float) -> torch.Tensor:
    """One step from states ``r [M, Bt, N]`` with drive ``d [M, Bt, N]`` (``w_t`` = W transposed)."""
    h = torch.relu(torch.baddbmm(d, r, w_t))
    return h if leak == 1.0 else r + leak * (h - r)


def rollout(
    params: Sequence[torch.Tensor],
    r0: torch.Tensor,
    u: torch.Tensor | None,
    steps: int,
    leak: float = 1.0,
    batch: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher-forced (open-loop) run: states and outputs ``[T, M, Bt, .]`` from ``r0`` ``[M, N]`` or ``[M, Bt, N]``."""
    w, _, c_out, _, out_bias = params
    batch = u.shape[-2] if u is not None else batch
    d = drive(params, u, steps, batch)
    w_t = w.transpose(1, 2)
    r = r0 if r0.ndim == 3 else r0[:, None, :].expand(-1, batch, -1)
    states = []
    for t in range(steps):
        r = step(r, d[t], w_t, leak)
        states.append(r)
    rs = torch.stack(states)
    return rs, readout(params, rs)


def readout(params: Sequence[torch.Tensor], rs: torch.Tensor) -> torch.Tensor:
    """``C r + c`` for states ``[..., M, Bt, N]``."""
    _, _, c_out, _, out_bias = params
    return torch.einsum("...mbn,mno->...mbo", rs, c_out) + out_bias[:, None, :]


def closed_loop(params: Sequence[torch.Tensor], r: torch.Tensor, y: torch.Tensor, steps: int, leak: float = 1.0):
    """Self-sustained run: from states ``r [M, Bt, N]`` and last output ``y [M, Bt, d]``, feed each output back
    as the next input for ``steps`` steps; returns the outputs ``[steps, M, Bt, d]``."""
    w, b_in, _, bias, _ = params
    w_t = w.transpose(1, 2)
    outs = []
    for _ in range(steps):
        d = torch.bmm(y, b_in) + bias[:, None, :]
        r = step(r, d, w_t, leak)
        y = readout(params, r)
        outs.append(y)
    return torch.stack(outs)


def jacobian(params: Sequence[torch.Tensor], r: torch.Tensor, u: torch.Tensor | None = None, leak: float = 1.0):
    """The Jacobian ``(1 - a) I + a D W`` of one step at states ``r [M, N]`` (input ``u [M, d_in]``),
    ``D = diag(1[W r + B u + b > 0])``; ``[M, N, N]``."""
    w, b_in, _, bias, _ = params
    pre = torch.einsum("mij,mj->mi", w, r) + bias
    if u is not None and b_in.shape[1]:
        pre = pre + torch.einsum("mi,min->mn", u, b_in)
    jac = (pre > 0).to(w.dtype)[:, :, None] * w
    if leak != 1.0:
        jac = leak * jac + (1.0 - leak) * torch.eye(w.shape[-1], dtype=w.dtype, device=w.device)
    return jac


def fixed_point(
    params: Sequence[torch.Tensor], starts: torch.Tensor, iters: int = 50
) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed point ``r* = relu(W r* + b)`` of the input-free dynamics (any leak), per member, and its residual.

    Active-set Newton iteration from each of the states ``starts [K, M, N]``: with
    ``D = diag(1[W r + b > 0])`` solve ``(I - D W) r = D b``, then update ``D`` until no active set changes.
    Returns ``(r*, residual)`` ``[M, N]``, ``[M]``: per member the candidate with the smallest
    ``residual = max |r* - relu(W r* + b)|`` (near 0 only where a fixed point was found).
    """
    w, _, _, bias, _ = (p.detach().to(torch.float64) for p in params)
    k, m, n = starts.shape
    w_k, b_k = w.repeat(k, 1, 1), bias.repeat(k, 1)  # start-major: row k * M + m
    eye = torch.eye(n, dtype=w.dtype, device=w.device)
    r = starts.to(torch.float64).reshape(k * m, n)
    active = torch.einsum("mij,mj->mi", w_k, r) + b_k > 0
    for _ in range(iters):
        d = active.to(w.dtype)
        r = torch.linalg.solve(eye - d[:, :, None] * w_k, d * b_k)
        new = torch.einsum("mij,mj->mi", w_k, r) + b_k > 0
        if bool((new == active).all()):
            break
        active = new
    residual = (r - torch.relu(torch.einsum("mij,mj->mi", w_k, r) + b_k)).abs().amax(-1).reshape(k, m)
    residual = torch.nan_to_num(residual, nan=math.inf)
    best = residual.argmin(0)
    pick = r.reshape(k, m, n)[best, torch.arange(m)]
    return pick, residual[best, torch.arange(m)]


def sorted_eigs(mat: torch.Tensor) -> torch.Tensor:
    """Eigenvalues ``[M, N]`` (complex) of ``[M, N, N]``, by decreasing modulus (ties: positive angle first)."""
    ev = torch.linalg.eigvals(mat.to(torch.float64)).cpu().numpy()
    order = np.lexsort((-ev.imag, -np.abs(ev)), axis=-1)
    return torch.as_tensor(np.take_along_axis(ev, order, axis=-1))


def leading_pair(ev: np.ndarray, min_angle: float = 1e-6) -> tuple[float, float]:
    """``(modulus, period in steps)`` of the complex pair of largest modulus among ``ev`` (NaN when all are real)."""
    ev = np.asarray(ev)
    cplx = ev[np.abs(ev.imag) > min_angle * np.maximum(np.abs(ev), 1e-300)]
    if not len(cplx):
        return math.nan, math.nan
    top = cplx[np.argmax(np.abs(cplx))]
    return float(abs(top)), float(2 * math.pi / abs(np.angle(top)))


# ---------------------------------------------------------------- modes, groups, invariants


def modes(job_members) -> list[str]:
    out = [m["mode"] for m in job_members]
    bad = sorted(set(out) - set(TRAINS))
    if bad:
        raise ValueError(f"unknown RNN modes {bad}; expected {sorted(TRAINS)}")
    return out


def groups(params: Sequence[torch.Tensor], member_modes: Sequence[str], lrs: dict[str, float]) -> list[Group]:
    """One :class:`Group` per tensor some member trains, masked to those members, with their mode's lr.

    Tensors no member trains are left out (frozen and bit-identical); the trained ones get
    ``requires_grad``.
    """
    like = params[0]
    lr = member_tensor([lrs[m] for m in member_modes], like)
    out = []
    for name, p in zip(NAMES, params):
        on = torch.tensor([name in TRAINS[m] for m in member_modes], device=like.device)
        if bool(on.any()):
            p.requires_grad_()
            out.append(Group([p], lr, None if bool(on.all()) else on))
    return out


def trainable_count(params: Sequence[torch.Tensor], member_modes: Sequence[str]) -> np.ndarray:
    """Trainable scalars per member (its mode's tensors, counted per member)."""
    size = {name: int(p[0].numel()) for name, p in zip(NAMES, params)}
    return np.array([sum(size[k] for k in TRAINS[m]) for m in member_modes])


def frozen_max_change(initial: Sequence[torch.Tensor], final: Sequence[torch.Tensor], member_modes) -> np.ndarray:
    """Per member, max |X - X0| over the tensors its mode does not train (0.0 when bit-identical)."""
    out = np.zeros(len(member_modes))
    for name, p0, p1 in zip(NAMES, initial, final):
        if p0[0].numel() == 0:
            continue
        change = (p1.detach() - p0).abs().flatten(1).max(1).values.cpu().numpy()
        frozen = np.array([name not in TRAINS[m] for m in member_modes])
        out = np.where(frozen, np.maximum(out, change), out)
    return out


def r_squared(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per member ``1 - SSE / SST`` over time, batch and outputs; pred ``[T, M, Bt, d]``, target ``[T, Bt, d]``
    (or ``[T, M, Bt, d]``), SST around each output's mean."""
    tgt = target if target.ndim == 4 else target[:, None]
    tgt = tgt.expand_as(pred)
    sse = ((pred - tgt) ** 2).sum((0, 2, 3))
    sst = ((tgt - tgt.mean((0, 2), keepdim=True)) ** 2).sum((0, 2, 3))
    return 1.0 - sse / sst


def final_rows(labels: pd.DataFrame, step: int, values: dict[str, np.ndarray], diverged_step) -> pd.DataFrame:
    """Long rows of per-member scalars (or ``[M, K]`` vectors, with ``coord``) at one step, via :class:`History`."""
    metrics = {k: np.asarray(v)[None] for k, v in values.items()}
    return History(np.array([step]), metrics, np.asarray(diverged_step)).frame(labels)


# ---------------------------------------------------------------- training through the engine


def dtype_of(job) -> torch.dtype:
    """The job's training precision (its experiment's ``dtype`` key)."""
    return getattr(torch, job.params.get("dtype", "float64"))


def fit(job, ctx, params, loss, *, d_out: int, metrics=None, snapshot_steps=(), batches=None, steps=None):
    """Train a job's members with Adam through the engine, each tensor in its modes' group.

    Returns ``(history, labels, rows)``: ``labels`` are the member labels plus ``n_params`` (trainable
    count), ``N``, ``dtype`` and ``device``; ``rows`` the long tables: the history, and for every
    bias-mode member ``frozen_max_change`` (max |X - X0| over W, B, C) and ``trainable_excess``
    (trainable count - (N + n_out)) at the last step.
    """
    from ...engine import log_schedule, progress, train

    p = job.params
    steps = int(p["steps"]) if steps is None else steps
    member_modes = modes(job.members)
    initial = [t.detach().clone() for t in params]
    lrs = {"bias": p["lr_bias"], "full": p.get("lr_full", p["lr_bias"]), "readout": p.get("lr_readout", p["lr_bias"])}
    hist = train(
        params,
        loss,
        groups=groups(params, member_modes, lrs),
        steps=steps,
        optimizer="adam",
        log_steps=log_schedule(steps, int(p["log_every"])),
        metrics=metrics,
        snapshot_steps=snapshot_steps,
        batches=batches,
        on_log=progress(ctx.log, job.key, steps),
    )
    n = params[0].shape[-1]
    counts = trainable_count(params, member_modes)
    labels = job.labels().assign(
        n_params=counts, N=n, device=str(params[0].device), dtype=str(params[0].dtype).removeprefix("torch.")
    )
    checks = final_rows(
        labels,
        steps,
        {
            "frozen_max_change": frozen_max_change(initial, params, member_modes),
            "trainable_excess": (counts - (n + d_out)).astype(float),
        },
        hist.diverged_step,
    )
    checks = checks[checks["mode"] == "bias"]
    return hist, labels, [hist.frame(labels)] + ([checks] if len(checks) else [])
