"""The deepening construction of lin2021: localised ReLU bumps added to a base net, as a ReLU network.

``T(z) = ReLU(1 - ||z||_1 / tau)`` is realised by two extra hidden layers: layer 1 (width 2dm) holds
``ReLU(x_j - x_ij)`` and ``ReLU(x_ij - x_j)``, layer 2 (width m) holds ``ReLU(1 - (1/tau) sum_j ...)``.
The base net's output ``t`` rides along the extra layers as ``ReLU(t) - ReLU(-t)`` (two units per layer)
and the input along the base layers as ``ReLU(x) - ReLU(-x)``. :class:`Deepened` evaluates that network
with its block-diagonal weights applied structurally (``[M, P, m, 2d]`` tensors, in chunks of points);
:meth:`Deepened.dense_layers` writes the same network as plain dense layers, for the tests. Members
(seeds) are stacked on a leading dimension; everything is float64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ...nets import predict


def net_output(params: Sequence[torch.Tensor], x: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """A batched biased ReLU MLP's scalar output ``[M, P]`` in float64, in chunks of points."""
    from ...nets import mlp

    params = [p.detach().to(torch.float64) for p in params]
    return predict(lambda ps, xc: mlp(ps, xc, bias=True, activation="relu"), params, x.to(torch.float64), chunk=chunk)[
        ..., 0
    ]


def min_separation(x: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """Per member, the smallest l1 distance between two distinct rows of ``x`` ``[M, m, d]`` -> ``[M]``."""
    if x.shape[-1] == 1:
        s = torch.sort(x[..., 0], dim=-1).values
        return torch.diff(s, dim=-1).min(dim=-1).values
    m = x.shape[1]
    best = torch.full((x.shape[0],), float("inf"), dtype=x.dtype, device=x.device)
    for i in range(0, m, chunk):
        dist = torch.cdist(x[:, i : i + chunk], x, p=1)  # [M, c, m]
        rows = torch.arange(i, min(i + chunk, m), device=x.device)
        dist[:, rows - i, rows] = float("inf")
        best = torch.minimum(best, dist.amin(dim=(1, 2)))
    return best


class Deepened(torch.nn.Module):
    """``f(x) = base(x) + sum_i coef_i T(x - centre_i)`` per member, as a feed-forward ReLU network.

    ``base`` is a batched MLP's parameters (weights and biases alternating, ``[M, ...]``; ReLU hidden
    layers) or None for the zero base (the bad interpolant C). ``centres`` ``[M, m, d]``, ``tau`` ``[M]``,
    ``coef`` ``[M, m]``.
    """

    def __init__(self, base: Sequence[torch.Tensor] | None, centres, tau, coef, chunk: int = 1 << 20):
        super().__init__()
        self.base = None if base is None else [p.detach().to(torch.float64) for p in base]
        self.centres, self.tau, self.coef = centres.to(torch.float64), tau.to(torch.float64), coef.to(torch.float64)
        if self.centres.ndim != 3 or self.coef.shape != self.centres.shape[:2] or self.tau.shape != self.coef.shape[:1]:
            raise ValueError(
                f"centres [M, m, d], coef [M, m] and tau [M] do not fit: {tuple(self.centres.shape)}, "
                f"{tuple(self.coef.shape)}, {tuple(self.tau.shape)}"
            )
        self.chunk = int(chunk)

    def base_output(self, x: torch.Tensor) -> torch.Tensor:
        """The base net's output ``[M, P]`` (zero for C)."""
        if self.base is None:
            return torch.zeros(x.shape[:2], dtype=torch.float64, device=x.device)
        return net_output(self.base, x)

    def _parts(self, x: torch.Tensor, coefs: torch.Tensor) -> torch.Tensor:
        """``[M, P, 1 + K]``: the output with this module's ``coef``, then the bump sums with ``coefs`` ``[M, m, K]``.

        Extra layer 1's pair ``ReLU(z) + ReLU(-z)`` enters layer 2 only through its sum, which is ``|z|``
        exactly (one term is 0), so it is formed as ``|z|`` in place: the same numbers, fewer passes.
        """
        t = self.base_output(x)
        units = x[:, :, None, :] - self.centres[:, None, :, :]  # [M, P, m, d]
        units = units.abs_().sum(-1) if units.shape[-1] > 1 else units.abs_()[..., 0]  # layer 1, summed
        units.mul_(-1.0 / self.tau[:, None, None]).add_(1.0).relu_()  # extra layer 2: ReLU(1 - l1 / tau)
        p1, n1 = torch.relu(t), torch.relu(-t)  # t carried through both extra layers
        carried = torch.relu(p1 - n1) - torch.relu(n1 - p1)
        heads = torch.bmm(units, torch.cat([self.coef[:, :, None], coefs], dim=2))
        return torch.cat([(carried + heads[..., 0])[..., None], heads[..., 1:]], dim=-1)

    def parts(self, x: torch.Tensor, coefs: torch.Tensor | None = None) -> torch.Tensor:
        """Chunked :meth:`_parts` for x ``[M, P, d]`` (or ``[P, d]``, shared); at most ``chunk`` unit values per piece."""
        x = x.to(torch.float64)
        if x.ndim == 2:
            x = x.expand(self.coef.shape[0], *x.shape)
        m_members, m = self.coef.shape
        coefs = torch.zeros(m_members, m, 0, dtype=torch.float64, device=x.device) if coefs is None else coefs
        points = max(16, self.chunk // max(1, m_members * m * x.shape[-1]))
        return predict(lambda _, xc: self._parts(xc, coefs.to(torch.float64)), [], x, chunk=points)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``f(x)`` ``[M, P]`` for x ``[M, P, d]`` (or ``[P, d]``, shared)."""
        return self.parts(x)[..., 0]

    def dense_layers(self, member: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """One member's network as dense layers ``(W [out, in], b [out])``: ReLU after every layer but the last."""
        c = self.centres[member].cpu().numpy()
        m, d = c.shape
        tau, coef = float(self.tau[member]), self.coef[member].cpu().numpy()
        eye = np.eye(d)
        if self.base is None:
            base = [(np.zeros((1, d)), np.zeros(1))]
        else:
            ps = [p[member].cpu().numpy() for p in self.base]
            base = [(w.T, b.ravel()) for w, b in zip(ps[0::2], ps[1::2])]
        *hidden, (w_out, b_out) = base
        layers: list[tuple[np.ndarray, np.ndarray]] = []
        # the base's hidden layers, with the input carried beside them as (ReLU(x), ReLU(-x))
        for k, (w, b) in enumerate(hidden):
            if k == 0:
                layers.append((np.vstack([w, eye, -eye]), np.concatenate([b, np.zeros(2 * d)])))
            else:
                block = np.zeros((w.shape[0] + 2 * d, w.shape[1] + 2 * d))
                block[: w.shape[0], : w.shape[1]], block[w.shape[0] :, w.shape[1] :] = w, np.eye(2 * d)
                layers.append((block, np.concatenate([b, np.zeros(2 * d)])))
        h = w_out.shape[1]
        # how the previous layer holds the base's last hidden units and the input x
        read_x = np.hstack([eye, -eye]) if hidden else eye
        width = h + 2 * d if hidden else d
        read_h = slice(0, h) if hidden else slice(0, d)
        x_cols = slice(h, width) if hidden else slice(0, d)
        # extra layer 1: the output t as (ReLU(t), ReLU(-t)), and per centre i ReLU(x - c_i), ReLU(c_i - x)
        w1, b1 = np.zeros((2 + 2 * d * m, width)), np.zeros(2 + 2 * d * m)
        w1[0, read_h], w1[1, read_h], b1[0], b1[1] = w_out[0], -w_out[0], b_out[0], -b_out[0]
        for i in range(m):
            r = 2 + 2 * d * i
            w1[r : r + d, x_cols], w1[r + d : r + 2 * d, x_cols] = read_x, -read_x
            b1[r : r + d], b1[r + d : r + 2 * d] = -c[i], c[i]
        layers.append((w1, b1))
        # extra layer 2: t carried as (ReLU(p - n), ReLU(n - p)), and the m bumps ReLU(1 - l1 distance / tau)
        w2 = np.zeros((2 + m, 2 + 2 * d * m))
        w2[0, :2], w2[1, :2] = [1.0, -1.0], [-1.0, 1.0]
        for i in range(m):
            w2[2 + i, 2 + 2 * d * i : 2 + 2 * d * (i + 1)] = -1.0 / tau
        layers.append((w2, np.concatenate([np.zeros(2), np.ones(m)])))
        layers.append((np.concatenate([[1.0, -1.0], coef])[None, :], np.zeros(1)))
        return layers


def dense_forward(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """A plain feed-forward ReLU net (ReLU after every layer but the last) on x ``[P, d]`` -> ``[P]``."""
    h = np.asarray(x, dtype=np.float64)
    for k, (w, b) in enumerate(layers):
        h = h @ w.T + b
        if k < len(layers) - 1:
            h = np.maximum(h, 0.0)
    return h[:, 0]


def bump_formula(x: np.ndarray, centres: np.ndarray, tau: float, coef: np.ndarray) -> np.ndarray:
    """``sum_i coef_i max(0, 1 - ||x - c_i||_1 / tau)`` in numpy, one member (x ``[P, d]``)."""
    dist = np.abs(x[:, None, :] - centres[None, :, :]).sum(-1)
    return (np.maximum(0.0, 1.0 - dist / tau) * coef[None, :]).sum(-1)


# ---------------------------------------------------------------- the bump-resolving quadrature (d = 1)


def quadrature_nodes(uniform: torch.Tensor, centres: torch.Tensor, tau: torch.Tensor, per_side: int) -> torch.Tensor:
    """Sorted nodes ``[M, P]`` on [0, 1]: the uniform points, 0 and 1, and per centre ``2 per_side + 1`` nodes.

    Each centre ``x_i`` gets ``per_side`` equal steps to ``x_i - tau`` and to ``x_i + tau`` (clipped to
    [0, 1]), so the bump's three kinks are nodes and ``2 per_side - 1`` nodes lie strictly inside it.
    ``uniform`` ``[M, n]``, ``centres`` ``[M, m]``, ``tau`` ``[M]``.
    """
    k = torch.arange(-per_side, per_side + 1, dtype=torch.float64, device=centres.device) / per_side
    c = centres.to(torch.float64)[:, :, None]
    lo = torch.clamp(c - tau[:, None, None], min=0.0)
    hi = torch.clamp(c + tau[:, None, None], max=1.0)
    local = torch.where(k < 0, c + (c - lo) * k, c + (hi - c) * k).reshape(c.shape[0], -1)
    ends = torch.tensor([0.0, 1.0], dtype=torch.float64, device=c.device).expand(c.shape[0], 2)
    return torch.sort(torch.cat([uniform.to(torch.float64), ends, local], dim=1), dim=1).values


def nodes_inside(nodes: torch.Tensor, centres: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """``[M, m]``: how many nodes lie strictly inside each bump ``|x - x_i| < tau`` (sorted nodes ``[M, P]``)."""
    c = centres.to(torch.float64)
    t = tau[:, None].to(torch.float64)
    left = torch.searchsorted(nodes, c - t, right=True)
    right = torch.searchsorted(nodes, c + t, right=False)
    return right - left


def quadrature_weights(nodes: torch.Tensor) -> torch.Tensor:
    """Trapezoid weights ``[M, P]`` of each member's sorted nodes (:func:`relurepro.stats.trapezoid_weights`)."""
    from ...stats import trapezoid_weights

    w = [trapezoid_weights(row) for row in nodes.cpu().numpy()]
    return torch.as_tensor(np.stack(w), dtype=torch.float64, device=nodes.device)
