"""Benchmark: mini-batch training of biased two-layer classifiers, three ways, printed as ratios.

32 two-layer ReLU nets with biases (D inputs, width H, C classes) trained with softmax
cross-entropy on per-member shuffled mini-batches (each member's batch order from its own
seed), plain SGD, in two cases:

- ``bias``: williams2024-like; random first-layer weights, one matrix shared by all members
  and frozen, random per-member readouts, frozen; only the biases are trained;
- ``full``: every weight and bias trained.

Each case runs (1) one member at a time in a plain PyTorch loop (``nn.Sequential`` and
``torch.optim.SGD``), (2) ``torch.func.vmap`` over stacked parameters, (3) the relurepro
engine (parameter groups, shared frozen tensor, ``MemberBatches``). All three see the same
batches and compute the same numbers (checked at the end), so the ratios compare equal work.

    python bench/minibatch.py [--members 32 --dim 64 --width 128 --classes 10 --batch 64
                               --samples 4096 --steps 400 --case both --device auto]
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import torch
import torch.nn.functional as F
from torch.func import grad, vmap

from relurepro import batching, engine, losses, nets


def make_problem(args, device, dtype):
    """A learnable 10-class problem (labels of a random linear teacher) and per-member initial tensors."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.samples, args.dim, generator=g, dtype=torch.float64)
    y = (x @ torch.randn(args.dim, args.classes, generator=g, dtype=torch.float64)).argmax(-1)
    seeds = list(range(args.members))
    gens = nets.generators(seeds)
    std1, std2 = args.dim**-0.5, args.width**-0.5
    init = {
        "w1_shared": (torch.randn(args.dim, args.width, generator=g, dtype=torch.float64) * std1).to(device, dtype),
        "w1": nets.normal(gens, (args.dim, args.width), dtype=dtype, device=device) * std1,
        "b1": nets.normal(gens, (1, args.width), dtype=dtype, device=device) * 0.1,
        "w2": nets.normal(gens, (args.width, args.classes), dtype=dtype, device=device) * std2,
        "b2": torch.zeros(args.members, 1, args.classes, dtype=dtype, device=device),
    }
    # the batch indices every method uses: the engine's per-member streams, drawn up front for (1) and (2)
    stream = batching.MemberBatches(seeds, args.samples, args.batch, device=device)
    batches = torch.stack([stream.next() for _ in range(args.steps)])  # [T, M, B]
    return x.to(device, dtype), y.to(device), seeds, init, batches


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def first_weight(init, case, m=None):
    """The first-layer weight ``[D, H]`` of member ``m`` (shared in the bias case), or all ``[M, D, H]``."""
    if case == "bias":
        return init["w1_shared"]
    return init["w1"] if m is None else init["w1"][m]


def one_at_a_time(args, case, x, y, init, batches, device):
    """A plain PyTorch loop per member, as one would write it by hand; returns the final tensors stacked."""
    finals = []
    for m in range(args.members):
        net = torch.nn.Sequential(
            torch.nn.Linear(args.dim, args.width), torch.nn.ReLU(), torch.nn.Linear(args.width, args.classes)
        ).to(device=device, dtype=x.dtype)
        with torch.no_grad():
            net[0].weight.copy_(first_weight(init, case, m).T)
            net[0].bias.copy_(init["b1"][m, 0])
            net[2].weight.copy_(init["w2"][m].T)
            net[2].bias.copy_(init["b2"][m, 0])
        if case == "bias":
            net[0].weight.requires_grad_(False)
            net[2].weight.requires_grad_(False)
        opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=args.lr)
        for t in range(args.steps):
            idx = batches[t, m]
            opt.zero_grad()
            F.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
        finals.append([net[0].weight.T, net[0].bias[None], net[2].weight.T, net[2].bias[None]])
    return [torch.stack([f[i] for f in finals]).detach() for i in range(4)]


def with_vmap(args, case, x, y, init, batches, device):
    """``torch.func``: vmap of the per-member gradient over stacked parameters (shared weight closed over)."""

    def loss(trained, frozen, xb, yb):
        p = {**trained, **frozen}
        h = torch.relu(xb @ p["w1"] + p["b1"])
        return F.cross_entropy(h @ p["w2"] + p["b2"], yb)

    w1 = first_weight(init, case)
    if case == "bias":
        trained = {"b1": init["b1"][:, 0].clone(), "b2": init["b2"][:, 0].clone()}
        frozen = {"w2": init["w2"]}
        step_grad = vmap(lambda tr, fr, xb, yb: grad(loss)(tr, {**fr, "w1": w1}, xb, yb))
    else:
        trained = {
            "w1": w1.clone(),
            "b1": init["b1"][:, 0].clone(),
            "w2": init["w2"].clone(),
            "b2": init["b2"][:, 0].clone(),
        }
        frozen = {}
        step_grad = vmap(grad(loss))
    for t in range(args.steps):
        idx = batches[t]
        g = step_grad(trained, frozen, x[idx], y[idx])
        trained = {k: v - args.lr * g[k] for k, v in trained.items()}
    p = {**frozen, **trained}
    return [p.get("w1", w1), p["b1"][:, None], p["w2"], p["b2"][:, None]]


def with_engine(args, case, x, y, init, batches, device):
    """The relurepro engine: one ensemble, parameter groups, per-member batches drawn by the engine."""
    w1 = first_weight(init, case).clone()
    b1, w2, b2 = (init[k].clone() for k in ("b1", "w2", "b2"))
    params = [w1, b1, w2, b2]
    trained = [b1, b2] if case == "bias" else params
    for p in trained:
        p.requires_grad_()
    lr = nets.member_tensor([args.lr] * args.members, b1)
    loss_fn = losses.DataLoss(partial(nets.mlp, bias=True, activation="relu"), x, y, "cross_entropy")
    stream = batching.MemberBatches(list(range(args.members)), args.samples, args.batch, device=device)
    hist = engine.train(
        params, loss_fn, steps=args.steps, groups=[engine.Group(trained, lr)], batches=stream, log_steps=[args.steps]
    )
    return hist.final_params


def full_loss(params, x, y):
    """Per-member cross-entropy on the whole training set, in float64, from final tensors."""
    w1, b1, w2, b2 = (p.double() for p in params)
    return losses.cross_entropy(nets.mlp([w1, b1, w2, b2], x.double(), bias=True, activation="relu"), y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=32)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--case", default="both", choices=["both", "bias", "full"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = engine.resolve_device(args.device)
    dtype = engine.DTYPES[args.dtype]
    x, y, _, init, batches = make_problem(args, device, dtype)
    print(
        f"{args.members} nets {args.dim}-{args.width}-{args.classes} with biases, cross-entropy, batch {args.batch} "
        f"of {args.samples}, {args.steps} SGD steps, {args.dtype} on {device} "
        f"({torch.get_num_threads()} CPU threads, torch {torch.__version__})"
    )
    ratios = {}
    for case in ("bias", "full") if args.case == "both" else (args.case,):
        print(f"case {case}: " + ("shared frozen random weights, biases trained" if case == "bias" else "all trained"))
        results, times = {}, {}
        for name, fn in [("one-at-a-time", one_at_a_time), ("vmap", with_vmap), ("engine", with_engine)]:
            fn(argparse.Namespace(**{**vars(args), "steps": 3}), case, x, y, init, batches, device)  # warm-up
            sync(device)
            start = time.perf_counter()
            final = fn(args, case, x, y, init, batches, device)
            sync(device)
            times[name] = time.perf_counter() - start
            results[name] = full_loss(final, x, y).detach().cpu()
            print(f"  {name:14s} {times[name]:8.2f} s")
        tol = 1e-3 if args.dtype == "float32" else 1e-9
        for name in ("vmap", "engine"):
            err = (results[name] - results["one-at-a-time"]).abs().max().item()
            assert err < tol * max(1.0, results["one-at-a-time"].abs().max().item()), f"{name} disagrees: {err}"
        first = results["engine"].mean().item()
        print(f"  final training loss (mean over members) {first:.4f}; the three methods agree")
        ratios[case] = (times["one-at-a-time"] / times["engine"], times["vmap"] / times["engine"])
        print(f"  engine speed-up over one-at-a-time: {ratios[case][0]:.1f}x")
        print(f"  engine speed-up over vmap:          {ratios[case][1]:.2f}x")
    return ratios


if __name__ == "__main__":
    main()
