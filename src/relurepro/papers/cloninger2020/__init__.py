"""cloninger2020: ReLU nets adapt to intrinsic dimensionality beyond the target domain (Cloninger & Klock).

The paper is theory only and has no experiments: everything here is a numerical illustration
of its theorem that this project designed (spec papers/cloninger2020.md). E_d1 trains learning
curves per ambient dimension on a tube around a circle (and a sphere, full) rotated into R^D;
E_d2 (full) compares approximation errors against network size. :mod:`.tube_data` builds the
data sets and targets, :mod:`.trainer` is the one trainer of both experiments.
"""

from __future__ import annotations

from .tube_data import make_dataset

__all__ = ["CHOICES", "EXPERIMENTS", "make_dataset"]

EXPERIMENTS = {"E_d1": "e_d1_learning_curves", "E_d2": "e_d2_approximation"}

CHOICES = {
    "illustration": "The paper has no experiments; E_d1 and E_d2 are numerical illustrations of its theorem designed "
    "by this project, with an unconstrained Adam-trained MLP instead of the paper's sparsity-constrained ERM.",
    "theorem": "The rate MSE ~ n^(-2s/(2s+d)) (s = 1.5) is a reconstruction from the abstracts, not checked against "
    "the PDF.",
    "manifolds": "A unit circle (d = 1), and in full a unit 2-sphere (d = 2), in a random (d+1)-dimensional "
    "subspace of R^D (random orthogonal map from the data seed); reach 1, tube radius q = 0.5.",
    "sampling": "Foot points uniform on the manifold, normal offsets uniform in the q-ball of the normal space; "
    "the foot points and the label noise come from their own streams, so they are the same in every D.",
    "targets": "T1 = g(pi_M(x)) with g(theta) = sin 3theta + |sin theta|^1.5 / 2 (sphere: p1 p2 + |p3|^1.5); "
    "T2 = cos(2 pi dist(x, M)/q) + exp(-4 dist(x, M2)^2) with M2 the point 2e1 (or the segment 2e1 + t e2, |t| <= 1) "
    "of the manifold's subspace; T3 = T1 + a_D prod_{j<=min(D-d,6)} sin(pi nu_j sqrt(D-d+2)/q).",
    "T3 scale": "a_D gives T3's added term the variance of g(pi_M(x)), estimated on var_samples (1e5) fresh tube "
    "points from var_seed; it is stored with the data set.",
    "normal coordinates": "nu_1 = ||Px|| - 1 (radial), nu_2.. = the coordinates of (I - P)x in the rotated basis of "
    "the subspace's complement.",
    "model": "Biased ReLU MLP (He init, zero biases), depth = number of affine layers (quick 4, width 64; full 5, "
    "width 128), Adam lr 1e-3 with cosine decay, batch 256, no weight decay.",
    "ensembles": "One ensemble per (manifold, D): members differ in seed, n and target; member m draws its batches "
    "from its own first n rows.",
    "early stopping": "A member with n training rows validates on the first n/4 rows of a separate validation pool "
    "(a 20 % validation split of its n + n/4 labelled points) every val_every steps and keeps its best step.",
    "test set": "One noise-free test set of 20 000 points per (manifold, D), shared by every n and target.",
    "oracle": "The oracle intrinsic regression is k-NN on the foot point pi_M(x) (the angle, for the circle), k "
    "chosen from 1, 2, 4, ..., 128 on the member's validation rows.",
    "rate line": "The predicted-rate line is anchored at the smallest n on the geometric mean over D of the nets' "
    "test MSE there.",
    "precision": "Training in float32 (keys E_d1.dtype, E_d2.dtype); data, baselines and targets in float64.",
    "E_d2": "Full only: noise-free T1 on the circle, n = 1e5, widths 16-256 at depth 5, D in {3, 128}.",
}
