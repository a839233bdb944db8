"""lin2021: generalisation of ERM on over-parameterised deep ReLU nets (Lin, Wang & Zhou, arXiv:2111.14039).

The paper is a theory paper without experiments: both experiments here are numerical illustrations of
its headline theorem designed by this project (spec papers/lin2021.md), not reproductions of figures.
Paper-local pieces: :mod:`.data` (targets and samples), :mod:`.bumps` (the deepened ReLU network and
the bump-resolving quadrature), :mod:`.fit` (training of A, evaluation of A, B, C, D) and :mod:`.common`.
"""

from __future__ import annotations

from .data import make_dataset

__all__ = ["CHOICES", "EXPERIMENTS", "make_dataset"]

EXPERIMENTS = {
    "E_b1": "e_b1_interpolants",
    "E_b2": "e_b2_separation",
}

CHOICES = {
    "illustration": "The paper reports no experiments; E_b1 and E_b2 are numerical illustrations of its headline "
    "theorem (reconstructed from the abstract: a deepened interpolant of a rate-optimal ERM net keeps its rate).",
    "data": "x ~ U[0,1]^d, y = f(x) + eps with eps ~ U[-noise, noise] (noise 0.3); f(x) = |x - 0.3| + 0.5 sin(4 pi x) "
    "for d = 1 and |x1 - 0.4| + |x2 - 0.6| + 0.3 sin(2 pi (x1 + x2)) for d = 2 (Hölder order r = 1); target smooth2 is "
    "(x - 0.3)|x - 0.3| + sin(4 pi x) (r = 2, d = 1).",
    "seeds": "Each seed draws its own sample (inputs, noise, test points) from numpy.random.default_rng(seed); "
    "claims over random draws are judged on the median over the seeds.",
    "base net A": "A is a biased ReLU MLP with `depth` linear layers (3 = two hidden layers) of width "
    "ceil(width_c m^(d/(2r+d))) clipped to [width_min, width_max], He-normal weights with the first layer's kinks at "
    "uniform points of [0,1]^d (width_c 4, clip [8, 256], depth 3), trained by full-batch Adam (lr 3e-3, 2000 steps) "
    "on the first 80 % of the sample; each member keeps the best of 10 evenly spaced checkpoints on the last 20 % "
    "(early-stopped ERM).",
    "sample sizes": "quick: d = 1, m in {128, 256, 512, 1024, 2048}, 3 seeds, 20 000 test points; full adds d = 2 and "
    "m up to 16 384; smoke: one m (128), so the rate slope is not judged there.",
    "interpolants figure": "The interpolants figure shows the first seed at m = plot_m (128), d = 1, with an inset on "
    "the closest pair of samples.",
    "A in float32": "A trains in experiments.E_b1.dtype (float32 by default); its selected weights are cast to "
    "float64, where B and C are built and every risk and training error is evaluated.",
    "bumps": "T(z) = ReLU(1 - ||z||_1 / tau) with tau = tau_factor x the smallest l1 distance between two samples "
    "(0.49); B = A + sum_i (y_i - A(x_i)) T(x - x_i) on all m samples, C = sum_i y_i T(x - x_i).",
    "B as a network": "B is a feed-forward ReLU net: A's layers with the input carried as (ReLU(x), ReLU(-x)), then "
    "two extra layers (2dm units |x_j - x_ij| halves; m bump units) with A's output carried as ReLU(t) - ReLU(-t).",
    "risk quadrature": "For d = 1 the excess risk ||g - f||^2 is integrated by the trapezoid rule over the n_test "
    "uniform test points, 0, 1 and, around each x_i, bump_points + 2 nodes from x_i - tau to x_i + tau (the bump's "
    "kinks included); d = 2 uses Monte Carlo on the test points, with the analytic bump measure S beside it.",
    "rate line": "The predicted-rate line C m^(-2r/(2r+d)) has its constant fitted (in log space) to the median "
    "risk of A.",
    "OLS": "The linear reference is OLS on x from the same m samples; its risk is a Monte Carlo mean over the test "
    "points.",
    "over-parameterised net D": "D (full profile) is a biased ReLU MLP of depth 4 and width 512 trained by Adam with a "
    "cosine schedule on all m samples for a fixed number of steps; its risk is reported, never judged.",
    "separation": "E_b2 rebuilds B at tau = 0.49 and 5 x the minimum separation from the same A, to show what the "
    "small-support condition buys.",
}
