"""zhang2024: when are bias-free ReLU networks effectively linear networks? (Zhang, Saxe & Latham).

One module per experiment (E0-E7); E3-E6 share the shallow trainer in :mod:`.shallow`, and
every experiment shares the helpers in :mod:`.common`, the closed forms in :mod:`.theory` and
the data sets in :mod:`.data`.
"""

from __future__ import annotations

from .data import make_dataset

__all__ = ["CHOICES", "EXPERIMENTS", "PRECISION", "make_dataset"]

# Every experiment trains in the shared `dtype`, and the exactness claims (1e-10) need float64:
# a config with dtype float32 is refused (relurepro.config.check_precision).
PRECISION = "float64"

EXPERIMENTS: dict[str, str] = {
    "E0": "e0_identity",
    "E1": "e1_expressivity",
    "E2": "e2_exact_equivalence",
    "E3": "e3_saxe_rank1",
    "E4": "e4_saxe_multimode",
    "E5": "e5_alpha_sweep",
    "E6": "e6_symmetry_breaking",
    "E7": "e7_deep",
}

CHOICES: dict[str, str] = {
    "loss": "L = (1/2P) sum_p ||y_p - f(x_p)||^2, summed over outputs (not averaged over C), trained by full-batch GD so that t = step x lr is gradient-flow time.",
    "precision": "Every run uses float64 so that exact equivalences can be checked to 1e-10.",
    "whitening": "Inputs are whitened exactly (X <- U V^T sqrt(P) from the SVD of X) so that Sxx = I and the Saxe mode strengths are those of Syx.",
    "symmetrise_after_noise": "Symmetric data sets append (-X, -Y) after the label noise is added, so the noise is symmetric too.",
    "teacher": "Teachers are W_t = sum_i s_i u_i v_i^T with random orthonormal u_i, v_i (a rotation of diag(s) that leaves the dynamics unchanged).",
    "init": "Weights are N(0, sigma0^2) per entry (He init with Adam for the expressivity nets of E1); members that are compared reuse the same draws, rescaled.",
    "linear_reference": "The linear reference of a leaky net with slope alpha uses the same draws times sqrt(c) and learning rate c x lr, so step k of both is the same rescaled time.",
    "paired_linear": "In E2 the width-K linear net is stored as a width-2K net whose second half is exactly zero (it stays zero under GD), so it trains in the same ensemble.",
    "saxe_initial_condition": "The Saxe theory of each run starts from u_i(0) = c/4 sum_h (a_hi + b_hi)^2 of that run's own draws.",
    "half_time": "t_half is the first time the mode strength u_i = c u_i^T W2 W1 v_i reaches s_i/2 (linear interpolation between logged steps).",
    "xor_data": "The XOR+linear data of E6 are neither whitened nor symmetrised, to keep x1, x2 on {+-1}.",
    "deep_paired": "The deep paired run starts from W1 = [U; -U], W_mid = [[A, -A], [-A, A]], W_L = [V, -V] with its own draws.",
    "depth2_example": "The odd non-linear depth-3 (two hidden layers) function used to show the depth gap is g(x) = s(s(x1)-s(x2)) - s(s(-x1)-s(-x2)).",
    "learning_stages": "E7 counts learning stages on -dL/dlog t taken by finite differences at the logged steps (t > 0); only interior peaks count, so a drop still under way at the last step is not a stage.",
    "stage_times": "E7.relu_slower times each rank-3 stage by the first crossing of the loss levels stage_levels (5, 1.5, 0.3 for s = 3, 2, 1).",
    "seeds_per_claim": "Claims over random draws give one value per seed (the statistic within that seed) and are judged on the median; invariants take the max over everything.",
}
