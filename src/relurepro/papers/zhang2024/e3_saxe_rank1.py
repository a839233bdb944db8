"""E3: the Saxe closed form for a rank-1 teacher; leaky nets learn at rate ``2 c s`` from their own init."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim
from ...tables import Tables, members, select
from .. import Job
from . import shallow

EXP = "E3"
STEM = "zhang2024_fig_saxe_rank1"


def jobs(e: dict, cfg: dict) -> list[Job]:
    return shallow.teacher_jobs(EXP, e)


train = shallow.train
baselines = shallow.baselines

CLAIMS = [
    shallow.saxe_fit_claim(
        EXP,
        "the Saxe closed form from each run's own init tracks the loss of every leaky net",
        "max over runs and t of |L - L_theory| / L0",
        0.05,
    ),
    Claim(
        "zhang2024.E3.half_time",
        "each mode is half-learned when the closed form says (t_half = ln(s/u0 - 1) / (2 c s))",
        "max over runs and modes of |t_half_sim / t_half_theory - 1|",
        "<=",
        shallow.half_time(EXP),
        thresholds={"smoke": 0.02, "quick": 0.02, "full": 0.02},
    ),
]


def figures(e: dict, cfg: dict) -> dict:
    return {STEM: draw}


def draw(t: Tables):
    from ... import plotting

    grid = select(t.runs_of(EXP), metric="loss", role="relu")[["H", "sigma0"]].drop_duplicates()
    n = 3 if len(grid) > 1 else 2
    fig, ax = plotting.panels(n, ncols=n, title="Rank-1 teacher: leaky nets follow the Saxe closed form with rate 2cs")
    shallow.saxe_panels(t, EXP, ax[0], ax[1])
    if n == 3:
        out = []
        for r in members(t.runs_of(EXP, metric="loss"), role="relu").itertuples():
            out.append((r.H, r.sigma0, shallow.saxe_error(t, EXP, r.point, r.member)))
        err = pd.DataFrame(out, columns=["H", "sigma0", "err"]).groupby(["H", "sigma0"])["err"].max().unstack()
        im = ax[2].imshow(err.to_numpy(), cmap="magma_r", aspect="auto")
        ax[2].set_xticks(range(err.shape[1]), [f"{v:g}" for v in err.columns])
        ax[2].set_yticks(range(err.shape[0]), [str(int(v)) for v in err.index])
        ax[2].set(xlabel="σ0", ylabel="H", title="max |L − L_th| / L0")
        ax[2].grid(False)
        for (i, j), v in np.ndenumerate(err.to_numpy()):
            ax[2].text(j, i, f"{v:.3f}", ha="center", va="center", fontsize=8)
        fig.colorbar(im, ax=ax[2])
    return fig
