"""Job-building helpers shared by the meltzer2023 experiments (no torch: the grid is built at parse time)."""

from __future__ import annotations


def fmt(v: float) -> str:
    return f"{v:g}"


def common_params(e: dict) -> dict:
    """The loop settings every experiment shares (learning rates and seeds are member labels)."""
    return {
        "steps": int(e["steps"]),
        "diverge_above": float(e["diverge_above"]),
        "log_every": int(e.get("log_every", 1)),
    }


def lr_members(seeds, eta_lambda0) -> tuple[dict, ...]:
    """Members in the order seeds x learning rates (the order every table and number depends on)."""
    return tuple({"seed": int(s), "eta_lambda0": float(e)} for s in seeds for e in eta_lambda0)
