"""E_a2: the circle, DLGN (trained gates) vs frozen gates vs DLN vs ReLU MLP (figures A2-A4 of the spec).

Jobs: one per model family (trained and frozen DLGNs share one ensemble; DLN; ReLU), members are seeds.
Baselines: logistic regression on the same split, and kernel ridge with the init and the trained
hard-gate overlap kernels rebuilt from the stored hyperplanes (their gap isolates feature learning).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim
from .. import Job
from .common import by_seed, paired, vector_at

E = "E_a2"
P = "yadav2024.E_a2"
PRECISION = None  # trains in its own key experiments.E_a2.dtype
DATA = "circle"


def data_spec(e: dict) -> dict:
    return {
        "kind": "circle",
        "seed": int(e["data_seed"]),
        "n_train": int(e["n_train"]),
        "n_test": int(e["n_test"]),
        "radius": float(e["radius"]),
    }


def jobs(e: dict, cfg: dict) -> list[Job]:
    from .common import check_circle_section, family_of, job_params, members

    check_circle_section(e, E)
    out = []
    for width in e["widths"]:
        for family in dict.fromkeys(family_of(v) for v in e["variants"]):
            variants = [v for v in e["variants"] if family_of(v) == family]
            params = job_params(e, DATA, family, outputs=1, width=width)
            point = f"{family}_m{width}"
            out.append(Job(E, point, params, {DATA: data_spec(e)}, members=members(e["seeds"], variants)))
    return out


def main_runs(t) -> pd.DataFrame:
    """E_a2's runs at the first listed width (the one the claims and the structure figures read)."""
    r = t.runs_of(E)
    if r.empty:
        raise LookupError("no E_a2 runs")
    widths = t.experiment(E).get("widths") or sorted(r["width"].unique())
    return r[r["width"] == int(widths[0])]


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    from . import trainer

    return trainer.train(job, data, ctx)


# ---------------------------------------------------------------- baselines


def hard_gates_from_hyperplanes(w0, w1, b, x: np.ndarray, depth: int) -> list[np.ndarray]:
    """Hard gates ``[N, m]`` per layer from stored effective hyperplanes (coord = layer * m + unit)."""
    g = (np.outer(x[:, 0], w0) + np.outer(x[:, 1], w1) + b > 0).astype(np.float64)
    return np.split(g, depth, axis=1)


def kernel_from_gates(ga: list[np.ndarray], gb: list[np.ndarray]) -> np.ndarray:
    """``prod_l G^l(a) G^l(b)^T / m`` (each factor divided by the width, as the group's DLGN_Kernel does)."""
    k = np.ones((ga[0].shape[0], gb[0].shape[0]))
    for a, b in zip(ga, gb):
        k *= a @ b.T / a.shape[1]
    return k


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    from ...references import kernel_ridge, logistic_regression

    arr = data[DATA]
    xtr, ytr, xte, yte = arr["x_train"], arr["y_train"], arr["x_test"], arr["y_test"]
    rows = []
    lr = logistic_regression(xtr, ytr, xte, yte)
    rows.append(
        {
            "baseline": "logistic_regression",
            "variant": "logistic",
            "seed": -1,
            "point": "circle",
            "metric": "test_acc",
            "value": lr["test_acc"],
        }
    )
    for point, job in jobs.items():
        p = job.params
        if p["family"] != "dlgn":
            continue
        depth, n_k, lam = int(p["depth"]), int(p["n_kernel"]), float(p["ridge_lam"])
        ypm, ytest_pm = 2.0 * ytr[:n_k] - 1.0, 2.0 * yte - 1.0
        dl = runs[runs["point"] == point]
        for variant in dl["variant"].unique():
            for when in ("init", "final"):
                hp = {k: vector_at(dl, k, when, variant=variant) for k in ("hp_w0", "hp_w1", "hp_b")}
                for seed in hp["hp_b"]:
                    w0, w1, b = (hp[k][seed] for k in ("hp_w0", "hp_w1", "hp_b"))
                    g_tr = hard_gates_from_hyperplanes(w0, w1, b, xtr[:n_k], depth)
                    g_te = hard_gates_from_hyperplanes(w0, w1, b, xte, depth)
                    fit = kernel_ridge(kernel_from_gates(g_tr, g_tr), ypm, lam, kernel_from_gates(g_te, g_tr))
                    acc = float(np.mean(np.sign(fit["test_pred"]) == ytest_pm))
                    rows.append(
                        {
                            "baseline": f"kernel_ridge_{when}",
                            "variant": variant,
                            "seed": int(seed),
                            "width": int(p["width"]),
                            "point": point,
                            "metric": "test_acc",
                            "value": acc,
                        }
                    )
    return pd.DataFrame(rows).assign(step=0)


# ---------------------------------------------------------------- claims


def _runs(t) -> pd.DataFrame:
    return main_runs(t)


def _final(metric: str, variant: str):
    return lambda t: by_seed(_runs(t), metric, variant=variant)


def _hard_gap(t) -> pd.Series:
    r = _runs(t)
    return paired(by_seed(r, "test_acc_hard", variant="dlgn"), by_seed(r, "test_acc_hard", variant="frozen"))


def _alignment_rise(t) -> pd.Series:
    r = _runs(t)
    return paired(by_seed(r, "alignment", "last", variant="dlgn"), by_seed(r, "alignment", "first", variant="dlgn"))


def _near_rise(t) -> pd.Series:
    r = _runs(t)
    init, final = (
        vector_at(r, "near_circle", "init", variant="dlgn"),
        vector_at(r, "near_circle", "final", variant="dlgn"),
    )
    return pd.Series({s: float(np.mean(final[s]) - np.mean(init[s])) for s in final})


def offset_spread_ratio(offsets: np.ndarray, depth: int) -> float:
    """Spread of the last layer's hyperplane offsets over that of the first layer's, each spread the
    interquartile range (robust to the few units of tiny ||w~|| whose hyperplanes lie far outside the square)."""
    per_layer = [np.subtract(*np.percentile(v, [75, 25])) for v in np.split(np.asarray(offsets), depth)]
    return float(per_layer[-1] / max(per_layer[0], 1e-12))


def _clustering(t) -> pd.Series:
    r = _runs(t)
    depth = int(r["depth"].dropna().iloc[0])
    final = vector_at(r, "offset", "final", variant="dlgn")
    return pd.Series({s: offset_spread_ratio(v, depth) for s, v in final.items()})


def _thresholds(smoke, quick, full=None):
    return {"smoke": smoke, "quick": quick, "full": quick if full is None else full}


CLAIMS = [
    Claim(
        f"{P}.dln_fails",
        "the deep linear network cannot separate the disc (a linear classifier)",
        "DLN test accuracy after training, median over seeds",
        "<=",
        _final("test_acc", "dln"),
        _thresholds(0.65, 0.65),
        min_seeds=3,
    ),
    Claim(
        f"{P}.dlgn_soft_acc",
        "the trained DLGN fits the disc with soft gates",
        "trained DLGN test accuracy, soft gates sigmoid(beta g), median over seeds",
        ">=",
        _final("test_acc", "dlgn"),
        # smoke trains 60 epochs on 1,000 points: measured 0.971 (seeds 0.961-0.98), so 0.9 there
        _thresholds(0.9, 0.95),
        min_seeds=3,
    ),
    Claim(
        f"{P}.dlgn_hard_acc",
        "the trained DLGN keeps its accuracy with hard gates 1[g > 0] at test time",
        "trained DLGN test accuracy with hard gates, median over seeds",
        ">=",
        _final("test_acc_hard", "dlgn"),
        _thresholds(0.9, 0.93),  # smoke measured 0.954 (worst seed 0.943)
        min_seeds=3,
    ),
    Claim(
        f"{P}.trained_beats_frozen_hard",
        "learning the gates (features) beats fixed random gates under hard-gate evaluation",
        "hard-gate test accuracy, trained DLGN minus frozen gates (same seed), median over seeds",
        ">=",
        _hard_gap,
        _thresholds(0.02, 0.03),  # smoke measured 0.057 (worst seed 0.042)
        min_seeds=3,
    ),
    Claim(
        f"{P}.kernel_alignment_rises",
        "the hard-gate overlap kernel aligns with the labels during training",
        "alignment(final) - alignment(init) of the trained DLGN's hard-gate kernel, median over seeds "
        "(a margin: a bare > 0 passes on noise)",
        ">",
        _alignment_rise,
        # smoke (60 epochs) measured 0.011, worst seed 0.009: too close to the margin to judge, reported there
        _thresholds(None, 0.01),
        min_seeds=3,
    ),
    Claim(
        f"{P}.hyperplanes_move_to_boundary",
        "gating hyperplanes move to the label discontinuity (the circle)",
        "mean over layers of the near-circle fraction (||b~|/||w~|| - r| < near_tol), final - init, trained DLGN, "
        "median over seeds (a margin: a bare > 0 passes on noise)",
        ">",
        _near_rise,
        _thresholds(0.02, 0.05),  # smoke measured 0.125 (worst seed 0.0625)
        min_seeds=3,
    ),
    Claim(
        f"{P}.later_layer_clustering",
        "later-layer hyperplanes cluster more than first-layer ones (not robust in calibration: reported)",
        "IQR of the last layer's offsets |b~|/||w~|| / IQR of the first layer's, after training, median over seeds "
        "(< 1 = the last layer clusters more)",
        "report",
        _clustering,
        _thresholds(None, None),
    ),
]


# ---------------------------------------------------------------- figures


def figures(e: dict, cfg: dict) -> dict:
    from . import fig_circle

    out = {"yadav2024_fig_accuracy": fig_circle.accuracy}
    if any(v in e["variants"] for v in ("dlgn", "frozen")):
        out.update(
            yadav2024_fig_halfspaces=fig_circle.halfspaces,
            yadav2024_fig_kernel=fig_circle.kernel,
            yadav2024_fig_layer_offsets=fig_circle.layer_offsets,
        )
    return out
