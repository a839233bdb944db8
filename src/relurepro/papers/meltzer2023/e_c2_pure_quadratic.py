"""E_c2: the pure quadratic model of Fig. 1 at (x, y) = (1, 0), with the eq. 154 window edge.

One job; members are the learning rates, all starting from the same theta_0 (one seed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim
from ...tables import select
from .. import Job
from .grid_common import common_params, lr_members
from .summary import all_profiles, frac, require, summary, vmax, vmin

E = "E_c2"
P = "meltzer2023.E_c2"
CATAPULT = (2.0, 3.5)  # (low, high]
LAZY_MAX = 1.9
DIVERGENT_FROM = 4.2


def jobs(e: dict, cfg: dict) -> list[Job]:
    keys = ("n", "lambda_low", "lambda_high", "x", "y")
    params = {**common_params(e), **{k: e[k] for k in keys}, "model": "pure_quadratic"}
    return [Job(E, f"n{e['n']}", params, members=lr_members([e["seed"]], e["eta_lambda0"]))]


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    from . import trainer

    return trainer.train_pure_quadratic(job, ctx)


def baselines(jobs: dict[str, Job], runs, data, ctx) -> pd.DataFrame:
    import torch

    from ... import ntk
    from . import baseline_rows as br
    from . import models, trainer, windows

    rows: list[dict] = []
    for job in jobs.values():
        members = br.member_labels(runs, job.point)
        psi, zeta, theta, lam0 = trainer.quadratic_setup(job, torch.device("cpu"))
        with torch.no_grad():
            k0 = ntk.ntk_quadratic(theta, psi, zeta)
            up = windows.quadratic_psi_eff_edge(theta, psi, zeta, k0).numpy()
            om = windows.quadratic_omega_edge(theta, psi, zeta, lam0).numpy()
            f0 = models.quadratic_forward(theta, psi, zeta)[:, :, 0].numpy()
        rows += br.edge_rows(members, up, extra={"edge_upper_omega": om})
        r0 = f0 - float(job.params["y"])
        rows += br.linearised(members, lam0.numpy()[:, None], r0**2, min(int(job.params["steps"]), br.LIN_STEPS))
    return br.frame(rows, E)


# ---------------------------------------------------------------- claims


def _s(t) -> pd.DataFrame:
    return require(summary(t.runs_of(E)), E)


def _catapult(t) -> pd.DataFrame:
    s = _s(t)
    return s[(s["eta_lambda0"] > CATAPULT[0]) & (s["eta_lambda0"] <= CATAPULT[1])]


def _lazy(t) -> pd.DataFrame:
    s = _s(t)
    return s[s["eta_lambda0"] <= LAZY_MAX]


def _edge(t) -> float:
    return vmax(select(t.baselines_of(E), baseline="window", metric="edge_upper")["value"])


def _diverged(t) -> float:
    s = _s(t)
    div = s[s["eta_lambda0"] >= DIVERGENT_FROM]
    return frac(div["diverged"].astype(bool) | ~np.isfinite(div["final_loss"]))


CLAIMS = [
    Claim(
        f"{P}.bound_in_window",
        "predicted upper edge (eq. 154) lies inside (2, 4)",
        "predicted upper edge (eta*lambda0)",
        "in",
        _edge,
        all_profiles((2.0, 4.0)),
    ),
    Claim(
        f"{P}.catapult_converges",
        "catapult phase converges",
        "eta*lambda0 in (2, 3.5]: frac with final loss < 1e-8",
        "==",
        lambda t: frac(_catapult(t)["final_loss"] < 1e-8),
        all_profiles(1.0),
    ),
    Claim(
        f"{P}.catapult_loss_spike",
        "catapult: loss spikes",
        "same LRs: min max_t L_t/L_0",
        ">",
        lambda t: vmin(_catapult(t)["loss_max_ratio"]),
        all_profiles(1.0),
    ),
    Claim(
        f"{P}.catapult_curvature_drops",
        "catapult: curvature ends below 2/eta",
        "same LRs: max eta*lambda_inf",
        "<",
        lambda t: vmax(_catapult(t)["eta_lambda_final"]),
        all_profiles(2.0),
    ),
    Claim(
        f"{P}.catapult_norm_drops",
        "catapult: weight norm drops",
        "same LRs: max theta^2_inf/theta^2_0",
        "<",
        lambda t: vmax(_catapult(t)["theta2_final_ratio"]),
        all_profiles(1.0),
    ),
    Claim(
        f"{P}.lazy_curvature",
        "lazy: curvature constant",
        "eta*lambda0 <= 1.9: max |eta*lambda_inf - eta*lambda0|",
        "<",
        lambda t: vmax(np.abs(_lazy(t)["eta_lambda_final"] - _lazy(t)["eta_lambda0"])),
        all_profiles(0.1),
    ),
    Claim(
        f"{P}.lazy_norm",
        "lazy: weight norm kept",
        "eta*lambda0 <= 1.9: min theta^2_inf/theta^2_0",
        ">",
        lambda t: vmin(_lazy(t)["theta2_final_ratio"]),
        all_profiles(0.95),
    ),
    Claim(
        f"{P}.diverges_above_4_2",
        "divergent above 4.2",
        "eta*lambda0 >= 4.2: frac diverged",
        "==",
        _diverged,
        all_profiles(1.0),
    ),
]


# ---------------------------------------------------------------- figure


def figures(e: dict, cfg: dict) -> dict:
    return {"meltzer2023_fig01_pure_quadratic": fig_pure_quadratic}


def fig_pure_quadratic(t):
    from . import panels

    r, b = t.runs_of(E), t.baselines_of(E)
    n = int(r["width"].iloc[0])
    return panels.six(r, b, f"Pure quadratic model (Fig. 1): n = {n}, x = 1, y = 0")
