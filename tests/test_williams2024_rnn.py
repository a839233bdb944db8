"""Unit tests of williams2024's recurrent half: the batched RNN, its Jacobian, the integrators, the plant,
bias-mode invariants through the engine, the grid and the smoke outputs."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from relurepro import papers
from relurepro.config import _Validator
from relurepro.papers import Context
from relurepro.papers.williams2024 import dynamics, rnn
from relurepro.papers.williams2024.e_fig3cd_vdp import matched_full_width

P = "williams2024"
ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "papers" / "williams2024.schema.yaml"
SPEC_IDS = ROOT / "tests" / "spec_claims" / "williams2024.txt"
CTX = Context(device=torch.device("cpu"), dtype=torch.float64, log=lambda msg: None)
RNN_EXPERIMENTS = ("fig3a", "fig3b", "fig3d", "fig4", "motor", "fige2_rnn")


def section(experiments_cfg: dict | None = None, profile: str = "quick") -> dict:
    """A validated, default-filled williams2024 section with the shared keys added."""
    sec = {"enabled": True, "experiments": copy.deepcopy(experiments_cfg or {})}
    validator = _Validator(yaml.safe_load(SCHEMA.read_text()))
    errors = list(validator.iter_errors(sec))
    assert not errors, [e.message for e in errors]
    return {**sec, "profile": profile, "dtype": "float64"}


def smoke_section() -> dict:
    smoke = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())["papers"][P]["experiments"]
    return section({k: v for k, v in smoke.items() if k in RNN_EXPERIMENTS}, profile="smoke")


# ---------------------------------------------------------------- the batched RNN


def _members(modes, leak, d_in=2, d_out=2, n=12, steps=9, batch=3):
    seeds = list(range(len(modes)))
    gains = [0.8 + 0.3 * i for i in seeds]
    params, r0 = rnn.init(seeds, gains, n, d_in, d_out, r0="random", readout_std=0.3)
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        params[3].copy_(0.2 * torch.randn(params[3].shape, generator=gen, dtype=torch.float64))
        params[4].copy_(0.1 * torch.randn(params[4].shape, generator=gen, dtype=torch.float64))
    u = torch.randn(steps, batch, d_in, generator=gen, dtype=torch.float64)
    y = torch.randn(steps, batch, d_out, generator=gen, dtype=torch.float64)
    return seeds, gains, params, r0, u, y


@pytest.mark.parametrize("leak", [1.0, 0.3])
def test_batched_rnn_equals_each_member_alone(leak):
    modes = ["bias", "full", "bias", "full"]
    seeds, gains, params, r0, u, y = _members(modes, leak)
    trained = {m: [p for name, p in zip(rnn.NAMES, params) if name in rnn.TRAINS[m]] for m in ("bias", "full")}
    for p in params:
        p.requires_grad_()
    _, out = rnn.rollout(params, r0, u, u.shape[0], leak)
    loss = ((out - y[:, None]) ** 2).mean((0, 2, 3))
    grads = torch.autograd.grad(loss.sum(), params)
    for m, mode in enumerate(modes):
        alone = [p[m : m + 1].detach().clone().requires_grad_() for p in params]
        _, out1 = rnn.rollout(alone, r0[m : m + 1], u, u.shape[0], leak)
        assert torch.allclose(out1[:, 0], out[:, m], rtol=0, atol=1e-10)
        loss1 = ((out1 - y[:, None]) ** 2).mean()
        names = [n for n in rnn.NAMES if n in rnn.TRAINS[mode]]
        g1 = torch.autograd.grad(loss1, [a for n, a in zip(rnn.NAMES, alone) if n in names])
        for name, g in zip(names, g1):
            batched = grads[rnn.NAMES.index(name)][m : m + 1]
            assert torch.allclose(g, batched, rtol=0, atol=1e-10), (mode, name)
    assert trained["bias"] and trained["full"]


def test_drive_is_computed_once_and_matches_per_step():
    _, _, params, r0, u, _ = _members(["bias", "bias"], 1.0)
    d = rnn.drive(params, u, u.shape[0], u.shape[1])
    for t in range(u.shape[0]):
        per_step = torch.einsum("bi,min->mbn", u[t], params[1]) + params[3][:, None, :]
        assert torch.allclose(d[t], per_step, rtol=0, atol=1e-12)


def test_closed_loop_with_true_feedback_equals_teacher_forcing():
    """Feeding back the outputs of a teacher-forced run reproduces it when the inputs are those outputs."""
    _, _, params, r0, _, _ = _members(["bias", "full"], 0.5, d_in=1, d_out=1)
    steps = 6
    r = r0[:, None, :].expand(-1, 2, -1).contiguous()
    y0 = torch.full((2, 2, 1), 0.3, dtype=torch.float64)
    free = rnn.closed_loop(params, r, y0, steps, 0.5)  # [steps, M, Bt, 1]
    # the same run, teacher-forced with per-member inputs [y0, free[0], ...]
    u = torch.cat([y0[None], free[:-1]])
    _, forced = rnn.rollout(params, r, u, steps, 0.5)
    assert torch.allclose(forced, free, rtol=0, atol=1e-12)


@pytest.mark.parametrize("leak", [1.0, 0.4])
def test_jacobian_equals_autograd_on_random_states(leak):
    _, _, params, _, _, _ = _members(["bias", "full", "bias"], leak, d_in=2)
    gen = torch.Generator().manual_seed(11)
    r = torch.randn(3, 12, generator=gen, dtype=torch.float64)
    u = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    jac = rnn.jacobian(params, r, u, leak)
    w, b_in, _, bias, _ = (p.detach() for p in params)
    for m in range(3):

        def f(x, m=m):
            h = torch.relu(w[m] @ x + u[m] @ b_in[m] + bias[m])
            return (1 - leak) * x + leak * h

        ref = torch.autograd.functional.jacobian(f, r[m])
        assert torch.allclose(jac[m], ref, rtol=0, atol=1e-12)


def test_leading_pair_and_sorted_eigs():
    angle = 2 * np.pi / 25
    rot = 0.97 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    mat = np.zeros((3, 3))
    mat[:2, :2], mat[2, 2] = rot, 0.99  # a real eigenvalue of larger modulus is not the pair
    ev = rnn.sorted_eigs(torch.as_tensor(mat)[None]).numpy()[0]
    assert abs(ev[0] - 0.99) < 1e-12
    modulus, period = rnn.leading_pair(ev)
    assert abs(modulus - 0.97) < 1e-12 and abs(period - 25) < 1e-9
    assert np.isnan(rnn.leading_pair(np.array([0.5, 0.2]))[0])


def test_bias_mode_leaves_weights_bit_identical_through_the_engine():
    """All three modes in one ensemble: bias members keep W, B, C bit-identical, readout keeps W, B, b."""
    from relurepro.papers.williams2024 import e_motor

    sec = section({"motor": {"seeds": [0], "N": 16, "steps_bias": 15, "steps_full": 5, "log_every": 5}})
    jobs = e_motor.jobs(sec["experiments"]["motor"], sec)
    job = jobs[0]
    job = type(job)(
        job.experiment,
        job.point,
        {**job.params, "dtype": "float64"},
        job.datasets,
        (
            {"seed": 0, "mode": "bias", "gain": 1.5},
            {"seed": 1, "mode": "readout", "gain": 1.5},
            {"seed": 2, "mode": "full", "gain": 1.5},
        ),
    )
    data = {"reach": dynamics.reach(**{k: v for k, v in job.datasets["reach"].items() if k != "kind"})}
    params, _ = rnn.init([0, 1, 2], [1.5] * 3, 16, 3, 2)
    before = [p.clone() for p in params]
    df = e_motor.train(job, data, CTX)
    frozen = df[df["metric"] == "frozen_max_change"]
    assert list(frozen["mode"]) == ["bias"] and float(frozen["value"].iloc[0]) == 0.0
    excess = df[df["metric"] == "trainable_excess"]
    assert float(excess["value"].iloc[0]) == 0.0
    counts = df.drop_duplicates("member").set_index("mode")["n_params"]
    assert counts["bias"] == 16 + 2 and counts["readout"] == 16 * 2 + 2
    assert counts["full"] == 16 * 16 + 3 * 16 + 16 * 2 + 16 + 2
    # a direct check of the engine groups: after training, the bias member's W, B, C equal a fresh init
    params2, start = rnn.init([0, 1, 2], [1.5] * 3, 16, 3, 2, r0="random")
    groups = rnn.groups(params2, ["bias", "readout", "full"], {"bias": 0.1, "full": 0.1, "readout": 0.1})
    from relurepro.engine import train

    def loss(ps):
        return (rnn.rollout(ps, start, None, 5, 1.0, batch=1)[1] - 1.0).pow(2).mean((0, 2, 3))

    train(params2, loss, groups=groups, steps=5, optimizer="adam")
    for name, p0, p1 in zip(rnn.NAMES, before, params2):
        if name in ("W", "B", "C"):
            assert torch.equal(p0[0], p1[0].detach()), name
        if name in ("W", "B", "b"):
            assert torch.equal(p0[1], p1[1].detach()), name
    assert not torch.equal(before[0][2], params2[0][2].detach())  # the full member did train W
    assert not torch.equal(before[3][0], params2[3][0].detach())  # and the bias member its b


def test_matched_full_width():
    assert matched_full_width(200) == 13  # 13^2 + 3 * 13 + 1 = 209, closest to 201
    n = matched_full_width(1024)
    counts = {k: k * k + 3 * k + 1 for k in (n - 1, n, n + 1)}
    assert min(counts, key=lambda k: abs(counts[k] - 1025)) == n


# ---------------------------------------------------------------- data and plant


def test_rk4_lorenz_matches_a_finer_step():
    """Over one time unit, dt = 0.01 agrees with a step 8x finer to 1e-5 relative, and halving the step cuts the error."""
    f = dynamics.lorenz_field(10.0, 28.0, 8 / 3)

    def end(dt):
        return dynamics.rk4(f, [1.0, 1.0, 1.0], dt, round(1.0 / dt))[-1]

    ref = end(0.00125)
    e1, e2 = (np.abs(end(dt) - ref).max() for dt in (0.01, 0.005))
    assert e1 < 1e-5 * np.abs(ref).max()
    assert e2 < e1 / 8  # a high-order method: halving the step cuts the error by far more than 2


def test_van_der_pol_limit_cycle_amplitude_is_two():
    d = dynamics.van_der_pol(1.0, 0.1, 300, 300, 10)
    assert abs(np.abs(d["raw"][:, 0]).max() - 2.0) < 0.02
    assert np.allclose(d["y"].std(0), 1.0) and np.allclose(d["y"].mean(0), 0.0, atol=1e-12)


def test_lorenz_data_hwhm_and_windows():
    d = dynamics.lorenz(10.0, 28.0, 8 / 3, 0.01, 2000, 400, 40, 0.8, 300)
    tau = int(d["tau"])
    assert d["acf"][tau] <= 0.5 < d["acf"][tau - 1]
    assert 5 <= tau <= 100
    assert d["train"].shape[1] == 41 and d["test"].shape[1] == 41
    assert np.allclose(d["train"][0], d["x"][:41])


def test_autocorrelation_of_a_cosine():
    x = np.cos(2 * np.pi * np.arange(20000) / 40)
    acf = dynamics.autocorrelation(x, 40)
    assert abs(acf[20] + 1) < 1e-2 and dynamics.hwhm_lag(acf) == 7  # cos(2 pi 7 / 40) < 1/2 < cos(2 pi 6 / 40)


def test_plant_matches_a_step_by_step_euler_loop():
    steps, mass, damping, dt = 12, 1.5, 0.5, 0.05
    mv, mp = (torch.as_tensor(a) for a in dynamics.plant_matrices(steps, mass, damping, dt))
    force = torch.randn(steps, 2, 3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    v_mat, p_mat = dynamics.plant(force, mv, mp)
    v = torch.zeros(2, 3, 2, dtype=torch.float64)
    p = torch.zeros_like(v)
    for t in range(steps):
        v = v + dt * (force[t] - damping * v) / mass
        p = p + dt * v
        assert torch.allclose(v_mat[t], v, atol=1e-12) and torch.allclose(p_mat[t], p, atol=1e-12)


def test_reach_task_paths_and_angles():
    d = dynamics.reach(60, 10, 30, 1.0, 8)
    assert np.allclose(d["train_path"][:11], 0.0) and np.allclose(d["train_path"][40:], d["train_target"][None])
    assert np.allclose(np.linalg.norm(d["heldout_target"], axis=1), 1.0)
    gaps = np.abs(np.angle(np.exp(1j * (d["heldout_angle"][:, None] - d["train_angle"][None]))))
    assert np.allclose(gaps.min(1), np.pi / 8)
    with pytest.raises(ValueError, match="go"):
        dynamics.reach(20, 10, 15, 1.0, 8)


def test_make_dataset_dispatches_and_falls_back():
    d = papers.make_dataset(P, "cos", {"kind": "cosine", "steps": 50, "period": 25.0})
    assert d["y"].shape == (50, 1) and abs(d["y"][24, 0] - 1.0) < 1e-12
    with pytest.raises(ValueError, match="unknown data kind"):
        papers.make_dataset(P, "x", {"kind": "no_such_kind"})


# ---------------------------------------------------------------- grid, claims, configs


def test_quick_grid_and_spec_claims():
    sec = section()
    jobs = [j for j in papers.grid(P, sec) if j.experiment in RNN_EXPERIMENTS]
    assert {j.experiment for j in jobs} == set(RNN_EXPERIMENTS) - {"fig3b"}
    fig3d = [j for j in jobs if j.experiment == "fig3d"]
    assert sorted(j.point for j in fig3d) == ["bias_N200", "full_N13"]
    declared = {c.id for c in papers.declared_claims(P) if c.experiment in RNN_EXPERIMENTS}
    spec = {line.strip() for line in SPEC_IDS.read_text().splitlines() if line.strip()}
    assert declared <= spec
    rnn_spec = {s for s in spec if s.split(".")[1] in RNN_EXPERIMENTS}
    assert declared == rnn_spec


def test_bad_lorenz_horizon_names_the_key():
    sec = section({"fig4": {"warmup": 35, "horizon": 10}})
    with pytest.raises(ValueError, match="experiments.fig4"):
        papers.grid(P, sec)


def test_smoke_jobs_train_and_log_their_invariants():
    sec = smoke_section()
    jobs = [j for j in papers.grid(P, sec) if j.experiment in ("fig3a", "fige2_rnn")]
    for job in jobs:
        data = {k: papers.make_dataset(P, k, s) for k, s in job.datasets.items()}
        df = papers.train(P, job, data, CTX)
        assert {"member", "step", "metric", "value", "seed", "mode", "n_params"} <= set(df.columns)
        bias = df[(df["mode"] == "bias") & (df["metric"] == "frozen_max_change")]
        assert len(bias) == df[df["mode"] == "bias"]["member"].nunique() and (bias["value"] == 0.0).all()
        assert np.isfinite(df[df["metric"] == "r2"]["value"]).all()
        if job.experiment == "fig3a":
            assert set(df[df["metric"] == "jac_lead_modulus"]["step"]) == {0, 30, 60}
            assert df[df["metric"] == "jac_eig_re"]["coord"].max() == 31


# ---------------------------------------------------------------- the smoke workflow


@pytest.mark.slow
def test_smoke_outputs_of_the_recurrent_experiments(smoke_run):
    results = Path(smoke_run["project"]) / "results"
    runs = pd.read_parquet(results / P / "runs.parquet")
    bases = pd.read_parquet(results / P / "baselines.parquet")
    assert set(RNN_EXPERIMENTS) - {"fig3b"} <= set(runs["experiment"])
    for col in ("paper", "experiment", "seed", "git_sha", "device", "torch_version", "created_at"):
        assert col in runs.columns
    recurrent = runs[runs["experiment"].isin(RNN_EXPERIMENTS)]
    frozen = recurrent[recurrent["metric"] == "frozen_max_change"]
    assert len(frozen) and (frozen["value"] == 0.0).all() and set(frozen["mode"]) == {"bias"}
    e2 = runs[(runs["experiment"] == "fige2_rnn") & (runs["metric"] == "r2")]
    assert {"bias", "full"} == set(e2["mode"]) and e2["n_params"].min() > 0
    assert {"target", "ridge_ar", "autocorrelation", "readout"} <= set(bases["baseline"])
    for stem in ("fig3ab_cosine", "fig3cd_vdp_gain", "fig4_lorenz", "figmotor_reach"):
        for ext in ("png", "pdf"):
            assert (results / P / "figures" / f"{P}_{stem}.{ext}").stat().st_size > 0
    claims = pd.read_parquet(results / "claims.parquet")
    mine = claims[claims["claim_id"].str.split(".").str[1].isin(RNN_EXPERIMENTS)]
    declared = [c.id for c in papers.declared_claims(P) if c.experiment in RNN_EXPERIMENTS]
    assert sorted(mine["claim_id"]) == sorted(declared) and len(declared) == 13
    assert (mine["status"] != "error").all(), mine[mine["status"] == "error"][["claim_id", "note"]]
    judged = mine[mine["passed"].notna()]
    assert judged["passed"].astype(bool).all(), judged[["claim_id", "value"]]


def test_readout_law_sets_the_std_and_rejects_unknown_laws():
    from relurepro.papers.williams2024 import rnn

    assert rnn.readout_std("1/N", 64) == pytest.approx(1 / 64)
    assert rnn.readout_std("1/sqrt(N)", 64) == pytest.approx(1 / 8)
    with pytest.raises(ValueError, match="readout law"):
        rnn.readout_std("1/N^2", 64)
