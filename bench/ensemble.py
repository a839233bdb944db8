"""Benchmark: the same ensemble trained three ways, side by side, printed as ratios.

64 two-layer bias-free ReLU nets (width 100) on 200 samples, full-batch gradient
descent: (1) one member at a time in a plain PyTorch loop, (2) ``torch.func.vmap``
over stacked parameters, (3) the relurepro engine. All three compute the same numbers
(checked at the end), so the ratios compare equal work.

    python bench/ensemble.py [--members 64 --width 100 --samples 200 --steps 2000 --device auto]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.func import functional_call, grad, vmap

from relurepro import engine


def make_problem(args, device, dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.samples, args.dim, generator=g, dtype=dtype).to(device)
    y = torch.randn(args.samples, 1, generator=g, dtype=dtype).to(device)
    seeds = list(range(args.members))
    init = engine.init_layers(seeds, [args.dim, args.width, 1], lambda fan_in: fan_in**-0.5, dtype=dtype, device=device)
    return x, y, [p.detach() for p in init]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def one_at_a_time(args, x, y, init, device):
    """A plain PyTorch training loop per member, as one would write it by hand."""
    finals = []
    for m in range(args.members):
        net = torch.nn.Sequential(
            torch.nn.Linear(args.dim, args.width, bias=False),
            torch.nn.ReLU(),
            torch.nn.Linear(args.width, 1, bias=False),
        ).to(device=device, dtype=x.dtype)
        with torch.no_grad():
            net[0].weight.copy_(init[0][m].T)
            net[2].weight.copy_(init[1][m].T)
        opt = torch.optim.SGD(net.parameters(), lr=args.lr)
        for _ in range(args.steps):
            opt.zero_grad()
            loss = 0.5 * ((net(x) - y) ** 2).sum(-1).mean()
            loss.backward()
            opt.step()
        finals.append(0.5 * ((net(x) - y) ** 2).sum(-1).mean().detach())
    return torch.stack(finals)


def with_vmap(args, x, y, init, device):
    """``torch.func``: vmap of the per-member gradient over stacked parameters."""
    net = torch.nn.Sequential(
        torch.nn.Linear(args.dim, args.width, bias=False), torch.nn.ReLU(), torch.nn.Linear(args.width, 1, bias=False)
    ).to(device=device, dtype=x.dtype)
    params = {"0.weight": init[0].transpose(1, 2).clone(), "2.weight": init[1].transpose(1, 2).clone()}

    def loss(p):
        return 0.5 * ((functional_call(net, p, (x,)) - y) ** 2).sum(-1).mean()

    step_grad = vmap(grad(loss))
    for _ in range(args.steps):
        g = step_grad(params)
        params = {k: v - args.lr * g[k] for k, v in params.items()}
    return vmap(loss)(params)


def with_engine(args, x, y, init, device):
    """The relurepro engine: batched matmuls, hand-written backward, per-member learning rates and masking."""
    params = [p.clone().requires_grad_() for p in init]
    lr = engine.member_tensor([args.lr] * args.members, params[0])
    slope = engine.member_tensor([0.0] * args.members, params[0])

    hist = engine.train(params, engine.MLPLoss(x, y, slope), lr, args.steps, log_steps=[args.steps])
    return torch.as_tensor(hist.metrics["loss"][-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=64)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = engine.resolve_device(args.device)
    dtype = engine.DTYPES[args.dtype]
    x, y, init = make_problem(args, device, dtype)
    print(
        f"{args.members} nets, width {args.width}, {args.samples} samples, {args.steps} full-batch GD steps, "
        f"{args.dtype} on {device} ({torch.get_num_threads()} CPU threads, torch {torch.__version__})"
    )
    results, times = {}, {}
    for name, fn in [("one-at-a-time", one_at_a_time), ("vmap", with_vmap), ("engine", with_engine)]:
        sync(device)
        start = time.perf_counter()
        results[name] = fn(args, x, y, init, device).detach().cpu().double()
        sync(device)
        times[name] = time.perf_counter() - start
        print(f"  {name:14s} {times[name]:8.2f} s")
    tol = 1e-3 if args.dtype == "float32" else 1e-9
    for name in ("vmap", "engine"):
        err = (results[name] - results["one-at-a-time"]).abs().max().item()
        assert err < tol * max(1.0, results["one-at-a-time"].abs().max().item()), f"{name} disagrees: {err}"
    print(f"engine speed-up over one-at-a-time: {times['one-at-a-time'] / times['engine']:.1f}x")
    print(f"engine speed-up over vmap:          {times['vmap'] / times['engine']:.2f}x")
    print("final losses agree across the three methods")
    return times


if __name__ == "__main__":
    main()
