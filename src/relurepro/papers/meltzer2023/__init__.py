"""meltzer2023: catapult dynamics and phase transitions in quadratic nets (Meltzer & Liu, arXiv:2301.07737).

One module per experiment (see ``EXPERIMENTS``); paper-local pieces: :mod:`.models` (the models and
the op-by-op reference forward), :mod:`.windows` (catapult window edges), :mod:`.quadratic_parts`
(E_c6 quadratic variants), :mod:`.trainer` (the shared GD loop), :mod:`.baseline_rows`,
:mod:`.summary` (per-member summaries for claims and figures) and :mod:`.panels` (figure panels).
The data sets are the shared ones (:func:`relurepro.data.make`).
"""

from __future__ import annotations

# The toy experiments (E_c0-E_c4, E_c6) train in float64 whatever the config says (losses reach 1e-30),
# so the shared `dtype` must say float64 too (relurepro.config.check_precision); E_c5 overrides this
# with PRECISION = None and follows its own key experiments.E_c5.dtype.
PRECISION = "float64"

EXPERIMENTS = {
    "E_c0": "e_c0_ntk_check",
    "E_c1": "e_c1_uv",
    "E_c2": "e_c2_pure_quadratic",
    "E_c3": "e_c3_leaky",
    "E_c4": "e_c4_relu_single",
    "E_c5": "e_c5_images",
    "E_c6": "e_c6_quadratic_variants",
}

CHOICES = {
    "toy seeds": "E_c1-E_c3 use one seed each, the authors' seed where the notebook gives one (E_c1: 0; E_c2: 13; "
    "E_c3: 120).",
    "E_c4 seeds": "E_c4 trains 5 seeds in quick (the authors' 123, then 0-3) and 10 in full, because whether a "
    "single-input ReLU net dies at large eta*lambda_0 depends on the draw; its claims are judged per seed and "
    "reported as the median (sparsity_monotone: on the per-LR median sparsity curve).",
    "E_c2 LR grid": "The quick pure-quadratic grid 0.2:0.2:4.0 is extended by 4.2 and 4.4 so the divergence claim "
    "above 4.2 has members.",
    "E_c3 LR grid": "Leaky-ReLU LR grid 0.2:0.2:6.0 in the quick profile (authors: 0.1:0.1:6.0).",
    "E_c3 convergence": "A catapult run counts as converged when its final loss is below 1e-8.",
    "E_c4 dead nets": "A run is 'dead' when |L_final - y^2/2| < 1e-3 with y = 2.",
    "E_c5 data": "Digits 0/1 (load_digits) and synthetic non-negative templates (d=64, noise 0.3, 1000 test) "
    "replace MNIST/FMNIST/CIFAR; 128 stratified training images, one data split (data_seed) shared by all init "
    "seeds.",
    "E_c5 width": "Width 1024 in quick as in full: at width 512 the lazy curvature drifts beyond the 0.15 tolerance "
    "(0.21 on digits 0/1 at eta*lambda_0 = 1.5, with the authors' code too).",
    "E_c5 steps": "Fixed number of full-batch GD steps instead of the authors' |dL| < 1e-8 stopping rule.",
    "E_c5 seeds": "Three init seeds (0, 1, 2); claims use the per-LR median over seeds, per data set; each claim's "
    "row shows the worst data set and lists every data set in its note.",
    "divergence": "A member is frozen and counted as diverged when its loss exceeds diverge_above (1e8) or is not "
    "finite.",
    "NTK logging": "eta*lambda_t is logged every step for the first ntk_dense_steps steps, then every ntk_every "
    "steps, and at the last step.",
    "E_c5 precision": "Image experiments train in float32 (config key dtype) for speed; the toy experiments "
    "E_c1-E_c4 and E_c6 always use float64.",
    "E_c6 convergence": "For the Fig. 4-7/9 bound check, a run 'converges' when it did not diverge and its final "
    "loss is below converged_below (1) times its initial loss; the random-label fits of Figs. 4 and 9 cannot go "
    "much lower.",
    "E_c6 LR grids": "Figs. 6 and 7 use ηλ₀ 0.1:0.1:4.0 (the notebook gives no grid); Fig. 9 uses 0.2:0.2:6.0.",
    "E_c6 batch": "E_c6 trains full-batch and takes λ₀ and the edge eigenvectors from the full training set (the "
    "notebook may use mini-batches and batch-averaged eigensystems).",
    "uv recursion test": "The trained uv net must match the (f, lambda) recursion to 1e-8 relative over 100 float64 "
    "steps.",
    "NTK check": "E_c0 checks the analytic NTKs against torch.func Jacobians on small random nets (width 16, 6 "
    "inputs) and quadratic models, float64, as its own job.",
}
