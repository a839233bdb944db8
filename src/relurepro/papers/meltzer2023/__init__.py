"""meltzer2023: catapult dynamics and phase transitions in quadratic nets (Meltzer & Liu, arXiv:2301.07737)."""

from __future__ import annotations

from .. import lazy_exports
from .baselines import baselines
from .claims import claims
from .figures import figures

CHOICES = {
    "toy seeds": "E_c1-E_c4 use one seed each, the authors' seed where the notebook gives one (E_c1: 0; E_c2: 13; E_c3: 120; E_c4: 123).",
    "E_c2 LR grid": "The quick pure-quadratic grid 0.2:0.2:4.0 is extended by 4.2 and 4.4 so the divergence claim above 4.2 has members.",
    "E_c3 LR grid": "Leaky-ReLU LR grid 0.2:0.2:6.0 in the quick profile (authors: 0.1:0.1:6.0).",
    "E_c3 convergence": "A catapult run counts as converged when its final loss is below 1e-8.",
    "E_c4 dead nets": "A run is 'dead' when |L_final - y^2/2| < 1e-3 with y = 2.",
    "E_c5 data": "Digits 0/1 (load_digits) and synthetic non-negative templates (d=64, noise 0.3, 1000 test) replace MNIST/FMNIST/CIFAR; 128 stratified training images, one data split (data_seed) shared by all init seeds.",
    "E_c5 steps": "Fixed number of full-batch GD steps (quick: 500) instead of the authors' |dL| < 1e-8 stopping rule.",
    "E_c5 seeds": "Three init seeds (0, 1, 2); claims use the per-LR median over seeds, per data set.",
    "divergence": "A member is frozen and counted as diverged when its loss exceeds diverge_above (1e8) or is not finite.",
    "NTK logging": "eta*lambda_t is logged every step for the first ntk_dense_steps steps, then every ntk_every steps, and at the last step.",
    "E_c5 precision": "Image experiments train in float32 (config key dtype) for speed; the toy experiments E_c1-E_c4 and E_c6 always use float64.",
    "E_c6 convergence": "For the Fig. 4-7/9 bound check, a run 'converges' when it did not diverge and its final loss is below converged_below (1) times its initial loss; the random-label fits of Figs. 4 and 9 cannot go much lower.",
    "E_c6 LR grids": "Figs. 6 and 7 use ηλ₀ 0.1:0.1:4.0 (the notebook gives no grid); Fig. 9 uses 0.2:0.2:6.0.",
    "E_c6 batch": "E_c6 trains full-batch and takes λ₀ and the edge eigenvectors from the full training set (the notebook may use mini-batches and batch-averaged eigensystems).",
    "uv recursion test": "The trained uv net must match the (f, lambda) recursion to 1e-8 relative over 100 float64 steps.",
}

__all__ = ["CHOICES", "baselines", "claims", "figures", "grid", "make_dataset", "train"]

__getattr__ = lazy_exports(
    __name__,
    {
        "make_dataset": "experiments",
        "grid": "experiments",
        "train": "experiments",
    },
)
