"""yadav2024: half-space feature learning in deep linearly gated networks (Yadav, Ramaswamy, Lakshminarayanan,
arXiv:2404.04312).

One module per experiment (see ``EXPERIMENTS``); paper-local pieces: :mod:`.dlgn` (the DLGN ensemble, its
effective hyperplanes, path expansion and overlap kernel), :mod:`.trainer` (the DLGN / DLN / ReLU jobs shared
by E_a2-E_a4), :mod:`.data` (the circle data) and :mod:`.panels` (figure helpers).
"""

from __future__ import annotations

from .data import make_dataset

__all__ = ["CHOICES", "EXPERIMENTS", "make_dataset"]

EXPERIMENTS: dict[str, str] = {
    "E_a1": "e_a1_identity",
    "E_a2": "e_a2_circle",
    "E_a3": "e_a3_benchmark",
    "E_a4": "e_a4_path_usage",
}

CHOICES: dict[str, str] = {
    "figures": "Only the abstract was available: the figure list (half-spaces, kernel, offsets, accuracy, benchmark "
    "table, path usage) is reconstructed from the paper's claims.",
    "gating biases": "The gating network has biases, drawn N(0, bias_std^2) (0.5 on the circle), so that hyperplanes "
    "need not pass through the origin; all weights are N(0, 1/fan_in).",
    "value feed": "The value network is fed the all-ones vector (the group's 'pwc' mode); the DLN comparator is fed x "
    "(with all-ones input and all gates on its output would be constant).",
    "comparators": "The DLN and the ReLU MLP have the DLGN's depth and width and biases in every layer (the DLN is "
    "then an affine model); ReLU weights are He-initialised, DLN weights N(0, 1/fan_in).",
    "circle data": "x ~ U([-1, 1]^2), label 1[||x|| < r] with r = sqrt(2/pi) (balanced classes); 4000 train and 4000 "
    "test points from data_seed.",
    "binary loss": "Binary tasks have one output f and the logistic loss on f (the same as cross-entropy on the "
    "logits [-f, f] up to a factor 2 in f).",
    "training": "Adam (lr 2e-3 on the circle, 1e-3 on digits) on mini-batches that each member draws from its own "
    "seed (10 per epoch on the circle, 128 samples on digits); the last epoch is kept (no selection on test error).",
    "hard gates": "Hard-gate accuracy replaces every sigmoid(beta g) by 1[g > 0] at test time in the trained net.",
    "kernel alignment": "Uncentred alignment <K, yy^T>_F / (||K||_F ||yy^T||_F), y in {-1, +1}, of the hard-gate "
    "overlap kernel on the first n_kernel training points.",
    "near-circle fraction": "A unit is near the circle when its hyperplane's distance from the origin |b~|/||w~|| is "
    "within near_tol (0.1) of r; the claim averages the per-layer fractions over layers.",
    "clustering statistic": "Later-layer clustering is measured as the spread (interquartile range) of the hyperplane "
    "offsets |b~|/||w~|| of the last layer divided by that of the first layer, after training (reported only).",
    "kernel ridge": "The feature-learning baseline is kernel ridge regression on +-1 labels with the init and the "
    "trained hard-gate kernels (n_kernel training points, ridge lam), rebuilt from the stored effective hyperplanes.",
    "benchmark data": "Digits (scikit-learn load_digits, stratified 70/30 split) and, in full, MNIST-1D (offline "
    "generator) replace CIFAR-10/100 and Fashion-MNIST.",
    "precision": "E_a1 (exact identities) runs in float64; the trained experiments in their own dtype key (float32).",
    "top paths": "The half-space figure shades the regions of the paths with the largest |v_p| times the share of the "
    "first n_kernel training points inside R_p (a path whose region holds no data never ranks).",
    "widths": "E_a2 may list several widths (full: 16 and 64); its claims and structure figures read the first one "
    "(16, the calibrated width), the accuracy figure shows every width.",
    "path usage": "E_a4 counts active hard paths per test point and splits the path-weight mass sum_p |v_p| phi_p(x) "
    "by inside/outside the disc and near/far from its boundary (|(||x|| - r)| < near_band).",
}
