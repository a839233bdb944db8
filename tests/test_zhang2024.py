"""Fast unit tests of the zhang2024 plug-in (identities, exact equivalence, closed forms, grid)."""

from __future__ import annotations

import copy
import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from relurepro.config import _Validator
from relurepro.papers import Context, Job
from relurepro.papers import zhang2024 as Z

theory = importlib.import_module("relurepro.papers.zhang2024.theory")
data_mod = importlib.import_module("relurepro.papers.zhang2024.data")
experiments = importlib.import_module("relurepro.papers.zhang2024.experiments")
claims_mod = importlib.import_module("relurepro.papers.zhang2024.claims")

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "papers" / "zhang2024.schema.yaml"
CTX = Context(device=torch.device("cpu"), dtype=torch.float64, log=lambda msg: None)


def section(experiments_cfg: dict | None = None) -> dict:
    """A validated, default-filled zhang2024 section with the shared keys added."""
    sec = {"enabled": True, "experiments": copy.deepcopy(experiments_cfg or {})}
    errors = list(_Validator(yaml.safe_load(SCHEMA.read_text())).iter_errors(sec))
    assert not errors, [e.message for e in errors]
    return {**sec, "profile": "quick", "dtype": "float64"}


def only(exp: str, **overrides) -> dict:
    cfg = {e: {"enabled": e == exp} for e in ("E0", "E1", "E2", "E3", "E4", "E5", "E6", "E7")}
    cfg[exp].update(overrides)
    return section(cfg)


def run_jobs(cfg: dict, exp: str):
    jobs = [j for j in Z.grid(cfg) if j.experiment == exp]
    data = {n: Z.make_dataset(n, s) for j in jobs for n, s in j.datasets.items()}
    runs = pd.concat([Z.train(j, {n: data[n] for n in j.datasets}, CTX).assign(point=j.point) for j in jobs])
    points = {j.point: j.params for j in jobs}
    return runs.reset_index(drop=True), Z.baselines(exp, points, runs, data, CTX)


def test_identity_float64():
    runs, _ = run_jobs(only("E0"), "E0")
    res = runs[runs["metric"].isin(["odd_residual", "even_residual"])]["value"]
    assert len(res) == 6
    assert res.max() < 1e-10
    (row,) = Z.claims(runs, pd.DataFrame(), only("E0"))
    assert row["passed"] and row["claim_id"] == "zhang2024.E0.odd_even_identity"


def test_identity_numpy_directly():
    rng = np.random.default_rng(3)
    w1, w2, x = rng.standard_normal((40, 6)), rng.standard_normal((2, 40)), rng.standard_normal((300, 6))
    for a in (0.0, 0.25, 1.0):
        f, fm = theory.two_layer(w1, w2, x, a), theory.two_layer(w1, w2, -x, a)
        assert np.abs((f - fm) - (1 + a) * x @ w1.T @ w2.T).max() < 1e-10
        assert np.abs((f + fm) - (1 - a) * np.abs(x @ w1.T) @ w2.T).max() < 1e-10


def test_exact_equivalence_and_pairing():
    cfg = only("E2", steps=300, sigma0=0.1, lr=0.03, alphas=[0.0, 0.5], without_symmetry=False)
    runs, _ = run_jobs(cfg, "E2")
    rows = {r["claim_id"]: r for r in Z.claims(runs, pd.DataFrame(), cfg)}
    gap = rows["zhang2024.E2.exact_equivalence"]["value"]
    assert gap < 1e-10
    assert rows["zhang2024.E2.pairing_preserved"]["value"] < 1e-12
    loss = runs[runs["metric"] == "loss"]
    # the loss did move (the check is not vacuous): the paired ReLU runs learned something
    for _, g in loss[loss["role"] == "paired"].groupby("member"):
        g = g.sort_values("step")
        assert g["value"].iloc[-1] < 0.9 * g["value"].iloc[0]


def test_equivalence_breaks_without_symmetry():
    cfg = only("E2", steps=300, sigma0=0.1, lr=0.03, alphas=[0.0])
    runs, _ = run_jobs(cfg, "E2")
    rows = {r["claim_id"]: r for r in Z.claims(runs, pd.DataFrame(), cfg)}
    assert rows["zhang2024.E2.symmetry_required"]["value"] > 1e-6


def test_saxe_ode_and_half_time():
    s, u0, c = 1.3, 1e-6, 0.6
    t = np.linspace(0, 30, 30001)
    u = theory.saxe_u(t, s, u0, c)
    du = np.gradient(u, t)
    assert np.abs(du - 2 * c * u * (s - u)).max() < 1e-4 * s**2
    assert u[0] == pytest.approx(u0, rel=1e-12)
    th = theory.saxe_half_time(s, u0, c)
    assert theory.saxe_u(th, s, u0, c) == pytest.approx(s / 2, rel=1e-12)
    # numerical integration (RK4) of the ODE hits s/2 at the closed-form half-time
    dt, x, tt = 1e-3, u0, 0.0
    f = lambda v: 2 * c * v * (s - v)  # noqa: E731
    while x < s / 2:
        k1 = f(x)
        k2 = f(x + dt * k1 / 2)
        k3 = f(x + dt * k2 / 2)
        k4 = f(x + dt * k3)
        x, tt = x + dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6, tt + dt
    assert tt == pytest.approx(th, abs=2 * dt)


def test_saxe_loss_and_log_shift():
    s, u0 = np.array([3.0, 1.0]), np.array([1e-5, 2e-5])
    assert theory.saxe_loss(0.0, s, u0, 1.0, 0.2) == pytest.approx(0.2 + 0.5 * ((3 - 1e-5) ** 2 + (1 - 2e-5) ** 2))
    assert theory.saxe_loss(1e3, s, u0, 0.5, 0.2) == pytest.approx(0.2)
    # same raw init: ratio is ln(s/(c u0) - 1) / (c ln(s/u0 - 1)), slightly above 1/c
    r = theory.log_shift_ratio(1.3, 2.5e-7, 0.5)
    expect = theory.saxe_half_time(1.3, 0.5 * 2.5e-7, 0.5) / theory.saxe_half_time(1.3, 2.5e-7, 1.0)
    assert r == pytest.approx(expect, rel=1e-12)
    assert 2.05 < r < 2.15


def test_depth2_odd_nonlinear_example():
    g = theory.depth2_odd_example
    pts = np.random.default_rng(0).standard_normal((500, 2))
    assert np.abs(g(pts) + g(-pts)).max() == 0.0  # odd
    assert g(np.array([1.0, 0.0])) == 1.0
    assert g(np.array([0.0, 1.0])) == 0.0
    assert g(np.array([1.0, 1.0])) == 0.0  # linear would give 1 + 0 = 1
    # positively 1-homogeneous
    assert np.allclose(g(3.0 * pts), 3.0 * g(pts))


def test_whitening_symmetrising_and_linreg():
    spec = {
        "kind": "teacher",
        "seed": 1,
        "P": 50,
        "D": 6,
        "C": 2,
        "singular_values": [2.0, 0.5],
        "noise_std": 0.3,
        "symmetrise": True,
        "whiten": True,
    }
    d = data_mod.make_dataset("t", spec)
    x, y = d["x"], d["y"]
    assert x.shape == (100, 6)
    assert np.abs(x.T @ x / len(x) - np.eye(6)).max() < 1e-12
    assert np.array_equal(x[:50], -x[50:]) and np.array_equal(y[:50], -y[50:])
    w, l_star = theory.linreg(x, y)
    # the optimum is Syx Sxx^-1 = Syx here, and L* = 1/2(<|y|^2> - sum s_i^2)
    assert np.abs(w - y.T @ x / len(x)).max() < 1e-12
    _, s, _ = theory.modes(x, y)
    assert l_star == pytest.approx(theory.saxe_loss_star(y, s), rel=1e-10)
    # no other linear map does better
    for _ in range(5):
        w2 = w + 0.01 * np.random.default_rng(_).standard_normal(w.shape)
        assert 0.5 * ((y - x @ w2.T) ** 2).sum(-1).mean() > l_star


def test_circle_target_orthogonal_to_linear():
    d = Z.make_dataset("c", {"kind": "circle", "P": 64, "frequency": 3})
    _, l_star = theory.linreg(d["x"], d["y"])
    assert l_star == pytest.approx(0.5 * float((d["y"] ** 2).mean()), rel=1e-12)


def test_saxe_claims_on_short_run():
    cfg = only("E3", t_max=25.0, alphas=[0.0, 1.0], H=[50], lr=0.02, sigma0=[1e-3])
    runs, bases = run_jobs(cfg, "E3")
    loss = runs[(runs["metric"] == "loss") & (runs["role"] == "relu")]
    th = bases[(bases["baseline"] == "saxe") & (bases["metric"] == "loss")]
    merged = loss.merge(th[["member", "step", "value"]], on=["member", "step"], suffixes=("", "_th"))
    assert len(merged) == len(loss)
    rel = (merged["value"] - merged["value_th"]).abs() / merged.groupby("member")["value"].transform("first")
    assert rel.max() < 0.1
    rows = {r["claim_id"]: r for r in Z.claims(runs, bases, cfg)}
    assert rows["zhang2024.E3.half_time"]["value"] < 0.05


def test_grid_unique_keys_and_disabled():
    cfg = section()
    jobs = Z.grid(cfg)
    keys = [j.key for j in jobs]
    assert len(keys) == len(set(keys))
    assert {j.experiment for j in jobs} == {f"E{i}" for i in range(8)}
    for j in jobs:
        assert isinstance(j, Job)
        assert experiments.math.isfinite(len(j.params_json()))
    off = section({"E3": {"enabled": False}, "E6": {"xor": {"enabled": False}}})
    jobs_off = Z.grid(off)
    assert not any(j.experiment == "E3" for j in jobs_off)
    assert not any(j.key == "E6/xor" for j in jobs_off)
    assert "zhang2024_fig_saxe_rank1" not in Z.figures(off)
    assert "zhang2024_fig_saxe_rank1" in Z.figures(cfg)


def test_schema_rejects_bad_values():
    validator = _Validator(yaml.safe_load(SCHEMA.read_text()))
    for bad in ({"E3": {"H": [-5]}}, {"E5": {"lr": 0}}, {"E2": {"alphas": [1.5]}}, {"E4": {"bogus": 1}}):
        assert list(validator.iter_errors({"experiments": bad})), bad
