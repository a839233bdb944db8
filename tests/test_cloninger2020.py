"""cloninger2020 (a numerical illustration; the paper has no experiments): sampler, targets, grid, trainer,
k-NN reference, claims and the smoke outputs."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from relurepro import config as rcfg
from relurepro import data, papers
from relurepro.papers import Context
from relurepro.papers.cloninger2020 import tube_data
from relurepro.papers.cloninger2020.trainer import val_size
from relurepro.references import knn_regression

ROOT = Path(__file__).resolve().parents[1]
P = "cloninger2020"
SCHEMAS = ROOT / "workflow" / "schemas"
SPEC_CLAIMS = ROOT / "tests" / "spec_claims" / "cloninger2020.txt"
CTX = Context(torch.device("cpu"), torch.float64, log=lambda m: None)


def section(name: str) -> dict:
    return rcfg.paper_config(rcfg.load(ROOT / "config" / name, SCHEMAS), P)


@pytest.mark.parametrize("d, D", [(1, 2), (1, 3), (1, 16), (2, 3), (2, 40)])
def test_tube_samples_lie_within_q_and_project_onto_the_manifold(d, D):
    q = 0.5
    frame = data.random_rotation(D, 7)
    s = data.sphere_tube(4000, frame, d, q, 3)
    c = data.sphere_coordinates(s["x"], frame, d)
    assert (c["dist"] < q).all() and c["dist"].max() > 0.9 * q  # fills the tube, up to its edge
    assert np.allclose(np.linalg.norm(c["pi"], axis=1), 1.0)  # pi(x) lies on the unit sphere ...
    assert np.allclose(c["pi"] @ frame[:, d + 1 :], 0.0)  # ... in the manifold's subspace
    assert np.allclose(c["p"], s["p"]) and np.allclose(c["nu"], s["nu"])  # foot point and normal offsets recovered
    assert np.allclose(c["dist"], np.linalg.norm(s["nu"], axis=1))
    # the nearest of many manifold points is the projection
    grid = data.uniform_sphere(20000, d + 1, 1) @ frame[:, : d + 1].T
    nearest = np.linalg.norm(s["x"][:50, None] - grid[None], axis=2).min(1)
    assert np.all(c["dist"][:50] <= nearest + 1e-12)


def test_tube_refuses_a_radius_beyond_the_reach():
    with pytest.raises(ValueError, match="tube radius"):
        data.sphere_tube(10, data.random_rotation(3, 0), 1, 1.2, 0)


@pytest.mark.parametrize("manifold, D", [("circle", 3), ("circle", 8), ("circle", 64), ("circle", 512), ("sphere", 3)])
def test_t3_added_term_has_the_variance_of_g_of_pi(manifold, D):
    a = tube_data.make_tube(manifold, D, 0.5, 16, 4, 20000, 0.1, 0, 100000, 12345)
    extra, t1 = a["f_T3_extra_test"], a["f_T1_test"]
    assert np.allclose(a["f_T3_test"], t1 + extra)
    assert abs(np.var(extra) / np.var(t1) - 1.0) < 0.05


def test_foot_points_and_noise_are_shared_across_dimensions():
    small = tube_data.make_tube("circle", 3, 0.5, 64, 16, 10, 0.1, 0, 1000, 1)
    large = tube_data.make_tube("circle", 32, 0.5, 64, 16, 10, 0.1, 0, 1000, 1)
    assert np.array_equal(small["p_train"], large["p_train"])
    assert np.allclose(small["y_T1_train"], large["y_T1_train"], rtol=0, atol=1e-12)  # T1 labels: only D differs
    assert not np.array_equal(small["y_T3_train"], large["y_T3_train"])


def test_knn_regression_picks_k_on_validation_and_brute_force_matches_the_tree():
    rng = np.random.default_rng(0)
    x, xv, xt = (rng.uniform(size=(n, 1)) for n in (600, 200, 500))

    def f(z):
        return np.c_[np.sin(8 * z[:, 0]), np.zeros(len(z))]

    y = f(x) + 0.3 * rng.standard_normal((600, 2))
    r = knn_regression(x, y, xv, f(xv), xt, f(xt))
    assert r["k"][0] < r["k"][1]  # the pure-noise target averages more neighbours
    assert r["test_mse"][0] < 0.05
    wide = np.c_[x, np.zeros((600, 9))]  # 10 dims: the brute-force path, same neighbours
    pad = np.zeros((1, 9))
    r2 = knn_regression(
        wide, y[:, 0], np.c_[xv, pad.repeat(200, 0)], f(xv)[:, 0], np.c_[xt, pad.repeat(500, 0)], f(xt)[:, 0]
    )
    assert r2["k"][0] == r["k"][0] and np.isclose(r2["test_mse"][0], r["test_mse"][0])


def test_quick_grid_is_one_ensemble_per_dimension():
    cfg = section("config.yaml")
    jobs = papers.grid(P, cfg)
    assert [j.point for j in jobs] == ["circle_D3", "circle_D16", "circle_D64"]
    for j in jobs:
        assert sorted((m["n"], m["target"]) for m in j.members) == sorted(
            (n, t) for n in (256, 1024, 4096) for t in ("T1", "T3")
        )
        (spec,) = j.datasets.values()
        assert spec["n_train"] == 4096 and spec["n_val"] == val_size(4096, 0.2) == 1024
    bad = copy.deepcopy(cfg)
    bad["experiments"]["E_d1"]["batch_size"] = 512
    with pytest.raises(ValueError, match=r"experiments.E_d1.batch_size: 512 exceeds the smallest n 256"):
        papers.grid(P, bad)


def test_full_grid_has_the_sphere_t2_and_e_d2():
    full = section("full.yaml")
    jobs = papers.grid(P, full)
    assert {j.experiment for j in jobs} == {"E_d1", "E_d2"}
    assert any(j.point == "sphere_D512" for j in jobs)
    assert "cloninger2020_fig_approx_vs_params" in papers.figures(P, full)


@pytest.fixture(scope="module")
def tiny_run():
    """Two ambient dimensions, two sample sizes, two targets, 120 steps: the pipeline in miniature."""
    cfg = section("smoke.yaml")
    e = cfg["experiments"]["E_d1"]
    e.update(n=[48, 96], batch_size=32, steps=120, val_every=20, width=16, n_test=500, var_samples=2000)
    jobs = papers.grid(P, cfg)
    arrays = {k: papers.make_dataset(P, k, v) for j in jobs for k, v in j.datasets.items()}
    runs = pd.concat(
        [papers.train(P, j, arrays, CTX).assign(experiment=j.experiment, point=j.point) for j in jobs],
        ignore_index=True,
    )
    bases = papers.baselines(P, "E_d1", {j.point: j for j in jobs}, runs, arrays, CTX).assign(experiment="E_d1")
    return cfg, jobs, runs, bases


def test_trainer_selects_per_member_and_reports_every_summary(tiny_run):
    cfg, jobs, runs, _ = tiny_run
    summary = runs[runs["metric"] == "test_mse"]
    assert len(summary) == sum(len(j.members) for j in jobs)
    assert (summary["step"] == summary["best_step"]).all() and summary["best_step"].between(0, 120).all()
    assert set(runs["metric"]) >= {
        "loss",
        "val_mse",
        "test_mse",
        "test_sup",
        "train_mse",
        "train_mse_se",
        "val_mse_best",
    }
    assert (runs["dtype"] == "float32").all()
    # the selected step's validation MSE is the smallest logged one, member by member
    for (pt, m), g in runs[runs["metric"] == "val_mse"].groupby(["point", "member"]):
        best = runs[(runs["point"] == pt) & (runs["member"] == m) & (runs["metric"] == "val_mse_best")]["value"]
        assert np.isclose(float(best.iloc[0]), g["value"].min(), rtol=1e-6)


def test_baselines_claims_and_figures_of_the_tiny_run(tiny_run):
    cfg, _, runs, bases = tiny_run
    assert {"ols", "oracle_knn", "ambient_knn", "predicted_rate", "noise_level", "tube_samples"} <= set(
        bases["baseline"]
    )
    rate = bases[bases["baseline"] == "predicted_rate"]
    assert np.allclose(rate["slope"], -0.75)
    oracle = bases[(bases["baseline"] == "oracle_knn") & (bases["metric"] == "test_mse") & (bases["target"] == "T1")]
    spread = oracle.groupby("n")["value"].agg(lambda v: v.max() - v.min())
    assert (spread < 1e-9).all()  # the oracle sees the same foot points in every D
    claims = papers.evaluate_claims(P, runs, bases, {**cfg, "profile": "smoke"}).set_index("claim_id")
    assert claims.loc[f"{P}.E_d1.train_sanity", "status"] == "pass"
    assert claims.loc[f"{P}.E_d1.t1_ambient_invariance", "status"] == "reported"
    quick = papers.evaluate_claims(P, runs, bases, {**cfg, "profile": "quick"}).set_index("claim_id")
    assert quick.loc[f"{P}.E_d1.t1_low_dim_rate", "status"] in ("pass", "fail")
    from relurepro import plotting
    from relurepro.tables import Tables

    for stem, draw in papers.figures(P, cfg).items():
        fig = draw(Tables(runs, bases, cfg))
        assert fig.axes, stem
        plotting.plt.close(fig)


def test_ratio_claims_fail_when_the_ambient_dimension_hurts():
    """The measures can fail: a T1 ratio of 10 fails invariance, a T3 ratio equal to T1's fails the control."""
    from relurepro.tables import Tables

    rows = []
    for target, factor in (("T1", 10.0), ("T3", 10.0)):
        for D, scale in ((3, 1.0), (64, factor)):
            for i, n in enumerate((256, 1024, 4096)):
                rows.append(
                    {
                        "experiment": "E_d1",
                        "point": f"circle_D{D}",
                        "member": i + (3 if target == "T3" else 0),
                        "seed": 0,
                        "n": n,
                        "target": target,
                        "D": D,
                        "manifold": "circle",
                        "step": 0,
                        "metric": "test_mse",
                        "value": scale * 0.1 * (n / 256) ** -0.1,
                    }
                )
    runs = pd.DataFrame(rows)
    claims = papers.evaluate_claims(P, runs, pd.DataFrame(), {"profile": "quick", "experiments": {"E_d1": {}}})
    by = claims.set_index("claim_id")
    assert by.loc[f"{P}.E_d1.t1_ambient_invariance", "status"] == "fail"
    assert by.loc[f"{P}.E_d1.t3_control_degrades", "status"] == "fail"
    assert by.loc[f"{P}.E_d1.t1_low_dim_rate", "status"] == "fail"  # slope -0.1 is an ambient-like rate
    assert isinstance(Tables, type)


def test_declared_claims_are_the_spec_claims():
    declared = [c.id for c in papers.declared_claims(P)]
    spec = [line.strip() for line in SPEC_CLAIMS.read_text().splitlines() if line.strip()]
    assert sorted(declared) == sorted(spec) and len(declared) == len(set(declared))
    by = {c.id: c for c in papers.declared_claims(P)}
    assert set(by[f"{P}.E_d1.t2_distance_model"].thresholds) == {"full"}
    assert set(by[f"{P}.E_d2.approx_curves_coincide"].thresholds) == {"full"}
    assert by[f"{P}.E_d1.train_sanity"].kind == "invariant"


def test_every_caption_says_it_is_an_illustration():
    cfg = yaml.safe_load((ROOT / "config" / "full.yaml").read_text())
    full = rcfg.paper_config(rcfg.load(ROOT / "config" / "full.yaml", SCHEMAS), P)
    assert cfg["papers"][P]["experiments"]["E_d2"]["enabled"]
    for stem in papers.figures(P, full):
        text = (ROOT / "workflow" / "report" / f"{stem}.rst").read_text()
        assert "illustration" in text and "no experiments" in text, stem


def test_smoke_outputs(smoke_run):
    results = smoke_run["project"] / "results"
    runs = pd.read_parquet(results / P / "runs.parquet")
    bases = pd.read_parquet(results / P / "baselines.parquet")
    assert {"paper", "experiment", "point", "seed", "member", "step", "metric", "value", "git_sha"} <= set(runs.columns)
    assert set(runs["point"]) == {"circle_D3", "circle_D16"} and (runs["paper"] == P).all()
    assert {"ols", "oracle_knn", "predicted_rate", "tube_samples"} <= set(bases["baseline"])
    for stem in ("fig_learning_curves", "tab_ratios", "fig_tube"):
        for ext in ("png", "pdf"):
            assert (results / P / "figures" / f"cloninger2020_{stem}.{ext}").stat().st_size > 0
    claims = pd.read_parquet(results / "claims.parquet")
    mine = claims[claims["paper"] == P]
    assert sorted(mine["claim_id"]) == sorted(c.id for c in papers.declared_claims(P))
    judged = mine[mine["status"].isin(["pass", "fail", "error"])]
    assert len(judged) and (judged["status"] == "pass").all(), judged[["claim_id", "status", "note"]]
    assert (mine[mine["kind"] == "invariant"]["status"] == "pass").all()


def test_e_d2_runs_in_miniature_and_reports_the_l2_ratio():
    cfg = section("full.yaml")
    cfg["experiments"]["E_d1"]["enabled"] = False
    cfg["experiments"]["E_d2"].update(
        dims=[3, 8], widths=[8, 16], n=256, steps=40, batch_size=64, val_every=20, n_test=500, var_samples=2000
    )
    jobs = papers.grid(P, cfg)
    assert [j.point for j in jobs] == ["circle_D3_w8", "circle_D3_w16", "circle_D8_w8", "circle_D8_w16"]
    arrays = {k: papers.make_dataset(P, k, v) for j in jobs for k, v in j.datasets.items()}
    assert all(
        np.array_equal(a["x_train"].shape, (256, int(k.split("_D")[1].split("_")[0]))) for k, a in arrays.items()
    )
    assert all(np.allclose(a["y_T1_train"], tube_data.g(a["p_train"])) for a in arrays.values())  # noise-free
    runs = pd.concat(
        [papers.train(P, j, arrays, CTX).assign(experiment=j.experiment, point=j.point) for j in jobs],
        ignore_index=True,
    )
    row = (
        papers.evaluate_claims(P, runs, pd.DataFrame(), cfg)
        .set_index("claim_id")
        .loc[f"{P}.E_d2.approx_curves_coincide"]
    )
    assert row["status"] == "reported" and np.isfinite(row["value"]) and "width 16" in row["note"]
    from relurepro import plotting
    from relurepro.tables import Tables

    fig = papers.figures(P, cfg)["cloninger2020_fig_approx_vs_params"](Tables(runs, pd.DataFrame(), cfg))
    assert len(fig.axes) == 2
    plotting.plt.close(fig)
