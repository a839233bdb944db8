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
    "rnn quick iterations": "Quick runs use 400 iterations for van der Pol (fig3d, fige2_rnn; spec 800), and Lorenz "
    "trains 400 iterations on batches of 16 (spec 600 of 32), to stay within the 2-core CPU budget; the motor task "
    "uses the spec's 3,000 / 400 for bias / full nets.",
    "rnn leak": "a = 0.2 (Euler of tau dr/dt = -r + relu(.) at dt/tau = 0.2) for the continuous-time targets: van der "
    "Pol (fig3d, fige2_rnn) and the reaching plant; a = 1 (vanilla) for the cosine and Lorenz. Measured on van der "
    "Pol (N = 200, 400 it, seeds 0-2): at a = 1 bias R² <= 0.19 at g = 1.5 and every g = 2 net explodes; at a = 0.2 "
    "bias reaches 0.99 / 0.98 / 0.99 at g = 1.5 and matched full nets (n = 13) 0.99 at most (g, seed), against <= 0.2 "
    "at a = 1. At a = 0.1 bias learns more slowly (0.50-0.95 at g = 1.5).",
    "rnn readout law": "C ~ N(0, 1/N^2) (the reviews' law for Fig 3C/D) for the autonomous tasks; C ~ N(0, 1/N) for "
    "the driven ones (Lorenz, reaching; config `readout`): with 1/N^2 a driven bias net's output is too small to "
    "learn Lorenz (bias R² 0.20 after 300 it at N = 256, g = 0.9; 0.83-0.86 with 1/sqrt N).",
    "Lorenz net": "g = 0.9 and full-net lr 3e-3 (spec: no gain given for Fig 4). Measured at N = 256, 300 it, batch "
    "32, readout 1/sqrt N: full nets at g = 1.5 start with exploding activity (test R² -4 after 300 it, 1/N^2 readout) "
    "and at lr 1e-2 one of two seeds stays at 0.49; at g = 0.9 and lr 3e-3 both reach 0.99. Bias nets saturate at "
    "R² 0.83-0.87 at N = 256 (lr 0.03 or 0.1, up to 600 it; a = 0.5 is worse, 0.53) and reach 0.93 at N = 512.",
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
