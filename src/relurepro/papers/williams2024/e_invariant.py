"""Claim 1: bias and mask training leave the weights bit-identical, and bias mode trains N + n_out parameters.

No jobs of its own: the measures scan every experiment's runs of the paper (feed-forward and recurrent)
for the per-member metrics ``frozen_max_change`` (max |W - W0| over a member's frozen tensors, logged at
the end of training) and ``trainable_excess`` (trainable count - (N + n_out) of a bias member). A run
table without them is an error, never a pass.
"""

from __future__ import annotations

import numpy as np

from ...claims import Claim, Measured
from ...tables import select
from .. import Job
from .common import P

E = "invariant"


def jobs(e: dict, cfg: dict) -> list[Job]:
    return []


def _worst(metric: str, absolute: bool):
    def measure(t) -> Measured:
        d = select(t.runs, metric=metric)
        if d.empty:
            raise LookupError(f"no run of any experiment logs {metric!r}")
        v = d["value"].abs() if absolute else d["value"]
        per = v.groupby(d["experiment"]).max()
        note = "; ".join(f"{k}: {x:.3g}" for k, x in per.items()) + f" ({len(d)} members)"
        return Measured(
            float(v.max()) if np.isfinite(v).all() else float("nan"), n_seeds=int(d["seed"].nunique()), note=note
        )

    return measure


CLAIMS = [
    Claim(
        f"{P}.{E}.weights_frozen",
        "weights stay bit-identical in bias, mask and readout training (FFN and RNN)",
        "max |W - W0| over the frozen tensors of every such member of every experiment",
        "==",
        _worst("frozen_max_change", absolute=False),
        {"smoke": 0.0, "quick": 0.0, "full": 0.0},
        kind="invariant",
    ),
    Claim(
        f"{P}.{E}.bias_param_count",
        "bias mode trains exactly N + n_out parameters",
        "max |trainable count - (N + n_out)| over the bias members of every experiment",
        "==",
        _worst("trainable_excess", absolute=True),
        {"smoke": 0.0, "quick": 0.0, "full": 0.0},
        kind="invariant",
    ),
]
