"""Claims declared as data, evaluated in isolation, recorded as results (never raised).

Each experiment module declares its claims once as :class:`Claim` objects: an id, what is
claimed, the statistic, a direction, a threshold per profile and a ``measure`` over the
aggregated tables. :func:`evaluate` turns every declared claim into exactly one row, in
every run: a measure that raises gives a failed row naming the exception, a claim whose
experiment is off or whose profile has no threshold gives a ``skipped`` row with the reason.

A measure returns a number, a :class:`Measured`, or one value per seed (a mapping or a
``pd.Series`` indexed by seed). Per-seed values are judged on their median; the row also
keeps the worst seed's value and the fraction of seeds that pass on their own.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .tables import Tables

COLUMNS = [
    "paper",
    "claim_id",
    "kind",
    "version",
    "profile",
    "status",
    "description",
    "statistic",
    "value",
    "threshold",
    "threshold_high",
    "direction",
    "passed",
    "n_seeds",
    "worst_seed_value",
    "pass_fraction",
    "note",
]

KINDS = ("claim", "invariant")
PROFILES = ("smoke", "quick", "full")

_TESTS: dict[str, Callable[[float, float, float], bool]] = {
    "<": lambda v, t, hi: v < t,
    "<=": lambda v, t, hi: v <= t,
    ">": lambda v, t, hi: v > t,
    ">=": lambda v, t, hi: v >= t,
    "==": lambda v, t, hi: v == t,
    "in": lambda v, t, hi: t < v < hi,
    "in[]": lambda v, t, hi: t <= v <= hi,
}


class NotApplicable(Exception):
    """Raised by a measure when its data are absent by design (a part switched off); the row is skipped."""


@dataclass(frozen=True)
class Measured:
    """A measure's result with its context: how many seeds it covers and a note for the reader."""

    value: float
    n_seeds: int = 1
    note: str = ""


@dataclass(frozen=True)
class Claim:
    """One declared claim.

    ``thresholds`` maps a profile (smoke, quick, full) to its threshold: a number, a
    ``(low, high)`` pair for ``in``/``in[]``, or None to report the value without a
    verdict there. A profile missing from the mapping skips the claim in that profile.
    ``min_seeds`` (3 for claims over random draws) is enforced in the quick and full
    profiles: fewer seeds fail the claim with the reason. ``version`` goes up whenever a
    threshold changes. ``judged_as`` (optional) maps ``(tables, profile)`` to the profile whose
    thresholds judge this run and the reason, for a run that fell back to the data of a smaller
    profile (williams2024's full profile without an MNIST folder is judged as quick).
    """

    id: str
    description: str
    statistic: str
    direction: str
    measure: Callable[[Tables], object]
    thresholds: Mapping[str, object] = field(default_factory=dict)
    kind: str = "claim"
    version: int = 1
    min_seeds: int = 1
    judged_as: Callable[[Tables, str], tuple[str, str]] | None = None

    def __post_init__(self):
        parts = self.id.split(".")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"claim id {self.id!r} must read <paper>.<experiment>.<name>")
        if self.direction != "report" and self.direction not in _TESTS:
            raise ValueError(f"{self.id}: unknown direction {self.direction!r}")
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: kind must be one of {KINDS}, not {self.kind!r}")
        unknown = set(self.thresholds) - set(PROFILES)
        if unknown:
            raise ValueError(f"{self.id}: thresholds for unknown profiles {sorted(unknown)}")
        for profile, t in self.thresholds.items():
            pair = isinstance(t, tuple | list)
            if t is not None and pair != self.direction.startswith("in"):
                raise ValueError(f"{self.id}: threshold {t!r} for {profile} does not fit direction {self.direction!r}")

    @property
    def paper(self) -> str:
        return self.id.split(".")[0]

    @property
    def experiment(self) -> str:
        return self.id.split(".")[1]

    def bounds(self, profile: str) -> tuple[float, float]:
        """``(threshold, threshold_high)`` in ``profile``; NaN where there is none."""
        t = self.thresholds.get(profile)
        if t is None:
            return math.nan, math.nan
        if isinstance(t, tuple | list):
            return float(t[0]), float(t[1])
        return float(t), math.nan

    def passes(self, value: float, profile: str) -> bool | None:
        """The verdict for ``value`` in ``profile`` (None where only reported)."""
        if self.direction == "report" or self.thresholds.get(profile) is None:
            return None
        lo, hi = self.bounds(profile)
        return bool(np.isfinite(value) and _TESTS[self.direction](value, lo, hi))


def threshold(declared: Iterable[Claim], claim_id: str, profile: str, tables: Tables | None = None) -> float:
    """The threshold of a declared claim, for figure labels (never copy it as a literal).

    For ``in``/``in[]`` claims this is the lower bound; :meth:`Claim.bounds` gives both. With
    ``tables``, a claim's ``judged_as`` picks the profile, as in the claims table.
    """
    for c in declared:
        if c.id == claim_id:
            if tables is not None and c.judged_as:
                profile = c.judged_as(tables, profile)[0]
            return c.bounds(profile)[0]
    raise KeyError(f"no declared claim {claim_id!r}")


def _row(c: Claim, profile: str, status: str = "", judge: str | None = None, **values) -> dict:
    lo, hi = c.bounds(judge or profile)
    return {
        "paper": c.paper,
        "claim_id": c.id,
        "kind": c.kind,
        "version": int(c.version),
        "profile": profile,
        "status": status,
        "description": c.description,
        "statistic": c.statistic,
        "value": math.nan,
        "threshold": lo,
        "threshold_high": hi,
        "direction": c.direction,
        "passed": None,
        "n_seeds": 0,
        "worst_seed_value": math.nan,
        "pass_fraction": math.nan,
        "note": "",
        **values,
    }


def _worst(c: Claim, values: np.ndarray, profile: str) -> float:
    """The seed value that is furthest on the failing side of the test."""
    finite = values[np.isfinite(values)]
    if len(finite) < len(values):
        return math.nan
    if c.direction in ("<", "<="):
        return float(values.max())
    if c.direction in (">", ">="):
        return float(values.min())
    lo, hi = c.bounds(profile)
    if c.direction.startswith("in") and np.isfinite(lo):
        return float(values[np.argmax(np.maximum(lo - values, values - hi))])
    if c.direction == "==" and np.isfinite(lo):
        return float(values[np.argmax(np.abs(values - lo))])
    return math.nan


def _judge(c: Claim, result, profile: str) -> dict:
    if isinstance(result, Mapping | pd.Series):
        per_seed = pd.Series(result, dtype=float)
        values = per_seed.to_numpy()
        if len(values) == 0:
            raise LookupError("the measure returned no seeds")
        value, n, note = float(np.median(values)), len(values), ""
        verdicts = [c.passes(v, profile) for v in values]
        fraction = math.nan if verdicts[0] is None else float(np.mean(verdicts))
        worst = _worst(c, values, profile)
    else:
        m = result if isinstance(result, Measured) else Measured(float(result))
        value, n, note = float(m.value), int(m.n_seeds), m.note
        fraction, worst = math.nan, math.nan
        verdict = c.passes(value, profile)
        if verdict is not None and n == 1:  # one draw: it is its own worst seed
            fraction, worst = float(verdict), value
    passed = c.passes(value, profile)
    if passed is not None and profile != "smoke" and n < c.min_seeds:
        passed = False
        note = f"needs at least {c.min_seeds} seeds, has {n}. {note}".strip()
    if passed is False and not np.isfinite(value):
        note = f"the statistic is not a finite number (diverged or missing runs). {note}".strip()
    status = "reported" if passed is None else ("pass" if passed else "fail")
    return dict(
        status=status, value=value, passed=passed, n_seeds=n, worst_seed_value=worst, pass_fraction=fraction, note=note
    )


def evaluate_one(c: Claim, tables: Tables, profile: str, enabled: Callable[[str], bool]) -> dict:
    """One row for one declared claim; never raises."""
    if not enabled(c.experiment):
        return _row(c, profile, "skipped", note=f"experiment {c.experiment} is off in this config")
    if profile not in c.thresholds:
        return _row(c, profile, "skipped", note=f"not judged in the {profile} profile")
    try:
        judge, reason = c.judged_as(tables, profile) if c.judged_as else (profile, "")
        judged = _judge(c, c.measure(tables), judge)
        if reason:
            judged["note"] = f"{reason}. {judged['note']}".strip()
        return _row(c, profile, judge=judge, **judged)
    except NotApplicable as exc:
        return _row(c, profile, "skipped", note=str(exc))
    except Exception as exc:
        detail = "".join(traceback.format_exception(exc, limit=-3)).strip()
        return _row(c, profile, "error", passed=False, note=f"{type(exc).__name__}: {exc}\n{detail}")


def evaluate(
    declared: Iterable[Claim], tables: Tables, profile: str, enabled: Callable[[str], bool] = lambda _: True
) -> pd.DataFrame:
    """Every declared claim as one row of the claims table, each evaluated on its own."""
    declared = list(declared)
    ids = [c.id for c in declared]
    if len(set(ids)) != len(ids):
        raise ValueError(f"claim ids declared twice: {sorted({i for i in ids if ids.count(i) > 1})}")
    return table([evaluate_one(c, tables, profile, enabled) for c in declared])


def table(rows: list[dict]) -> pd.DataFrame:
    """Claims rows as a DataFrame with the contract's columns and dtypes."""
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["passed"] = df["passed"].astype("boolean")
    for col in ("n_seeds", "version"):
        df[col] = df[col].astype("int64")
    for col in ("value", "threshold", "threshold_high", "worst_seed_value", "pass_fraction"):
        df[col] = df[col].astype("float64")
    return df


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{x:.4g}"


def test_text(direction: str, lo: float, hi: float) -> str:
    """The test as a reader sees it: ``< 0.02``, ``in [1, 2]``, ``report``."""
    if direction == "report" or not np.isfinite(lo):
        return "report"
    if direction.startswith("in"):
        left, right = ("[", "]") if direction == "in[]" else ("(", ")")
        return f"in {left}{_fmt(lo)}, {_fmt(hi)}{right}"
    return f"{direction} {_fmt(lo)}"


VERDICTS = {"pass": "PASS", "fail": "**FAIL**", "error": "**ERROR**", "reported": "reported", "skipped": "skipped"}


def summary_line(df: pd.DataFrame) -> str:
    """``66 of 70 claims pass`` with the failed ids, for landing pages and logs."""
    judged = df[df["status"].isin(["pass", "fail", "error"])]
    failed = judged[judged["status"] != "pass"]["claim_id"].tolist()
    text = f"{int((judged['status'] == 'pass').sum())} of {len(judged)} judged claims pass"
    return text + (f"; failed: {', '.join(failed)}" if failed else "")


def markdown(df: pd.DataFrame) -> str:
    """The claims table as Markdown: per paper, scientific claims and invariants in separate tables."""
    lines = ["# Claims", "", summary_line(df) + ".", ""]
    for paper, part in df.groupby("paper", sort=False):
        for kind, title in (("claim", "claims"), ("invariant", "invariants")):
            rows = part[part["kind"] == kind]
            if rows.empty:
                continue
            judged = rows[rows["status"].isin(["pass", "fail", "error"])]
            ok = int((judged["status"] == "pass").sum())
            lines += ["", f"## {paper}: {title} ({ok}/{len(judged)} pass)", ""]
            lines.append("| result | claim | statistic | value | test | seeds (worst, pass fraction) | note |")
            lines.append("|---|---|---|---|---|---|---|")
            for r in rows.itertuples():
                seeds = str(r.n_seeds)
                if r.n_seeds > 1 and np.isfinite(r.worst_seed_value):
                    seeds += f" (worst {_fmt(r.worst_seed_value)}, {_fmt(r.pass_fraction)} pass)"
                note = str(r.note).split("\n")[0]
                cells = [
                    VERDICTS.get(r.status, r.status),
                    f"`{r.claim_id}` v{r.version}",
                    r.statistic,
                    _fmt(r.value),
                    test_text(r.direction, r.threshold, r.threshold_high),
                    seeds,
                    note,
                ]
                lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
