"""E_c6 (full profile): the quadratic-model variants of Figs. 4-7 and the multi-sample leaky net of Fig. 9.

One job per figure ("part"); members are the learning rates from one shared initialisation.
The baselines give the Omega-based (eq. 138) and psi_eff-based (eqs. 154/163) window edges,
or eq. 180 for the leaky net.
"""

from __future__ import annotations

import math

import pandas as pd

from ...claims import Claim, Measured
from ...tables import select
from .. import Job
from .grid_common import common_params, lr_members
from .summary import initial, require, summary

E = "E_c6"
P = "meltzer2023.E_c6"
STEMS = {
    "fig04": "meltzer2023_fig04_quadratic_multi",
    "fig05": "meltzer2023_fig05_quadratic_ts",
    "fig06": "meltzer2023_fig06_quadratic_bias",
    "fig07": "meltzer2023_fig07_quadratic_bias_ts",
    "fig09": "meltzer2023_fig09_leaky_multi",
}
TITLES = {
    "fig04": "Pure quadratic model, d = 2, 32 points (Fig. 4)",
    "fig05": "Pure quadratic teacher-student, tanh meta-features (Fig. 5)",
    "fig06": "Quadratic model with bias, x = 1, y = 0 (Fig. 6)",
    "fig07": "Quadratic model with bias, teacher-student, tanh (Fig. 7)",
    "fig09": "Two-layer leaky-ReLU net (a = 1/2), 32 points (Fig. 9)",
}
EDGES = {"edge_upper": "psi_eff", "edge_upper_omega": "omega"}


def _check_part(part: str, q: dict) -> None:
    """What the schema cannot say about one quadratic part: masks smaller than the model, memory that fits."""
    from .grid_common import MAX_META_BYTES, config_check

    if q["model"] != "quadratic":
        return
    key, n = f"{E}.{part}", q["meta_dim"]
    config_check(q["masks_meta"] < n, f"{key}.masks_meta", f"{q['masks_meta']} masks leave none of meta_dim = {n}")
    config_check(
        q["feat_dim"] == 0 or q["masks_feat"] < q["feat_dim"],
        f"{key}.masks_feat",
        f"{q['masks_feat']} masks leave none of feat_dim = {q['feat_dim']}",
    )
    size = 8.0 * n * n * (q["n_train"] + 100)
    config_check(
        size <= MAX_META_BYTES,
        f"{key}.meta_dim",
        f"meta_dim = {n} with n_train = {q['n_train']} needs {size / 1e9:.0f} GB of meta-features "
        f"(limit {MAX_META_BYTES / 1e9:.0f} GB)",
    )


def jobs(e: dict, cfg: dict) -> list[Job]:
    out = []
    for part in e["parts"]:
        q = e[part]
        _check_part(part, q)
        loop = common_params({**q, "diverge_above": e["diverge_above"], "log_every": e["log_every"]})
        params = {**loop, **{k: v for k, v in q.items() if k != "eta_lambda0"}, "part": part}
        out.append(Job(E, part, params, members=lr_members([q["seed"]], q["eta_lambda0"])))
    return out


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    from . import trainer

    if job.params["model"] == "quadratic":
        return trainer.train_quadratic_part(job, ctx)
    return trainer.train_mlp(job, data, ctx)


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    import torch

    from . import baseline_rows as br
    from . import quadratic_parts, windows

    rows: list[dict] = []
    for job in jobs.values():
        if job.params["model"] == "quadratic":
            members = br.member_labels(runs, job.point)
            st = quadratic_parts.setup(job.params, len(members))
            q, ps = st["q"], st["params"]
            with torch.no_grad():
                edges = {k: v.numpy() for k, v in q.edges(ps, st["psi"], st["phi"]).items()}
                k0 = q.ntk(ps, st["psi"], st["phi"])
                r0 = (q.forward(ps, st["psi"], st["phi"]) - st["y"])[..., 0]
            up = edges.pop("edge_upper")
            rows += br.edge_rows(members, up, extra=edges)
            rows += br.kernel_linearised(members, k0, r0, int(job.params["steps"]))
            continue
        members, s, lam, _, lin = br.mlp_start(job, runs, data, ctx)
        rows += lin
        rows += br.edge_rows(members, windows.leaky_edge(lam, members["mean_sq_weight0"].to_numpy(), s["x"].numpy()))
    return br.frame(rows, E)


# ---------------------------------------------------------------- claims


def converged_max(s: pd.DataFrame, ratio: float) -> float:
    """Largest eta*lambda0 whose run did not diverge and ended below ``ratio`` times its initial loss."""
    ok = s[~s["diverged"].astype(bool) & (s["final_loss"] < ratio * s["loss0"])]
    return float(ok["eta_lambda0"].max()) if len(ok) else math.nan


def edge_margins(t) -> dict[str, tuple[float, float, float]]:
    """Per (part, edge): ``(edge, largest converging eta*lambda0, margin)``, the margin being
    ``min(edge - 2, largest - edge)`` (>= 0 exactly when 2 <= edge <= largest)."""
    runs = t.runs_of(E)
    s = require(summary(runs), E)
    s = s.merge(initial(runs).rename(columns={"value": "loss0"}), on=["point", "member"])
    ratio = t.experiment(E)["converged_below"]
    b = select(t.baselines_of(E), baseline="window")
    out = {}
    for pt, g in s.groupby("point"):
        top = converged_max(g, ratio)
        for metric, name in EDGES.items():
            e = select(b, point=pt, metric=metric)["value"]
            if e.empty:
                continue
            name = "leaky_eq180" if pt == "fig09" and name == "psi_eff" else name
            edge = float(e.median())
            out[f"{pt}.{name}"] = (edge, top, min(edge - 2.0, top - edge))
    return out


def _bounds(t) -> Measured:
    m = edge_margins(t)
    if not m:
        raise LookupError("no E_c6 window edges in the baselines table")
    note = "; ".join(f"{k}: edge {e:.3g}, largest converging {top:g}" for k, (e, top, _) in m.items())
    return Measured(min(v[2] for v in m.values()), note=note)


CLAIMS = [
    Claim(
        f"{P}.bounds_between_2_and_empirical_max",
        "every predicted window edge (Omega- and psi_eff-based) lies between 2 and the largest converging LR",
        "min over parts and edges of min(edge - 2, largest converging eta*lambda0 - edge)",
        ">=",
        _bounds,
        {"full": 0.0},
    ),
]


# ---------------------------------------------------------------- figures


def figures(e: dict, cfg: dict) -> dict:
    return {STEMS[part]: _part_figure(part) for part in e["parts"]}


def _part_figure(part: str):
    def fig(t):
        from . import panels

        r, b = t.runs_of(E, point=part), t.baselines_of(E, point=part)
        f = panels.six(r, b, TITLES[part], test="test_loss" in set(r["metric"]))
        omega = panels.edge(b, "edge_upper_omega")
        if omega is not None:
            for ax in f.axes[3:6]:
                ax.axvline(omega, color="tab:red", lw=1.5, label=f"Omega edge {omega:.2f}")
            f.axes[3].legend(fontsize=7)
        return f

    return fig
