"""The one trainer of both experiments: an ensemble of biased ReLU MLPs on one tube data set.

Members differ in seed, sample size n and target; member m trains on mini-batches from its own
first n rows of the training pool (``MemberBatches`` with per-member n), keeps its parameters at
the step of lowest MSE on its own first ``n_val`` validation rows (``Select``), and is then
evaluated (chunked) on the shared noise-free test set and on its training rows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

SUMMARY = ("test_mse", "test_sup", "train_mse", "train_mse_se", "val_mse_best")


def val_size(n: int, fraction: float) -> int:
    """Validation rows of a member with ``n`` training rows: ``fraction`` of the ``n + n_val`` labelled points."""
    return max(1, round(n * fraction / (1.0 - fraction)))


def n_params(D: int, width: int, depth: int) -> int:
    """Weights and biases of the MLP ``D -> width (x depth-1 hidden layers) -> 1``."""
    sizes = [D] + [width] * (depth - 1) + [1]
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def train_members(job, data: dict, ctx, label: str) -> pd.DataFrame:
    """Train the job's members (labels ``seed``, ``n``, ``target``) and return the long table."""
    import torch

    from ...batching import MemberBatches
    from ...engine import Select, log_schedule, progress, train
    from ...losses import MLPLoss, half_mse, valid_mask
    from ...nets import init_layers, mlp, predict

    p = job.params
    arr = data[p["dataset"]]
    dtype, dev = getattr(torch, p["dtype"]), ctx.device
    ns = [int(n) for n in job.column("n")]
    targets = job.column("target")
    n_val = [val_size(n, p["val_fraction"]) for n in ns]
    for name, need, have in (("training", max(ns), len(arr["x_train"])), ("validation", max(n_val), len(arr["x_val"]))):
        if need > have:
            raise ValueError(f"{job.key}: members need {need} {name} rows, the data set {p['dataset']} has {have}")

    def tensor(a):
        return torch.as_tensor(np.asarray(a, dtype=np.float64), dtype=dtype, device=dev)

    def labels(part: str, rows: int):
        return tensor(np.stack([arr[f"y_{t}_{part}"][:rows] for t in targets]))[..., None]

    x, y = tensor(arr["x_train"][: max(ns)]), labels("train", max(ns))
    xv, yv = tensor(arr["x_val"][: max(n_val)]), labels("val", max(n_val))
    v_mask = valid_mask(n_val, len(xv), device=dev)
    sizes = [x.shape[1]] + [int(p["width"])] * (int(p["depth"]) - 1) + [1]
    params = init_layers(
        job.column("seed"), sizes, lambda fan_in: math.sqrt(2.0 / fan_in), bias=True, dtype=dtype, device=dev
    )

    def forward(ps, inputs):
        return mlp(ps, inputs, bias=True, activation="relu")

    def metrics(ps, loss):
        return {"val_mse": 2.0 * half_mse(predict(forward, ps, xv), yv, v_mask)}

    steps = int(p["steps"])
    batches = MemberBatches(job.column("seed"), ns, int(p["batch_size"]), device=dev)
    hist = train(
        params,
        MLPLoss(x, y, bias=True, activation="relu"),
        torch.full((len(ns),), float(p["lr"]), dtype=dtype, device=dev),
        steps,
        batches=batches,
        schedule=p["schedule"],
        optimizer="adam",
        log_steps=log_schedule(steps, int(p["val_every"])),
        metrics=metrics,
        select=Select("val_mse", "min"),
        on_log=progress(ctx.log, label, steps),
    )
    best = hist.best_params
    f_test = tensor(np.stack([arr[f"f_{t}_test"] for t in targets]))
    err = predict(forward, best, tensor(arr["x_test"]))[..., 0] - f_test
    mask = valid_mask(ns, len(x), device=dev)
    sq = torch.where(mask, (predict(forward, best, x) - y)[..., 0] ** 2, torch.zeros((), dtype=dtype, device=dev))
    count = mask.sum(-1).to(dtype)
    train_mse = sq.sum(-1) / count
    # standard error of that mean: the squared residuals of a heavy-tailed target (T3) fluctuate a lot at small n
    train_se = (
        (sq - train_mse[:, None]).pow(2).where(mask, torch.zeros((), dtype=dtype, device=dev)).sum(-1)
        / (count - 1).clamp(min=1)
    ).sqrt() / count.sqrt()
    summary = {
        "test_mse": (err**2).mean(-1),
        "test_sup": err.abs().amax(-1),
        "train_mse": train_mse,
        "train_mse_se": train_se,
        "val_mse_best": torch.as_tensor(hist.best_value),
    }
    members = job.labels().assign(n_val=n_val)
    at_best = members.assign(
        member=np.arange(len(ns)),
        step=hist.best_step,
        diverged=hist.diverged_step >= 0,
        diverged_step=hist.diverged_step,
        best_step=hist.best_step,
        stopped_step=hist.stopped_step,
    )
    summary_rows = [at_best.assign(metric=k, value=v.detach().cpu().double().numpy()) for k, v in summary.items()]
    out = pd.concat([hist.frame(members), *summary_rows], ignore_index=True)
    return out.assign(device=str(dev), dtype=p["dtype"])
