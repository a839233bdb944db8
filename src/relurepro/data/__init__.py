"""Shared offline data sets: image pairs, multi-class images, MNIST-1D, IDX files, random frames, sphere tubes.

Every data set is a dict ``{"x_train", "y_train", "x_test", "y_test"}`` of numpy arrays, x
float64 ``[N, D]``. Two-class pairs and templates have float +-1 targets; multi-class sets
have int64 labels ``0..k-1``. Nothing here downloads. ``make(spec)`` builds any of them from
a spec dict keyed by ``spec["kind"]`` (the form a paper's data rule stores with its seed).
"""

from __future__ import annotations

import inspect

import numpy as np

from .frames import orthonormal_frame, random_rotation, uniform_ball, uniform_sphere
from .idx import idx_dataset, idx_files, read_idx, read_idx_pair, write_idx
from .images import SOURCES, image_classes, load_source, pool2x2
from .mnist1d_offline import mnist1d
from .pairs import digits_pair, gaussian_sign, mnist_pair, templates
from .tubes import sphere_coordinates, sphere_tube

KINDS = {
    "digits_pair": digits_pair,
    "mnist_pair": mnist_pair,
    "templates": templates,
    "gaussian_sign": gaussian_sign,
    "images": image_classes,
    "mnist1d": mnist1d,
    "idx": idx_dataset,
}


# Data kinds that read files from disk: kind -> the files a spec reads (declared as the data rule's inputs,
# so a changed file re-runs the data set and what depends on it).
FILES = {"idx": lambda spec: idx_files(spec["folder"])}


def input_files(spec: dict) -> list[str]:
    """The files on disk that building ``spec`` reads (none for generated or package-bundled data)."""
    reader = FILES.get(spec.get("kind"))
    return [] if reader is None else sorted(str(p) for p in reader(spec))


def make(spec: dict) -> dict[str, np.ndarray]:
    """Build the shared data set ``spec["kind"]`` (one of ``KINDS``) from the spec's other keys."""
    if "kind" not in spec:
        raise ValueError(f"data spec has no 'kind' (expected one of {sorted(KINDS)}): {spec}")
    kind = spec["kind"]
    if kind not in KINDS:
        raise ValueError(f"unknown data kind {kind!r}; expected one of {sorted(KINDS)}")
    fn = KINDS[kind]
    kwargs = {k: v for k, v in spec.items() if k != "kind"}
    params = inspect.signature(fn).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(kwargs) - set(params))
        if unknown:
            raise ValueError(f"data kind {kind!r}: unknown keys {unknown}; allowed: {list(params)}")
    missing = [n for n, p in params.items() if p.default is p.empty and p.kind is not p.VAR_KEYWORD and n not in kwargs]
    if missing:
        raise ValueError(f"data kind {kind!r}: missing keys {missing}")
    return fn(**kwargs)


__all__ = [
    "KINDS",
    "SOURCES",
    "digits_pair",
    "gaussian_sign",
    "idx_dataset",
    "idx_files",
    "image_classes",
    "input_files",
    "load_source",
    "make",
    "mnist1d",
    "mnist_pair",
    "orthonormal_frame",
    "pool2x2",
    "random_rotation",
    "read_idx",
    "read_idx_pair",
    "sphere_coordinates",
    "sphere_tube",
    "templates",
    "uniform_ball",
    "uniform_sphere",
    "write_idx",
]
