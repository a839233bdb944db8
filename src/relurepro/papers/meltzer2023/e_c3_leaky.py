"""E_c3: two-layer leaky-ReLU nets at (x, y) = (1, 0), Figs. 2 (a = 1/2) and 8 (a = 3/4), with the eq. 180 edge.

One job per slope; members are the learning rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim
from ...tables import select
from .. import Job
from .grid_common import common_params, fmt, lr_members
from .summary import all_profiles, frac, require, summary, vmax

E = "E_c3"
P = "meltzer2023.E_c3"
CONVERGED_BELOW = 1e-8  # [DESIGN] a catapult run counts as converged below this final loss


def jobs(e: dict, cfg: dict) -> list[Job]:
    from .grid_common import distinct_names

    distinct_names(f"{E}.slopes", e["slopes"], fmt)
    members = lr_members([e["seed"]], e["eta_lambda0"])
    out = []
    for a in e["slopes"]:
        params = {**common_params(e), "width": e["width"], "slope": a, "x": e["x"], "y": e["y"], "model": "leaky"}
        out.append(Job(E, f"a{fmt(a)}_w{e['width']}", params, members=members))
    return out


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    from . import trainer

    return trainer.train_mlp(job, data, ctx)


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    from . import baseline_rows as br
    from . import windows

    rows: list[dict] = []
    for job in jobs.values():
        members, s, lam, _, lin = br.mlp_start(job, runs, data, ctx)
        rows += lin
        rows += br.edge_rows(members, windows.leaky_edge(lam, members["mean_sq_weight0"].to_numpy(), s["x"].numpy()))
    return br.frame(rows, E)


# ---------------------------------------------------------------- claims


def _s(t) -> pd.DataFrame:
    return require(summary(t.runs_of(E)), E)


def _edges(t) -> pd.Series:
    """The eq. 180 upper edge per point (every member of a point shares its input, hence its edge formula)."""
    b = select(t.baselines_of(E), baseline="window", metric="edge_upper")
    if b.empty:
        raise LookupError("no window edges of E_c3 in the baselines table")
    return b.drop_duplicates("point").set_index("point")["value"]


def _first(t) -> pd.DataFrame:
    return _s(t).drop_duplicates("point").set_index("point")


def _formula_exact(t) -> float:
    edges, first = _edges(t), _first(t)
    formula = 2 * first["lambda0"] / first["mean_sq_weight0"]
    return vmax(np.abs(edges - formula.reindex(edges.index)))


def _near(t) -> float:
    edges, first = _edges(t), _first(t)
    return vmax(np.abs(edges - 2 * (1 + first["slope"].reindex(edges.index) ** 2)))


def _window(t) -> float:
    s, edges = _s(t), _edges(t)
    ok = []
    for pt, g in s.groupby("point"):
        w = g[(g["eta_lambda0"] > 2) & (g["eta_lambda0"] < edges.get(pt, np.nan))]
        ok += list((w["final_loss"] < CONVERGED_BELOW) & (w["loss_max_ratio"] > 1) & (w["eta_lambda_final"] < 2))
    return frac(ok)


def _lazy_curvature(t) -> float:
    s = _s(t)
    lazy = s[s["eta_lambda0"] < 2]
    return vmax(np.abs(lazy["eta_lambda_final"] - lazy["eta_lambda0"]))


CLAIMS = [
    Claim(
        f"{P}.bound_formula_exact",
        "window edge equals 2 lambda0 / mean theta0^2 (x = 1): the baseline's eq. 180 against the trained "
        "members' own lambda0 and initial weights (catches a mismatch between the two stages)",
        "max |edge - 2 lambda0/mean theta0^2|",
        "<",
        _formula_exact,
        all_profiles(1e-6),
        kind="invariant",
    ),
    Claim(
        f"{P}.bound_near_2_1_plus_a2",
        "edge close to 2(1 + a^2)",
        "max over slopes |edge - 2(1 + a^2)|",
        "<=",
        _near,
        all_profiles(0.2),
    ),
    Claim(
        f"{P}.catapult_window",
        "every LR inside (2, edge) catapults and converges",
        "frac with final loss < 1e-8, max L > L0, eta*lambda_inf < 2",
        "==",
        _window,
        all_profiles(1.0),
    ),
    Claim(
        f"{P}.lazy_curvature",
        "lazy: curvature constant",
        "eta*lambda0 < 2: max |eta*lambda_inf - eta*lambda0|",
        "<",
        _lazy_curvature,
        all_profiles(0.1),
    ),
]


# ---------------------------------------------------------------- figures


def _fmt_slope(a: float) -> str:
    return f"{int(round(a * 100)):03d}"


def leaky_stem(a: float) -> str:
    known = {0.5: "meltzer2023_fig02_leaky_a050", 0.75: "meltzer2023_fig08_leaky_a075"}
    return known.get(round(float(a), 6), f"meltzer2023_fig_leaky_a{_fmt_slope(a)}")


def figures(e: dict, cfg: dict) -> dict:
    return {leaky_stem(a): _leaky_figure(a) for a in e["slopes"]}


def _leaky_figure(a: float):
    def fig(t):
        from . import panels

        r = t.runs_of(E)
        r = r[np.isclose(r["slope"], a)]
        b = select(t.baselines_of(E), point=list(r["point"].unique()))
        w = int(r["width"].iloc[0])
        return panels.six(
            r,
            b,
            f"Two-layer leaky-ReLU net, slope a = {a:g}, width {w}, x = 1, y = 0 (edge $2\\lambda_0/\\bar\\theta_0^2$)",
        )

    return fig
