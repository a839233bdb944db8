"""E_c6 (full profile): the quadratic-model variants of Figs. 4-7 and the multi-sample leaky net of Fig. 9.

One job per figure ("part"). The general quadratic model is
``z(x) = theta_f . phi(x) + (zeta/2) theta_m^T psi(x) theta_m`` with ``phi(x) = x^T U / sqrt(d feat)``; the pure
model has no ``theta_f``. Teacher-student parts label the data with a teacher that uses every coordinate while the
student drops ``masks`` random coordinates (spec §2).
"""

from __future__ import annotations

import numpy as np
import torch

from ... import ntk
from . import models, windows

PARTS = ("fig04", "fig05", "fig06", "fig07", "fig09")


def _gen(seed: int, offset: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed) * 1000 + offset)


def inputs(p: dict):
    """Training and test inputs/targets of a part (before teacher labelling), float64 tensors."""
    g = _gen(p["seed"], 7)
    d = int(p["d"])
    lo, hi = p["x_range"]
    if p["n_train"] == 1:
        x = torch.full((1, d), float(p["x_single"]), dtype=torch.float64)
        xt = None
    else:
        x = lo + (hi - lo) * torch.rand(p["n_train"], d, generator=g, dtype=torch.float64)
        xt = lo + (hi - lo) * torch.rand(p["n_test"], d, generator=g, dtype=torch.float64) if p["n_test"] else None
    y = torch.randn(len(x), 1, generator=g, dtype=torch.float64)
    yt = torch.randn(len(xt), 1, generator=g, dtype=torch.float64) if xt is not None else None
    if p["n_train"] == 1:
        y = torch.full((1, 1), float(p["y_single"]), dtype=torch.float64)
    return x, y, xt, yt


class Quadratic:
    """A (student) quadratic model with shared meta-features; ``keep_m``/``keep_f`` select the coordinates it uses."""

    def __init__(self, p: dict):
        self.p = p
        n, feat, d = int(p["meta_dim"]), int(p.get("feat_dim", 0)), int(p["d"])
        self.meta = models.quadratic_meta(n, d, p["lambda_low"], p["lambda_high"], p["seed"])
        g = _gen(p["seed"], 3)
        self.u = torch.randn(d, feat, generator=g, dtype=torch.float64) if feat else None
        self.keep_m = torch.sort(torch.randperm(n, generator=g)[: n - int(p.get("masks_meta", 0))])[0]
        self.keep_f = (
            torch.sort(torch.randperm(feat, generator=g)[: feat - int(p.get("masks_feat", 0))])[0] if feat else None
        )
        self.zeta = (len(self.keep_m) / 2) ** -0.5
        self.zeta_teacher = (n / 2) ** -0.5
        self.act = p.get("psi_act", "linear")

    def psi(self, x, student=True):
        psi = models.quadratic_psi(self.meta, x, self.act)
        return psi[:, self.keep_m][:, :, self.keep_m] if student else psi

    def phi(self, x, student=True):
        if self.u is None:
            return None
        ph = x @ self.u / np.sqrt(self.u.shape[0] * self.u.shape[1])
        return ph[:, self.keep_f] if student else ph

    def teacher_labels(self, x, chunk=100):
        g = _gen(self.p["seed"], 5)
        tm = torch.randn(self.meta.shape[1], generator=g, dtype=torch.float64)
        tf = torch.randn(self.u.shape[1], generator=g, dtype=torch.float64) if self.u is not None else None
        out = []
        for i in range(0, len(x), chunk):
            xs = x[i : i + chunk]
            z = models.quadratic_forward(tm[None], self.psi(xs, False), self.zeta_teacher)[0]
            if tf is not None:
                z = z + (self.phi(xs, False) @ tf)[:, None]
            out.append(z)
        return torch.cat(out)

    def init(self, n_members: int):
        g = _gen(self.p["seed"], 11)
        tm = torch.randn(len(self.keep_m), generator=g, dtype=torch.float64)
        params = [tm.expand(n_members, -1).clone().requires_grad_()]
        if self.u is not None:
            tf = torch.randn(len(self.keep_f), generator=g, dtype=torch.float64)
            params.append(tf.expand(n_members, -1).clone().requires_grad_())
        return params

    def forward(self, params, psi, phi):
        z = models.quadratic_forward(params[0], psi, self.zeta)
        if phi is not None:
            z = z + (params[1] @ phi.T)[..., None]
        return z

    def ntk(self, params, psi, phi):
        k = ntk.ntk_quadratic(params[0], psi, self.zeta)
        if phi is not None:
            k = k + (phi @ phi.T)[None] / psi.shape[0]
        return k

    def edges(self, params, psi, phi) -> dict[str, torch.Tensor]:
        """Eq. 154 (psi_eff), eq. 138 (Omega; pure model) and eq. 163 (with bias) per member."""
        with torch.no_grad():
            k0 = self.ntk(params, psi, phi)
            evals, evecs = torch.linalg.eigh(k0)
            lam0, v = evals[:, -1], evecs[..., -1]
            b = psi.shape[0]
            psi_eff = torch.einsum("ma,aij->mij", v, psi) / np.sqrt(b)
            top = torch.linalg.eigvalsh(psi_eff @ psi_eff)[:, -1]
            tm2 = params[0].pow(2).sum(1)
            if phi is None:
                return {
                    "edge_upper": windows.quadratic_psi_eff_edge(params[0], psi, self.zeta, k0),
                    "edge_upper_omega": windows.quadratic_omega_edge(params[0], psi, self.zeta, lam0),
                }
            phi_eff = torch.einsum("ma,af->mf", v, phi) / np.sqrt(b)
            pe2 = phi_eff.pow(2).sum(1)
            proj = (phi_eff * params[1]).sum(1)
            den = 2 * pe2 + self.zeta**2 * tm2 * top + self.zeta**2 * top * proj**2 / pe2
            return {"edge_upper": 4 * lam0 / den}


def setup(p: dict, n_members: int):
    """Everything a quadratic part needs: model, params, train/test features, targets."""
    q = Quadratic(p)
    x, y, xt, yt = inputs(p)
    if p.get("teacher", False):
        y = q.teacher_labels(x)
        yt = q.teacher_labels(xt) if xt is not None else None
    return {"q": q, "params": q.init(n_members), "psi": q.psi(x), "phi": q.phi(x), "x": x, "y": y, "xt": xt, "yt": yt}


def test_loss(q: Quadratic, params, xt, yt, chunk=100) -> torch.Tensor:
    """Half-MSE on the test inputs, computed in chunks (meta-features are ``[B, n, n]``)."""
    total = torch.zeros(params[0].shape[0], dtype=torch.float64)
    for i in range(0, len(xt), chunk):
        xs = xt[i : i + chunk]
        z = q.forward(params, q.psi(xs), q.phi(xs))
        total = total + 0.5 * ((z - yt[i : i + chunk]) ** 2).sum(dim=(-2, -1))
    return total / len(xt)
