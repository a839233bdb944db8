"""E_a1: the path expansion and the overlap-kernel identity of a small DLGN, checked by enumerating every path.

One job; members are seeds of random DLGNs (d inputs, depth L, width m, float64, random inputs in [-1, 1]^d).
Per member: max |forward(x) - sum_p v_p phi_p(x)| with hard gates and with soft gates (beta), and
max |prod_l <G^l(x), G^l(x')> - sum_p phi_p(x) phi_p(x')| for both gate kinds.
"""

from __future__ import annotations

import pandas as pd

from ...claims import Claim
from .. import Job

E = "E_a1"
P = "yadav2024.E_a1"
# Exact identities: float64, set by this experiment's own key experiments.E_a1.dtype (which allows only that).
PRECISION = "float64"


def jobs(e: dict, cfg: dict) -> list[Job]:
    keys = ("d", "depth", "width", "n_points", "beta", "bias_std", "dtype")
    return [Job(E, "paths", {k: e[k] for k in keys}, members=[{"seed": int(s)} for s in e["seeds"]])]


def identity_errors(params, x, depth: int, beta: float) -> dict:
    """Per member ``[M]``: the largest path-expansion and kernel-identity errors, hard and soft gates."""
    import torch

    from . import dlgn

    out = {}
    v = dlgn.path_values(params, depth)  # [M, m, ..., m, C]
    for kind, b in (("hard", None), ("soft", beta)):
        g = dlgn.gates(params, x, depth, b)
        phi = dlgn.path_features(g)  # [M, N, m, ..., m]
        flat_phi = phi.reshape(phi.shape[0], phi.shape[1], -1)
        expansion = torch.matmul(flat_phi, v.reshape(v.shape[0], -1, v.shape[-1]))
        f = dlgn.forward(params, x, depth, b)
        out[f"path_expansion_error_{kind}"] = (f - expansion).abs().flatten(1).max(1).values
        k_paths = torch.matmul(flat_phi, flat_phi.transpose(1, 2))
        out[f"kernel_identity_error_{kind}"] = (dlgn.overlap_kernel(g) - k_paths).abs().flatten(1).max(1).values
        out[f"active_paths_mean_{kind}"] = flat_phi.sum(-1).mean(-1)
    return out


def train(job: Job, data: dict, ctx) -> pd.DataFrame:
    import numpy as np
    import torch

    from . import dlgn

    p = job.params
    seeds = job.column("seed")
    dtype = getattr(torch, p["dtype"])
    params = dlgn.init(seeds, p["d"], p["width"], p["depth"], 1, bias_std=float(p["bias_std"]), dtype=dtype)
    rng = np.random.default_rng(int(seeds[0]))
    x = torch.as_tensor(rng.uniform(-1, 1, size=(int(p["n_points"]), int(p["d"]))), dtype=dtype)
    with torch.no_grad():
        errors = identity_errors(params, x, int(p["depth"]), float(p["beta"]))
    labels = job.labels()
    rows = [labels.assign(member=range(len(seeds)), step=0, metric=k, value=v.numpy()) for k, v in errors.items()]
    out = pd.concat(rows, ignore_index=True).assign(diverged=False, diverged_step=-1, dtype=p["dtype"], device="cpu")
    out.insert(0, "experiment", E)
    return out


def _max_error(kind: str):
    def measure(t) -> float:
        r = t.runs_of(E)
        vals = r[r["metric"].isin([f"{kind}_error_hard", f"{kind}_error_soft"])]["value"]
        if vals.empty:
            raise LookupError(f"no {kind} rows")
        return float(vals.max())

    return measure


CLAIMS = [
    Claim(
        f"{P}.path_expansion_exact",
        "the DLGN output is the sum over paths of path value times path feature (hard and soft gates)",
        "max over members, inputs and gate kinds of |forward(x) - sum_p v_p phi_p(x)|",
        "<=",
        _max_error("path_expansion"),
        {"smoke": 1e-5, "quick": 1e-5, "full": 1e-5},
        kind="invariant",
    ),
    Claim(
        f"{P}.kernel_product_identity",
        "the overlap kernel sum_p phi_p(x) phi_p(x') equals prod_l <G^l(x), G^l(x')>",
        "max over members, input pairs and gate kinds of |K_product - sum_p phi_p phi_p'|",
        "<=",
        _max_error("kernel_identity"),
        {"smoke": 1e-5, "quick": 1e-5, "full": 1e-5},
        kind="invariant",
    ),
]
