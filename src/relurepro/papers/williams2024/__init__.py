"""williams2024: expressivity of neural networks with random weights and learned biases (Williams et al.,
arXiv:2407.00957, ICLR 2025).

Recurrent half: the batched rate RNN (:mod:`.rnn`), its offline data and the reaching plant
(:mod:`.dynamics`), and one module per experiment (see ``EXPERIMENTS``).
"""

from __future__ import annotations

EXPERIMENTS: dict[str, str] = {
    "fig3a": "e_fig3ab_cosine",
    "fig3b": "e_fig3b_jacobian",
    "fig3d": "e_fig3cd_vdp",
    "fig4": "e_fig4_lorenz",
    "motor": "e_motor",
    "fige2_rnn": "e_fige2_rnn",
}

CHOICES: dict[str, str] = {
    "rnn": "r_t = (1 - a) r_{t-1} + a relu(W r_{t-1} + B u_t + b), y_t = C r_t + c (the notes' '-alpha' read as a "
    "typo); W = (g/sqrt N) N(0,1), B ~ N(0,1), C ~ N(0, 1/N^2), b = c = 0 at init.",
    "rnn modes": "bias trains b and c; full trains W, B, C, b, c; readout (the random-feature baseline) trains C "
    "and c with W, B, b frozen. All modes train with Adam, full batch unless stated.",
    "rnn learning rates": "Adam lr 0.1 for biases and 0.01 for full and readout RNNs (the spec's 1e-2 / 1e-3 are "
    "the feed-forward values): ReLU RNNs with g >= 1.5 and a = 1 start with exploding activity, and at lr 1e-2 the "
    "biases did not tame it within the quick iterations (measured on fig3a: median R² 0.85 at 1e-2, 0.99 at 0.1).",
    "rnn quick iterations": "Quick runs use 400 iterations for van der Pol (fig3d, fige2_rnn; spec 800) and 1,500 / "
    "200 for the motor task's bias / full nets (spec 3,000 / 400), and Lorenz trains 400 iterations on batches of 16 "
    "(spec 600 of 32), to stay within the 2-core CPU budget.",
    "rnn initial state": "Autonomous tasks (cosine, van der Pol) start from a fixed random state r0 ~ U[0, 1]^N "
    "per member seed; driven tasks (Lorenz, reaching) start from r0 = 0.",
    "rnn precision": "The recurrent experiments train in float32 (their own dtype key) for speed; the unit tests "
    "check the batched RNN against single members in float64.",
    "jacobian state": "Fig 3B's Jacobian (1 - a) I + a D W is taken at a fixed point r* = relu(W r* + b) of the "
    "trained net, found by active-set Newton iteration started from the mean and from 8 states of the generated "
    "sequence's second half (the candidate with the smallest residual); 'leading pair' = the complex pair of largest "
    "modulus. Seeds whose net has no fixed point (residual > 1e-6) are listed in the claim's note and not counted.",
    "van der Pol": "mu = 1, sampled every dt = 0.1 (RK4 at dt / substeps), transient dropped, z-scored; the nets "
    "generate x(t) (one output).",
    "matched full RNN": "n_f minimises |n^2 + n (d_in + d_out + 1) + d_out - (N + d_out)| (no inputs, one output).",
    "Lorenz": "sigma, rho, beta = 10, 28, 8/3, RK4 dt = 0.01 from (1, 1, 1), transient dropped; x z-scored and "
    "subsampled at the HWHM lag tau of its autocorrelation (the first lag where it is <= 1/2); windows of 40 "
    "samples, next-sample target, first train_fraction of the series for training.",
    "Lorenz closed loop": "Closed-loop error: teacher forcing for `warmup` samples of each test window, then the "
    "output fed back as input for `horizon` steps; RMSE per step ahead.",
    "Lorenz ridge AR": "The linear baseline is ridge regression of the next sample on the last `ar_lags` samples.",
    "reaching task": "Point mass (mass, damping, dt as config) driven by the 2-D output as force, semi-implicit "
    "Euler from rest; inputs (cos, sin) of the target angle and a go cue; desired path a minimum-jerk reach of "
    "`move` steps after the go cue; loss = mean squared tracking error / radius^2 + reg_velocity x mean squared "
    "speed + reg_force x mean squared force over the hold period after the reach.",
    "reaching targets": "Training angles 2 pi k / n, held-out angles halfway between them.",
    "iteration ratio": "Iterations for bias learning to reach the full net's final loss, divided by the full net's "
    "iterations (same seed); a lower bound when bias never reaches it.",
}


def make_dataset(name: str, spec: dict) -> dict:
    """The paper's own data sets (``dynamics.BUILDERS``), else the shared ones (:func:`relurepro.data.make`)."""
    from .dynamics import BUILDERS

    kind = spec.get("kind")
    if kind in BUILDERS:
        return BUILDERS[kind](**{k: v for k, v in spec.items() if k != "kind"})
    from ... import data

    return data.make(spec)
