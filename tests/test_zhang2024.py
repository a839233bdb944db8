"""Fast unit tests of the zhang2024 plug-in (identities, exact equivalence, closed forms, claims, grid)."""

from __future__ import annotations

import copy
import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from relurepro import papers
from relurepro.claims import PROFILES, Claim, threshold
from relurepro.config import _Validator
from relurepro.papers import Context, Job
from relurepro.papers import zhang2024 as Z

theory = importlib.import_module("relurepro.papers.zhang2024.theory")
e7 = importlib.import_module("relurepro.papers.zhang2024.e7_deep")

P = "zhang2024"
ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "papers" / "zhang2024.schema.yaml"
SPEC_IDS = ROOT / "tests" / "spec_claims" / "zhang2024.txt"
CTX = Context(device=torch.device("cpu"), dtype=torch.float64, log=lambda msg: None)
EXPERIMENTS = ("E0", "E1", "E2", "E3", "E4", "E5", "E6", "E7")


def section(experiments_cfg: dict | None = None, profile: str = "quick") -> dict:
    """A validated, default-filled zhang2024 section with the shared keys added."""
    sec = {"enabled": True, "experiments": copy.deepcopy(experiments_cfg or {})}
    errors = list(_Validator(yaml.safe_load(SCHEMA.read_text())).iter_errors(sec))
    assert not errors, [e.message for e in errors]
    return {**sec, "profile": profile, "dtype": "float64"}


def only(exp: str, **overrides) -> dict:
    cfg = {e: {"enabled": e == exp} for e in EXPERIMENTS}
    cfg[exp].update(overrides)
    return section(cfg)


def run_jobs(cfg: dict, exp: str):
    """Train one experiment's jobs in-process and compute its baselines, as the workflow would."""
    jobs = [j for j in papers.grid(P, cfg) if j.experiment == exp]
    data = {n: Z.make_dataset(n, s) for j in jobs for n, s in j.datasets.items()}
    runs = pd.concat(
        [papers.train(P, j, {n: data[n] for n in j.datasets}, CTX).assign(experiment=exp, point=j.point) for j in jobs],
        ignore_index=True,
    )
    bases = papers.baselines(P, exp, {j.point: j for j in jobs}, runs, data, CTX)
    return runs, bases if bases is not None else pd.DataFrame()


def claims(runs, bases, cfg) -> dict[str, pd.Series]:
    df = papers.evaluate_claims(P, runs, bases, cfg)
    return {r["claim_id"]: r for _, r in df.iterrows()}


# ---------------------------------------------------------------- declarations


def test_declared_claims_are_the_spec_table():
    declared = [c.id for c in papers.declared_claims(P)]
    spec = [line.strip() for line in SPEC_IDS.read_text().splitlines() if line.strip()]
    assert len(declared) == len(set(declared))
    assert sorted(declared) == sorted(spec)


def test_declarations_follow_the_spec():
    by_id = {c.id: c for c in papers.declared_claims(P)}
    for c in by_id.values():
        assert isinstance(c, Claim)
        assert c.thresholds, c.id
    # exact identities of the construction are invariants; the paper's statements are claims
    invariants = {c.id for c in by_id.values() if c.kind == "invariant"}
    assert invariants == {
        f"{P}.E0.odd_even_identity",
        f"{P}.E1.two_layer_odd_floor",
        f"{P}.E1.odd_part_linear",
        f"{P}.E2.exact_equivalence",
        f"{P}.E2.pairing_preserved",
        f"{P}.E7.paired_structure_invariant",
    }
    assert {i for i, c in by_id.items() if c.version > 1} == {
        f"{P}.E4.half_time",
        f"{P}.E7.linear_off_train",
        f"{P}.E7.saddle_to_saddle",
    }
    assert by_id[f"{P}.E4.half_time"].min_seeds == 3
    assert set(by_id[f"{P}.E6.large_p_recovers"].thresholds) == {"full"}
    for i, c in by_id.items():
        if i != f"{P}.E6.large_p_recovers":
            assert set(c.thresholds) == set(PROFILES), i
    # spec thresholds (section 7)
    assert threshold(by_id.values(), f"{P}.E4.half_time", "quick") == 0.02
    assert threshold(by_id.values(), f"{P}.E7.linear_off_train", "full") == 0.02
    assert threshold(by_id.values(), f"{P}.E7.saddle_to_saddle", "quick") == 3
    assert by_id[f"{P}.E7.saddle_to_saddle"].direction == ">="


def test_every_declared_claim_gives_a_row_even_when_off():
    cfg = only("E0")
    runs, _ = run_jobs(cfg, "E0")
    df = papers.evaluate_claims(P, runs, pd.DataFrame(), cfg)
    assert list(df["claim_id"]) == [c.id for c in papers.declared_claims(P)]
    off = df[~df["claim_id"].str.startswith(f"{P}.E0.")]
    assert (off["status"] == "skipped").all()
    assert off["note"].str.contains("is off in this config").all()


# ---------------------------------------------------------------- E0, E2: exact identities


def test_identity_float64():
    cfg = only("E0")
    runs, _ = run_jobs(cfg, "E0")
    res = runs[runs["metric"].isin(["odd_residual", "even_residual"])]["value"]
    assert len(res) == 6
    assert res.max() < 1e-10
    row = claims(runs, pd.DataFrame(), cfg)[f"{P}.E0.odd_even_identity"]
    assert row["passed"] and row["status"] == "pass" and row["kind"] == "invariant"
    assert row["value"] == res.max()


def test_identity_numpy_directly():
    rng = np.random.default_rng(3)
    w1, w2, x = rng.standard_normal((40, 6)), rng.standard_normal((2, 40)), rng.standard_normal((300, 6))
    for a in (0.0, 0.25, 1.0):
        f, fm = theory.two_layer(w1, w2, x, a), theory.two_layer(w1, w2, -x, a)
        assert np.abs((f - fm) - (1 + a) * x @ w1.T @ w2.T).max() < 1e-10
        assert np.abs((f + fm) - (1 - a) * np.abs(x @ w1.T) @ w2.T).max() < 1e-10


def test_exact_equivalence_and_pairing():
    cfg = only("E2", steps=300, sigma0=0.1, lr=0.03, alphas=[0.0, 0.5], without_symmetry=False)
    runs, bases = run_jobs(cfg, "E2")
    rows = claims(runs, bases, cfg)
    assert rows[f"{P}.E2.exact_equivalence"]["value"] < 1e-10
    assert rows[f"{P}.E2.pairing_preserved"]["value"] < 1e-12
    # without the unsymmetrised run the claim is skipped with its reason, not failed
    assert rows[f"{P}.E2.symmetry_required"]["status"] == "skipped"
    assert "without_symmetry" in rows[f"{P}.E2.symmetry_required"]["note"]
    loss = runs[runs["metric"] == "loss"]
    # the loss did move (the check is not vacuous): the paired ReLU runs learned something
    for _, g in loss[loss["role"] == "paired"].groupby("member"):
        g = g.sort_values("step")
        assert g["value"].iloc[-1] < 0.9 * g["value"].iloc[0]


def test_equivalence_breaks_without_symmetry():
    cfg = only("E2", steps=300, sigma0=0.1, lr=0.03, alphas=[0.0])
    runs, bases = run_jobs(cfg, "E2")
    assert claims(runs, bases, cfg)[f"{P}.E2.symmetry_required"]["value"] > 1e-6


# ---------------------------------------------------------------- closed forms


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
    d = Z.make_dataset("t", spec)
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
    rows = claims(runs, bases, cfg)
    assert rows[f"{P}.E3.half_time"]["value"] < 0.05
    assert rows[f"{P}.E3.saxe_fit"]["value"] == pytest.approx(rel.max(), rel=1e-12)


def test_half_time_is_judged_on_the_median_of_three_seeds():
    cfg = only("E4", H=30, steps=600, lr=0.01, sigma0=1e-3, alphas=[1.0, 0.0], seeds=[0, 1, 2], log_every=5)
    runs, bases = run_jobs(cfg, "E4")
    row = claims(runs, bases, cfg)[f"{P}.E4.half_time"]
    assert row["n_seeds"] == 3 and row["status"] in ("pass", "fail")
    assert row["worst_seed_value"] >= row["value"]
    assert row["pass_fraction"] in (0.0, 1 / 3, 2 / 3, 1.0)
    # the same claim on one seed fails in quick whatever its value: too few seeds
    one = claims(runs[runs["seed"] == 0], bases[bases["seed"] == 0], cfg)[f"{P}.E4.half_time"]
    assert one["n_seeds"] == 1 and one["status"] == "fail" and "at least 3 seeds" in one["note"]
    # smoke is judged without the seed minimum
    smoke = claims(runs[runs["seed"] == 0], bases[bases["seed"] == 0], {**cfg, "profile": "smoke"})
    assert smoke[f"{P}.E4.half_time"]["status"] in ("pass", "fail")
    assert smoke[f"{P}.E4.half_time"]["note"] == ""


# ---------------------------------------------------------------- E7: learning stages


def test_exponential_decay_is_one_stage():
    t = np.linspace(0.0, 60.0, 3001)
    for rate in (0.1, 1.0, 5.0):
        assert e7.count_stages(t, 3.0 * np.exp(-rate * t)) == 1


def _stages(t, drops, times, width):
    """A loss that drops by ``drops[i]`` around ``times[i]`` (a logistic in log t of the given width)."""
    loss = np.full_like(t, 0.01)  # t > 0 throughout
    for d, tc in zip(drops, times):
        loss += d / (1 + np.exp((np.log(t) - np.log(tc)) / width))
    return loss


def test_three_separate_drops_are_three_stages():
    t = np.linspace(0.02, 400.0, 20000)
    assert e7.count_stages(t, _stages(t, [3.0, 2.0, 1.0], [5.0, 30.0, 150.0], 0.08)) == 3
    # two drops that overlap into one bump are one stage, and a small drop below 25% does not count
    assert e7.count_stages(t, _stages(t, [4.5, 2.0], [10.0, 11.0], 0.08)) == 1
    assert e7.count_stages(t, _stages(t, [4.5, 0.5], [5.0, 150.0], 0.08)) == 1
    # a plateau-free monotone ramp has no interior peak at all, and so no stage
    assert e7.count_stages(t, 10.0 - t / 400.0) == 0


def test_deep_claims_on_a_tiny_run():
    cfg = only(
        "E7",
        depths=[3],
        sigma0s=[0.05],
        width=10,
        steps_rank1=300,
        steps_rank3=300,
        n_test=200,
        log_every=10,
    )
    runs, bases = run_jobs(cfg, "E7")
    rows = claims(runs, bases, cfg)
    mine = {k: r for k, r in rows.items() if k.startswith(f"{P}.E7.")}
    assert len(mine) == 9
    assert not any(r["status"] == "error" for r in mine.values()), {k: r["note"] for k, r in mine.items()}
    assert mine[f"{P}.E7.paired_structure_invariant"]["passed"]
    stages = mine[f"{P}.E7.saddle_to_saddle"]["value"]
    assert stages == int(stages) and stages >= 0


# ---------------------------------------------------------------- grid and schema


def test_grid_unique_keys_members_and_disabled():
    cfg = section()
    jobs = papers.grid(P, cfg)
    keys = [j.key for j in jobs]
    assert len(keys) == len(set(keys))
    assert {j.experiment for j in jobs} == set(EXPERIMENTS)
    for j in jobs:
        assert isinstance(j, Job)
        assert "members" not in j.params and len(j.members) >= 1
        assert len(j.labels()) == len(j.members)
        assert Job.from_spec(j.experiment, j.point, j.spec()) == j
    e4 = next(j for j in jobs if j.experiment == "E4")
    assert sorted(set(e4.column("seed"))) == [0, 1, 2]
    # the member order the numbers depend on: per (sigma0, seed), every alpha, then the linear references
    e5 = next(j for j in jobs if j.experiment == "E5")
    assert e5.column("role")[:6] == ["relu"] * 6 and e5.column("role")[6:] == ["linear_ref"] * 5
    assert e5.tensor("lr").tolist() == pytest.approx(
        [0.005] * 6 + [0.005 * (1 + a) / 2 for a in (0, 0.2, 0.4, 0.6, 0.8)]
    )
    off = section({"E3": {"enabled": False}, "E6": {"xor": {"enabled": False}}})
    jobs_off = papers.grid(P, off)
    assert not any(j.experiment == "E3" for j in jobs_off)
    assert not any(j.key == "E6/xor" for j in jobs_off)
    assert "zhang2024_fig_saxe_rank1" not in papers.figures(P, off)
    assert "zhang2024_fig_saxe_rank1" in papers.figures(P, cfg)
    for stem in papers.figures(P, cfg):
        assert (ROOT / "workflow" / "report" / f"{stem}.rst").exists(), stem


def test_schema_rejects_bad_values():
    validator = _Validator(yaml.safe_load(SCHEMA.read_text()))
    for bad in ({"E3": {"H": [-5]}}, {"E5": {"lr": 0}}, {"E2": {"alphas": [1.5]}}, {"E4": {"bogus": 1}}):
        assert list(validator.iter_errors({"experiments": bad})), bad
