"""Unit tests of the lin2021 plug-in: the deepened ReLU network, the quadrature, the data, the grid, the claims."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from relurepro import papers
from relurepro.claims import PROFILES
from relurepro.config import _Validator
from relurepro.papers import Context
from relurepro.papers.lin2021 import bumps, data, fit
from relurepro.tables import Tables

P = "lin2021"
ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "papers" / "lin2021.schema.yaml"
SPEC_IDS = Path(__file__).resolve().parent / "spec_claims" / "lin2021.txt"
CTX = Context(torch.device("cpu"), torch.float64, log=lambda m: None)


def _defaults(schema: dict):
    """The quick config implied by the schema's defaults (recursively)."""
    if schema.get("type") == "object":
        return {k: _defaults(v) for k, v in schema.get("properties", {}).items()}
    return copy.deepcopy(schema.get("default"))


def quick_cfg() -> dict:
    return {**_defaults(yaml.safe_load(SCHEMA.read_text())), "profile": "quick", "dtype": "float64"}


def _sample(d: int, m: int, seeds=(0, 1)):
    spec = {"kind": "lin2021_regression", "d": d, "m": m, "seeds": list(seeds), "target": "lipschitz"}
    return data.make_dataset("x", {**spec, "noise": 0.3, "n_test": 500})


def _construction(d: int, m: int, depth: int = 3):
    """A random base net (two members) and its deepened interpolant B and bad interpolant C, float64."""
    arr = _sample(d, m)
    x = torch.as_tensor(arr["x_train"])
    y = torch.as_tensor(arr["y_train"])
    base = fit.init_base([0, 1], d, 12, depth, dtype=torch.float64, device="cpu")
    tau = 0.49 * bumps.min_separation(x)
    b = bumps.Deepened(base, x, tau, y - bumps.net_output(base, x))
    c = bumps.Deepened(None, x, tau, y)
    return x, y, base, tau, b, c


# ---------------------------------------------------------------- the construction


@pytest.mark.parametrize("d", [1, 2])
def test_b_and_c_interpolate_to_1e_10(d):
    x, y, _, _, b, c = _construction(d, 200)
    assert float(((b(x) - y) ** 2).mean(-1).max()) <= 1e-10
    assert float(((c(x) - y) ** 2).mean(-1).max()) <= 1e-10
    # and A alone does not: the bumps do the work
    assert float(((bumps.net_output(b.base, x) - y) ** 2).mean()) > 1e-3


@pytest.mark.parametrize("d", [1, 2])
def test_relu_module_equals_its_formula_and_its_dense_layers(d):
    x, y, base, tau, b, c = _construction(d, 25)
    pts = torch.rand(10_000, d, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    # points near the centres too, where the bumps are not zero
    near = x[0].repeat(40, 1) + (torch.rand(1000, d, dtype=torch.float64) - 0.5) * 2 * float(tau[0])
    pts = torch.cat([pts, near])
    out_b, out_c = b(pts), c(pts)
    for i in range(2):
        centres, t = x[i].numpy(), float(tau[i])
        a = bumps.net_output([q[i : i + 1] for q in base], pts[None])[0].numpy()
        resid = (y[i] - bumps.net_output([q[i : i + 1] for q in base], x[i : i + 1])[0]).numpy()
        formula_b = a + bumps.bump_formula(pts.numpy(), centres, t, resid)
        formula_c = bumps.bump_formula(pts.numpy(), centres, t, y[i].numpy())
        np.testing.assert_allclose(out_b[i].numpy(), formula_b, rtol=0, atol=1e-12)
        np.testing.assert_allclose(out_c[i].numpy(), formula_c, rtol=0, atol=1e-12)
        # the same network written as plain dense ReLU layers: two layers deeper than A
        layers = b.dense_layers(i)
        assert len(layers) == len(base) // 2 + 2
        np.testing.assert_allclose(bumps.dense_forward(layers, pts.numpy()), formula_b, rtol=0, atol=1e-12)
        np.testing.assert_allclose(bumps.dense_forward(c.dense_layers(i), pts.numpy()), formula_c, atol=1e-12)
    assert (np.abs(out_b.numpy() - bumps.net_output(base, pts).numpy()) > 1e-6).any()  # the bumps were hit


def test_overlapping_bumps_break_interpolation():
    """tau = 5 x the separation: the invariant interpolant_exact can fail."""
    arr = _sample(1, 200)
    x, y = torch.as_tensor(arr["x_train"]), torch.as_tensor(arr["y_train"])
    tau = 5 * bumps.min_separation(x)
    c = bumps.Deepened(None, x, tau, y)
    assert float(((c(x) - y) ** 2).mean(-1).min()) > 1e-10


def test_min_separation_is_the_smallest_l1_distance():
    x = torch.rand(2, 300, 2, dtype=torch.float64)
    brute = torch.cdist(x, x, p=1) + torch.eye(300, dtype=torch.float64) * 10
    assert torch.equal(bumps.min_separation(x, chunk=64), brute.amin(dim=(1, 2)))
    x1 = torch.rand(2, 300, 1, dtype=torch.float64)
    brute1 = torch.cdist(x1, x1, p=1) + torch.eye(300, dtype=torch.float64) * 10
    assert torch.allclose(bumps.min_separation(x1), brute1.amin(dim=(1, 2)), rtol=0, atol=1e-15)


# ---------------------------------------------------------------- the quadrature


def test_quadrature_resolves_every_bump_and_integrates_them_exactly():
    # jittered grid points (separation >= 1e-3): bumps of uniform samples can be so narrow (tau ~ 1e-8) that
    # x - x_i, rounded at the ulp of x (1e-16), carries a relative error of 1e-8 into T itself
    g = torch.Generator().manual_seed(0)
    x = ((torch.arange(300) + 0.5 + 0.35 * (torch.rand(2, 300, generator=g) - 0.5)) / 300).to(torch.float64)
    x[:, 0] = 2e-4  # one bump clipped at 0
    tau = 0.49 * bumps.min_separation(x[..., None])
    uniform = torch.rand(2, 2000, generator=g, dtype=torch.float64)
    nodes = bumps.quadrature_nodes(uniform, x, tau, per_side=9)
    assert int(bumps.nodes_inside(nodes, x, tau).min()) >= 17
    w = bumps.quadrature_weights(nodes)
    assert torch.allclose(w.sum(-1), torch.ones(2, dtype=torch.float64), atol=1e-14)
    coef = torch.randn(2, 300, dtype=torch.float64)
    bump = bumps.Deepened(None, x[..., None], tau, coef)(nodes[..., None])
    # the bumps are piecewise linear with their kinks at nodes: the integral of each is tau (clipped at 0, 1)
    lo, hi = torch.clamp(x - tau[:, None], min=0), torch.clamp(x + tau[:, None], max=1)
    left = (x - lo) * (1 + (1 - (x - lo) / tau[:, None])) / 2
    right = (hi - x) * (1 + (1 - (hi - x) / tau[:, None])) / 2
    exact = (coef * (left + right)).sum(-1)
    scale = (coef.abs() * (left + right)).sum(-1)  # the size of the terms that cancel
    assert ((w * bump).sum(-1) - exact).abs().max() <= 1e-12 * scale.min()


# ---------------------------------------------------------------- data, grid, schema


def test_data_are_per_seed_and_bounded():
    a, b = _sample(1, 50, seeds=(0, 1)), _sample(1, 50, seeds=(1,))
    np.testing.assert_array_equal(a["x_train"][1], b["x_train"][0])  # a member's data depend on its seed alone
    f = data.target("lipschitz", 1)
    assert np.abs(a["y_train"] - f(a["x_train"])).max() <= 0.3
    n = data.norms("lipschitz", 1)
    assert 0 < n["var_f"] < n["f_norm_sq"]
    with pytest.raises(ValueError, match="d = 1 only|defined for d"):
        data.target("smooth2", 2)


def test_quick_grid_widths_and_members():
    jobs = papers.grid(P, quick_cfg())
    assert [j.params["m"] for j in jobs] == [128, 256, 512, 1024, 2048]
    assert [j.params["width"] for j in jobs] == [21, 26, 32, 41, 51]  # ceil(4 m^(1/3))
    assert all(j.column("seed") == [0, 1, 2] for j in jobs)
    assert len({name for j in jobs for name in j.datasets}) == 5


def test_schema_rejects_bad_values():
    validator = _Validator(yaml.safe_load(SCHEMA.read_text()))
    for bad in (
        {"E_b1": {"tau_factor": 0.5}},
        {"E_b1": {"d": [3]}},
        {"E_b2": {"tau_factors": [1.0]}},
        {"E_b1": {"x": 1}},
    ):
        assert list(validator.iter_errors({"experiments": bad})), bad


# ---------------------------------------------------------------- claims


def test_declared_claims_are_the_spec_table():
    declared = [c.id for c in papers.declared_claims(P)]
    spec = [line.strip() for line in SPEC_IDS.read_text().splitlines() if line.strip()]
    assert sorted(declared) == sorted(spec)
    by_id = {c.id: c for c in papers.declared_claims(P)}
    invariants = {i for i, c in by_id.items() if c.kind == "invariant"}
    assert invariants == {
        f"{P}.E_b1.interpolant_exact",
        f"{P}.E_b1.bad_interpolant_exact",
        f"{P}.E_b1.interpolant_risk_matches_base",
        f"{P}.E_b1.bumps_resolved",
    }
    assert by_id[f"{P}.E_b1.rate_slope"].bounds("quick") == (-1.0, -0.35)
    for i in (f"{P}.E_b1.rate_slope", f"{P}.E_b1.bad_minimum_does_not_learn"):
        assert by_id[i].min_seeds == 3
    assert set(by_id[f"{P}.E_b1.bad_minimum_does_not_learn"].thresholds) == set(PROFILES)
    assert set(by_id[f"{P}.E_b1.rate_slope"].thresholds) == {"quick", "full"}  # smoke has one m


@pytest.fixture(scope="module")
def tiny_run():
    """Two tiny E_b1 jobs (m = 40, 80) trained for 60 steps, with their baselines (on one thread, as the
    workflow trains: a module fixture runs before the per-test one_torch_thread fixture)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    cfg = quick_cfg()
    e = cfg["experiments"]["E_b1"]
    e.update(m=[40, 80], steps=60, n_test=400, plot_m=40, dtype="float32")
    jobs = papers.grid(P, cfg)
    runs = []
    for job in jobs:
        ((name, spec),) = job.datasets.items()
        arrays = {name: data.make_dataset(name, spec)}
        runs.append(papers.train(P, job, arrays, CTX).assign(paper=P, experiment=job.experiment, point=job.point))
    runs = pd.concat(runs, ignore_index=True)
    all_data = {n: data.make_dataset(n, s) for j in jobs for n, s in j.datasets.items()}
    base = papers.baselines(P, "E_b1", {j.point: j for j in jobs}, runs, all_data, CTX).assign(experiment="E_b1")
    torch.set_num_threads(threads)
    return cfg, runs, base


def test_a_tiny_run_has_every_metric_and_its_invariants_pass(tiny_run):
    cfg, runs, base = tiny_run
    metrics = set(runs["metric"])
    assert {"loss", "val_mse", "risk_A", "risk_B", "risk_C", "interp_mse_B", "S", "curve_B", "data_x"} <= metrics
    assert set(runs.loc[runs["metric"] == "val_mse", "dtype"]) == {"float32"}  # A trains in its section's dtype
    assert set(runs.loc[runs["metric"] == "risk_B", "dtype"]) == {"float64"}  # the constructions in float64
    assert runs["best_step"].notna().all()
    assert {"ols", "rate", "target", "noise", "bump_measure"} <= set(base["baseline"])
    df = papers.evaluate_claims(P, runs, base, {**cfg, "profile": "smoke"}).set_index("claim_id")
    for i in ("interpolant_exact", "bad_interpolant_exact", "interpolant_risk_matches_base", "bumps_resolved"):
        assert df.loc[f"{P}.E_b1.{i}", "status"] == "pass", df.loc[f"{P}.E_b1.{i}", "note"]
    assert df.loc[f"{P}.E_b1.bad_minimum_does_not_learn", "status"] == "pass"
    assert df.loc[f"{P}.E_b1.rate_slope", "status"] == "skipped"
    assert df.loc[f"{P}.E_b2.separation_scaling", "status"] == "skipped"


def test_the_risk_invariant_fails_when_the_risks_disagree(tiny_run):
    """interpolant_risk_matches_base is not vacuous: a risk(B) off by more than the bound fails it."""
    cfg, runs, base = tiny_run
    bad = runs.copy()
    pick = bad["metric"] == "risk_B"
    bad.loc[pick, "value"] = bad.loc[pick, "value"] + 0.1
    df = papers.evaluate_claims(P, bad, base, cfg).set_index("claim_id")
    assert df.loc[f"{P}.E_b1.interpolant_risk_matches_base", "status"] == "fail"


def test_figures_draw_from_the_tables(tiny_run):
    cfg, runs, base = tiny_run
    tables = Tables(runs, base, cfg)
    for stem, draw in papers.figures(P, cfg).items():
        fig = draw(tables)
        assert fig.axes, stem


def test_smoke_outputs(smoke_run):
    results = smoke_run["project"] / "results"
    for stem in ("lin2021_fig_risk_vs_m", "lin2021_fig_interpolants"):
        for ext in ("png", "pdf"):
            assert (results / P / "figures" / f"{stem}.{ext}").stat().st_size > 0
    runs = pd.read_parquet(results / P / "runs.parquet")
    assert {"git_sha", "config_hash", "device", "torch_version", "created_at", "seed"} <= set(runs.columns) or {
        "git_sha",
        "job_hash",
    } <= set(runs.columns)
    assert set(pd.read_parquet(results / P / "baselines.parquet")["baseline"]) >= {"ols", "rate", "target"}
    claims = pd.read_parquet(results / "claims.parquet")
    mine = claims[claims["paper"] == P]
    assert sorted(mine["claim_id"]) == sorted(c.id for c in papers.declared_claims(P))
    judged = mine[mine["status"].isin(["pass", "fail", "error"])]
    assert (judged["kind"] == "invariant").sum() == 4
    assert (judged["status"] == "pass").all(), judged[["claim_id", "value", "note"]].to_string()
