"""Fingerprints of the code each workflow rule runs, so that editing code re-runs what it affects.

A rule's fingerprint is a hash of the top-level definitions it can reach: from its entry
points (``stages.train`` and the experiment's ``jobs`` and ``train`` for a training job,
``stages.paper_claims`` and each experiment's ``CLAIMS`` for the claims, ...) through every
name they use, across modules of this package (``engine.train`` reaches ``engine.py``'s
``train`` and what that uses; imports inside functions count). So editing a claim's measure
re-runs that paper's claims and nothing upstream, and editing the engine's training loop
re-runs every training job. Only source text is read, with :mod:`ast`: nothing is imported,
so the fingerprints are cheap while Snakemake parses the DAG. Third-party code is covered
by the pinned environment, not here.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
WHOLE = None  # a node ``(file, WHOLE)`` stands for every statement of the file

# The stage driver each rule calls, and the entry points in the experiment module.
STAGE_ROOTS = {
    "data": [("stages.py", "data"), ("papers/__init__.py", "make_dataset")],
    "train": [("stages.py", "train")],
    "baselines": [("stages.py", "baselines")],
    "figure": [("stages.py", "figure")],
    "claims": [("stages.py", "paper_claims")],
}
ENTRY_POINTS = {"train": ("jobs", "train"), "baselines": ("baselines",), "figure": ("figures",), "claims": ("CLAIMS",)}


@cache
def _module_file(base: Path) -> Path | None:
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


@cache
def _parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _import_bindings(path: Path, node: ast.Import | ast.ImportFrom) -> dict[str, tuple[Path, str | None]]:
    """What each name bound by an import refers to in this package: ``(file, name)`` or ``(file, WHOLE)`` for a module."""
    out = {}
    if isinstance(node, ast.Import):
        for a in node.names:
            parts = a.name.split(".")
            if parts[0] == "relurepro" and (f := _module_file(PACKAGE.joinpath(*parts[1:]))):
                out[a.asname or parts[0]] = (f, WHOLE)
        return out
    if node.level == 0:
        if not (node.module or "").startswith("relurepro"):
            return out
        base = PACKAGE.joinpath(*node.module.split(".")[1:])
    else:
        base = path.parent
        for _ in range(node.level - 1):
            base = base.parent
        if node.module:
            base = base.joinpath(*node.module.split("."))
    for a in node.names:
        if sub := _module_file(base / a.name):  # ``from . import theory``
            out[a.asname or a.name] = (sub, WHOLE)
        elif f := _module_file(base):  # ``from .engine import train``
            out[a.asname or a.name] = (f, a.name)
    return out


@cache
def _index(path: Path):
    """Top-level statements by the name they bind, unnamed statements, and top-level import bindings."""
    by_name: dict[str, list[ast.stmt]] = {}
    unnamed, imports = [], {}
    for stmt in _parsed(path).body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            imports.update(_import_bindings(path, stmt))
            continue
        names = _bound_names(stmt)
        for name in names:
            by_name.setdefault(name, []).append(stmt)
        if not names and not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
            unnamed.append(stmt)  # module-level code other than a docstring always counts
    return by_name, unnamed, imports


def _bound_names(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {stmt.name}
    if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


@cache
def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _source(path: Path, stmt: ast.stmt) -> str:
    """The whole lines a top-level statement spans (decorators included)."""
    first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
    return "\n".join(_lines(path)[first - 1 : stmt.end_lineno])


_USES: dict[tuple[Path, int, bool], frozenset] = {}


def _uses(path: Path, stmt: ast.stmt, measures: bool) -> frozenset[tuple[Path, str | None]]:
    key = (path, id(stmt), measures)
    if key not in _USES:
        _USES[key] = frozenset(_find_uses(path, stmt, measures))
    return _USES[key]


def _measure_nodes(stmt: ast.stmt) -> set[int]:
    """Nodes inside the ``measure`` of ``Claim(...)`` declarations (5th argument or ``measure=``).

    A figure reads a claim's threshold, never its measure: only the claims stage follows them.
    """
    out = set()
    for call in ast.walk(stmt):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        if (func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)) != "Claim":
            continue
        args = call.args[4:5] + [k.value for k in call.keywords if k.arg == "measure"]
        out |= {id(n) for a in args for n in ast.walk(a)}
    return out


def _find_uses(path: Path, stmt: ast.stmt, measures: bool = True) -> set[tuple[Path, str | None]]:
    """The nodes one statement refers to: names of its own module, and names reached through imports."""
    by_name, _, imports = _index(path)
    local, attr_of, names = dict(imports), {}, []
    for n in ast.walk(stmt):
        if isinstance(n, ast.Import | ast.ImportFrom):  # imports inside functions bind names too
            local.update(_import_bindings(path, n))
        elif isinstance(n, ast.Attribute):
            attr_of[id(n.value)] = n.attr
        elif isinstance(n, ast.Name):
            names.append(n)
    found = set()
    skip = set() if measures else _measure_nodes(stmt)
    for n in names:
        if id(n) in skip:
            continue
        if n.id in local:
            target, name = local[n.id]
            if name is WHOLE and id(n) in attr_of:  # ``engine.train`` -> engine.py's train only
                name = attr_of[id(n)]
            found.add((target, name))
        elif n.id in by_name:
            found.add((path, n.id))
    return found


def reachable(roots, measures: bool = True) -> dict[Path, list[ast.stmt]]:
    """Every top-level statement reachable from ``roots`` (``(file, name)`` pairs), grouped by file."""
    chosen: dict[Path, list[ast.stmt]] = {}
    for root in roots:  # each root's closure is computed once: the rules share most of them
        for path, stmts in _reachable_one(root, measures):
            bucket = chosen.setdefault(path, [])
            bucket += [s for s in stmts if s not in bucket]
    return chosen


@cache
def _reachable_one(root, measures: bool) -> tuple[tuple[Path, tuple[ast.stmt, ...]], ...]:
    chosen: dict[Path, list[ast.stmt]] = {}
    seen, todo = set(), [root]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        path, name = node
        by_name, unnamed, imports = _index(path)
        if name is WHOLE:
            stmts = [s for ss in by_name.values() for s in ss] + unnamed
            todo += [t for t in imports.values() if t not in seen]
        elif name in by_name:
            stmts = by_name[name] + unnamed
        elif name in imports:  # a name the module re-exports
            todo.append(imports[name])
            stmts = []
        else:  # a name defined nowhere we can see (a lazy export): the whole module counts
            stmts = [s for ss in by_name.values() for s in ss] + unnamed
        for stmt in stmts:
            bucket = chosen.setdefault(path, [])
            if stmt not in bucket:
                bucket.append(stmt)
                todo += [u for u in _uses(path, stmt, measures) if u not in seen]
    return tuple((path, tuple(stmts)) for path, stmts in chosen.items())


def fingerprint(roots, measures: bool = True) -> str:
    """Short sha256 of the source of everything reachable from ``roots``."""
    h = hashlib.sha256()
    for path, stmts in sorted(reachable(roots, measures).items()):
        h.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
        for stmt in sorted(stmts, key=lambda s: s.lineno):
            h.update(_source(path, stmt).encode() + b"\0")
    return h.hexdigest()[:12]


def clear_caches() -> None:
    """Forget parsed sources (after files changed within one process)."""
    for cached in (_parsed, _index, _lines, _module_file, _reachable_one):
        cached.cache_clear()
    _USES.clear()


def code_hash(stage: str, package_dir: Path, modules=()) -> str:
    """Fingerprint of the code of one rule: ``stage`` for the experiment ``modules`` of a paper package.

    The data stage takes no module: it covers the paper's own ``make_dataset`` (where it has
    one) and the shared data package.
    """
    package_dir = Path(package_dir).resolve()
    roots = [(PACKAGE / f, name) for f, name in STAGE_ROOTS[stage]]
    if stage == "data":
        roots += [(p, "make_dataset") for p in sorted(package_dir.glob("*.py")) if "make_dataset" in _index(p)[0]]
        roots.append((PACKAGE / "data" / "__init__.py", WHOLE))
    for module in modules:
        roots += [(package_dir / f"{module}.py", entry) for entry in ENTRY_POINTS[stage]]
    return fingerprint(roots, measures=stage == "claims")
