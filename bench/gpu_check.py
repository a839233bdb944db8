"""The GPU check (``make gpu-check``): the smoke workflow on CUDA against the CPU, and the engine benchmarks on CUDA.

On a machine with CUDA this (1) runs the smoke workflow twice in fresh copies of the
project, once with ``device: cuda`` and once with ``device: cpu``; (2) compares their
claims: every verdict must agree and every value must agree within the tolerance below;
(3) runs the engine benchmarks with ``--device cuda``; and prints one summary. It exits
non-zero when a verdict differs, a value is out of tolerance or a step fails.

Tolerance: CUDA kernels sum in another order than the CPU ones, so float64 values differ
in their last bits, and the chaotic catapult runs amplify that over hundreds of steps.
A value agrees when ``|cuda - cpu| <= ATOL + RTOL * |cpu|``.

    python bench/gpu_check.py [--cores 8] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RTOL, ATOL = 1e-3, 1e-9
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BENCHES = [["bench/ensemble.py"], ["bench/minibatch.py"]]


def copy_project(dest: Path) -> Path:
    """The files git would see (tracked and not ignored), as in a fresh clone."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for rel in filter(None, listed):
        if (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    return dest


def run(cmd: list[str], cwd: Path, log: Path) -> tuple[bool, float]:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", "PYTHONUNBUFFERED": "1"}
    start = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT)
    return proc.returncode == 0, time.perf_counter() - start


def smoke(device: str, work: Path, cores: int) -> tuple[Path, bool, float]:
    project = copy_project(work / device)
    cmd = [str(BIN / "snakemake"), "--cores", str(cores), "--configfile", "config/smoke.yaml"]
    ok, secs = run([*cmd, "--config", f"device={device}"], project, work / f"smoke-{device}.log")
    print(
        f"smoke workflow on {device}: {'ok' if ok else 'FAILED'} in {secs:.0f} s (log: {work / f'smoke-{device}.log'})"
    )
    return project / "results" / "claims.parquet", ok, secs


def compare(cuda_path: Path, cpu_path: Path) -> list[str]:
    """Lines describing every claim whose verdict or value differs between the two runs."""
    import numpy as np
    import pandas as pd

    cols = ["claim_id", "status", "value"]
    both = pd.read_parquet(cpu_path)[cols].merge(
        pd.read_parquet(cuda_path)[cols], on="claim_id", suffixes=("_cpu", "_cuda"), how="outer"
    )
    problems = []
    for r in both.itertuples():
        if r.status_cpu != r.status_cuda:
            problems.append(
                f"  verdict differs: {r.claim_id}: cpu {r.status_cpu} ({r.value_cpu:.6g}), cuda {r.status_cuda} ({r.value_cuda:.6g})"
            )
        elif not (np.isnan(r.value_cpu) and np.isnan(r.value_cuda)):
            if not abs(r.value_cuda - r.value_cpu) <= ATOL + RTOL * abs(r.value_cpu):
                problems.append(f"  value differs: {r.claim_id}: cpu {r.value_cpu:.6g}, cuda {r.value_cuda:.6g}")
    print(
        f"claims compared: {len(both)}; verdicts and values (rtol {RTOL:g}, atol {ATOL:g}) agree on {len(both) - len(problems)}"
    )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=min(8, os.cpu_count() or 2))
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("gpu-check: no CUDA device is visible to torch; run it on a machine with a GPU", file=sys.stderr)
        return 2
    print(f"gpu-check on {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="relurepro-gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    failures = []
    cuda_claims, ok_cuda, t_cuda = smoke("cuda", work, args.cores)
    cpu_claims, ok_cpu, t_cpu = smoke("cpu", work, args.cores)
    if ok_cuda and ok_cpu:
        failures += compare(cuda_claims, cpu_claims)
    else:
        failures.append("  a smoke run failed: see its log")
    for bench in BENCHES:
        log = work / f"{Path(bench[0]).stem}-cuda.log"
        ok, secs = run([sys.executable, *bench, "--device", "cuda"], ROOT, log)
        print(f"\n{' '.join(bench)} --device cuda ({'ok' if ok else 'FAILED'}, {secs:.0f} s):")
        print(log.read_text().strip())
        if not ok:
            failures.append(f"  {bench[0]} failed")
    print(
        f"\nsummary: smoke cuda {t_cuda:.0f} s, cpu {t_cpu:.0f} s; "
        + ("all checks pass" if not failures else "PROBLEMS:")
    )
    print("\n".join(failures))
    if args.keep is None and not failures:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
