"""The batched-ensemble engine: equivalence with one-at-a-time training, masking, init."""

import numpy as np
import pandas as pd
import pytest
import torch

from relurepro import engine

P, D, H, C = 40, 5, 16, 2


def _data(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(P, D, generator=g, dtype=torch.float64)
    y = torch.randn(P, C, generator=g, dtype=torch.float64)
    return x, y


def _run(seeds, lrs, scales, slopes, steps=60, optimizer="gd", bias=False, by_hand=False):
    x, y = _data()
    params = engine.init_layers(seeds, [D, H, H, C], lambda fan_in: fan_in**-0.5, init_scale=scales, bias=bias)
    slope = engine.member_tensor(slopes, params[0])
    lr = engine.member_tensor(lrs, params[0])
    loss_fn = engine.MLPLoss(x, y, slope, bias=bias)
    if not by_hand:  # a plain closure: autograd computes the gradients
        loss_fn = loss_fn.__call__
    hist = engine.train(params, loss_fn, lr, steps, log_steps=engine.log_schedule(steps, 10), optimizer=optimizer)
    return hist


MEMBERS = dict(
    seeds=[1, 2, 3, 4], lrs=[0.05, 0.1, 0.02, 0.07], scales=[1.0, 0.5, 2.0, 1.0], slopes=[0.0, 0.3, 1.0, 0.1]
)


@pytest.mark.parametrize(
    "optimizer,bias,by_hand", [("gd", False, False), ("gd", False, True), ("adam", False, True), ("gd", True, False)]
)
def test_ensemble_equals_members_trained_alone(optimizer, bias, by_hand):
    together = _run(**MEMBERS, optimizer=optimizer, bias=bias, by_hand=by_hand)
    for m in range(4):
        alone = _run(*[[v[m]] for v in MEMBERS.values()], optimizer=optimizer, bias=bias, by_hand=by_hand)
        np.testing.assert_allclose(together.metrics["loss"][:, m], alone.metrics["loss"][:, 0], rtol=0, atol=1e-10)
        for pt, pa in zip(together.final_params, alone.final_params):
            assert torch.allclose(pt[m], pa[0], rtol=0, atol=1e-10)
    assert together.metrics["loss"][-1].max() < together.metrics["loss"][0].min() * 2  # training did something
    assert (together.metrics["loss"][-1] < together.metrics["loss"][0]).all()


@pytest.mark.parametrize("by_hand", [False, True])
def test_diverging_member_is_masked_and_others_untouched(by_hand):
    healthy = _run(**MEMBERS, by_hand=by_hand)
    lrs = list(MEMBERS["lrs"])
    lrs[1] = 1e6  # member 1 blows up
    mixed = _run(MEMBERS["seeds"], lrs, MEMBERS["scales"], MEMBERS["slopes"], by_hand=by_hand)
    assert mixed.diverged_step[1] > 0
    assert (mixed.diverged_step[[0, 2, 3]] == -1).all()
    for m in (0, 2, 3):
        np.testing.assert_array_equal(mixed.metrics["loss"][:, m], healthy.metrics["loss"][:, m])
    assert not np.isfinite(mixed.metrics["loss"][-1, 1]) or mixed.metrics["loss"][-1, 1] > 1e6


def test_diverge_above_threshold_masks_large_losses():
    x, y = _data()
    params = engine.init_layers([0, 1], [D, H, C], [1.0, 1.0])
    lr = engine.member_tensor([1e-3, 5.0], params[0])
    slope = engine.member_tensor([0.0, 0.0], params[0])
    hist = engine.train(params, lambda ps: engine.half_mse(engine.mlp(ps, x, slope), y), lr, 30, diverge_above=1e4)
    assert hist.diverged_step[0] == -1
    assert 0 < hist.diverged_step[1] <= 30


def test_member_draws_depend_only_on_seed():
    a = engine.init_layers([7, 8], [D, H], [1.0])[0]
    b = engine.init_layers([8], [D, H], [1.0])[0]
    assert torch.equal(a[1], b[0])
    assert not torch.equal(a[0], a[1])


def test_history_frame_is_long_with_member_labels():
    hist = _run(**MEMBERS, steps=20)
    members = pd.DataFrame({"seed": MEMBERS["seeds"], "alpha": MEMBERS["slopes"]})
    df = hist.frame(members)
    assert set(df.columns) >= {"member", "seed", "alpha", "step", "metric", "value", "diverged", "diverged_step"}
    assert len(df) == 4 * len(hist.steps)
    assert sorted(df["step"].unique()) == [0, 10, 20]
    assert df.loc[df.member == 2, "seed"].unique().tolist() == [3]


def test_half_mse_and_leaky():
    pred = torch.tensor([[[1.0, 2.0], [0.0, 0.0]]], dtype=torch.float64)
    y = torch.zeros(2, 2, dtype=torch.float64)
    assert engine.half_mse(pred, y).item() == pytest.approx(0.5 * (5.0 + 0.0) / 2)
    z = torch.tensor([[[-2.0, 3.0]], [[-2.0, 3.0]]])
    out = engine.leaky(z, torch.tensor([0.0, 0.5]))
    assert out[0].tolist() == [[0.0, 3.0]] and out[1].tolist() == [[-1.0, 3.0]]


def test_float32_and_unknown_optimizer():
    x, y = _data()
    params = engine.init_layers([0], [D, C], [1.0], dtype=torch.float32)
    lr = engine.member_tensor([0.1], params[0])
    hist = engine.train(params, lambda ps: engine.half_mse(engine.mlp(ps, x.float()), y.float()), lr, 5)
    assert hist.metrics["loss"].dtype == np.float32
    with pytest.raises(ValueError, match="optimizer"):
        engine.train(params, lambda ps: ps[0].sum(-1).sum(-1), lr, 1, optimizer="sgd-momentum")


def test_resolve_device():
    assert engine.resolve_device("cpu").type == "cpu"
    assert engine.resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            engine.resolve_device("cuda")


def _reference_mlp(params, x, slope, scale):
    """The leaky MLP op by op, independent of both engine paths."""
    h = x
    for w in params[:-1]:
        z = torch.matmul(h, w)
        h = torch.where(z > 0, z, z * slope.reshape(-1, 1, 1))
    return scale * torch.matmul(h, params[-1])


@pytest.mark.parametrize("hidden", [0, 1, 2, 3])
@pytest.mark.parametrize("outputs", [1, 2])
@pytest.mark.parametrize("slopes", [[0.0] * 4, [0.3] * 4, [1.0] * 4, [0.0, 0.3, 1.0, 0.1]])
@pytest.mark.parametrize("per_member_x", [False, True])
def test_hand_written_gradients_equal_autograd(hidden, outputs, slopes, per_member_x):
    g = torch.Generator().manual_seed(hidden * 10 + outputs)
    x = torch.randn(4, P, D, generator=g, dtype=torch.float64) if per_member_x else _data()[0]
    y = torch.randn(P, outputs, generator=g, dtype=torch.float64)
    params = engine.init_layers([1, 2, 3, 4], [D] + [H] * hidden + [outputs], lambda fan_in: fan_in**-0.5)
    slope = engine.member_tensor(slopes, params[0])
    scale = 0.7
    ref_loss = engine.half_mse(_reference_mlp(params, x, slope, scale), y)
    ref = torch.autograd.grad(ref_loss.sum(), params)
    loss_fn = engine.MLPLoss(x, y, slope, scale=scale)
    via_function = torch.autograd.grad(loss_fn(params).sum(), params)
    loss, by_hand = loss_fn.value_and_grad(params)
    torch.testing.assert_close(loss, ref_loss.detach(), rtol=1e-12, atol=0)
    for r, a, b in zip(ref, via_function, by_hand):
        torch.testing.assert_close(a, r, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(b, r, rtol=1e-12, atol=1e-14)


def test_hand_written_path_declines_what_it_cannot_do():
    x, y = _data()
    params = engine.init_layers([1, 2], [D, H, C], lambda fan_in: fan_in**-0.5)
    negative = engine.member_tensor([-0.2, 0.3], params[0])  # s(z) > 0 no longer means z > 0
    assert engine.MLPLoss(x, y, negative).value_and_grad(params) is None
    assert engine.MLPLoss(x, y, 0.0, activation="tanh").value_and_grad(params) is None
    torch.testing.assert_close(engine.mlp(params, x, negative), _reference_mlp(params, x, negative, 1.0))
    # the saved activations are overwritten in backward: a second backward raises instead of erring
    total = engine.MLPLoss(x, y, 0.0)(params).sum()
    torch.autograd.grad(total, params, retain_graph=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch.autograd.grad(total, params)
