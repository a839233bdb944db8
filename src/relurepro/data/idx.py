"""Reader and writer of the IDX format (MNIST, Fashion-MNIST, KMNIST files), plain or gzip.

An IDX file is a 4-byte magic ``00 00 <dtype code> <ndim>``, then ``ndim`` big-endian
uint32 sizes, then the data, big-endian, row-major. Images are ``0x0803`` (uint8, n x rows
x cols) and labels ``0x0801`` (uint8, n). Errors name the file and the problem.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

# IDX dtype codes -> big-endian numpy dtypes.
DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
SPLITS = {"train": "train", "test": "t10k"}


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file's suffix
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: corrupt gzip stream ({exc})") from exc
    return raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (``.gz`` detected by content) into an array of its native dtype and shape."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated header ({len(raw)} bytes, need at least 4)")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in DTYPES:
        raise ValueError(f"{path}: bad magic number 0x{raw[:4].hex()} (expected 00 00 <dtype code> <ndim>)")
    ndim = raw[3]
    if ndim == 0:
        raise ValueError(f"{path}: bad magic number 0x{raw[:4].hex()} (ndim is 0)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated header ({len(raw)} bytes, need {header} for {ndim} dimensions)")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(DTYPES[raw[2]])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        kind = "truncated" if len(raw) < expected else "has trailing bytes"
        raise ValueError(f"{path}: file {kind}: {len(raw)} bytes, header shape {shape} needs {expected}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file (gzip-compressed when ``path`` ends in ``.gz``), atomically."""
    path = Path(path)
    array = np.asarray(array)
    code = {np.dtype(v).newbyteorder("="): k for k, v in DTYPES.items()}.get(array.dtype.newbyteorder("="))
    if code is None or array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"{path}: cannot write dtype {array.dtype} with {array.ndim} dimensions as IDX")
    head = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    body = head + np.ascontiguousarray(array, dtype=DTYPES[code]).tobytes()
    if path.suffix == ".gz":
        body = gzip.compress(body, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_idx_pair(images: str | os.PathLike, labels: str | os.PathLike, n_classes: int = 10):
    """Read and cross-check an images file (uint8, n x rows x cols) and a labels file (uint8, n, in [0, n_classes))."""
    x, y = read_idx(images), read_idx(labels)
    if x.ndim != 3 or x.dtype != np.uint8:
        raise ValueError(f"{images}: expected uint8 images of 3 dimensions (magic 0x0803), got {x.dtype} {x.shape}")
    if y.ndim != 1 or y.dtype != np.uint8:
        raise ValueError(f"{labels}: expected uint8 labels of 1 dimension (magic 0x0801), got {y.dtype} {y.shape}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{images} holds {x.shape[0]} images but {labels} holds {y.shape[0]} labels")
    if y.size and int(y.max()) >= n_classes:
        raise ValueError(f"{labels}: label {int(y.max())} out of range [0, {n_classes})")
    return x, y


def _find(folder: Path, prefix: str, kind: str) -> Path:
    names = [f"{prefix}-{kind}-ubyte", f"{prefix}-{kind.replace('-', '.')}-ubyte"]
    candidates = [folder / (n + gz) for n in names for gz in ("", ".gz")]
    found = [p for p in candidates if p.is_file()]
    if not found:
        raise FileNotFoundError(f"{folder}: no IDX file {names[0]}[.gz] (looked for {[p.name for p in candidates]})")
    return found[0]


def idx_files(folder: str | os.PathLike) -> list[Path]:
    """The four IDX files :func:`idx_dataset` reads from ``folder`` (train/test images and labels)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"IDX folder not found: {folder}")
    return [_find(folder, prefix, kind) for prefix in SPLITS.values() for kind in ("images-idx3", "labels-idx1")]


def idx_dataset(folder: str | os.PathLike, n_classes: int = 10, scale: float = 255.0) -> dict[str, np.ndarray]:
    """Load ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`` from ``folder``.

    Returns ``{"x_train", "y_train", "x_test", "y_test"}``: images flattened to float64
    ``[N, rows*cols]`` divided by ``scale``, labels int64.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"IDX folder not found: {folder}")
    out = {}
    shapes = {}
    for split, prefix in SPLITS.items():
        img, lab = _find(folder, prefix, "images-idx3"), _find(folder, prefix, "labels-idx1")
        x, y = read_idx_pair(img, lab, n_classes)
        shapes[split] = (img, x.shape[1:])
        out[f"x_{split}"] = x.reshape(x.shape[0], -1).astype(np.float64) / float(scale)
        out[f"y_{split}"] = y.astype(np.int64)
    if shapes["train"][1] != shapes["test"][1]:
        raise ValueError(
            f"{shapes['train'][0]} has images of {shapes['train'][1]} but {shapes['test'][0]} of {shapes['test'][1]}"
        )
    return out
