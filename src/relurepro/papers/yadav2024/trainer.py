"""Training of the yadav2024 models: DLGN (trained and frozen gates in one ensemble), DLN and ReLU MLP.

A job trains one model family on one data set; its members are seeds (x gate variant for the DLGN).
The DLGN's gating tensors form one parameter group whose mask is off for the frozen-gate members,
so their gates stay bit-identical; the value network is a second group trained for every member.
Logged over training: loss, test accuracy (soft gates) and, for the DLGN, hard-gate test accuracy and
the hard-gate overlap-kernel alignment on the first ``n_kernel`` training points (binary tasks). At
the first and last step the DLGN's structure is added as vector rows (``coord``): effective
hyperplanes, their offsets, near-circle fractions per layer, the highest-|v_p| paths and a
block-averaged kernel image.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ...batching import MemberBatches
from ...engine import Group, log_schedule
from ...engine import progress as engine_progress
from ...engine import train as engine_train
from ...losses import DataLoss, accuracy, binary_accuracy
from ...nets import init_layers, member_tensor, mlp, predict
from .. import Job
from . import dlgn


def _tensors(arrays: dict, dtype, device) -> dict:
    def t(a, dt=dtype):
        return torch.as_tensor(np.asarray(a), dtype=dt, device=device)

    return {
        "x": t(arrays["x_train"]),
        "y": t(arrays["y_train"], torch.long),
        "x_test": t(arrays["x_test"]),
        "y_test": t(arrays["y_test"], torch.long),
    }


def _batch_size(p: dict, n: int) -> int:
    if "batch_size" in p:
        return min(int(p["batch_size"]), n)
    return max(1, n // int(p["batches_per_epoch"]))


def _init_params(p: dict, seeds, d: int, dtype, device) -> list[torch.Tensor]:
    fam, width, depth, out = p["family"], int(p["width"]), int(p["depth"]), int(p["outputs"])
    if fam == "dlgn":
        return dlgn.init(
            seeds, d, width, depth, out, bias_std=float(p["bias_std"]), feed=p["feed"], dtype=dtype, device=device
        )
    gain = 2.0 if fam == "relu" else 1.0
    sizes = [d] + [width] * depth + [out]
    return init_layers(seeds, sizes, lambda fan_in: math.sqrt(gain / fan_in), bias=True, dtype=dtype, device=device)


def model_forward(p: dict, hard: bool = False):
    """``forward(params, x) -> [M, N, C]`` of a job's model family (``hard``: DLGN hard gates)."""
    fam, depth = p["family"], int(p["depth"])
    if fam == "dlgn":
        beta = None if hard else float(p["beta"])
        return lambda ps, x: dlgn.forward(ps, x, depth, beta, p["feed"])
    act = "relu" if fam == "relu" else "linear"
    return lambda ps, x: mlp(ps, x, activation=act, bias=True)


def _accuracy(logits, y):
    return binary_accuracy(logits, y) if logits.shape[-1] == 1 else accuracy(logits, y)


def _kernel_alignment(params, x, y_pm: np.ndarray, depth: int) -> torch.Tensor:
    """Per member, the uncentred alignment of the hard-gate overlap kernel with ``y y^T`` (``y`` in +-1)."""
    from ...stats import kernel_alignment

    k = dlgn.overlap_kernel(dlgn.gates(params, x, depth, None)).double().cpu().numpy()
    target = np.outer(y_pm, y_pm)
    return torch.as_tensor([kernel_alignment(km, target) for km in k], dtype=torch.float64)


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    """Train one family's ensemble on its data set; returns the long table with structure rows."""
    p = job.params
    dtype, dev = getattr(torch, p["dtype"]), ctx.device
    s = _tensors(data[p["dataset"]], dtype, dev)
    n, d = s["x"].shape
    seeds = job.column("seed")
    params = _init_params(p, seeds, d, dtype, dev)
    initial = [t.detach().clone() for t in params]
    binary = int(p["outputs"]) == 1
    loss_name = "binary_cross_entropy" if binary else "cross_entropy"
    forward = model_forward(p)
    loss_fn = DataLoss(forward, s["x"], s["y"], loss_name)
    bs = _batch_size(p, n)
    batches = MemberBatches(seeds, n, bs, device=dev)
    steps_per_epoch = n // bs
    steps = int(p["epochs"]) * steps_per_epoch
    log_steps = log_schedule(steps, int(p["log_every"]) * steps_per_epoch)
    lr = member_tensor([float(p["lr"])] * len(seeds), dtype=dtype, device=dev)
    is_dlgn = p["family"] == "dlgn"
    if is_dlgn:
        depth = int(p["depth"])
        trained_gates = torch.as_tensor([v == "dlgn" for v in job.column("variant")], device=dev)
        groups = [Group(params[: 2 * depth], lr, mask=trained_gates), Group(params[2 * depth :], lr)]
    else:
        groups = [Group(params, lr)]
    hard = model_forward(p, hard=True)
    n_kernel = min(int(p.get("n_kernel", 0)), n) if binary and is_dlgn else 0
    y_pm = (2.0 * s["y"][:n_kernel].double() - 1.0).cpu().numpy()

    def metrics(ps, loss):
        out = {"test_acc": _accuracy(predict(forward, ps, s["x_test"]), s["y_test"])}
        if is_dlgn:
            out["test_acc_hard"] = _accuracy(predict(hard, ps, s["x_test"]), s["y_test"])
            if n_kernel:
                out["alignment"] = _kernel_alignment(ps, s["x"][:n_kernel], y_pm, depth)
        return out

    hist = engine_train(
        params,
        loss_fn,
        groups=groups,
        steps=steps,
        batches=batches,
        optimizer="adam",
        log_steps=log_steps,
        metrics=metrics,
        on_log=engine_progress(ctx.log, f"yadav2024 {job.key}", steps),
    )
    labels = job.labels().assign(
        family=p["family"],
        dataset=p["dataset"],
        width=int(p["width"]),
        depth=int(p["depth"]),
        beta=float(p["beta"]) if is_dlgn else math.nan,
        epochs=int(p["epochs"]),
        steps_per_epoch=steps_per_epoch,
        device=str(params[0].device),
        dtype=str(params[0].dtype).removeprefix("torch."),
    )
    df = hist.frame(labels)
    parts = [df]
    if is_dlgn and binary and d == 2:
        with torch.no_grad():
            for step, ps in ((0, initial), (steps, hist.final_params)):
                parts.append(_structure_rows(ps, p, s, n_kernel, labels, step))
    out = pd.concat(parts, ignore_index=True)
    for col in ("diverged", "diverged_step"):
        out[col] = out["member"].map(df.groupby("member")[col].first())
    out.insert(0, "experiment", job.experiment)
    return out


def _vector_rows(labels: pd.DataFrame, step: int, metric: str, values: torch.Tensor) -> pd.DataFrame:
    """Rows of a per-member vector ``[M, K]`` (``coord`` 0..K-1)."""
    v = values.detach().double().cpu().numpy().reshape(len(labels), -1)
    m, k = v.shape
    rows = pd.DataFrame(
        {"member": np.repeat(np.arange(m), k), "coord": np.tile(np.arange(k), m), "value": v.reshape(-1)}
    )
    rows = rows.assign(step=step, metric=metric)
    return rows.merge(labels.reset_index(drop=True).assign(member=np.arange(m)), on="member", how="left")


def top_paths(params, depth: int, gate_list, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ``k`` highest-weight paths (scalar output): weight ``|v_p|`` times the share of the points of
    ``gate_list`` (hard gates) inside the path's region R_p, so that paths with empty regions never rank.

    Returns unit indices ``[M, k, L]``, path values ``v_p`` ``[M, k]`` and region shares ``[M, k]``.
    """
    v = dlgn.path_values(params, depth)[..., 0]  # [M, m, ..., m]
    m_members, width = v.shape[0], v.shape[1]
    letters = "abcdefghijklmnop"[:depth]
    spec = ",".join(f"Mx{c}" for c in letters) + f"->M{letters}"
    share = torch.einsum(spec, *gate_list) / gate_list[0].shape[1]  # fraction of points in each R_p
    flat, flat_share = v.reshape(m_members, -1), share.reshape(m_members, -1).to(v.dtype)
    k = min(k, flat.shape[1])
    idx = (flat.abs() * flat_share).topk(k, dim=1).indices
    units = torch.stack([(idx // width ** (depth - 1 - layer)) % width for layer in range(depth)], -1)
    return units, flat.gather(1, idx), flat_share.gather(1, idx)


def kernel_image(gate_list, y: torch.Tensor, blocks: int) -> torch.Tensor:
    """The hard-gate kernel ``prod_l <G^l, G^l'> / m`` (each factor divided by the width) on points sorted by label, averaged over ``blocks x blocks`` tiles ``[M, blocks^2]``."""
    order = torch.argsort(y, stable=True)
    width = gate_list[0].shape[-1]
    sorted_gates = [g[:, order] for g in gate_list]
    k = dlgn.overlap_kernel([g / width for g in sorted_gates], sorted_gates).double()
    n = k.shape[-1] - k.shape[-1] % blocks
    k = k[:, :n, :n].reshape(k.shape[0], blocks, n // blocks, blocks, n // blocks).mean((2, 4))
    return k.reshape(k.shape[0], -1)


def _structure_rows(ps, p: dict, s: dict, n_kernel: int, labels, step: int) -> pd.DataFrame:
    depth = int(p["depth"])
    w_eff, b_eff = dlgn.effective_hyperplanes(ps, depth)  # [M, L, 2, m], [M, L, m]
    offsets = dlgn.hyperplane_offsets(ps, depth)  # [M, L, m]
    near = ((offsets - float(p["radius"])).abs() < float(p["near_tol"])).double().mean(-1)  # [M, L]
    gate_list = dlgn.gates(ps, s["x"][:n_kernel], depth, None)
    rows = {} if "near_band" not in p else path_usage_rows(ps, p, s)
    if p["feed"] == "ones":
        units, values, shares = top_paths(ps, depth, gate_list, int(p["top_paths"]))
        rows |= {"top_path_unit": units, "top_path_value": values, "top_path_share": shares}
    rows |= {
        "hp_w0": w_eff[:, :, 0, :],
        "hp_w1": w_eff[:, :, 1, :],
        "hp_b": b_eff,
        "offset": offsets,
        "near_circle": near,
        "kernel_image": kernel_image(gate_list, s["y"][:n_kernel], int(p["kernel_blocks"])),
    }
    return pd.concat([_vector_rows(labels, step, k, v) for k, v in rows.items()], ignore_index=True)


MASS_REGIONS = ("inside", "outside", "near", "far")


def path_usage_rows(ps, p: dict, s: dict) -> dict[str, torch.Tensor]:
    """Active hard-path counts on the first ``n_usage`` test points, and the mean path-weight mass
    ``sum_p |v_p| phi_p(x)`` per point inside / outside the disc and near / far from its boundary."""
    x = s["x_test"][: int(p["n_usage"])]
    count, mass = dlgn.path_usage(ps, x, int(p["depth"]))
    dist = x.norm(dim=1) - float(p["radius"])
    regions = [dist < 0, dist >= 0, dist.abs() < float(p["near_band"]), dist.abs() >= float(p["near_band"])]
    means = [mass[:, r].mean(1) if bool(r.any()) else torch.full_like(mass[:, 0], float("nan")) for r in regions]
    return {"active_paths": count, "path_mass": torch.stack(means, 1)}
