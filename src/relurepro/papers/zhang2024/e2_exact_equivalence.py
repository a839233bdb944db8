"""E2: Theorem A. Paired ReLU nets ``[U; -U], [V, -V]`` are width-K linear nets ``sqrt(2c)(U, V)`` at lr ``c eta``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...claims import Claim, Measured, NotApplicable, threshold
from ...tables import Tables, members, n_seeds, select, series
from .. import Job
from . import theory
from .common import T_LABEL, alpha_colours, first_seed, floor_baselines, per_seed, teacher_spec, threshold_line

EXP = "E2"
STEM = "zhang2024_fig_exact_equivalence"


def jobs(e: dict, cfg: dict) -> list[Job]:
    from .common import check_teacher

    check_teacher(EXP, P=e["P"], D=e["D"], C=e["C"], s=e["singular_values"])
    out = []
    for sym in [True] + ([False] if e["without_symmetry"] else []):
        name = "e2_sym" if sym else "e2_nosym"
        spec = teacher_spec(
            seed=e["data_seed"], P=e["P"], D=e["D"], C=e["C"], s=e["singular_values"], noise=e["noise_std"], sym=sym
        )
        members_ = []
        for seed in e["seeds"]:
            for a in e["alphas"]:
                c = float(theory.c_of(a))
                common = dict(seed=seed, sigma0=e["sigma0"], symmetric=sym, K=e["K"])
                members_.append(dict(role="paired", alpha=a, slope=a, init_scale=1.0, lr=e["lr"], **common))
                members_.append(
                    dict(role="linear_ref", alpha=a, slope=1.0, init_scale=math.sqrt(2 * c), lr=e["lr"] * c, **common)
                )
        params = dict(K=e["K"], steps=e["steps"], log_every=e["log_every"], symmetric=sym, data=name)
        out.append(Job(EXP, "sym" if sym else "nosym", params, {name: spec}, members_))
    return out


def _paired_init(seed: int, d: int, k: int, c_out: int, sigma0: float):
    import torch

    gen = torch.Generator().manual_seed(int(seed))
    u = torch.randn(k, d, generator=gen, dtype=torch.float64) * sigma0
    v = torch.randn(c_out, k, generator=gen, dtype=torch.float64) * sigma0
    return u, v


def train(job: Job, data, ctx) -> pd.DataFrame:
    """Paired ReLU members and their width-K linear references, trained as one width-2K ensemble.

    The linear members' second half is exactly zero and stays zero under gradient descent,
    so they are width-K linear networks.
    """
    import torch

    from ... import engine
    from .common import finish, progress, tensors

    p = job.params
    d = data[p["data"]]
    dt, dev = ctx.dtype, ctx.device
    x, y, slope, lr, _ = tensors(job, d["x"], d["y"], ctx)
    K, D, C = p["K"], x.shape[1], y.shape[1]
    w1s, w2s = [], []
    for m in job.members:
        u, v = _paired_init(m["seed"], D, K, C, m["sigma0"])
        if m["role"] == "paired":
            w1 = torch.cat([u, -u], 0)  # H x D
            w2 = torch.cat([v, -v], 1)  # C x H
        else:
            w1 = torch.cat([u, torch.zeros_like(u)], 0) * m["init_scale"]
            w2 = torch.cat([v, torch.zeros_like(v)], 1) * m["init_scale"]
        w1s.append(w1.T)
        w2s.append(w2.T)
    params = [torch.stack(w1s).to(dt).to(dev).requires_grad_(), torch.stack(w2s).to(dt).to(dev).requires_grad_()]
    paired = engine.member_tensor([r == "paired" for r in job.column("role")], dtype=dt, device=dev)

    def metrics(ps, loss):
        w1, w2 = ps
        e1 = (w1[:, :, :K] + w1[:, :, K:]).abs().amax((1, 2))
        e2 = (w2[:, :K] + w2[:, K:]).abs().amax((1, 2))
        return {"pair_err": torch.maximum(e1, e2) * paired}

    hist = engine.train(
        params,
        engine.MLPLoss(x, y, slope),
        lr,
        p["steps"],
        log_steps=engine.log_schedule(p["steps"], p["log_every"]),
        metrics=metrics,
        on_log=progress(ctx, job.key, p["steps"]),
    )
    return finish(hist.frame(job.labels()), job)


def baselines(jobs: dict, runs, data, ctx) -> pd.DataFrame:
    return floor_baselines(jobs, data)


# ---------------------------------------------------------------- claims


def paired_gaps(runs: pd.DataFrame, point: str) -> list[tuple[int, float, float]]:
    """``(seed, max_t |L_ReLU - L_lin|, L0)`` per paired member of an E2 point."""
    out = []
    loss = select(runs, point=point, metric="loss")
    for r in members(loss, role="paired").itertuples():
        ref = members(loss, role="linear_ref", alpha=r.alpha, seed=r.seed).iloc[0]
        _, l_relu = series(loss, "loss", member=r.member)
        _, l_lin = series(loss, "loss", member=int(ref["member"]))
        out.append((r.seed, float(np.abs(l_relu - l_lin).max()), float(l_relu[0])))
    if not out:
        raise LookupError(f"no paired E2 runs at {point}")
    return out


def exact_equivalence(t: Tables) -> Measured:
    runs = t.runs_of(EXP)
    return Measured(max(g for _, g, _ in paired_gaps(runs, "sym")), n_seeds(runs))


def pairing_preserved(t: Tables) -> Measured:
    runs = t.runs_of(EXP)
    d = select(runs, point="sym", metric="pair_err", role="paired")
    if d.empty:
        raise LookupError("no pairing errors recorded")
    return Measured(float(d["value"].max()), n_seeds(runs))


def symmetry_required(t: Tables) -> dict:
    runs = t.runs_of(EXP)
    if select(runs, point="nosym").empty:
        raise NotApplicable("E2 ran without the unsymmetrised data (without_symmetry: false)")
    return per_seed([(s, g / l0) for s, g, l0 in paired_gaps(runs, "nosym")], min)


CLAIMS = [
    Claim(
        "zhang2024.E2.exact_equivalence",
        "paired ReLU nets follow the width-K linear net sqrt(2c)(U, V) at lr c eta exactly (data with S)",
        "max over alpha, seeds and steps of |L_ReLU - L_lin|",
        "<",
        exact_equivalence,
        thresholds={"smoke": 1e-10, "quick": 1e-10, "full": 1e-10},
        kind="invariant",  # Theorem A is exact for GD as well as gradient flow (spec 3.4)
    ),
    Claim(
        "zhang2024.E2.pairing_preserved",
        "GD keeps W1 = [U; -U] and W2 = [V, -V] under S",
        "max over steps of |W1[:K] + W1[K:]| and |W2[:, :K] + W2[:, K:]|",
        "<",
        pairing_preserved,
        thresholds={"smoke": 1e-12, "quick": 1e-12, "full": 1e-12},
        kind="invariant",  # the pairing is an exact invariant of GD under S (spec 3.4)
    ),
    Claim(
        "zhang2024.E2.symmetry_required",
        "without S the paired ReLU net leaves the linear trajectory",
        "min over alpha and seeds of max_t |L_ReLU - L_lin| / L0, unsymmetrised data",
        ">",
        symmetry_required,
        thresholds={"smoke": 0.01, "quick": 0.01, "full": 0.01},
    ),
]


# ---------------------------------------------------------------- figures


def figures(e: dict, cfg: dict) -> dict:
    return {STEM: draw}


def draw(t: Tables):
    from ... import plotting
    from ...plotting import SIMULATION, THEORY

    fig, ax = plotting.panels(
        4, ncols=4, size=3.6, title="Theorem A: paired ReLU nets are linear nets run c times slower"
    )
    d = t.runs_of(EXP)
    col = alpha_colours(d["alpha"].unique())
    for point, a_dl in (("sym", ax[1]), ("nosym", ax[3])):
        loss = select(d, point=point, metric="loss")
        for r in first_seed(members(loss, role="paired")).itertuples():
            ref = members(loss, role="linear_ref", alpha=r.alpha, seed=r.seed).iloc[0]
            step, l_relu = series(loss, "loss", member=r.member)
            _, l_lin = series(loss, "loss", member=int(ref["member"]))
            if point == "sym":
                tt, _ = series(loss, "loss", x="t", member=r.member)
                ax[0].plot(tt, l_relu, color=col[r.alpha], label=f"ReLU α={r.alpha:g}", **SIMULATION)
                ax[0].plot(tt, l_lin, color=col[r.alpha], label=f"linear, lr×c (α={r.alpha:g})", **THEORY)
                _, pe = series(d, "pair_err", point=point, member=r.member)
                ax[2].plot(step, np.maximum(pe, 1e-18), color=col[r.alpha], label=f"α={r.alpha:g}", **SIMULATION)
            diff = np.abs(l_relu - l_lin) if point == "sym" else np.abs(l_relu - l_lin) / l_relu[0]
            a_dl.plot(step, np.maximum(diff, 1e-18), color=col[r.alpha], label=f"α={r.alpha:g}", **SIMULATION)
    limit = lambda name: threshold(CLAIMS, f"zhang2024.E2.{name}", t.profile)  # noqa: E731
    ax[0].set(xlabel=T_LABEL + " (ReLU)", ylabel="loss", title="(with S)")
    threshold_line(ax[1], limit("exact_equivalence"), f"threshold {limit('exact_equivalence'):g}")
    ax[1].set(xlabel="step", ylabel="|L_ReLU − L_lin|", yscale="log", title="with S")
    threshold_line(ax[2], limit("pairing_preserved"), f"threshold {limit('pairing_preserved'):g}")
    ax[2].set(xlabel="step", ylabel="max |W1[:K] + W1[K:]|, |W2 pairs|", yscale="log", title="pairing error")
    threshold_line(ax[3], limit("symmetry_required"), f"threshold {limit('symmetry_required'):g}")
    ax[3].set(xlabel="step", ylabel="|L_ReLU − L_lin| / L0", yscale="log", title="without S")
    for a in ax:
        a.legend(fontsize=7)
    return fig
