"""Fig 3B's claims: the leading complex pair of the trained Jacobian D(b)W sits near the unit circle at the
cosine's angle.

No jobs of its own: the networks are trained (and their Jacobian eigenvalues logged at the start,
middle and end) by experiment ``fig3a`` (:mod:`.e_fig3ab_cosine`), which also draws the figure;
these claims read its runs. Switch this experiment off to skip them.
"""

from __future__ import annotations

import pandas as pd

from ...claims import Claim
from ...tables import Tables, per_member
from .. import Job

E = "fig3b"
SOURCE = "fig3a"
PRECISION = None


def jobs(e: dict, cfg: dict) -> list[Job]:
    return []


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    raise RuntimeError(f"{E} has no training jobs: its networks are trained by {SOURCE}")


def lead(metric: str):
    def measure(t: Tables) -> pd.Series:
        d = per_member(t.runs_of(SOURCE, mode="bias"), metric)
        if d.empty:
            raise LookupError(f"no {SOURCE} bias runs with {metric} (is {SOURCE} enabled?)")
        return d.set_index("seed")["value"]

    return measure


CLAIMS = [
    Claim(
        "williams2024.fig3b.jacobian_modulus",
        "after training, the leading complex eigenvalue pair of the Jacobian D(b)W has |λ| ≈ 1",
        "|λ| of the leading complex pair of the Jacobian at the mean late state, end of training; median over seeds",
        "in[]",
        lead("jac_lead_modulus"),
        {"smoke": None, "quick": (0.9, 1.1), "full": (0.9, 1.1)},
        min_seeds=3,
    ),
    Claim(
        "williams2024.fig3b.jacobian_period",
        "its angle matches the cosine's period 25 (paper: a decaying oscillation of period 23.75 mid-training)",
        "2 pi / |arg λ| of that pair, in steps, end of training; median over seeds",
        "in[]",
        lead("jac_lead_period"),
        {"smoke": None, "quick": (20.0, 30.0), "full": (20.0, 30.0)},
        min_seeds=3,
    ),
]
