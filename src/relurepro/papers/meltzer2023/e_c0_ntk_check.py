"""E_c0: the analytic NTKs (spec §8) against autograd, in float64, as an experiment.

One job compares ``ntk.ntk_mlp`` (two- and three-layer MLPs, several activations), the spec's
two-layer closed form ``ntk.ntk_two_layer`` and the quadratic-model kernels with
``torch.func.jacrev`` Jacobians of the independent op-by-op forwards in :mod:`.models`, and
writes each case's relative error and their maximum as metric rows. The claims stage only
reads that row, so it never imports torch.
"""

from __future__ import annotations

import pandas as pd

from ...claims import Claim
from ...tables import select
from .. import Job


def jobs(e: dict, cfg: dict) -> list[Job]:
    return [Job("E_c0", "check", {"seed": int(e["seed"])}, members=({"seed": int(e["seed"])},))]


def ntk_errors(seed: int = 0) -> dict[str, float]:
    """Relative error (Frobenius) of each analytic NTK against ``torch.func`` Jacobians, float64."""
    import torch

    from ... import ntk
    from . import models
    from .quadratic_parts import Quadratic

    g = torch.Generator().manual_seed(seed)
    errs: dict[str, float] = {}
    x = torch.rand(6, 5, generator=g, dtype=torch.float64)
    for depth, act in ((1, "relu"), (1, "leaky"), (1, "tanh"), (2, "relu"), (2, "leaky")):
        params = [p.detach() for p in models.mlp_init([seed], 5, 16, depth)]
        slope = torch.tensor([0.3], dtype=torch.float64)
        scale = models.mlp_scale(5, 16, depth)
        shapes = [p.shape[1:] for p in params]
        flat = torch.cat([p[0].reshape(-1) for p in params])

        def fn(v, shapes=shapes, scale=scale, act=act, slope=slope):
            ps, i = [], 0
            for s in shapes:
                n = s.numel()
                ps.append(v[i : i + n].reshape(1, *s))
                i += n
            return models.mlp_forward(ps, x, act, slope, scale)[0].reshape(-1)

        ref = ntk.ntk_autograd(fn, flat)
        got = ntk.ntk_mlp(params, x, act, slope, scale)[0]
        errs[f"mlp_L{depth}_{act}"] = float((got - ref).norm() / ref.norm())
        if depth == 1:
            got2 = ntk.ntk_two_layer(params[0], params[1], x, act, slope, 5, 16)[0]
            errs[f"two_layer_closed_form_{act}"] = float((got2 - ref).norm() / ref.norm())
    meta = models.quadratic_meta(8, 2, 0.9, 1.1, seed)
    xq = torch.rand(4, 2, generator=g, dtype=torch.float64) - 0.5
    for act in ("linear", "tanh"):
        psi = models.quadratic_psi(meta, xq, act)
        theta = torch.randn(1, 8, generator=g, dtype=torch.float64)
        zeta = (8 / 2) ** -0.5
        ref = ntk.ntk_autograd(
            lambda v, psi=psi, zeta=zeta: models.quadratic_forward(v[None], psi, zeta).reshape(-1), theta[0]
        )
        got = ntk.ntk_quadratic(theta, psi, zeta)[0]
        errs[f"pure_quadratic_{act}"] = float((got - ref).norm() / ref.norm())
    # quadratic model with bias (teacher-student masks), eq. 1 with phi . psi = 0
    q = Quadratic(
        {
            "meta_dim": 12,
            "feat_dim": 6,
            "masks_meta": 2,
            "masks_feat": 1,
            "d": 2,
            "lambda_low": 1.0,
            "lambda_high": 1.0,
            "seed": seed,
            "psi_act": "tanh",
        }
    )
    xb = torch.rand(5, 2, generator=g, dtype=torch.float64) - 0.5
    psi, phi = q.psi(xb), q.phi(xb)
    params = [p.detach() for p in q.init(1)]
    n_m = params[0].shape[1]

    def fb(v):
        return q.forward([v[None, :n_m], v[None, n_m:]], psi, phi).reshape(-1)

    ref = ntk.ntk_autograd(fb, torch.cat([params[0][0], params[1][0]]))
    got = q.ntk(params, psi, phi)[0]
    errs["quadratic_with_bias_tanh"] = float((got - ref).norm() / ref.norm())
    return errs


def ntk_max_rel_error(seed: int = 0) -> float:
    """The largest relative error over every case of :func:`ntk_errors`."""
    return max(ntk_errors(seed).values())


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    seed = int(job.params["seed"])
    errs = ntk_errors(seed)
    rows = [
        {"member": 0, "seed": seed, "step": 0, "metric": "rel_error", "case": k, "value": v} for k, v in errs.items()
    ]
    rows.append(
        {"member": 0, "seed": seed, "step": 0, "metric": "max_rel_error", "case": "all", "value": max(errs.values())}
    )
    ctx.log(f"meltzer2023 {job.key}: max relative error {max(errs.values()):.3g} over {len(errs)} kernels")
    return pd.DataFrame(rows)


def _max_rel_error(t) -> float:
    d = select(t.runs_of("E_c0"), metric="max_rel_error")
    if d.empty:
        raise LookupError("no max_rel_error row of E_c0 in the runs table")
    return float(d["value"].max())


CLAIMS = [
    Claim(
        "meltzer2023.E_c0.ntk_analytic_matches_autograd",
        "analytic NTKs (two-layer closed form, 2- and 3-layer MLPs, quadratic models) equal autograd",
        "max relative error, float64",
        "<",
        _max_rel_error,
        thresholds={"smoke": 1e-5, "quick": 1e-5, "full": 1e-5},
        kind="invariant",
    ),
]
