"""Fig 3B's claims: the leading complex pair of the trained Jacobian D(b)W sits near the unit circle at the
cosine's angle.

No jobs of its own: the networks are trained (and their Jacobian eigenvalues logged at the start,
middle and end) by experiment ``fig3a`` (:mod:`.e_fig3ab_cosine`), which also draws the figure;
these claims read its runs. Switch this experiment off to skip them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...claims import Claim, Measured
from ...tables import Tables, per_member
from .. import Job

E = "fig3b"
SOURCE = "fig3a"
PRECISION = None
FIXED_POINT_TOL = 1e-6  # max |r* - relu(W r* + b)| for a state to count as a fixed point
REPRODUCED_R2 = 0.9  # a seed's net counts only if its generated output fits the cosine this well (final R²)


def jobs(e: dict, cfg: dict) -> list[Job]:
    return []


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    raise RuntimeError(f"{E} has no training jobs: its networks are trained by {SOURCE}")


def lead(metric: str):
    """Median over the seeds whose trained net reproduces the cosine (final R² >= REPRODUCED_R2) and has a
    fixed point (residual <= FIXED_POINT_TOL); the note lists every seed, and the others do not count
    towards ``min_seeds`` (a dead or exploded net's Jacobian says nothing about the learned oscillation)."""

    def measure(t: Tables) -> Measured:
        runs = t.runs_of(SOURCE, mode="bias")
        d = per_member(runs, metric)
        if d.empty:
            raise LookupError(f"no {SOURCE} bias runs with {metric} (is {SOURCE} enabled?)")
        res = per_member(runs, "fixed_point_residual").set_index("seed")["value"]
        r2 = per_member(runs, "r2").set_index("seed")["value"]
        values = d.set_index("seed")["value"]

        def why_not(s) -> str:
            if not r2.get(s, -math.inf) >= REPRODUCED_R2:
                return f" (not counted: R² {r2.get(s, math.nan):.3g} < {REPRODUCED_R2:g})"
            if not res.get(s, math.inf) <= FIXED_POINT_TOL or not math.isfinite(values[s]):
                return f" (not counted: no fixed point, residual {res.get(s, math.nan):.3g})"
            return ""

        ok = [s for s in values.index if not why_not(s)]
        note = "; ".join(f"seed {s}: {values[s]:.4g}{why_not(s)}" for s in values.index)
        return Measured(float(np.median(values[ok])) if ok else math.nan, n_seeds=len(ok), note=note)

    return measure


CLAIMS = [
    Claim(
        "williams2024.fig3b.jacobian_modulus",
        "after training, the leading complex eigenvalue pair of the Jacobian D(b)W has |λ| ≈ 1",
        "|λ| of the leading complex pair of the Jacobian at the fixed point, end of training; median over the seeds "
        "whose net reproduces the cosine (R² >= 0.9) and has a fixed point",
        "in[]",
        lead("jac_lead_modulus"),
        {"smoke": None, "quick": (0.9, 1.1), "full": (0.9, 1.1)},
        min_seeds=3,
        version=2,  # v2: seeds whose net does not reproduce the cosine no longer count
    ),
    Claim(
        "williams2024.fig3b.jacobian_period",
        "its angle matches the cosine's period 25 (paper: a decaying oscillation of period 23.75 mid-training)",
        "2 pi / |arg λ| of that pair, in steps, end of training; median over the seeds counted as for the modulus",
        "in[]",
        lead("jac_lead_period"),
        {"smoke": None, "quick": (20.0, 30.0), "full": (20.0, 30.0)},
        min_seeds=3,
        version=2,  # v2: seeds whose net does not reproduce the cosine no longer count
    ),
]
