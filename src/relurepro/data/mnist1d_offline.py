"""MNIST-1D (Greydanus 2020), generated offline by the ``mnist1d`` package's ``make_dataset``.

The package's ``get_dataset`` downloads a pickle from GitHub: never call it. Its generator
reseeds numpy's and Python's global random state, so the call is wrapped to restore both.
"""

from __future__ import annotations

import random

import numpy as np

# Generator settings that may be overridden; the rest of get_dataset_args() (its URL) is unused.
GENERATOR_KEYS = (
    "num_samples",
    "train_split",
    "template_len",
    "padding",
    "scale_coeff",
    "max_translation",
    "corr_noise_scale",
    "iid_noise_scale",
    "shear_scale",
    "shuffle_seq",
    "final_seq_length",
)


def mnist1d(seed: int = 42, num_samples: int = 5000, train_split: float = 0.8, **overrides) -> dict[str, np.ndarray]:
    """MNIST-1D from the package's offline generator (defaults: 4,000 train / 1,000 test, 40-d, 10 classes).

    ``overrides`` replace other ``get_dataset_args()`` defaults (see ``GENERATOR_KEYS``).
    Returns ``{"x_train", "y_train", "x_test", "y_test"}``, x float64 ``[N, 40]``, y int64.
    """
    from mnist1d.data import get_dataset_args, make_dataset
    from mnist1d.utils import ObjectView

    unknown = sorted(set(overrides) - set(GENERATOR_KEYS))
    if unknown:
        raise ValueError(f"unknown mnist1d generator settings {unknown}; allowed: {list(GENERATOR_KEYS)}")
    args = get_dataset_args(as_dict=True)
    args.update(overrides, seed=int(seed), num_samples=int(num_samples), train_split=float(train_split))
    args.pop("url", None)
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(ObjectView(args))
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return {
        "x_train": np.asarray(d["x"], dtype=np.float64),
        "y_train": np.asarray(d["y"], dtype=np.int64),
        "x_test": np.asarray(d["x_test"], dtype=np.float64),
        "y_test": np.asarray(d["y_test"], dtype=np.int64),
    }
