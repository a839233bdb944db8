"""Fig 2: bias learning vs mask learning on the same frozen random weights.

One job; members are (mode, seed) with mode bias, mask or readout, and a seed's members draw the same
weights (so each mask is compared with the bias net on identical W_in, W_out; the readout members, which
train only W_out and c, are spec §6's readout-only baseline on the same random features). At the end each
member logs ``soft_train_acc`` (mask members: soft gate at the final k, on the training set),
``on_fraction`` (s > 0), and the vectors ``unit_var`` (each unit's hard-gated activation variance
over the test set; for bias members this is its task variance) and ``mask_on`` (mask members).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim
from ...tables import select
from .. import Job
from . import image_dataset
from .common import COLOURS, P, final_acc, members, seed_values, training_params

E = "fig2"
PRECISION = None  # trains in its own key experiments.fig2.dtype


def jobs(e: dict, cfg: dict) -> list[Job]:
    name, spec = image_dataset(cfg)
    params = {
        **training_params(e),
        "width": int(e["width"]),
        "dataset": name,
        "s0": float(e["s0"]),
        "k_start": float(e["k_start"]),
        "k_end": float(e["k_end"]),
    }
    return [
        Job(
            E,
            f"w{e['width']}",
            params,
            {name: spec},
            members=members([("bias", "uniform"), ("mask", "uniform"), ("readout", "uniform")], e["seeds"]),
        )
    ]


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    from . import ffn

    arrays = data[job.params["dataset"]]
    net = ffn.Ensemble(job, arrays["x_train"].shape[1], int(arrays["y_train"].max()) + 1, ctx)
    d = ffn.tensors(arrays, net.dtype, ctx.device)
    hist = ffn.fit(net, d, ctx, epochs=job.params["epochs"], batch=job.params["batch"])
    is_mask = np.array([m == "mask" for m in net.modes])
    on = (net.params[2][:, 0, :] > 0).cpu().numpy().astype(float)
    final = ffn.invariants(net)
    final.update(
        soft_train_acc=ffn.final_accuracy(net, d["x_train"], d["y_train"], net.k_at(1.0)),
        hard_train_acc=ffn.final_accuracy(net, d["x_train"], d["y_train"]),
        on_fraction=np.where(is_mask, on.mean(1), np.nan),
        unit_var=ffn.unit_variance(net, d["x_test"]).cpu().numpy(),
        mask_on=np.where(is_mask[:, None], on, np.nan),
    )
    return ffn.table(net, hist, job.labels().assign(dataset=job.params["dataset"]), final)


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    """Spec §6's readout-only random features: the readout members' final test accuracy."""
    readout = final_acc(select(runs, mode="readout"))
    cols = ["point", "member", "seed", "width", "n_params", "value"]
    return readout[cols].assign(baseline="readout", metric="test_acc", dataset=readout["dataset"].iloc[0])


# ---------------------------------------------------------------- analysis (claims and figure)


def _vectors(t, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(bias TV normalised by its max, mask unit variance, mask on)`` of one seed, per unit."""
    r = t.runs_of(E)
    out = []
    for mode, metric in (("bias", "unit_var"), ("mask", "unit_var"), ("mask", "mask_on")):
        d = select(r, mode=mode, metric=metric, seed=seed).sort_values("coord")
        if d.empty:
            raise LookupError(f"no {metric!r} of {mode} seed {seed}")
        out.append(d["value"].to_numpy())
    tv = out[0] / out[0].max() if out[0].max() > 0 else out[0]
    return tv, out[1], out[2]


def _seeds(t) -> list[int]:
    return sorted(int(s) for s in t.runs_of(E)["seed"].unique())


def _per_seed(fn):
    return lambda t: pd.Series({s: fn(t, s) for s in _seeds(t)})


def _acc(t, mode: str) -> pd.Series:
    return seed_values(select(final_acc(t.runs_of(E)), mode=mode))


def _retention(t) -> pd.Series:
    soft = seed_values(final_acc(select(t.runs_of(E), mode="mask"), "soft_train_acc"))
    return _acc(t, "mask") / soft


def _on_fraction(t) -> pd.Series:
    return seed_values(final_acc(select(t.runs_of(E), mode="mask"), "on_fraction"))


def _corr(t, seed: int) -> float:
    from ...stats import pearson

    tv, _, on = _vectors(t, seed)
    return pearson(tv, on)


def _more_on(t, seed: int) -> float:
    tv, _, on = _vectors(t, seed)
    return float((tv > float(t.experiment(E)["tv_threshold"])).sum() - on.sum())


CLAIMS = [
    Claim(
        f"{P}.{E}.bias_ge_mask",
        "bias learning is at least about as good as mask learning on the same weights",
        "acc_bias - acc_mask (hard mask, test set), median over seeds",
        ">=",
        lambda t: _acc(t, "bias") - _acc(t, "mask"),
        {"smoke": None, "quick": -0.01, "full": -0.01},
        min_seeds=3,
    ),
    Claim(
        f"{P}.{E}.hard_mask_retention",
        "the hard test-time mask keeps what the soft mask learned",
        "hard-mask test acc / soft-mask train acc, median over seeds",
        ">=",
        _retention,
        {"smoke": None, "quick": 0.8, "full": 0.8},
        min_seeds=3,
    ),
    Claim(
        f"{P}.{E}.mask_on_fraction",
        "the learned mask keeps a fraction of the units (paper about 0.45)",
        "fraction of units with s > 0, median over seeds",
        "in[]",
        _on_fraction,
        {"smoke": None, "quick": (0.1, 0.9), "full": (0.1, 0.9)},
        min_seeds=3,
    ),
    Claim(
        f"{P}.{E}.tv_mask_corr",
        "units the mask keeps are units with high task variance in the bias net (paper r about 0.46)",
        "Pearson r over units of the bias net's normalised TV and the mask (s > 0), median over seeds",
        "in",
        _per_seed(_corr),
        {"smoke": None, "quick": (0.1, 0.8), "full": (0.1, 0.8)},
        min_seeds=3,
    ),
    Claim(
        f"{P}.{E}.bias_more_on_units",
        "the bias net uses more units than the mask",
        "#units with normalised bias TV > tv_threshold (0.1) - #units with s > 0, median over seeds",
        ">",
        _per_seed(_more_on),
        {"smoke": None, "quick": 0.0, "full": 0.0},
        min_seeds=3,
    ),
]


# ---------------------------------------------------------------- figure


def figures(e: dict, cfg: dict) -> dict:
    return {f"{P}_fig2_mask_vs_bias": fig_mask}


def fig_mask(t):
    from ... import plotting

    acc = final_acc(t.runs_of(E))
    used = ", ".join(sorted(set(t.runs_of(E)["dataset"])))
    title = f"Fig 2: bias vs mask learning on the same random weights (data: {used})"
    fig, axes = plotting.panels(3, ncols=3, size=4.3, title=title)
    ax = axes[0]
    for i, mode in enumerate(("bias", "mask")):
        v = select(acc, mode=mode)["value"]
        ax.bar(i, v.mean(), yerr=v.sem() if len(v) > 1 else 0, color=COLOURS[mode], label=f"{mode} ({len(v)} seeds)")
        ax.plot(np.full(len(v), i), v, "k.", ms=5)
    soft = final_acc(select(t.runs_of(E), mode="mask"), "soft_train_acc")["value"]
    ax.bar(2, soft.mean(), color=COLOURS["mask"], alpha=0.4, label="mask, soft gate (train)")
    ax.set_xticks([0, 1, 2], ["bias", "mask\n(hard, test)", "mask\n(soft, train)"])
    readout = select(t.baselines_of(E), baseline="readout", metric="test_acc")["value"]
    if len(readout):
        ax.axhline(
            readout.mean(), color=COLOURS["readout"], ls="--", label=f"readout only (baseline, {readout.mean():.3f})"
        )
    lo = float(min(select(acc, mode=["bias", "mask"])["value"].min(), soft.min(), readout.min() if len(readout) else 1))
    ax.set(ylabel="accuracy", ylim=(max(0.0, lo - 0.1), 1.12))
    ax.legend(fontsize=7, loc="upper center", ncol=2)
    thresholds = np.linspace(0, 1, 41)
    seed = _seeds(t)[0]
    tv, unit_var, on = _vectors(t, seed)
    ax = axes[1]
    ax.plot(
        thresholds,
        [(tv > thr).sum() for thr in thresholds],
        color=COLOURS["bias"],
        label="bias net: units with TV > threshold",
    )
    ax.axhline(on.sum(), color=COLOURS["mask"], ls="--", label=f"mask: units with s > 0 ({int(on.sum())})")
    ax.axvline(float(t.experiment(E)["tv_threshold"]), color="tab:gray", ls=":", label="claim threshold")
    ax.set(xlabel="threshold on normalised task variance", ylabel=f"number of ON units (of {len(tv)})")
    ax.legend(fontsize=7)
    ax = axes[2]
    kept = on > 0
    ax.scatter(
        tv[kept], unit_var[kept] / max(unit_var.max(), 1e-300), s=4, color=COLOURS["mask"], alpha=0.5, label="mask ON"
    )
    ax.scatter(tv[~kept], np.zeros((~kept).sum()), s=4, color="tab:gray", alpha=0.5, label="mask OFF")
    ax.set(xlabel="bias net: normalised TV", ylabel="mask net: unit variance / max", title=f"seed {seed}")
    ax.set_title("(c)", loc="left", fontsize=10, fontweight="bold")
    ax.legend(fontsize=7)
    return fig
