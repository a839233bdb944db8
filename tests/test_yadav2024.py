"""Tests of the yadav2024 plug-in: the DLGN, its path expansion and overlap kernel, frozen gates, the
ensemble against one-at-a-time training, the grid, the claims, and the smoke outputs."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from relurepro import papers
from relurepro.claims import PROFILES, threshold
from relurepro.config import _Validator
from relurepro.papers import yadav2024 as Y
from relurepro.papers.yadav2024 import dlgn, e_a2_circle
from relurepro.tables import Tables

from . import paper_helpers as helpers

P = "yadav2024"
ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "papers" / "yadav2024.schema.yaml"


def section(experiments_cfg: dict | None = None, profile: str = "quick") -> dict:
    return helpers.section(P, experiments_cfg, profile)


def only(exp: str, **overrides) -> dict:
    return helpers.only(P, exp, **overrides)


def run_jobs(cfg: dict, exp: str):
    return helpers.run_jobs(P, cfg, exp)


TINY_CIRCLE = dict(
    seeds=[0, 1],
    variants=["dlgn", "frozen"],
    widths=[4],
    depth=3,
    epochs=3,
    n_train=200,
    n_test=100,
    n_kernel=50,
    kernel_blocks=5,
    log_every=1,
    dtype="float64",
)


# ---------------------------------------------------------------- the model


def _small_dlgn(seeds=(0, 1, 2)):
    params = dlgn.init(list(seeds), 2, 4, 3, 1, bias_std=0.5, dtype=torch.float64)
    x = torch.as_tensor(np.random.default_rng(5).uniform(-1, 1, (60, 2)), dtype=torch.float64)
    return params, x


def test_path_expansion_by_enumeration_matches_forward_and_kernel():
    """d = 2, L = 3, m = 4, float64: every path's region from the effective hyperplanes, to 1e-12."""
    params, x = _small_dlgn()
    depth, m = 3, 4
    with torch.no_grad():
        w_eff, b_eff = dlgn.effective_hyperplanes(params, depth)  # [M, L, 2, m], [M, L, m]
        side = torch.einsum("nd,Mldm->Mnlm", x, w_eff) + b_eff[:, None] > 0  # [M, N, L, m]
        v = dlgn.path_values(params, depth)[..., 0]
        f_paths = torch.zeros(v.shape[0], x.shape[0], dtype=torch.float64)
        k_paths = torch.zeros(v.shape[0], x.shape[0], x.shape[0], dtype=torch.float64)
        for p in itertools.product(range(m), repeat=depth):
            inside = torch.stack([side[:, :, layer, i] for layer, i in enumerate(p)]).all(0).double()  # 1[x in R_p]
            f_paths += v[(slice(None), *p)][:, None] * inside
            k_paths += inside[:, :, None] * inside[:, None, :]
        f = dlgn.forward(params, x, depth, None)[..., 0]
        k = dlgn.overlap_kernel(dlgn.gates(params, x, depth, None))
    assert (f - f_paths).abs().max() < 1e-12
    assert (k - k_paths).abs().max() < 1e-12
    assert k_paths.max() >= 1  # some paths are active: the check is not vacuous


def test_identity_errors_soft_and_hard_are_tiny():
    from relurepro.papers.yadav2024.e_a1_identity import identity_errors

    params, x = _small_dlgn()
    with torch.no_grad():
        errs = identity_errors(params, x, 3, 3.0)
    for k, v in errs.items():
        if "error" in k:
            assert float(v.max()) < 1e-12, k
    assert float(errs["active_paths_mean_hard"].min()) > 0


def test_gating_values_are_the_effective_half_spaces():
    params, x = _small_dlgn()
    with torch.no_grad():
        gs = dlgn.gating_values(params, x, 3)
        w_eff, b_eff = dlgn.effective_hyperplanes(params, 3)
        for layer, g in enumerate(gs):
            assert torch.allclose(g, x @ w_eff[:, layer] + b_eff[:, layer, None, :], atol=1e-12)


def test_path_usage_is_one_forward_with_absolute_weights():
    params, x = _small_dlgn()
    with torch.no_grad():
        count, mass = dlgn.path_usage(params, x, 3)
        phi = dlgn.path_features(dlgn.gates(params, x, 3, None)).flatten(2)
        v = dlgn.path_values(params, 3)[..., 0].flatten(1)
    assert torch.equal(count, phi.sum(-1))
    assert torch.allclose(mass, (phi * v.abs()[:, None]).sum(-1), atol=1e-12)


def test_kernel_image_is_the_tiled_normalised_kernel():
    from relurepro.papers.yadav2024.trainer import kernel_image

    params, x = _small_dlgn()
    y = torch.as_tensor(np.random.default_rng(1).integers(0, 2, 60))
    with torch.no_grad():
        g = dlgn.gates(params, x, 3, None)
        img = kernel_image(g, y, 6).reshape(3, 6, 6)
        order = torch.argsort(y, stable=True)
        k = dlgn.overlap_kernel([gl[:, order] for gl in g]) / 4**3
    assert torch.allclose(img, k.reshape(3, 6, 10, 6, 10).mean((2, 4)), atol=1e-12)
    assert 0 <= float(img.min()) and float(img.max()) <= 1


def test_hard_gates_rebuilt_from_stored_hyperplanes_match_the_model():
    params, x = _small_dlgn([3])
    with torch.no_grad():
        w_eff, b_eff = dlgn.effective_hyperplanes(params, 3)
        g_model = torch.cat(dlgn.gates(params, x, 3, None), -1)[0].numpy()
    w0, w1, b = (a[0].reshape(-1).numpy() for a in (w_eff[:, :, 0], w_eff[:, :, 1], b_eff))
    g = e_a2_circle.hard_gates_from_hyperplanes(w0, w1, b, x.numpy(), 3)
    assert np.array_equal(np.concatenate(g, 1), g_model)


def test_circle_data_is_balanced_and_labelled_by_the_disc():
    d = Y.make_dataset("circle", {"kind": "circle", "seed": 0, "n_train": 4000, "n_test": 10})
    inside = np.linalg.norm(d["x_train"], axis=1) < np.sqrt(2 / np.pi)
    assert np.array_equal(d["y_train"], inside.astype(np.int64))
    assert abs(d["y_train"].mean() - 0.5) < 0.03
    with pytest.raises(ValueError, match="radius"):
        Y.make_dataset("circle", {"kind": "circle", "seed": 0, "n_train": 5, "n_test": 5, "radius": 2.0})


# ---------------------------------------------------------------- training


def test_frozen_gates_stay_bit_identical_and_trained_ones_move():
    _, runs, _ = run_jobs(only("E_a2", **TINY_CIRCLE), "E_a2")
    for metric in ("hp_w0", "hp_w1", "hp_b"):
        d = runs[runs["metric"] == metric]
        first, last = d["step"].min(), d["step"].max()
        for variant, same in (("frozen", True), ("dlgn", False)):
            v = d[d["variant"] == variant]
            a = v[v["step"] == first].sort_values(["seed", "coord"])["value"].to_numpy()
            b = v[v["step"] == last].sort_values(["seed", "coord"])["value"].to_numpy()
            assert np.array_equal(a, b) == same, (metric, variant)


def test_an_ensemble_equals_its_members_trained_one_at_a_time():
    cfg = only("E_a2", **TINY_CIRCLE)
    _, together, _ = run_jobs(cfg, "E_a2")
    for seed, variant in itertools.product(TINY_CIRCLE["seeds"], TINY_CIRCLE["variants"]):
        alone_cfg = only("E_a2", **{**TINY_CIRCLE, "seeds": [seed], "variants": [variant]})
        _, alone, _ = run_jobs(alone_cfg, "E_a2")
        both = together[(together["seed"] == seed) & (together["variant"] == variant)]
        key = ["metric", "step", "coord"]
        merged = both[[*key, "value"]].merge(alone[[*key, "value"]], on=key, suffixes=("_ens", "_one"))
        assert len(merged) == len(alone) == len(both)
        assert np.allclose(merged["value_ens"], merged["value_one"], rtol=0, atol=1e-10), (seed, variant)


def test_the_baseline_models_train_and_log():
    cfg = only("E_a2", **{**TINY_CIRCLE, "variants": ["dln", "relu"], "epochs": 10, "log_every": 5})
    jobs, runs, bases = run_jobs(cfg, "E_a2")
    assert sorted(j.point for j in jobs) == ["dln_m4", "relu_m4"]
    assert set(runs["metric"]) == {"loss", "test_acc"}
    assert list(bases["baseline"]) == ["logistic_regression"]
    relu = runs[(runs["metric"] == "loss") & (runs["variant"] == "relu")].sort_values("step").groupby("member")
    assert (relu["value"].last() < relu["value"].first()).all()  # the ReLU net learns


def test_benchmark_job_on_digits_trains_ten_classes():
    cfg = only("E_a3", seeds=[0], width=8, depth=2, epochs=2, log_every=1, dtype="float64")
    jobs, runs, bases = run_jobs(cfg, "E_a3")
    assert [j.point for j in jobs] == ["digits_dlgn", "digits_dln", "digits_relu"]
    acc = runs[runs["metric"] == "test_acc"]
    assert acc["value"].between(0, 1).all() and acc["value"].max() > 0.2  # well above chance (0.1)
    assert 0.9 < float(bases["value"].iloc[0]) <= 1.0  # logistic regression on digits


# ---------------------------------------------------------------- grid, schema, claims


def test_declared_claims_are_the_spec_table():
    helpers.assert_declared_claims_are_the_spec_table(P)


def test_declarations_follow_the_spec():
    by_id = {c.id: c for c in papers.declared_claims(P)}
    assert {i for i, c in by_id.items() if c.kind == "invariant"} == {
        f"{P}.E_a1.path_expansion_exact",
        f"{P}.E_a1.kernel_product_identity",
    }
    quick = {i: threshold(by_id.values(), i, "quick") for i in by_id}
    assert quick[f"{P}.E_a1.path_expansion_exact"] == 1e-5
    assert quick[f"{P}.E_a2.dln_fails"] == 0.65
    assert quick[f"{P}.E_a2.dlgn_soft_acc"] == 0.95
    assert quick[f"{P}.E_a2.dlgn_hard_acc"] == 0.93
    assert quick[f"{P}.E_a2.trained_beats_frozen_hard"] == 0.03
    assert quick[f"{P}.E_a2.kernel_alignment_rises"] == 0.01
    assert by_id[f"{P}.E_a2.kernel_alignment_rises"].direction == ">"
    assert quick[f"{P}.E_a2.hyperplanes_move_to_boundary"] == 0.05
    assert by_id[f"{P}.E_a2.later_layer_clustering"].direction == "report"
    assert quick[f"{P}.E_a3.digits_dlgn_vs_dln"] == -0.01
    assert set(by_id[f"{P}.E_a3.mnist1d_dlgn_vs_dln"].thresholds) == {"full"}
    assert set(by_id[f"{P}.E_a4.path_usage"].thresholds) == {"full"}
    for i in by_id:
        if by_id[i].experiment == "E_a2" and by_id[i].direction != "report":
            assert set(by_id[i].thresholds) == set(PROFILES) and by_id[i].min_seeds == 3, i


def _circle_tables(hard_dlgn: float, hard_frozen: float) -> Tables:
    rows = []
    for seed in (0, 1, 2):
        for variant, acc in (("dlgn", hard_dlgn), ("frozen", hard_frozen)):
            rows.append(
                dict(
                    experiment="E_a2",
                    point="dlgn_m16",
                    member=len(rows),
                    seed=seed,
                    variant=variant,
                    width=16,
                    step=10,
                    metric="test_acc_hard",
                    value=acc,
                )
            )
    return Tables(pd.DataFrame(rows), pd.DataFrame(), {"profile": "quick", "experiments": {"E_a2": {"widths": [16]}}})


def test_trained_beats_frozen_can_fail():
    claim = next(c for c in e_a2_circle.CLAIMS if c.id.endswith("trained_beats_frozen_hard"))
    assert claim.passes(float(pd.Series(claim.measure(_circle_tables(0.97, 0.90))).median()), "quick")
    assert not claim.passes(float(pd.Series(claim.measure(_circle_tables(0.95, 0.94))).median()), "quick")


def test_grid_defaults_members_and_switches():
    cfg = section()
    jobs = papers.grid(P, cfg)
    assert [j.key for j in jobs] == [
        "E_a1/paths",
        "E_a2/dlgn_m16",
        "E_a2/dln_m16",
        "E_a2/relu_m16",
        "E_a3/digits_dlgn",
        "E_a3/digits_dln",
        "E_a3/digits_relu",
    ]
    dl = next(j for j in jobs if j.key == "E_a2/dlgn_m16")
    assert [(m["seed"], m["variant"]) for m in dl.members] == [(s, v) for v in ("dlgn", "frozen") for s in (0, 1, 2)]
    assert dl.params["dtype"] == "float32" and dl.params["beta"] == 30.0
    assert set(papers.figures(P, cfg)) == {
        "yadav2024_fig_halfspaces",
        "yadav2024_fig_kernel",
        "yadav2024_fig_layer_offsets",
        "yadav2024_fig_accuracy",
        "yadav2024_tab_benchmark",
    }
    full = section({"E_a2": {"widths": [16, 64]}, "E_a4": {"enabled": True}}, profile="full")
    keys = [j.key for j in papers.grid(P, full)]
    assert "E_a2/dlgn_m64" in keys and "E_a4/dlgn" in keys
    assert "yadav2024_fig_path_usage" in papers.figures(P, full)
    for stem in papers.figures(P, full):
        assert (ROOT / "workflow" / "report" / f"{stem}.rst").exists(), stem


def test_schema_rejects_bad_values():
    validator = _Validator(yaml.safe_load(SCHEMA.read_text()))
    for bad in (
        {"E_a2": {"variants": ["cnn"]}},
        {"E_a2": {"widths": [0]}},
        {"E_a2": {"radius": 2.0}},
        {"E_a1": {"dtype": "float32"}},
        {"E_a3": {"datasets": ["cifar10"]}},
        {"E_a4": {"bogus": 1}},
    ):
        assert list(validator.iter_errors({"experiments": bad})), bad


# ---------------------------------------------------------------- the smoke workflow


def test_smoke_outputs_and_claims(smoke_run):
    results = smoke_run["project"] / "results"
    for stem in ("fig_halfspaces", "fig_kernel", "fig_layer_offsets", "fig_accuracy", "tab_benchmark"):
        for ext in ("png", "pdf"):
            assert (results / P / "figures" / f"{P}_{stem}.{ext}").stat().st_size > 1000, stem
    runs = pd.read_parquet(results / P / "runs.parquet")
    assert set(runs["experiment"]) == {"E_a1", "E_a2", "E_a3"}
    assert set(runs.loc[runs["experiment"] == "E_a1", "dtype"]) == {"float64"}
    assert set(runs.loc[runs["experiment"] == "E_a2", "dtype"]) == {"float32"}
    bases = pd.read_parquet(results / P / "baselines.parquet")
    assert {"logistic_regression", "kernel_ridge_init", "kernel_ridge_final"} <= set(bases["baseline"])
    claims = pd.read_parquet(results / "claims.parquet")
    mine = claims[claims["paper"] == P]
    assert sorted(mine["claim_id"]) == sorted(c.id for c in papers.declared_claims(P))
    judged = mine[mine["status"].isin(["pass", "fail", "error"])]
    assert len(judged) >= 6
    failed = judged[judged["status"] != "pass"]
    assert failed.empty, failed[["claim_id", "value", "threshold", "note"]].to_string()


def test_path_usage_experiment_runs_draws_and_reports():
    from relurepro.papers.yadav2024 import e_a4_path_usage as e4

    tiny = {k: v for k, v in TINY_CIRCLE.items() if k not in ("variants", "widths")}
    cfg = only("E_a4", **tiny, width=4, n_usage=60)
    jobs, runs, _ = run_jobs(cfg, "E_a4")
    assert [j.key for j in jobs] == ["E_a4/dlgn"]
    mass = runs[runs["metric"] == "path_mass"]
    assert sorted(mass["coord"].unique()) == [0, 1, 2, 3]
    counts = runs[(runs["metric"] == "active_paths") & (runs["step"] == runs["step"].max())]
    assert len(counts) == 2 * 60 and (counts["value"] >= 0).all() and (counts["value"] <= 4**3).all()
    tables = Tables(runs, pd.DataFrame(), cfg)
    assert len(e4.CLAIMS[0].measure(tables)) == 2
    import matplotlib.pyplot as plt

    plt.close(e4.path_usage(tables))
    with pytest.raises(ValueError, match="experiments.E_a4.feed"):
        papers.grid(P, only("E_a4", feed="x"))
    with pytest.raises(ValueError, match="experiments.E_a2.n_kernel"):
        papers.grid(P, only("E_a2", n_train=100, n_kernel=200))
