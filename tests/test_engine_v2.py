"""Engine v2: parameter groups, per-member mini-batches, schedules, selection, snapshots,
vector metrics, chunked prediction and shared frozen tensors (all in float64).

On "a member's numbers do not depend on its ensemble-mates": every operation is per member,
but BLAS may pick a different kernel (blocking, vector width) for a different batch count M,
so a member trained alone and the same member inside an ensemble agree to a few ulps, not
necessarily bit for bit. Where the compared runs have the same M (masking, divergence, frozen
tensors) the tests ask for bitwise equality.
"""

from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch

from relurepro import batching, engine, losses, nets

D, H, C, N, B = 6, 12, 3, 40, 8
F64 = torch.float64


def _classification(m_members, seed=0):
    """Padded per-member data sets ``[M, N, D]`` with integer labels ``[M, N]``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(m_members, N, D, generator=g, dtype=F64)
    y = torch.randint(0, C, (m_members, N), generator=g)
    return x, y


MEMBERS = dict(seeds=[11, 12, 13, 14], n=[40, 33, 40, 27], lr_w=[0.3, 0.1, 0.2, 0.5], lr_b=[0.1, 0.4, 0.2, 0.3])
WEIGHTS_ON = [True, False, True, True]  # member 1 trains its biases only


def _run_groups(seeds, n, lr_w, lr_b, weights_on, x, y, *, optimizer="gd", steps=30, schedule="cosine", **kw):
    params = nets.init_layers(seeds, [D, H, C], lambda fan_in: fan_in**-0.5, bias=True, dtype=F64)
    w1, b1, w2, b2 = params
    with torch.no_grad():  # non-zero biases, so a bias-only member does something visible
        b1.add_(0.1)
    lr_w, lr_b = nets.member_tensor(lr_w, w1), nets.member_tensor(lr_b, w1)
    groups = [
        engine.Group([w1, w2], lr_w, mask=torch.tensor(weights_on)),
        engine.Group([b1, b2], lr_b),
    ]
    forward = partial(nets.mlp, bias=True, activation="relu")
    loss_fn = losses.DataLoss(forward, x, y, "cross_entropy", stacked=True)
    batches = batching.MemberBatches(seeds, n, B)
    initial = [p.detach().clone() for p in params]
    hist = engine.train(
        params,
        loss_fn,
        steps=steps,
        groups=groups,
        batches=batches,
        schedule=schedule,
        optimizer=optimizer,
        log_steps=engine.log_schedule(steps, 5),
        **kw,
    )
    return hist, initial


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_minibatch_groups_cross_entropy_ensemble_equals_members_alone(optimizer):
    x, y = _classification(4)
    together, initial = _run_groups(**MEMBERS, weights_on=WEIGHTS_ON, x=x, y=y, optimizer=optimizer)
    for m in range(4):
        alone, _ = _run_groups(
            *[[v[m]] for v in MEMBERS.values()], [WEIGHTS_ON[m]], x[m : m + 1], y[m : m + 1], optimizer=optimizer
        )
        np.testing.assert_allclose(together.metrics["loss"][:, m], alone.metrics["loss"][:, 0], rtol=0, atol=1e-10)
        for pt, pa in zip(together.final_params, alone.final_params):
            torch.testing.assert_close(pt[m], pa[0], rtol=0, atol=1e-10)
    # the member with its weight group switched off kept its weights bit for bit, not its biases
    w1, b1, w2, b2 = together.final_params
    assert torch.equal(w1[1], initial[0][1]) and torch.equal(w2[1], initial[2][1])
    assert not torch.equal(b1[1], initial[1][1])
    assert not torch.equal(w1[0], initial[0][0])
    assert together.metrics["loss"][-1].mean() < together.metrics["loss"][0].mean()


def test_tensors_in_no_group_are_frozen_bit_for_bit():
    x, y = _classification(2)
    params = nets.init_layers([1, 2], [D, H, C], lambda fan_in: fan_in**-0.5, bias=True, dtype=F64)
    frozen = [p.detach().clone() for p in params]
    lr = nets.member_tensor([0.2, 0.2], params[0])
    loss_fn = losses.DataLoss(partial(nets.mlp, bias=True), x, y, "cross_entropy", stacked=True)
    hist = engine.train(params, loss_fn, steps=10, groups=[engine.Group([params[1], params[3]], lr)], optimizer="adam")
    assert torch.equal(hist.final_params[0], frozen[0]) and torch.equal(hist.final_params[2], frozen[2])
    assert not torch.equal(hist.final_params[1], frozen[1])


def test_old_call_is_one_group_of_all_params():
    x, y = _classification(2)
    runs = []
    for grouped in (False, True):
        params = nets.init_layers([1, 2], [D, H, C], lambda fan_in: fan_in**-0.5, bias=True, dtype=F64)
        lr = nets.member_tensor([0.2, 0.1], params[0])
        loss_fn = losses.DataLoss(partial(nets.mlp, bias=True), x, y, "cross_entropy", stacked=True)
        kw = dict(steps=8, groups=[engine.Group(params, lr)]) if grouped else dict(lr=lr, steps=8)
        runs.append(engine.train(params, loss_fn, **kw))
    np.testing.assert_array_equal(runs[0].metrics["loss"], runs[1].metrics["loss"])
    with pytest.raises(ValueError, match="not both"):
        engine.train(params, loss_fn, lr, 1, groups=[engine.Group(params, lr)])
    with pytest.raises(ValueError, match="more than one"):
        engine.train(params, loss_fn, steps=1, groups=[engine.Group(params, lr), engine.Group(params[:1], lr)])


def test_member_batches_depend_only_on_own_seed_and_size():
    a = batching.MemberBatches([3, 5, 7], [20, 17, 20], 4, block=3)
    b = batching.MemberBatches([5], [17], 4, block=5)
    rows_a = torch.stack([a.next() for _ in range(12)])  # [steps, M, B]
    rows_b = torch.stack([b.next() for _ in range(12)])
    assert torch.equal(rows_a[:, 1], rows_b[:, 0])
    assert not torch.equal(rows_a[:, 0], rows_a[:, 2])
    # drop_last: an epoch of 17 samples is 4 batches of distinct indices, then a fresh permutation
    epoch0 = rows_b[:4, 0].reshape(-1)
    assert len(set(epoch0.tolist())) == 16 and int(epoch0.max()) < 17
    assert b.steps_per_epoch().tolist() == [4]
    # without drop_last every index appears once per epoch, batches straddle epochs
    c = batching.MemberBatches([5], [10], 4, drop_last=False)
    stream = torch.cat([c.next()[0] for _ in range(5)])
    assert sorted(stream[:10].tolist()) == list(range(10)) and sorted(stream[10:20].tolist()) == list(range(10))
    assert c.epoch.tolist() == [1]  # the 5th batch starts at index 16: epoch 1
    with pytest.raises(ValueError, match="batch size"):
        batching.MemberBatches([1], [3], 4)


def test_member_results_do_not_change_when_another_member_joins():
    """Same member, ensemble of 1 vs 3: equal batches bit for bit, results to 1e-12 (BLAS ulps, see top)."""
    x, y = _classification(3)
    small, _ = _run_groups([12], [33], [0.1], [0.4], [True], x[:1], y[:1])
    big, _ = _run_groups([12, 99, 5], [33, 40, 21], [0.1, 0.3, 2.0], [0.4, 0.1, 0.1], [True] * 3, x, y)
    np.testing.assert_allclose(big.metrics["loss"][:, 0], small.metrics["loss"][:, 0], rtol=0, atol=1e-12)
    for pb, ps in zip(big.final_params, small.final_params):
        torch.testing.assert_close(pb[0], ps[0], rtol=0, atol=1e-12)


def test_diverging_member_leaves_others_bit_identical_with_groups_and_batches():
    x, y = _classification(4)
    healthy, _ = _run_groups(**MEMBERS, weights_on=WEIGHTS_ON, x=x, y=y, diverge_above=50.0)
    lr_w = list(MEMBERS["lr_w"])
    lr_w[2] = 1e4
    kw = {**MEMBERS, "lr_w": lr_w}
    mixed, _ = _run_groups(**kw, weights_on=WEIGHTS_ON, x=x, y=y, diverge_above=50.0)
    assert mixed.diverged_step[2] > 0 and (mixed.diverged_step[[0, 1, 3]] == -1).all()
    for m in (0, 1, 3):
        np.testing.assert_array_equal(mixed.metrics["loss"][:, m], healthy.metrics["loss"][:, m])
        for pm, ph in zip(mixed.final_params, healthy.final_params):
            assert torch.equal(pm[m], ph[m])


def _scalar_problem(target, lr, steps, **kw):
    """One parameter per member, loss ``(w - target)^2 / 2`` from w = 0: ``w_t = target (1 - (1 - lr)^t)``."""
    w = torch.zeros(len(lr), 1, dtype=F64, requires_grad=True)
    lr = torch.tensor(lr, dtype=F64)

    def loss_fn(ps):
        return 0.5 * (ps[0][:, 0] - target) ** 2

    return engine.train([w], loss_fn, lr, steps, **kw)


def test_selection_keeps_best_validation_step_and_patience_stops():
    """The validation metric ``(w - 1)^2`` is best when w passes 1, mid-way through training to 2."""
    lr, steps = [0.1, 0.2], 30
    w_t = 2.0 * (1 - (1 - np.asarray(lr)[None]) ** np.arange(steps + 1)[:, None])  # [T, M]
    best = np.argmin((w_t - 1.0) ** 2, axis=0)
    assert 0 < best.min() and best.max() < steps  # the best is mid-training

    def metrics(ps, loss, state):
        return {"val": (ps[0][:, 0] - 1.0) ** 2, "frac": torch.full_like(loss, state.frac)}

    hist = _scalar_problem(2.0, lr, steps, metrics=metrics, select=engine.Select("val"), snapshot_steps=[4, 9])
    np.testing.assert_array_equal(hist.best_step, best)
    np.testing.assert_allclose(hist.best_params[0][:, 0].numpy(), w_t[best, [0, 1]], rtol=1e-12)
    np.testing.assert_allclose(hist.final_params[0][:, 0].numpy(), w_t[-1], rtol=1e-12)
    np.testing.assert_allclose(hist.metrics["frac"][:, 0], np.arange(steps + 1) / steps)
    assert (hist.stopped_step == -1).all()

    patient = _scalar_problem(2.0, lr, steps, metrics=metrics, select=engine.Select("val", patience=3))
    np.testing.assert_array_equal(patient.stopped_step, best + 3)
    np.testing.assert_allclose(patient.final_params[0][:, 0].numpy(), w_t[best + 3, [0, 1]], rtol=1e-12)
    loss = patient.metrics["loss"]
    for m in range(2):  # nothing moves after the stop
        assert (loss[best[m] + 3 :, m] == loss[best[m] + 3, m]).all()
    assert "best_step" in patient.frame(pd.DataFrame({"lr": lr})).columns

    maxed = _scalar_problem(
        2.0,
        lr,
        steps,
        metrics=lambda ps, loss: {"neg": -((ps[0][:, 0] - 1.0) ** 2)},
        select=engine.Select("neg", "max"),
    )
    np.testing.assert_array_equal(maxed.best_step, best)


def test_snapshots_equal_params_at_those_steps():
    x, y = _classification(2)
    long, initial = _run_groups(
        [1, 2],
        [40, 30],
        [0.2, 0.1],
        [0.1, 0.2],
        [True, True],
        x,
        y,
        steps=12,
        schedule="constant",
        snapshot_steps=[0, 5],
    )
    short, _ = _run_groups([1, 2], [40, 30], [0.2, 0.1], [0.1, 0.2], [True, True], x, y, steps=5, schedule="constant")
    assert sorted(long.snapshots) == [0, 5]
    for a, b in zip(long.snapshots[0], initial):
        assert torch.equal(a, b)
    for a, b in zip(long.snapshots[5], short.final_params):
        assert torch.equal(a, b)


def test_cosine_schedule_matches_hand_computation():
    steps, lr = 20, [0.01, 0.03]
    c = torch.tensor([[1.5], [-2.0]], dtype=F64)
    w = torch.zeros(2, 1, dtype=F64, requires_grad=True)
    hist = engine.train([w], lambda ps: (ps[0] * c).sum(-1), torch.tensor(lr, dtype=F64), steps, schedule="cosine")
    factors = sum(0.5 * (1 + np.cos(np.pi * t / steps)) for t in range(steps))
    np.testing.assert_allclose(
        hist.final_params[0][:, 0].numpy(), -np.asarray(lr) * c[:, 0].numpy() * factors, rtol=1e-12
    )
    f = engine.cosine(warmup=4, floor=0.1)
    assert f(0, 20) == 0.25 and f(3, 20) == 1.0 and f(4, 20) == 1.0
    assert f(12, 20) == pytest.approx(0.1 + 0.9 * 0.5) and f(20, 20) == pytest.approx(0.1)


def test_vector_metric_lands_with_coord_column():
    def metrics(ps, loss):
        return {"per_unit": torch.stack([loss, 2 * loss, 3 * loss], dim=-1)}

    hist = _scalar_problem(2.0, [0.1, 0.2], 4, metrics=metrics, log_steps=[0, 2, 4])
    assert hist.metrics["per_unit"].shape == (3, 2, 3)
    df = hist.frame(pd.DataFrame({"seed": [5, 6]}))
    vec = df[df.metric == "per_unit"]
    assert len(vec) == 3 * 2 * 3 and sorted(vec.coord.unique()) == [0, 1, 2]
    assert df[df.metric == "loss"].coord.isna().all()
    loss = df[(df.metric == "loss") & (df.step == 2) & (df.seed == 6)].value.item()
    got = vec[(vec.step == 2) & (vec.seed == 6) & (vec.coord == 2)].value.item()
    assert got == pytest.approx(3 * loss)
    plain = _scalar_problem(2.0, [0.1], 2).frame(pd.DataFrame({"seed": [5]}))
    assert "coord" not in plain.columns  # scalar-only runs keep the old table


def test_chunked_predict_equals_unchunked():
    params = nets.init_layers([1, 2, 3], [D, H, H, C], lambda fan_in: fan_in**-0.5, bias=True, dtype=F64)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1000, D, generator=g, dtype=F64)
    forward = partial(nets.mlp, bias=True, activation="tanh")
    whole = nets.predict(forward, params, x, chunk=10_000)
    chunked = nets.predict(forward, params, x, chunk=128)
    assert chunked.shape == (3, 1000, C)
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-12)
    xs = torch.randn(3, 300, D, generator=g, dtype=F64)
    torch.testing.assert_close(nets.predict(forward, params, xs, chunk=64), forward(params, xs), rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", ["2d", "1xdxh"])
def test_shared_frozen_tensor_is_broadcast_not_copied(shape):
    """Random first-layer weights shared by all members, per-member biases trained (bias-only nets)."""
    seeds = [1, 2, 3]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, D, generator=g, dtype=F64)
    y = torch.randint(0, 2, (N,), generator=g)
    w1 = torch.randn(D, H, generator=g, dtype=F64)
    shared = w1 if shape == "2d" else w1.unsqueeze(0)
    runs = {}
    for name, first in [("shared", shared), ("copied", w1.expand(3, D, H).clone())]:
        w2 = nets.normal(nets.generators(seeds), (H, 1), dtype=F64, device="cpu")
        b1 = torch.full((3, 1, H), 0.1, dtype=F64, requires_grad=True)
        b2 = torch.zeros(3, 1, 1, dtype=F64, requires_grad=True)
        params = [first, b1, w2, b2]
        ptr = first.data_ptr()
        loss_fn = losses.DataLoss(partial(nets.mlp, bias=True, activation="relu"), x, y, "binary_cross_entropy")
        lr = nets.member_tensor([0.5, 0.2, 0.1], b1)
        hist = engine.train(
            params,
            loss_fn,
            steps=20,
            groups=[engine.Group([b1, b2], lr)],
            batches=batching.MemberBatches(seeds, N, B),
            select=engine.Select("loss"),
        )
        assert hist.final_params[0].data_ptr() == ptr and hist.best_params[0].data_ptr() == ptr
        runs[name] = hist
    assert runs["shared"].final_params[0].numel() == D * H  # one matrix, not M of them
    assert torch.equal(runs["shared"].final_params[0], shared)
    np.testing.assert_allclose(runs["shared"].metrics["loss"], runs["copied"].metrics["loss"], rtol=0, atol=1e-12)
    for a, b in zip(runs["shared"].final_params[1:], runs["copied"].final_params[1:]):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_losses_and_accuracies_against_hand_formulas():
    logits = torch.tensor([[[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]], [[0.0, 0.0, 3.0], [1.0, 1.0, 1.0]]], dtype=F64)
    labels = torch.tensor([0, 2])
    logp = logits - torch.logsumexp(logits, -1, keepdim=True)
    want = -(logp[:, 0, 0] + logp[:, 1, 2]) / 2
    torch.testing.assert_close(losses.cross_entropy(logits, labels), want)
    assert losses.accuracy(logits, labels).tolist() == [0.5, 0.0]
    mask = torch.tensor([[True, False], [True, True]])
    torch.testing.assert_close(losses.cross_entropy(logits, labels, mask)[0], -logp[0, 0, 0])
    z = torch.tensor([[[1.0], [-2.0]], [[-0.5], [0.5]]], dtype=F64)
    t = torch.tensor([1, 1])
    torch.testing.assert_close(
        losses.binary_cross_entropy(z, t), torch.nn.functional.softplus(-z[..., 0]).mean(-1), rtol=1e-14, atol=0
    )
    assert losses.binary_accuracy(z, t).tolist() == [0.5, 0.5]
    assert losses.binary_accuracy(z, torch.tensor([1, -1])).tolist() == [1.0, 0.0]
    pred = torch.tensor([[[1.0], [3.0]]], dtype=F64)
    assert losses.half_mse(pred, torch.zeros(2, 1, dtype=F64), torch.tensor([[True, False]])).item() == 0.5


def test_mlp_loss_on_minibatches_hand_written_equals_autograd():
    """MLPLoss gathers each member's batch; its hand-written gradients match autograd on it."""
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(N, D, generator=g, dtype=F64), torch.randn(N, 1, generator=g, dtype=F64)
    runs = []
    for by_hand in (True, False):
        params = nets.init_layers([1, 2, 3], [D, H, 1], lambda fan_in: fan_in**-0.5, dtype=F64)
        lr = nets.member_tensor([0.05, 0.1, 0.2], params[0])
        loss_fn = losses.MLPLoss(x, y, nets.member_tensor([0.0, 0.2, 1.0], params[0]))
        if not by_hand:
            loss_fn = partial(losses.MLPLoss.__call__, loss_fn)  # no value_and_grad: autograd
        runs.append(engine.train(params, loss_fn, lr, 20, batches=batching.MemberBatches([1, 2, 3], N, B)))
    np.testing.assert_allclose(runs[0].metrics["loss"], runs[1].metrics["loss"], rtol=1e-12, atol=0)
    assert runs[0].metrics["loss"][-1].mean() < runs[0].metrics["loss"][0].mean()


def test_padded_full_batch_loss_uses_each_members_valid_samples():
    x, y = _classification(2)
    params = nets.init_layers([1, 2], [D, H, C], lambda fan_in: fan_in**-0.5, bias=True, dtype=F64)
    forward = partial(nets.mlp, bias=True)
    padded = losses.DataLoss(forward, x, y, "cross_entropy", stacked=True, n=[40, 25])(params)
    for m, n in enumerate([40, 25]):
        alone = losses.DataLoss(forward, x[m : m + 1, :n], y[m : m + 1, :n], "cross_entropy", stacked=True)
        ps = [p[m : m + 1] for p in params]
        torch.testing.assert_close(padded[m], alone(ps)[0], rtol=1e-13, atol=0)


def test_progress_logs_first_last_and_rate_limited():
    lines = []
    on_log = engine.progress(lines.append, "p E1/a", steps=100, every_s=3600)
    for step in range(0, 101, 10):
        on_log(step, torch.tensor([1.0, float("nan"), 2.0, 3.0]))
    assert len(lines) == 2 and lines[0].startswith("p E1/a: step 0/100") and "step 100/100" in lines[1]
    assert "1 .. 2 .. 3" in lines[0]
    engine.progress(lines.append, "p", steps=1)(1, torch.tensor([float("inf")]))
    assert lines[-1] == "p: step 1/1, every member diverged"
