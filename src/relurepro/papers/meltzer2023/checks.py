"""Self-checks shared by the unit tests and the E_c0 claim: analytic NTKs against autograd."""

from __future__ import annotations

import torch

from ... import ntk
from . import models


def ntk_max_rel_error(seed: int = 0) -> float:
    """Max relative error (Frobenius) of the analytic NTKs against ``torch.func`` Jacobians, float64."""
    g = torch.Generator().manual_seed(seed)
    errs = []
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
        errs.append(float((got - ref).norm() / ref.norm()))
        if depth == 1:
            got2 = ntk.ntk_two_layer(params[0], params[1], x, act, slope, 5, 16)[0]
            errs.append(float((got2 - ref).norm() / ref.norm()))
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
        errs.append(float((got - ref).norm() / ref.norm()))
    # quadratic model with bias (teacher-student masks), eq. 1 with phi . psi = 0
    from .quadratic_parts import Quadratic

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
    errs.append(float((got - ref).norm() / ref.norm()))
    return max(errs)
