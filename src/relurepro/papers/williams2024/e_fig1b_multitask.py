"""Fig 1B: one shared random network, one bias vector per task, vs one fully trained net per task.

Job ``bias``: members are (task, mode) with mode bias or readout (the readout-only baseline), every
member on its own task's data (stacked), all sharing one frozen ``W_in`` drawn from ``weight_seed``
(broadcast, never copied). At the end each bias member logs the vector metrics ``tv`` (its units'
activation variance over its task's test inputs) and ``bias`` (its b_k), which Fig 1C reads. Job
``full``: one full net per task, width ``full_width``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim, Measured
from ...tables import select
from .. import Job
from .common import COLOURS, P, final_acc, training_params

E = "fig1b"
PRECISION = None  # trains in its own key experiments.fig1b.dtype
IDX_TASKS = ("mnist", "fashion_mnist", "kmnist")


def task_spec(task: str, e: dict, cfg: dict) -> tuple[str, dict]:
    """A task's data set: a glyph script, or an IDX folder named under ``data.idx_dirs``."""
    if task in IDX_TASKS:
        folder = (cfg["data"].get("idx_dirs") or {}).get(task)
        if not folder:
            raise ValueError(
                f"experiments.{E}.tasks: task {task!r} needs a folder in williams2024.data.idx_dirs.{task}"
            )
        return f"idx_{task}", {"kind": "idx", "folder": str(folder)}
    spec = {"kind": "glyphs", "script": task, "n_train": int(e["n_train"]), "n_test": int(e["n_test"])}
    return f"glyphs_{task}", {**spec, "seed": int(e["data_seed"]), "side": int(e["side"])}


def jobs(e: dict, cfg: dict) -> list[Job]:
    specs = dict(task_spec(task, e, cfg) for task in e["tasks"])
    names = [task_spec(task, e, cfg)[0] for task in e["tasks"]]
    common = {**training_params(e), "tasks": list(e["tasks"]), "task_data": names}
    common.update(n_train=int(e["n_train"]), n_test=int(e["n_test"]))

    def mems(modes):
        return [
            {"task": task, "mode": m, "law": "uniform", "seed": int(s)}
            for m in modes
            for task in e["tasks"]
            for s in e["seeds"]
        ]

    shared = {**common, "width": int(e["width"]), "weight_seed": int(e["weight_seed"])}
    return [
        Job(E, "bias", shared, specs, members=mems(["bias", "readout"])),
        Job(E, "full", {**common, "width": int(e["full_width"])}, specs, members=mems(["full"])),
    ]


def stacked_data(job: Job, data: dict) -> dict[str, np.ndarray]:
    """Each member's task data stacked ``[M, n, ...]`` (the first ``n_train`` / ``n_test`` samples)."""
    name = dict(zip(job.params["tasks"], job.params["task_data"]))
    out = {}
    for split, n in (("train", job.params["n_train"]), ("test", job.params["n_test"])):
        for part in ("x", "y"):
            arrays = [data[name[task]][f"{part}_{split}"][:n] for task in job.column("task")]
            if min(len(a) for a in arrays) < n:
                raise ValueError(f"{job.key}: a task has fewer than {n} {split} samples")
            out[f"{part}_{split}"] = np.stack(arrays)
    return out


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    import torch

    from . import ffn

    arrays = stacked_data(job, data)
    shared = job.point == "bias"
    net = ffn.Ensemble(job, arrays["x_train"].shape[-1], int(arrays["y_train"].max()) + 1, ctx, shared=shared)
    d = ffn.tensors(arrays, net.dtype, ctx.device)
    hist = ffn.fit(net, d, ctx, epochs=job.params["epochs"], batch=job.params["batch"], stacked=True)
    final = ffn.invariants(net)
    if shared:
        is_bias = np.array([m == "bias" for m in net.modes])
        tv = ffn.unit_variance(net, d["x_test"]).cpu().numpy()
        b = net.params[1][:, 0, :].detach().to(torch.float64).cpu().numpy()
        tv[~is_bias], b[~is_bias] = np.nan, np.nan
        final.update(tv=tv, bias=b)
    return ffn.table(net, hist, job.labels(), final)


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    from .e_fig1a_width import logistic_rows

    job = jobs["bias"]
    names = dict(zip(job.params["tasks"], job.params["task_data"]))
    parts = []
    for task, name in names.items():
        arrays = {
            k: v[: job.params["n_train" if "train" in k else "n_test"]] for k, v in data[name].items() if k[0] in "xy"
        }
        parts.append(logistic_rows(arrays, name).assign(task=task))
    untrained = final_acc(select(runs, mode="bias"), how="first").assign(baseline="untrained")
    readout = final_acc(select(runs, mode="readout")).assign(baseline="readout")
    cols = ["baseline", "task", "seed", "width", "n_params", "value"]
    parts.append(pd.concat([untrained[cols], readout[cols]], ignore_index=True).assign(metric="test_acc"))
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------- claims


def per_task(t) -> pd.DataFrame:
    """Seed-mean final test accuracy per task of the bias and full nets, with ``gap`` = full - bias."""
    acc = final_acc(t.runs_of(E))
    wide = acc.groupby(["task", "mode"])["value"].mean().unstack("mode")
    if not {"bias", "full"} <= set(wide.columns):
        raise LookupError(f"fig1b needs bias and full runs, has {sorted(wide.columns)}")
    order = list(dict.fromkeys(acc.sort_values("member")["task"]))
    wide = wide.reindex(order)
    return wide.assign(gap=wide["full"] - wide["bias"])


def _n(t) -> int:
    return int(t.runs_of(E)["seed"].nunique())


def _notes(w: pd.DataFrame, col: str) -> str:
    return "; ".join(f"{k}: {v:.3f}" for k, v in w[col].items())


def _mean_gap(t) -> Measured:
    w = per_task(t)
    return Measured(float(w["gap"].mean()), n_seeds=_n(t), note="gap per task: " + _notes(w, "gap"))


def _min_acc(t) -> Measured:
    w = per_task(t)
    return Measured(float(w["bias"].min()), n_seeds=_n(t), note="bias acc per task: " + _notes(w, "bias"))


def _hardest(t) -> Measured:
    w = per_task(t)
    hardest = w["full"].idxmin()
    rank = int(w["gap"].rank(ascending=False, method="min")[hardest])
    return Measured(rank, n_seeds=_n(t), note=f"hardest task (lowest full acc): {hardest}; gap rank 1 = largest gap")


CLAIMS = [
    Claim(
        f"{P}.{E}.mean_gap",
        "one random net with a bias vector per task comes close to a fully trained net per task",
        "mean over tasks of acc_full - acc_bias (test accuracy)",
        "<=",
        _mean_gap,
        {"smoke": None, "quick": 0.05, "full": 0.03},
    ),
    Claim(
        f"{P}.{E}.min_task_acc",
        "bias learning solves every task",
        "min over tasks of the bias net's test accuracy",
        ">=",
        _min_acc,
        {"smoke": None, "quick": 0.70, "full": None},
    ),
    Claim(
        f"{P}.{E}.hardest_task_gap",
        "the gap grows with task difficulty",
        "rank of the hardest task's gap among the tasks (1 = largest gap)",
        "report",
        _hardest,
        {"smoke": None, "quick": None, "full": None},
    ),
]


# ---------------------------------------------------------------- figures


def figures(e: dict, cfg: dict) -> dict:
    return {f"{P}_fig1b_multitask": fig_multitask}


def fig_multitask(t):
    from ... import plotting

    acc = final_acc(t.runs_of(E))
    base = t.baselines_of(E)
    tasks = list(per_task(t).index)
    fig, axes = plotting.panels(1, ncols=1, size=7.5, title="Fig 1B: one random net, a bias vector per task")
    ax = axes[0]
    x = np.arange(len(tasks))
    bars = [
        ("bias", acc, "bias (shared W)"),
        ("full", acc, "full (one net per task)"),
        ("readout", acc, "readout only (baseline)"),
    ]
    width = 0.26
    for i, (mode, src, label) in enumerate(bars):
        g = select(src, mode=mode).groupby("task")["value"].agg(["mean", "sem"]).reindex(tasks)
        ax.bar(x + (i - 1) * width, g["mean"], width, yerr=g["sem"].fillna(0), color=COLOURS[mode], label=label)
    for name, marker, label in (("untrained", "x", "untrained net"), ("logistic", "D", "logistic regression")):
        g = select(base, baseline=name, metric="test_acc").groupby("task")["value"].mean().reindex(tasks)
        ax.plot(x, g.to_numpy(), ls="none", marker=marker, color=COLOURS[name], ms=7, label=f"{label} (baseline)")
    ax.axhline(0.1, color="tab:gray", ls=":", lw=1, label="chance (10 classes)")
    ax.set_xticks(x, tasks, rotation=20)
    ax.set(ylabel="test accuracy", ylim=(0, 1.05), xlabel="task")
    ax.legend(fontsize=7, loc="lower left", ncol=2)
    return fig
