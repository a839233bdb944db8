"""One-hidden-layer ReLU classifiers with random weights, trained in four modes as one ensemble.

``y = W_out (g * relu(W_in x + b)) + c`` with the gate ``g`` = 1, except for ``mask`` members:
``g = sigmoid(k s)`` in training (``k`` geometric from ``k_start`` to ``k_end``) and ``1[s > 0]`` at test.
Modes (spec §4): ``bias`` trains b, c; ``full`` trains W_in, b, W_out, c; ``mask`` trains s, c;
``readout`` trains W_out, c. Each tensor is one engine parameter group whose per-member mask says
which members train it, so members of every mode share one ensemble; tensors no member trains stay
frozen, and a weight matrix drawn once for all members (``shared``) is broadcast as ``[1, ...]``.
Training is Adam on per-member mini-batches of cross-entropy; every epoch logs the test accuracy.
At the end each member logs ``n_params`` (its trainable count), and the non-``full`` members
``frozen_max_change`` (max |W - W0| over its frozen tensors) and, for ``bias``, ``trainable_excess``
(trainable count - (N + n_out)).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ... import engine
from ...batching import MemberBatches, take
from ...losses import accuracy, cross_entropy
from ...nets import mlp
from ...nets.predict import predict
from .. import Job

NAMES = ("W_in", "b", "s", "W_out", "c")
TRAINS = {
    "bias": ("b", "c"),
    "full": ("W_in", "b", "W_out", "c"),
    "mask": ("s", "c"),
    "readout": ("W_out", "c"),
}
LAWS = ("uniform", "gaussian")


def check_mode(mode: str) -> str:
    if mode not in TRAINS:
        raise ValueError(f"unknown training mode {mode!r}; expected one of {sorted(TRAINS)}")
    return mode


def draw(
    seed: int, law: str, d: int, n: int, n_out: int, u_in: float, u_out: float | None = None, b0: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One member's ``W_in [d, n]``, ``W_out [n, n_out]`` and initial ``b [n]`` (float64, CPU) from its seed (spec §4).

    uniform: W_in ~ U[-u_in, u_in], W_out ~ U[+-u_out] (default u_out = sqrt(3/n));
    gaussian: W_in ~ N(0, 1/d), W_out ~ N(0, 1/n). b = 0, or U[-b0, b0] drawn after the weights.
    """
    g = torch.Generator().manual_seed(int(seed))
    if law == "uniform":
        w_in = (torch.rand(d, n, generator=g, dtype=torch.float64) * 2 - 1) * u_in
        scale = math.sqrt(3.0 / n) if u_out is None else u_out
        w_out = (torch.rand(n, n_out, generator=g, dtype=torch.float64) * 2 - 1) * scale
    elif law == "gaussian":
        w_in = torch.randn(d, n, generator=g, dtype=torch.float64) / math.sqrt(d)
        w_out = torch.randn(n, n_out, generator=g, dtype=torch.float64) / math.sqrt(n)
    else:
        raise ValueError(f"unknown weight law {law!r}; expected one of {LAWS}")
    b = (
        (torch.rand(n, generator=g, dtype=torch.float64) * 2 - 1) * b0
        if b0 > 0
        else torch.zeros(n, dtype=torch.float64)
    )
    return w_in, w_out, b


class Ensemble:
    """The tensors, modes and parameter groups of one job's members (see the module docstring)."""

    def __init__(self, job: Job, d: int, n_out: int, ctx, *, shared: bool = False):
        p = job.params
        self.job, self.n, self.n_out = job, int(p["width"]), int(n_out)
        self.modes = [check_mode(m) for m in job.column("mode")]
        self.dtype = getattr(torch, p.get("dtype", "float32"))
        self.device = ctx.device
        seeds, laws = job.column("seed"), job.column("law")
        m = len(self.modes)
        trained = {name for mode in self.modes for name in TRAINS[mode]}
        u_out, b0 = p.get("u_out"), float(p.get("b0", 0.0))
        if shared:
            w_in, w_out, b = draw(int(p["weight_seed"]), laws[0], d, self.n, n_out, float(p["u_in"]), u_out, b0)
            w_in, w_out, b = w_in[None], w_out[None], b.expand(m, -1)
            if "W_in" in trained:
                raise ValueError(f"{job.key}: a shared W_in cannot be trained (mode full)")
            if "W_out" in trained:
                w_out = w_out.expand(m, -1, -1)
        else:
            draws = [draw(s, law, d, self.n, n_out, float(p["u_in"]), u_out, b0) for s, law in zip(seeds, laws)]
            w_in, w_out, b = (torch.stack(parts) for parts in zip(*draws))
        t = {"dtype": self.dtype, "device": self.device}
        self.params = [
            w_in.to(**t).contiguous(),
            b.reshape(m, 1, self.n).to(**t).contiguous(),
            torch.full((m, 1, self.n), float(p.get("s0", 0.1)), **t),
            w_out.to(**t).contiguous(),
            torch.zeros(m, 1, n_out, **t),
        ]
        self.initial = [q.clone() for q in self.params]
        self.is_mask = torch.tensor([mo == "mask" for mo in self.modes], device=self.device)
        self.k_start, self.k_end = float(p.get("k_start", 1.0)), float(p.get("k_end", 200.0))
        self.groups = []
        for i, name in enumerate(NAMES):
            on = [name in TRAINS[mo] for mo in self.modes]
            if not any(on):
                continue
            self.params[i].requires_grad_()
            lr = [float(p["lr_bias"] if mo in ("bias", "mask") else p["lr_full"]) for mo in self.modes]
            mask = torch.tensor(on, device=self.device)
            self.groups.append(engine.Group([self.params[i]], engine.member_tensor(lr, self.params[i]), mask))

    # ------------------------------------------------------------- forward

    def gate(self, params, k: float | None) -> torch.Tensor | None:
        """``[M, 1, N]`` gate: soft ``sigmoid(k s)`` (``k`` given) or hard ``1[s > 0]`` for mask members, else 1."""
        if not bool(self.is_mask.any()):
            return None
        s = params[2]
        g = torch.sigmoid(k * s) if k is not None else (s > 0).to(s.dtype)
        return torch.where(self.is_mask.view(-1, 1, 1), g, torch.ones_like(g))

    def hidden(self, params, x, k: float | None = None) -> torch.Tensor:
        h = mlp([params[0], params[1]], x, bias=True).relu()
        g = self.gate(params, k)
        return h if g is None else h * g

    def forward(self, params, x, k: float | None = None) -> torch.Tensor:
        return mlp([params[3], params[4]], self.hidden(params, x, k), bias=True)

    def k_at(self, frac: float) -> float:
        """The sigmoid steepness at a fraction of training: geometric from ``k_start`` to ``k_end``."""
        return self.k_start * (self.k_end / self.k_start) ** frac

    # ------------------------------------------------------------- counts

    def n_params(self) -> np.ndarray:
        """Per member, the number of entries of the tensors its parameter groups train."""
        out = np.zeros(len(self.modes), dtype=np.int64)
        for g in self.groups:
            (p,) = g.params
            out += np.asarray(g.mask.cpu(), dtype=np.int64) * int(p[0].numel())
        return out

    def frozen_max_change(self) -> np.ndarray:
        """Per member, max |W - W0| over the tensors it does not train (NaN for ``full`` members)."""
        out = np.full(len(self.modes), np.nan)
        for mi, mode in enumerate(self.modes):
            if mode == "full":
                continue
            diffs = [
                float((p[min(mi, p.shape[0] - 1)].detach() - p0[min(mi, p0.shape[0] - 1)]).abs().max())
                for name, p, p0 in zip(NAMES, self.params, self.initial)
                if name not in TRAINS[mode] and name != "s"  # s only gates mask members
            ]
            out[mi] = max(diffs)
        return out


def tensors(arrays: dict, dtype, device) -> dict[str, torch.Tensor]:
    return {
        k: torch.as_tensor(np.asarray(v), dtype=torch.long if k.startswith("y") else dtype, device=device)
        for k, v in arrays.items()
        if k in ("x_train", "y_train", "x_test", "y_test")
    }


def fit(net: Ensemble, data: dict[str, torch.Tensor], ctx, *, epochs: int, batch: int, stacked: bool = False):
    """Train ``net`` by Adam on mini-batches; log test accuracy every epoch. Returns the engine's History."""
    job = net.job
    x, y = data["x_train"], data["y_train"]
    n_train = x.shape[1 if stacked else 0]
    batches = MemberBatches(job.column("seed"), n_train, min(batch, n_train), device=ctx.device)
    per_epoch = int(batches.steps_per_epoch().min())
    steps = max(1, epochs * per_epoch)

    def loss_fn(params, state):
        xb, yb = take(x, state.batch, stacked=stacked), take(y, state.batch, stacked=stacked)
        return cross_entropy(net.forward(params, xb, net.k_at(state.frac)), yb)

    def metrics(params, loss, state):
        logits = predict(lambda ps, xs: net.forward(ps, xs), params, data["x_test"])
        return {"test_acc": accuracy(logits, data["y_test"])}

    return engine.train(
        net.params,
        loss_fn,
        steps=steps,
        groups=net.groups,
        batches=batches,
        optimizer="adam",
        log_steps=engine.log_schedule(steps, per_epoch),
        metrics=metrics,
        on_log=engine.progress(ctx.log, job.key, steps),
    )


def unit_variance(net: Ensemble, x: torch.Tensor, chunk: int = 512) -> torch.Tensor:
    """``[M, N]`` variance over the samples of ``x`` of each hidden unit's (hard-gated) activation."""
    with torch.no_grad():
        n = x.shape[-2]
        s1 = s2 = 0.0
        for i in range(0, n, chunk):
            h = net.hidden(net.params, x[..., i : i + chunk, :]).to(torch.float64)
            s1, s2 = s1 + h.sum(-2), s2 + (h * h).sum(-2)
        mean = s1 / n
        return (s2 / n - mean * mean).clamp_min(0.0)


def table(net: Ensemble, hist, labels: pd.DataFrame, final: dict[str, np.ndarray]) -> pd.DataFrame:
    """The job's long table: the engine's logged metrics, plus ``final`` metrics at the last step.

    ``final`` maps a metric to ``[M]`` (scalar) or ``[M, K]`` (vector, with ``coord``) values; NaN
    entries (a metric that does not apply to a member) are left out.
    """
    labels = labels.assign(n_params=net.n_params(), width=net.n)
    base = hist.frame(labels)
    step = int(hist.steps[-1])
    extra = []
    for name, values in final.items():
        v = np.asarray(values, dtype=np.float64)
        k = v.shape[1] if v.ndim == 2 else 1
        part = {"member": np.repeat(np.arange(v.shape[0]), k), "step": step, "metric": name, "value": v.reshape(-1)}
        if v.ndim == 2:
            part["coord"] = np.tile(np.arange(k), v.shape[0]).astype(np.float64)
        part = pd.DataFrame(part)
        extra.append(part[np.isfinite(part["value"])])
    extra = [x for x in extra if not x.empty]
    if not extra:
        return base.assign(device=str(net.device), dtype=str(net.dtype).removeprefix("torch."))
    member_cols = base.drop(columns=["step", "metric", "value", "coord"], errors="ignore").drop_duplicates("member")
    rows = pd.concat(extra, ignore_index=True).merge(member_cols, on="member", how="left")
    if "coord" in rows and "coord" not in base:
        base = base.assign(coord=np.nan)
    elif "coord" in base and "coord" not in rows:
        rows = rows.assign(coord=np.nan)
    out = pd.concat([base, rows], ignore_index=True)
    return out.assign(device=str(net.device), dtype=str(net.dtype).removeprefix("torch."))


def invariants(net: Ensemble) -> dict[str, np.ndarray]:
    """``n_params``-based invariant metrics: frozen tensors unchanged, bias members train N + n_out."""
    excess = net.n_params().astype(np.float64) - (net.n + net.n_out)
    excess[[mo != "bias" for mo in net.modes]] = np.nan
    return {"frozen_max_change": net.frozen_max_change(), "trainable_excess": excess}


def final_accuracy(net: Ensemble, x: torch.Tensor, y: torch.Tensor, k: float | None = None) -> np.ndarray:
    logits = predict(lambda ps, xs: net.forward(ps, xs, k), net.params, x)
    return accuracy(logits, y).cpu().numpy()
