"""Fig E2's recurrent panel: R² on van der Pol vs the number of trained parameters, bias-only RNNs of width N
against full RNNs of width n.

One job per width, members (seed) in one mode each. No figure or claims of its own: the stem
``williams2024_fige2_params`` (drawn with the feed-forward panel) reads the per-member final ``r2``
with the labels ``mode`` (bias / full), ``n_params`` (trainable count) and ``seed``.
"""

from __future__ import annotations

import pandas as pd

from .. import Job
from .e_fig3cd_vdp import train as _train_vdp
from .e_fig3cd_vdp import vdp_jobs

E = "fige2_rnn"
PRECISION = None


def jobs(e: dict, cfg: dict) -> list[Job]:
    sizes = {"bias": list(e["bias_widths"]), "full": list(e["full_widths"])}
    return vdp_jobs(E, e, sizes, [e["gain"]], {"bias": ["bias"], "full": ["full"]}, data_name="vdp_e2")


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    return _train_vdp(job, data, ctx)


def figures(e: dict, cfg: dict) -> dict:
    return {}


CLAIMS: list = []
