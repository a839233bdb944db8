"""Unit tests of the meltzer2023 plug-in: NTKs, uv recursion, window edges, norm identity, grid, claims, data."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from relurepro import data, ntk, papers
from relurepro.papers import Context, Job
from relurepro.papers.meltzer2023 import e_c0_ntk_check, models, windows
from relurepro.papers.meltzer2023.baseline_rows import uv_recursion
from relurepro.papers.meltzer2023.grid_common import lr_members

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "papers" / "meltzer2023.schema.yaml"
SPEC_CLAIMS = Path(__file__).resolve().parent / "spec_claims" / "meltzer2023.txt"
CTX = Context(torch.device("cpu"), torch.float64, log=lambda m: None)


def grid(cfg):
    return papers.grid("meltzer2023", cfg)


def _defaults(schema: dict):
    """The quick config implied by the schema's defaults (recursively)."""
    if schema.get("type") == "object":
        return {k: _defaults(v) for k, v in schema.get("properties", {}).items()}
    return copy.deepcopy(schema.get("default"))


@pytest.fixture(scope="module")
def quick_cfg():
    cfg = _defaults(yaml.safe_load(SCHEMA.read_text()))
    return {**cfg, "profile": "quick", "dtype": "float64"}


def test_ntk_analytic_matches_autograd():
    assert e_c0_ntk_check.ntk_max_rel_error() < 1e-5


def test_ntk_check_runs_as_a_job(quick_cfg):
    (job,) = [j for j in grid(quick_cfg) if j.experiment == "E_c0"]
    df = papers.train("meltzer2023", job, {}, CTX)
    top = df[df["metric"] == "max_rel_error"]
    assert len(top) == 1 and 0 <= float(top["value"].iloc[0]) < 1e-5
    assert float(top["value"].iloc[0]) == df[df["metric"] == "rel_error"]["value"].max()
    assert {"member", "seed", "step", "metric", "value"} <= set(df.columns)


def test_two_layer_closed_form_equals_general_ntk():
    params = models.mlp_init([3, 4], 3, 32, 1)
    x = torch.rand(5, 3, dtype=torch.float64)
    slope = torch.tensor([0.5, 0.5], dtype=torch.float64)
    a = ntk.ntk_two_layer(params[0], params[1], x, "leaky", slope, 3, 32)
    b = ntk.ntk_mlp(params, x, "leaky", slope, models.mlp_scale(3, 32, 1))
    assert torch.allclose(a, b, rtol=1e-12, atol=1e-14)


def test_uv_net_matches_recursion():
    n, steps = 512, 100
    params = models.mlp_init([7, 7], 1, n, 1)
    x = torch.ones(1, 1, dtype=torch.float64)
    slope = torch.zeros(2, dtype=torch.float64)
    scale = models.mlp_scale(1, n, 1)
    with torch.no_grad():
        lam0 = ntk.top_eig(ntk.ntk_mlp(params, x, "linear", slope, scale))
        f0 = models.mlp_forward(params, x, "linear", slope, scale)[0][:, 0, 0]
    lr = torch.tensor([2.5, 3.5], dtype=torch.float64) / lam0

    def state():
        f = models.mlp_forward(params, x, "linear", slope, scale)[0][:, 0, 0].detach().clone()
        return f, models.theta_sq(params) / n

    fs, lams = zip(*[state()])
    fs, lams = list(fs), list(lams)
    for _ in range(steps):
        loss = 0.5 * models.mlp_forward(params, x, "linear", slope, scale)[0][:, 0, 0] ** 2
        grads = torch.autograd.grad(loss.sum(), params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(lr.reshape(-1, 1, 1) * g)
        f, lam = state()
        fs.append(f)
        lams.append(lam)
    fs, lams = torch.stack(fs).numpy(), torch.stack(lams).numpy()
    for m in range(2):
        rec = uv_recursion(float(f0[m]), float(lam0[m]), float(lr[m]), n, steps)
        # lambda_t stays O(1): pointwise relative error
        assert (np.abs(lams[:, m] - rec["lambda"]) / np.abs(rec["lambda"])).max() <= 1e-8
        # f_t decays to ~1e-50 after the catapult, below the float64 rounding floor of u.v/sqrt(n)
        # (~1e-16 of the trajectory's scale): relative error where f is resolvable, absolute
        # error relative to the peak elsewhere
        peak = np.abs(rec["f"]).max()
        err = np.abs(fs[:, m] - rec["f"])
        big = np.abs(rec["f"]) >= 1e-6 * peak
        assert (err[big] / np.abs(rec["f"][big])).max() <= 1e-8
        assert err.max() <= 1e-8 * peak
    # a catapult actually happened in this test (loss grows before it shrinks)
    assert np.abs(fs[:, 1]).max() > 2 * abs(fs[0, 1])


@pytest.mark.parametrize("a", [0.5, 0.75])
def test_leaky_edge_single_input(a):
    width = 4096
    params = [p.detach() for p in models.mlp_init([11], 1, width, 1)]
    x = torch.ones(1, 1, dtype=torch.float64)
    slope = torch.tensor([a], dtype=torch.float64)
    lam0 = ntk.top_eig(ntk.ntk_mlp(params, x, "leaky", slope, models.mlp_scale(1, width, 1))).numpy()
    msw = (models.theta_sq(params) / models.n_params(params)).numpy()
    edge = windows.leaky_edge(lam0, msw, np.ones((1, 1)))
    assert abs(float(edge[0]) - 2 * (1 + a**2)) <= 0.2


def test_relu_and_uv_edges():
    assert windows.RELU_EDGE == 4.0 and windows.LOWER_EDGE == 2.0
    params = [p.detach() for p in models.mlp_init([5], 1, 256, 1)]
    x = torch.ones(1, 1, dtype=torch.float64)
    lam0 = ntk.top_eig(
        ntk.ntk_mlp(params, x, "linear", torch.zeros(1, dtype=torch.float64), models.mlp_scale(1, 256, 1))
    )
    msw = models.theta_sq(params) / models.n_params(params)
    lo, hi = windows.uv_edges(lam0.numpy(), msw.numpy())
    assert lo[0] == 2.0 and abs(hi[0] - 4.0) < 1e-12


def test_quadratic_edges_coincide_for_one_sample():
    meta = models.quadratic_meta(40, 1, 1.0, 2.0, 3)
    psi = models.quadratic_psi(meta, torch.ones(1, 1, dtype=torch.float64))
    theta = models.quadratic_init(3, 2, 40)
    zeta = 20**-0.5
    k0 = ntk.ntk_quadratic(theta.detach(), psi, zeta)
    a = windows.quadratic_psi_eff_edge(theta.detach(), psi, zeta, k0)
    b = windows.quadratic_omega_edge(theta.detach(), psi, zeta, k0[:, 0, 0])
    assert torch.allclose(a, b, rtol=1e-10)
    assert 1.0 < float(a[0]) < 4.0


@pytest.mark.parametrize("act", ["relu", "leaky", "linear"])
def test_weight_norm_identity_two_layer(act):
    params = models.mlp_init([1], 3, 64, 1)
    x = torch.rand(6, 3, dtype=torch.float64)
    y = torch.randn(6, 1, dtype=torch.float64)
    slope = torch.tensor([0.3], dtype=torch.float64)
    scale, eta, b = models.mlp_scale(3, 64, 1), 0.7, 6
    for _ in range(20):
        f = models.mlp_forward(params, x, act, slope, scale)[0]
        loss = 0.5 * ((f - y) ** 2).mean()
        grads = torch.autograd.grad(loss, params)
        before = float(models.theta_sq(params)[0])
        gnorm = float(sum(g.pow(2).sum() for g in grads))
        pred = before - (4 * eta / b) * float(((f - y) * f).sum().detach()) + eta**2 * gnorm
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(eta * g)
        after = float(models.theta_sq(params)[0])
        assert abs(after - pred) <= 1e-10 * max(1.0, abs(after))


def test_weight_norm_identity_pure_quadratic():
    meta = models.quadratic_meta(20, 2, 0.9, 1.1, 0)
    psi = models.quadratic_psi(meta, torch.rand(4, 2, dtype=torch.float64) - 0.5)
    theta = models.quadratic_init(0, 1, 20)
    y = torch.randn(4, 1, dtype=torch.float64)
    zeta, eta = 10**-0.5, 0.5
    for _ in range(20):
        f = models.quadratic_forward(theta, psi, zeta)
        loss = 0.5 * ((f - y) ** 2).mean()
        (g,) = torch.autograd.grad(loss, [theta])
        before = float(theta.detach().pow(2).sum())
        pred = before - (4 * eta / 4) * float(((f - y) * f).sum().detach()) + eta**2 * float(g.pow(2).sum())
        with torch.no_grad():
            theta.sub_(eta * g)
        assert abs(float(theta.detach().pow(2).sum()) - pred) <= 1e-10 * max(1.0, before)


def test_grid_unique_and_respects_enabled(quick_cfg):
    jobs = grid(quick_cfg)
    keys = [j.key for j in jobs]
    assert len(keys) == len(set(keys))
    assert {j.experiment for j in jobs} == {"E_c0", "E_c1", "E_c2", "E_c3", "E_c4", "E_c5"}
    cfg = copy.deepcopy(quick_cfg)
    cfg["experiments"]["E_c5"]["enabled"] = False
    cfg["experiments"]["E_c1"]["enabled"] = False
    assert {j.experiment for j in grid(cfg)} == {"E_c0", "E_c2", "E_c3", "E_c4"}
    e5 = [j for j in jobs if j.experiment == "E_c5"]
    assert all(len(j.datasets) == 1 and "seed" in next(iter(j.datasets.values())) for j in e5)
    # spec §9: E_c5 at width 1024 with 3 seeds, E_c4 with 5 seeds (the authors' 123 first)
    assert {j.params["width"] for j in e5} == {1024}
    assert all(sorted(set(j.column("seed"))) == [0, 1, 2] for j in e5)
    (e4,) = [j for j in jobs if j.experiment == "E_c4"]
    assert list(dict.fromkeys(e4.column("seed"))) == [123, 0, 1, 2, 3]


def test_members_are_seeds_times_learning_rates(quick_cfg):
    (e4,) = [j for j in grid(quick_cfg) if j.experiment == "E_c4"]
    lrs = quick_cfg["experiments"]["E_c4"]["eta_lambda0"]
    assert len(e4.members) == 5 * len(lrs)
    assert e4.members[0] == {"seed": 123, "eta_lambda0": lrs[0]} and e4.members[len(lrs)]["seed"] == 0
    assert "seeds" not in e4.params and "eta_lambda0" not in e4.params
    lab = e4.labels()
    assert list(lab.columns) == ["seed", "eta_lambda0"] and len(lab) == len(e4.members)
    t = e4.tensor("eta_lambda0", dtype=torch.float32)
    assert t.dtype == torch.float32 and float(t[1]) == pytest.approx(lrs[1])
    # the spec round trip the workflow uses keeps every member label exactly
    assert Job.from_spec(e4.experiment, e4.point, e4.spec()) == e4


def test_a_member_does_not_depend_on_its_ensemble_mates():
    p = {"steps": 20, "diverge_above": 1e8, "log_every": 1, "width": 64, "x": 4.0, "y": 2.0, "model": "relu"}
    alone = papers.train("meltzer2023", Job("E_c4", "w64", p, members=lr_members([123], [1.0, 3.5])), {}, CTX)
    mates = papers.train("meltzer2023", Job("E_c4", "w64", p, members=lr_members([123, 0], [1.0, 3.5])), {}, CTX)
    a = alone.sort_values(["member", "metric", "step"])["value"].to_numpy()
    b = mates[mates["seed"] == 123].sort_values(["member", "metric", "step"])["value"].to_numpy()
    assert np.array_equal(a, b, equal_nan=True)


def test_schema_rejects_negative_width():
    import jsonschema

    schema = yaml.safe_load(SCHEMA.read_text())
    bad = {"experiments": {"E_c5": {"widths": [-4]}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"experiments": {"E_c9": {}}}, schema)


def test_tiny_training_job_runs():
    p = {"steps": 30, "diverge_above": 1e8, "log_every": 1}
    job = Job("E_c1", "n64", {**p, "width": 64, "model": "uv"}, members=lr_members([0], [1.0, 2.5, 5.0]))
    df = papers.train("meltzer2023", job, {}, CTX)
    assert {
        "experiment",
        "member",
        "seed",
        "step",
        "metric",
        "value",
        "eta_lambda0",
        "lr",
        "lambda0",
        "diverged",
    } <= set(df.columns)
    final = df[df["metric"] == "final_loss"].set_index("eta_lambda0")["value"]
    assert final[1.0] < 1e-10
    assert bool(df[df["eta_lambda0"] == 5.0]["diverged"].iloc[0])


def test_digits_pair():
    d = data.digits_pair(0, 1, 128, 0)
    assert d["x_train"].shape == (128, 64) and d["x_test"].shape == (232, 64)
    assert set(np.unique(d["y_train"])) == {-1.0, 1.0}
    assert abs((d["y_train"] > 0).mean() - 0.5) < 0.02
    assert d["x_train"].min() >= 0 and d["x_train"].max() <= 1


def test_mnist_pair():
    d = data.mnist_pair(0, 1, 128, 0)
    assert d["x_train"].shape == (128, 784) and d["x_test"].shape == (872, 784)
    assert set(np.unique(d["y_test"])) == {-1.0, 1.0}
    assert d["x_train"].max() <= 1.0


def test_templates():
    d = data.templates(64, 128, 1000, 0.3, 0)
    assert d["x_train"].shape == (128, 64) and d["x_test"].shape == (1000, 64)
    assert d["x_train"].min() >= 0 and d["x_train"].max() <= 1
    assert set(np.unique(d["y_train"])) == {-1.0, 1.0}
    again = data.templates(64, 128, 1000, 0.3, 0)
    assert np.array_equal(d["x_train"], again["x_train"])


def test_quadratic_parts_grid_and_edges():
    from relurepro.papers.meltzer2023 import quadratic_parts

    schema = yaml.safe_load(SCHEMA.read_text())
    cfg = {**_defaults(schema), "profile": "full", "dtype": "float64"}
    cfg["experiments"]["E_c6"]["enabled"] = True
    parts = [j for j in grid(cfg) if j.experiment == "E_c6"]
    for j in parts:  # one shared initialisation per part; the members are its learning rates
        e = cfg["experiments"]["E_c6"][j.point]
        assert j.column("eta_lambda0") == [float(v) for v in e["eta_lambda0"]]
        assert set(j.column("seed")) == {e["seed"]} == {j.params["seed"]}
    assert sorted(j.point for j in parts) == sorted(quadratic_parts.PARTS)
    p = next(j.params for j in parts if j.point == "fig06")
    st = quadratic_parts.setup(p, 2)
    edges = st["q"].edges(st["params"], st["psi"], st["phi"])
    assert 2.0 < float(edges["edge_upper"][0]) < 4.0


# ---------------------------------------------------------------- declared claims


def test_declared_claims_are_the_spec_table():
    declared = [c.id for c in papers.declared_claims("meltzer2023")]
    spec = [line.strip() for line in SPEC_CLAIMS.read_text().splitlines() if line.strip()]
    assert len(declared) == len(set(declared))
    assert sorted(declared) == sorted(spec)


def test_claim_declarations_follow_the_spec():
    claims = {c.id: c for c in papers.declared_claims("meltzer2023")}
    for cid in ("E_c5.gaussian_control", "E_c5.three_layer_sparsity", "E_c6.bounds_between_2_and_empirical_max"):
        assert set(claims[f"meltzer2023.{cid}"].thresholds) == {"full"}, cid
    for cid in ("E_c4.dead_fraction", "E_c5.catapult_generalises", "E_c5.gaussian_control"):
        assert claims[f"meltzer2023.{cid}"].direction == "report", cid
    for cid in ("E_c0.ntk_analytic_matches_autograd", "E_c3.bound_formula_exact"):
        assert claims[f"meltzer2023.{cid}"].kind == "invariant", cid
    c4 = claims["meltzer2023.E_c4.catapult_converges"]
    assert c4.version == 2 and c4.min_seeds == 3 and c4.thresholds["quick"] == 1e-3
    assert claims["meltzer2023.E_c4.sparsity_monotone"].version == 2
    assert all(c.min_seeds == 3 for cid, c in claims.items() if ".E_c5." in cid and c.direction != "report")


def _e_c4_tables(final_loss: float, sparsity: float, lazy_sparsity: float = 0.5):
    """A minimal aggregated E_c4 table: 3 seeds x 3 LRs, every run ending at ``final_loss``."""
    from relurepro.tables import Tables

    rows = []
    for seed in (123, 0, 1):
        for member, el in enumerate((1.0, 2.5, 3.0)):
            base = {"experiment": "E_c4", "point": "w64", "member": member, "seed": seed, "eta_lambda0": el}
            base.update(diverged=False, diverged_step=-1, step=100)
            for metric, value in (
                ("final_loss", final_loss),
                ("sparsity_l1", sparsity if el > 2 else lazy_sparsity),
                ("loss_max_ratio", 2.0),
                ("theta2_final_ratio", 1.0),
                ("eta_lambda_final", 1.0),
            ):
                rows.append({**base, "metric": metric, "value": value})
    runs = pd.DataFrame(rows)
    runs["point"] = runs["point"] + "_" + runs["seed"].astype(str)
    cfg = {"profile": "quick", "experiments": {"E_c4": {"x": 4.0, "y": 2.0, "dead_tol": 1e-3}}}
    return Tables(runs, pd.DataFrame(), cfg)


def _rows(tables):
    from relurepro.claims import evaluate

    mine = [c for c in papers.declared_claims("meltzer2023") if c.experiment == "E_c4"]
    return evaluate(mine, tables, "quick").set_index("claim_id")


def test_dead_network_claim_is_skipped_without_dead_nets():
    rows = _rows(_e_c4_tables(final_loss=1e-9, sparsity=0.7))
    dead = rows.loc["meltzer2023.E_c4.dead_network_sparse"]
    assert dead["status"] == "skipped" and "no dead network" in dead["note"]
    assert rows.loc["meltzer2023.E_c4.catapult_converges", "status"] == "pass"
    assert rows.loc["meltzer2023.E_c4.catapult_converges", "n_seeds"] == 3
    assert rows.loc["meltzer2023.E_c4.dead_fraction", "value"] == 0.0


def test_dead_nets_are_judged_and_excluded_from_convergence():
    rows = _rows(_e_c4_tables(final_loss=2.0, sparsity=1.0, lazy_sparsity=1.0))
    assert rows.loc["meltzer2023.E_c4.dead_network_sparse", "status"] == "pass"
    # a dead net whose units are not all off fails the claim
    half = _rows(_e_c4_tables(final_loss=2.0, sparsity=1.0))
    assert half.loc["meltzer2023.E_c4.dead_network_sparse", "status"] == "fail"
    assert rows.loc["meltzer2023.E_c4.dead_fraction", "value"] == 1.0
    # every catapult run died: no seed has a run to judge, so the claim fails rather than passing vacuously
    assert rows.loc["meltzer2023.E_c4.catapult_converges", "status"] == "fail"


def test_claims_stage_does_not_import_torch():
    code = (
        "import sys, pandas as pd\n"
        "from relurepro import papers\n"
        "cfg = {'profile': 'quick', 'experiments': {'E_c0': {}, 'E_c1': {}}}\n"
        "df = papers.evaluate_claims('meltzer2023', pd.DataFrame({'experiment': []}), pd.DataFrame(), cfg)\n"
        "assert len(df) == len(papers.declared_claims('meltzer2023'))\n"
        "assert 'torch' not in sys.modules and 'seaborn' not in sys.modules, 'claims imported torch'\n"
        "print(sorted(papers.figures('meltzer2023', cfg)))\n"
        "assert 'torch' not in sys.modules and 'seaborn' not in sys.modules, 'stems imported torch'\n"
    )
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
