"""Claims: each paper's acceptance checks, recorded as results (never raised)."""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable

import numpy as np
import pandas as pd

COLUMNS = [
    "paper",
    "claim_id",
    "description",
    "statistic",
    "value",
    "threshold",
    "threshold_high",
    "direction",
    "passed",
    "n_seeds",
    "note",
]

_TESTS: dict[str, Callable[[float, float, float], bool]] = {
    "<": lambda v, t, hi: v < t,
    "<=": lambda v, t, hi: v <= t,
    ">": lambda v, t, hi: v > t,
    ">=": lambda v, t, hi: v >= t,
    "==": lambda v, t, hi: v == t,
    "in": lambda v, t, hi: t < v < hi,
    "in[]": lambda v, t, hi: t <= v <= hi,
}


def claim(
    claim_id: str,
    description: str,
    statistic: str,
    value,
    direction: str,
    threshold: float = math.nan,
    *,
    threshold_high: float = math.nan,
    n_seeds: int = 1,
    note: str = "",
) -> dict:
    """One evaluated claim. ``direction`` is one of ``< <= > >= == in in[] report``.

    ``in`` is the open interval (threshold, threshold_high), ``in[]`` the closed one;
    ``report`` records the value without a verdict (``passed`` is missing). A value
    that is not a finite number fails every test.
    """
    if direction != "report" and direction not in _TESTS:
        raise ValueError(f"{claim_id}: unknown direction {direction!r}")
    value = float(value)
    if direction == "report":
        passed = None
    else:
        passed = bool(np.isfinite(value) and _TESTS[direction](value, threshold, threshold_high))
    return {
        "paper": claim_id.split(".")[0],
        "claim_id": claim_id,
        "description": description,
        "statistic": statistic,
        "value": value,
        "threshold": float(threshold),
        "threshold_high": float(threshold_high),
        "direction": direction,
        "passed": passed,
        "n_seeds": int(n_seeds),
        "note": note,
    }


def evaluate(paper: str, make_claims: Callable[[], list[dict]]) -> pd.DataFrame:
    """Run a paper's claim function; an exception becomes one failed claim, not a crash."""
    try:
        rows = make_claims()
    except Exception as exc:
        rows = [
            {
                **claim(f"{paper}.evaluation", "claims evaluation ran", "exception", math.nan, "report"),
                "passed": False,
                "note": f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}",
            }
        ]
    return table(rows)


def table(rows: list[dict]) -> pd.DataFrame:
    """Claims rows as a DataFrame with the contract's columns and dtypes."""
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["passed"] = df["passed"].astype("boolean")
    df["n_seeds"] = df["n_seeds"].astype("int64")
    return df


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{x:.4g}"


def markdown(df: pd.DataFrame) -> str:
    """Render the claims table as Markdown, one section per paper, with pass counts."""
    lines = ["# Claims", ""]
    judged = df[df["direction"] != "report"]
    lines.append(
        f"{int(judged['passed'].sum())} of {len(judged)} claims passed; {len(df) - len(judged)} reported only."
    )
    for paper, part in df.groupby("paper", sort=False):
        ok = part[part["direction"] != "report"]["passed"]
        lines += ["", f"## {paper} ({int(ok.sum())}/{len(ok)} passed)", ""]
        lines.append("| claim | statistic | value | test | result |")
        lines.append("|---|---|---|---|---|")
        for r in part.itertuples():
            if r.direction == "report":
                test, verdict = "report", "reported"
            else:
                if r.direction.startswith("in"):
                    left, right = ("[", "]") if r.direction == "in[]" else ("(", ")")
                    test = f"in {left}{_fmt(r.threshold)}, {_fmt(r.threshold_high)}{right}"
                else:
                    test = f"{r.direction} {_fmt(r.threshold)}"
                verdict = "PASS" if r.passed else "**FAIL**"
            statistic = r.statistic.replace("|", "\\|")  # a bare | would split the Markdown cell
            lines.append(f"| `{r.claim_id}` | {statistic} | {_fmt(r.value)} | {test} | {verdict} |")
    return "\n".join(lines) + "\n"
