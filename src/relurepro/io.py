"""Atomic Parquet / npz I/O with the provenance columns of the output contract."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

# Stamped on every row of the runs and baselines tables. The whole config's ``config_hash`` is
# kept on the claims table only: on the runs it would tie every job's rows to every other
# paper's settings, and changing one width would re-render everything downstream.
PROVENANCE_COLUMNS = ["git_sha", "job_hash", "device", "dtype", "torch_version", "created_at"]


def canonical_hash(obj) -> str:
    """Short sha256 of the canonical JSON of ``obj`` (sorted keys)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def git_sha() -> str:
    """The commit of the checkout the code runs from (``<sha>-dirty`` with uncommitted changes), or ``unknown``."""
    env = os.environ.get("RELUREPRO_GIT_SHA")
    if env:
        return env
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=40"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() if out.returncode == 0 else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def provenance(job_hash: str, device: str, dtype: str) -> dict:
    """The provenance columns stamped on each job's table (``device`` and ``dtype`` as the tensors used them)."""
    import torch

    return {
        "git_sha": git_sha(),
        "job_hash": job_hash,
        "device": device,
        "dtype": dtype,
        "torch_version": torch.__version__,
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask sets it, racing other threads)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode(mode: int = 0o666) -> int:
    """``mode`` less the process umask: the mode ``open()`` would give a new file."""
    return mode & ~_umask() & 0o7777


def _atomic(path: Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # mkstemp creates 0600 files; a results file must be readable as the umask allows (shared clusters)
    os.fchmod(fd, file_mode())
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(df: pd.DataFrame, path, **stamp) -> None:
    """Write ``df`` atomically, adding provenance columns given as keyword arguments."""
    df = df.assign(**stamp) if stamp else df
    _atomic(Path(path), lambda tmp: df.to_parquet(tmp, index=False))


def read_parquet(path) -> pd.DataFrame:
    """Read a Parquet file, naming the file in the error when it is corrupt or truncated."""
    path = Path(path)
    try:
        return pq.read_table(path).to_pandas()
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise ValueError(f"cannot read Parquet file {path}: {exc}") from exc


def write_npz(arrays: dict[str, np.ndarray], path) -> None:
    """Write arrays atomically as an uncompressed ``.npz``."""

    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    _atomic(Path(path), write)


def read_npz(path) -> dict[str, np.ndarray]:
    """Load every array of an ``.npz`` eagerly."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def write_text(text: str, path) -> None:
    """Write a text file atomically."""

    def write(tmp):
        Path(tmp).write_text(text)

    _atomic(Path(path), write)
