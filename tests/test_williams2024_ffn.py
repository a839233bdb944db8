"""Unit tests of the williams2024 feed-forward half: freeze invariant, masking construction, IDX files,
glyph tasks, grid and declared claims, and the smoke workflow's outputs."""

from __future__ import annotations

import copy
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from relurepro import data, papers
from relurepro.papers import Context, Job
from relurepro.papers.williams2024 import construction, ffn, glyphs

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "papers" / "williams2024.schema.yaml"
SPEC_CLAIMS = Path(__file__).resolve().parent / "spec_claims" / "williams2024.txt"
CTX = Context(torch.device("cpu"), torch.float64, log=lambda m: None)
P = "williams2024"


def _defaults(schema: dict):
    if schema.get("type") == "object":
        return {k: _defaults(v) for k, v in schema.get("properties", {}).items()}
    return copy.deepcopy(schema.get("default"))


@pytest.fixture(scope="module")
def quick_cfg():
    return {**_defaults(yaml.safe_load(SCHEMA.read_text())), "profile": "quick", "dtype": "float64"}


# ---------------------------------------------------------------- training modes


def _job(modes, width=16, shared=False, **extra):
    params = {"width": width, "dtype": "float64", "lr_bias": 1e-2, "lr_full": 1e-3, "u_in": 0.1, **extra}
    if shared:
        params["weight_seed"] = 3
    mems = [{"mode": m, "law": law, "seed": s} for s, (m, law) in enumerate(modes)]
    return Job("fig1a", "t", params, members=mems)


def _toy(n=64, d=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, d))
    y = (x[:, 0] > x[:, 1]).astype(np.int64) + 2 * (x[:, 2] > 0.5)
    return {"x_train": x, "y_train": y, "x_test": x[:16], "y_test": y[:16]}


def test_bias_mode_freezes_weights_bit_for_bit_and_trains_n_plus_n_out():
    modes = [
        ("bias", "uniform"),
        ("bias", "gaussian"),
        ("full", "uniform"),
        ("readout", "uniform"),
        ("mask", "uniform"),
    ]
    job = _job(modes, k_start=1.0, k_end=50.0)
    arrays = _toy()
    net = ffn.Ensemble(job, 6, 4, CTX)
    w_in, w_out = net.params[0].detach().clone(), net.params[3].detach().clone()
    hist = ffn.fit(net, ffn.tensors(arrays, net.dtype, CTX.device), CTX, epochs=3, batch=16)
    inv = ffn.invariants(net)
    for m, (mode, _) in enumerate(modes):
        same_in = torch.equal(net.params[0][m], w_in[m])
        same_out = torch.equal(net.params[3][m], w_out[m])
        assert same_in == (mode != "full"), mode
        assert same_out == (mode not in ("full", "readout")), mode
    assert list(inv["frozen_max_change"][[0, 1, 3, 4]]) == [0.0, 0.0, 0.0, 0.0]
    assert np.isnan(inv["frozen_max_change"][2])
    counts = net.n_params()
    assert list(counts) == [16 + 4, 16 + 4, 6 * 16 + 16 + 16 * 4 + 4, 16 * 4 + 4, 16 + 4]
    assert list(inv["trainable_excess"][:2]) == [0.0, 0.0] and np.isnan(inv["trainable_excess"][2:]).all()
    assert (net.params[1][0] != 0).any(), "the biases trained"
    assert np.isfinite(hist.metrics["test_acc"]).all()


def test_frozen_change_detects_a_moved_weight():
    net = ffn.Ensemble(_job([("bias", "uniform")]), 6, 4, CTX)
    with torch.no_grad():
        net.params[0][0, 0, 0] += 1e-12
    assert ffn.invariants(net)["frozen_max_change"][0] > 0


def test_shared_weights_are_broadcast_not_copied():
    job = _job([("bias", "uniform")] * 3 + [("readout", "uniform")], shared=True)
    net = ffn.Ensemble(job, 6, 4, CTX, shared=True)
    assert net.params[0].shape == (1, 6, 16)
    assert net.params[3].shape == (4, 16, 4)  # trained by the readout member: one copy each
    x = torch.rand(4, 10, 6, dtype=torch.float64)
    out = net.forward(net.params, x)
    ref = torch.relu(x[0] @ net.params[0][0]) @ net.params[3][0]
    assert torch.allclose(out[0], ref)


def test_mask_gate_soft_in_training_hard_at_test():
    job = _job([("mask", "uniform"), ("bias", "uniform")])
    net = ffn.Ensemble(job, 6, 4, CTX)
    with torch.no_grad():
        net.params[2][0, 0, :8] = -1.0
    x = torch.rand(5, 6, dtype=torch.float64)
    h = net.hidden(net.params, x)
    assert (h[0, :, :8] == 0).all() and (h[1, :, :8] > 0).any()
    soft = net.hidden(net.params, x, k=1.0)
    assert (soft[0, :, :8] > 0).any()
    assert net.k_at(0.0) == 1.0 and net.k_at(1.0) == pytest.approx(200.0)


# ---------------------------------------------------------------- masking construction


def test_masked_units_output_exactly_zero_and_equal_the_subnetwork():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (300, 3))
    w, b, a = rng.uniform(-2, 2, (200, 3)), rng.uniform(-2, 2, 200), rng.uniform(-2, 2, 200)
    keep = np.arange(0, 200, 7)
    masked = construction.mask_by_bias(x, w, b, keep)
    y, h = construction.relu_net(x, w, masked, a)
    off = np.setdiff1d(np.arange(200), keep)
    assert (h[:, off] == 0).all()
    y_sub, _ = construction.relu_net(x, w[keep], b[keep], a[keep])
    assert np.abs(y - y_sub).max() < 1e-6


def test_construction_hides_a_small_net_in_a_wide_one():
    c = construction.construct(0, 1, 4, 4096, 1.0, 2.0, 200)
    assert c.masked_max_activation == 0.0 and c.subnet_error < 1e-6
    assert c.window < 0.2 and c.match_error < 1.0
    with pytest.raises(ValueError, match="gamma < R"):
        construction.construct(0, 1, 4, 64, 2.0, 1.0, 10)


# ---------------------------------------------------------------- IDX files


def _write_set(folder: Path, gz: bool, n=(12, 5)):
    rng = np.random.default_rng(0)
    ext = ".gz" if gz else ""
    for prefix, k in zip(("train", "t10k"), n):
        data.write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", rng.integers(0, 256, (k, 4, 4), dtype=np.uint8))
        data.write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", rng.integers(0, 10, k, dtype=np.uint8))


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip_and_rule_inputs(tmp_path, gz):
    _write_set(tmp_path, gz)
    arr = data.read_idx(next(tmp_path.glob("train-images*")))
    out = data.make({"kind": "idx", "folder": str(tmp_path)})
    assert out["x_train"].shape == (12, 16) and out["x_test"].shape == (5, 16)
    assert np.allclose(out["x_train"], arr.reshape(12, -1) / 255.0)
    files = data.input_files({"kind": "idx", "folder": str(tmp_path)})
    assert len(files) == 4 and all(Path(f).is_file() for f in files)
    assert data.input_files({"kind": "images", "source": "digits"}) == []


def test_idx_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad-magic"
    bad.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="bad-magic.*bad magic"):
        data.read_idx(bad)
    short = data.write_idx(tmp_path / "short", np.zeros((3, 2, 2), dtype=np.uint8))
    short.write_bytes(short.read_bytes()[:-2])
    with pytest.raises(ValueError, match="short.*truncated"):
        data.read_idx(short)
    images = data.write_idx(tmp_path / "img", np.zeros((3, 2, 2), dtype=np.uint8))
    labels = data.write_idx(tmp_path / "lab", np.zeros(4, dtype=np.uint8))
    with pytest.raises(ValueError, match="img holds 3 images but .*lab holds 4"):
        data.read_idx_pair(images, labels)
    labels = data.write_idx(tmp_path / "lab11.gz", np.array([0, 1, 11], dtype=np.uint8))
    with pytest.raises(ValueError, match="lab11.gz: label 11 out of range"):
        data.read_idx_pair(images, labels)
    raw = gzip.decompress(labels.read_bytes())
    assert raw[:4] == b"\x00\x00\x08\x01"


# ---------------------------------------------------------------- glyph tasks


def test_glyph_rendering_is_deterministic_and_seeds_disjoint():
    a = glyphs.glyph_task("latin", 20, 10, seed=4, side=14)
    b = glyphs.glyph_task("latin", 20, 10, seed=4, side=14)
    assert np.array_equal(a["x_train"], b["x_train"]) and np.array_equal(a["x_test"], b["x_test"])
    assert a["x_train"].shape == (20, 196) and 0 <= a["x_train"].min() and a["x_train"].max() <= 1
    assert not np.array_equal(a["x_train"][:10], a["x_test"])
    c = glyphs.glyph_task("latin", 20, 10, seed=5, side=14)
    assert not np.array_equal(a["x_train"], c["x_train"])
    assert all(len(f.split(":")[1]) == 64 for f in a["fonts"])


def test_tofu_check_rejects_unassigned_and_missing_glyphs(monkeypatch):
    sans = next(f for f in glyphs.faces() if f.name == "DejaVuSans.ttf")
    assert glyphs.renders(sans, ord("A"))
    assert not glyphs.renders(sans, glyphs.UNASSIGNED)
    assert not glyphs.renders(sans, 0x0E01)  # Thai: not in DejaVu
    monkeypatch.setitem(glyphs.SCRIPTS, "thai", [0x0E01 + i for i in range(10)])
    glyphs.class_faces.cache_clear()
    with pytest.raises(ValueError, match="U\\+0E01"):
        glyphs.class_faces("thai")
    glyphs.class_faces.cache_clear()


def test_glyph_faces_match_the_expected_coverage():
    names = [{f.name for f in ok} for ok in glyphs.class_faces("nko")]
    assert all(n <= {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf"} and n for n in names)
    assert all("Display" not in f.name for f in glyphs.faces())


# ---------------------------------------------------------------- grid and claims


def test_quick_grid(quick_cfg):
    jobs = {j.key: j for j in papers.grid(P, quick_cfg)}
    w = jobs["fig1a/w2048"]
    assert len(w.members) == 9 and {m["mode"] for m in w.members} == {"bias", "readout"}
    assert [m["mode"] for m in jobs["fig1a/w2048_full"].members] == ["full"] * 3
    assert "fig1a/w10" not in jobs and [m["mode"] for m in jobs["fig1a/w10_full"].members] == ["full"] * 3
    assert jobs["fig1a/w10_full"].members[0]["matched"] and not jobs["fig1a/w2048_full"].members[0]["matched"]
    assert {m["task"] for m in jobs["fig1b/bias"].members} == set(quick_cfg["experiments"]["fig1b"]["tasks"])
    assert jobs["fig1b/bias"].datasets["glyphs_nko"]["side"] == 14
    assert not any(j.experiment in ("invariant", "fige2", "fig1c") for j in jobs.values())


def test_idx_task_without_folder_is_a_config_error(quick_cfg):
    cfg = copy.deepcopy(quick_cfg)
    cfg["experiments"]["fig1b"]["tasks"] = ["latin", "kmnist"]
    with pytest.raises(ValueError, match="idx_dirs.kmnist"):
        papers.grid(P, cfg)


def test_image_source_falls_back_without_an_idx_folder(quick_cfg, tmp_path):
    from relurepro.papers.williams2024 import image_dataset

    cfg = copy.deepcopy(quick_cfg)
    cfg["data"]["images"] = "fashion_mnist"
    assert image_dataset(cfg)[1]["source"] == "mnist5k"
    cfg["data"]["idx_dirs"]["fashion_mnist"] = str(tmp_path)
    assert image_dataset(cfg) == ("idx_fashion_mnist", {"kind": "idx", "folder": str(tmp_path)})


def test_full_run_on_the_mnist5k_fallback_is_judged_with_quick_thresholds():
    """Spec §3: without an MNIST folder the full profile runs MNIST-5k and takes the quick thresholds."""
    from relurepro.tables import Tables

    fig1a = [c for c in papers.declared_claims(P) if c.experiment == "fig1a"]
    differing = [c for c in fig1a if c.thresholds.get("quick") != c.thresholds.get("full")]
    assert differing and all(c.judged_as for c in differing)
    on = lambda name: Tables(pd.DataFrame({"experiment": ["fig1a"], "dataset": [name]}), pd.DataFrame(), {})  # noqa: E731
    for c in differing:
        assert c.judged_as(on("mnist5k"), "full")[0] == "quick"
        assert c.judged_as(on("idx_mnist"), "full") == ("full", "")
        assert c.judged_as(on("mnist5k"), "quick") == ("quick", "")


def test_declared_claims_are_the_spec_table():
    declared = [c.id for c in papers.declared_claims(P)]
    spec = [line.strip() for line in SPEC_CLAIMS.read_text().splitlines() if line.strip()]
    assert len(declared) == len(set(declared))
    assert sorted(declared) == sorted(spec)


def test_invariant_claims_fail_without_logged_rows_and_on_a_change():
    from relurepro.claims import evaluate
    from relurepro.tables import Tables

    mine = [c for c in papers.declared_claims(P) if c.experiment == "invariant"]
    empty = evaluate(mine, Tables(pd.DataFrame({"metric": []}), pd.DataFrame(), {}), "quick")
    assert (empty["status"] == "error").all()
    rows = pd.DataFrame(
        [
            {"experiment": "fig3a", "seed": 0, "metric": "frozen_max_change", "value": 0.0},
            {"experiment": "fig2", "seed": 0, "metric": "frozen_max_change", "value": 1e-9},
            {"experiment": "fig2", "seed": 0, "metric": "trainable_excess", "value": -1.0},
        ]
    )
    out = evaluate(mine, Tables(rows, pd.DataFrame(), {}), "quick").set_index("claim_id")
    assert out.loc[f"{P}.invariant.weights_frozen", "status"] == "fail"
    assert out.loc[f"{P}.invariant.bias_param_count", "value"] == 1.0


# ---------------------------------------------------------------- smoke workflow


def test_smoke_outputs(smoke_run):
    results = smoke_run["project"] / "results"
    runs = pd.read_parquet(results / P / "runs.parquet")
    assert set(runs["experiment"]) >= {"theory", "fig1a", "fig1b", "fig2"}
    assert (results / P / "baselines.parquet").is_file()
    for stem in (
        "fig1a_width",
        "fige2_params",
        "fig1b_multitask",
        "fig1c_task_variance",
        "fig2_mask_vs_bias",
        "theory_l1",
    ):
        for ext in ("png", "pdf"):
            assert (results / P / "figures" / f"{P}_{stem}.{ext}").stat().st_size > 0
    claims = pd.read_parquet(results / "claims.parquet")
    mine = claims[claims["paper"] == P].set_index("claim_id")
    assert set(mine.index) == {c.id for c in papers.declared_claims(P)}
    inv = mine[mine["kind"] == "invariant"]
    assert len(inv) == 4 and (inv["status"] == "pass").all()
    judged = mine[mine["status"].isin(["pass", "fail", "error"])]
    assert (judged["status"] == "pass").all(), judged[judged["status"] != "pass"]["note"].to_dict()
    assert set(runs[runs["metric"] == "tv"]["task"]) == {"latin", "greek"}
