"""Config validation (JSON schema with defaults) and the experiment grid."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import jsonschema
import yaml

from . import papers
from .io import canonical_hash
from .papers import Job
from .registry import PAPERS, plugin

POINT_RE = re.compile(r"^[A-Za-z0-9_.=+-]+$")


class ConfigError(ValueError):
    """The config does not match the schema; the message names the key."""


def _with_defaults(cls):
    validate_properties = cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(cls, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def _local_target(section: dict, ref: str) -> dict:
    """The schema a section-local ``#/$defs/...`` reference points at."""
    node = section
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _inline_refs(node, section: dict):
    """``node`` with every section-local ``{"$ref": "#/$defs/..."}`` replaced by its target.

    Same meaning, but jsonschema no longer resolves references while it validates, which
    was most of the time Snakemake spent parsing the DAG. A ``$ref`` with sibling keywords
    becomes ``allOf: [target]`` beside them, as JSON Schema 2020-12 reads such a ``$ref``.
    """
    if isinstance(node, list):
        return [_inline_refs(n, section) for n in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target = _inline_refs(_local_target(section, ref), section)
        siblings = {k: _inline_refs(v, section) for k, v in node.items() if k != "$ref"}
        return {"allOf": [target], **siblings} if siblings else target
    return {k: _inline_refs(v, section) for k, v in node.items()}


def load_schema(schema_dir, *, inline: bool = True) -> dict:
    """The full schema: the shared one plus each registered paper's section (``$ref``s inlined unless ``inline`` is off)."""
    schema_dir = Path(schema_dir)
    schema = yaml.safe_load((schema_dir / "config.schema.yaml").read_text())
    papers = schema["properties"]["papers"]
    papers["properties"] = {}
    for paper in PAPERS:
        section = yaml.safe_load((schema_dir / "papers" / f"{paper}.schema.yaml").read_text())
        # An $id makes the section its own resource, so its "#/$defs/..." refs resolve inside it.
        section.setdefault("$id", f"urn:relurepro:papers:{paper}")
        section.pop("$schema", None)  # keep our default-filling validator inside the section
        papers["properties"][paper] = _inline_refs(section, section) if inline else section
    papers["additionalProperties"] = False
    return schema


def _path(error) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def validate(config: dict, schema_dir) -> dict:
    """Validate ``config`` in place against the schema, filling in defaults.

    Raises :class:`ConfigError` listing every problem, each with its dotted key.
    """
    errors = sorted(_Validator(load_schema(schema_dir)).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  {_path(e)}: {e.message}" for e in errors]
        raise ConfigError("invalid config:\n" + "\n".join(lines))
    return config


def load(path, schema_dir, overrides: dict | None = None) -> dict:
    """Read a YAML config, deep-merge ``overrides`` and validate it."""
    cfg = yaml.safe_load(Path(path).read_text()) or {}
    if overrides:
        cfg = deep_merge(cfg, overrides)
    return validate(cfg, schema_dir)


def deep_merge(base: dict, extra: dict) -> dict:
    """``extra`` merged into a copy of ``base``; nested mappings merge, the rest replace."""
    out = copy.deepcopy(base)
    for k, v in extra.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def package_version() -> str:
    """The relurepro version, used in archive names."""
    from . import __version__

    return __version__


def config_hash(cfg: dict) -> str:
    """Fingerprint of a validated config."""
    return canonical_hash(cfg)


def paper_config(cfg: dict, paper: str) -> dict:
    """A paper's section with the shared settings it may need."""
    return {**cfg["papers"][paper], "profile": cfg["profile"], "dtype": cfg["dtype"]}


def enabled_papers(cfg: dict) -> list[str]:
    """Registered papers whose section is present and enabled, in registry order."""
    return [p for p in PAPERS if cfg["papers"].get(p, {}).get("enabled", False)]


# ------------------------------------------------------------------ precision

PRECISIONS = ("float32", "float64")  # lowest first
_UNSET = object()


def declared_precision(paper: str, experiment: str) -> str | None:
    """The precision an experiment declares it needs: its module's ``PRECISION``, else its paper's, else None.

    ``PRECISION = "float64"`` (in a paper's ``__init__`` for all its experiments, or in one experiment's
    module) says that the experiment's numbers are only right in that precision; ``PRECISION = None`` in an
    experiment module says that it has no such need (it follows its config key), whatever its paper declares.
    Plain module attributes: reading them imports no torch.
    """
    module = papers.experiment_module(paper, experiment)
    own = getattr(module, "PRECISION", _UNSET)
    if own is _UNSET:
        own = getattr(plugin(paper), "PRECISION", None)
    if own is not None and own not in PRECISIONS:
        raise ConfigError(f"{paper} {experiment}: PRECISION must be one of {PRECISIONS} or None, not {own!r}")
    return own


def precision_key(cfg: dict, paper: str, experiment: str) -> tuple[str, str]:
    """``(dotted key, value)`` of the config key that sets an experiment's training precision.

    An experiment whose section has its own ``dtype`` (meltzer2023 E_c5) follows it; every other one
    follows the shared ``dtype``.
    """
    section = cfg["papers"][paper].get("experiments", {}).get(experiment, {})
    if "dtype" in section:
        return f"papers.{paper}.experiments.{experiment}.dtype", section["dtype"]
    return "dtype", cfg["dtype"]


def check_precision(cfg: dict) -> None:
    """Refuse a config that trains an enabled experiment in less than the precision it declares.

    Why refuse rather than let the paper's precision win: with a refusal the value in the config is
    the precision that ran, so the ``dtype`` key, the config hash and the provenance columns stay true
    and need no per-experiment exceptions in the rules or the report; and the mistake (float32 can
    only fail zhang2024's 1e-10 exactness claims) is found while parsing, not after a full run as six
    failed claims. The message names the key and the experiments that need more.
    """
    need: dict[tuple[str, str, str, str], list[str]] = {}
    for paper in enabled_papers(cfg):
        pcfg = cfg["papers"][paper]
        for exp in papers.experiment_ids(paper):
            if not papers.enabled(pcfg, exp):
                continue
            required = declared_precision(paper, exp)
            key, value = precision_key(cfg, paper, exp)
            if required is not None and PRECISIONS.index(value) < PRECISIONS.index(required):
                need.setdefault((key, value, paper, required), []).append(exp)
    if need:
        lines = [
            f"  {key}: {value}, but {paper} {', '.join(exps)} need{'s' if len(exps) == 1 else ''} {required} "
            f"(PRECISION declared in relurepro.papers.{paper}); set {key}: {required} or switch "
            f"{'that experiment' if len(exps) == 1 else 'those experiments'} off"
            for (key, value, paper, required), exps in need.items()
        ]
        raise ConfigError("invalid config:\n" + "\n".join(lines))


def precisions(cfg: dict) -> dict[str, dict[str, str]]:
    """``{paper: {experiment: dtype}}``: the precision each enabled experiment trains in, for the report."""
    out: dict[str, dict[str, str]] = {}
    for paper in enabled_papers(cfg):
        pcfg = cfg["papers"][paper]
        out[paper] = {}
        for exp in papers.experiment_ids(paper):
            if papers.enabled(pcfg, exp):
                out[paper][exp] = declared_precision(paper, exp) or precision_key(cfg, paper, exp)[1]
    return out


# ------------------------------------------------------------------ grid


def _grid_error(paper: str, exc: Exception) -> ConfigError:
    """A grid error as a config error; a message that starts with ``experiments.`` names its full key."""
    msg = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    if msg.startswith("experiments."):
        return ConfigError(f"invalid config:\n  papers.{paper}.{msg}")
    return ConfigError(f"{paper}: {msg}")


def build_grid(cfg: dict) -> dict[str, dict[str, Job]]:
    """``{paper: {"<experiment>/<point>": Job}}`` for every enabled paper.

    Refuses (:class:`ConfigError`) a config below an experiment's declared precision
    (:func:`check_precision`) and turns every error a paper's ``jobs`` raises into a config error;
    those name their key as ``experiments.<E>.<key>: ...``, which becomes ``papers.<paper>.experiments...``.
    """
    check_precision(cfg)
    grid = {}
    for paper in enabled_papers(cfg):
        jobs: dict[str, Job] = {}
        try:
            made = papers.grid(paper, paper_config(cfg, paper))
        except (KeyError, ValueError) as exc:
            raise _grid_error(paper, exc) from None
        for job in made:
            for part in (job.experiment, job.point):
                if not POINT_RE.match(part):
                    raise ConfigError(f"{paper}: job name part {part!r} has characters unfit for a file name")
            if job.key in jobs:
                raise ConfigError(f"{paper}: two jobs share the key {job.key!r}")
            jobs[job.key] = job
        grid[paper] = jobs
    return grid


def datasets(grid_paper: dict[str, Job]) -> dict[str, dict]:
    """The data sets a paper's jobs need, each generated once."""
    out: dict[str, dict] = {}
    for job in grid_paper.values():
        for name, spec in job.datasets.items():
            if name in out and out[name] != spec:
                raise ConfigError(f"data set {name!r} is requested with two different specs")
            out[name] = spec
    return out


# ------------------------------------------------------------------ configuration reference

REFERENCE = "config/README.md"
_REFERENCE_HEAD = """# Configuration reference

Generated from `workflow/schemas/` by `relurepro config-doc`; do not edit by hand (a test checks that
this file is current).

A run reads `config/config.yaml` (the embedded default), then each `--configfile` on top of it (nested
mappings merge, other values replace). The merged config is validated against the schemas before any
job runs: an unknown key, a wrong type or a value outside its range stops the run with a message that
names the key. A key left out takes the default below; the defaults are the quick (2-core CPU) profile
and `config/full.yaml` sets paper scale.

Columns: **Allowed** is what the schema accepts; limits that tie keys together (P at least D, one init
std per depth, masks fewer than meta_dim, ...) are checked when the grid is built, and the
description says so. **Choice** marks a value that is this project's own choice (spec tag [DESIGN], or a quick-profile
value that departs from the spec), not the paper's; the report lists these choices.
**Precision** (per experiment): the floating-point precision an experiment declares it needs
(`PRECISION` in its module or its paper's `__init__`). A config whose `dtype` key asks for less is
refused, naming the key; `follows <key>` means the experiment trains in that key's precision.
"""


def _resolve(node: dict, root: dict) -> dict:
    """``node`` with its local ``$ref`` merged in (the node's own keywords win; ``properties`` merge per key)."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    base = copy.deepcopy(_resolve(_local_target(root, ref), root))
    for k, v in node.items():
        if k == "$ref":
            continue
        if k == "properties" and isinstance(base.get(k), dict):
            base[k] = {name: {**base[k].get(name, {}), **sub} for name, sub in {**base[k], **v}.items()}
        else:
            base[k] = v
    return base


def _num(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _progression(values: list) -> str | None:
    """``start:step:stop (n values)`` for an evenly spaced list of five or more numbers."""
    if len(values) < 5 or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return None
    step = round(values[1] - values[0], 10)
    if step <= 0 or any(abs((b - a) - step) > 1e-9 for a, b in zip(values, values[1:])):
        return None
    return f"{_num(values[0])}:{_num(step)}:{_num(values[-1])} ({len(values)} values)"


def _default(node: dict) -> str:
    if "default" not in node:
        return "—"
    v = node["default"]
    if isinstance(v, list):
        return f"`{_progression(v)}`" if _progression(v) else "`[" + ", ".join(_num(x) for x in v) + "]`"
    if isinstance(v, bool):
        return f"`{str(v).lower()}`"
    return f"`{_num(v)}`"


def _range(node: dict) -> list[str]:
    lo = (">", node["exclusiveMinimum"]) if "exclusiveMinimum" in node else ("≥", node.get("minimum"))
    hi = ("<", node["exclusiveMaximum"]) if "exclusiveMaximum" in node else ("≤", node.get("maximum"))
    out = []
    if lo[1] is not None and hi[1] is not None:
        out.append(f"{_num(lo[1])} {'<' if lo[0] == '>' else '≤'} x {hi[0]} {_num(hi[1])}")
    elif lo[1] is not None:
        out.append(f"{lo[0]} {_num(lo[1])}")
    elif hi[1] is not None:
        out.append(f"{hi[0]} {_num(hi[1])}")
    if node.get("multipleOf") == 2:
        out.append("even")
    elif "multipleOf" in node:
        out.append(f"multiple of {_num(node['multipleOf'])}")
    if node.get("not") == {"multipleOf": 2}:
        out.append("odd")
    if "enum" in node:
        out.append("one of " + ", ".join(f"`{v}`" for v in node["enum"]))
    return out


def _allowed(node: dict, root: dict) -> str:
    out = _range(node)
    if node.get("type") == "array":
        items = _resolve(node.get("items", {}), root)
        out = [f"each {r}" for r in _range(items)] + out
        n_min, n_max = node.get("minItems"), node.get("maxItems")
        if n_min is not None and n_min == n_max:
            out.append(f"exactly {n_min} items")
        elif n_min:
            out.append(f"at least {n_min} item{'s' if n_min > 1 else ''}")
        if node.get("uniqueItems"):
            out.append("unique")
    return "; ".join(out) or "—"


def _type(node: dict, root: dict) -> str:
    t = node.get("type", "any")
    if t == "array":
        return f"list of {_resolve(node.get('items', {}), root).get('type', 'any')}"
    return t


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|").replace("*", "\\*")


def _rows(node: dict, root: dict, prefix: str) -> list[str]:
    """One table row per leaf key under ``node`` (nested objects give dotted keys)."""
    rows = []
    for name, sub in node.get("properties", {}).items():
        sub = _resolve(sub, root)
        key = f"{prefix}{name}"
        if sub.get("type") == "object" and "properties" in sub:
            rows += _rows(sub, root, f"{key}.")
            continue
        desc = sub.get("description", "")
        choice = sub.get("x-choice") is True or "[DESIGN]" in desc
        desc = desc.replace("[DESIGN]", "").strip()
        rows.append(
            f"| `{key}` | {_type(sub, root)} | {_default(sub)} | {_cell(_allowed(sub, root))} | "
            f"{'yes' if choice else ''} | {_cell(desc)} |"
        )
    return rows


_TABLE = ["| Key | Type | Default | Allowed | Choice | Description |", "|---|---|---|---|---|---|"]


def reference_markdown(schema_dir) -> str:
    """The configuration reference (``config/README.md``) generated from the schemas and the precision declarations."""
    schema = load_schema(schema_dir, inline=False)
    shared = {**schema, "properties": {k: v for k, v in schema["properties"].items() if k != "papers"}}
    lines = [_REFERENCE_HEAD, "## Shared settings", "", *_TABLE, *_rows(shared, schema, "")]
    lines.append("| `papers` | object | `{}` | one section per paper below |  | the papers to run |")
    for paper, section in schema["properties"]["papers"]["properties"].items():
        lines += ["", f"## {paper}", "", _cell(section.get("description", "")), ""]
        top = {**section, "properties": {k: v for k, v in section["properties"].items() if k != "experiments"}}
        lines += [*_TABLE, *_rows(top, section, f"papers.{paper}.")]
        experiments = _resolve(section["properties"]["experiments"], section)["properties"]
        for exp, sub in experiments.items():
            sub = _resolve(sub, section)
            need = declared_precision(paper, exp)
            own = "dtype" in sub.get("properties", {})
            follows = f"papers.{paper}.experiments.{exp}.dtype" if own else "dtype"
            precision = f"needs {need} (`{follows}: float32` is refused)" if need else f"follows `{follows}`"
            lines += [
                "",
                f"### {paper} {exp}",
                "",
                _cell(sub.get("description", "")),
                "",
                f"Keys under `papers.{paper}.experiments.{exp}`. Precision: {precision}.",
                "",
                *_TABLE,
                *_rows(sub, section, ""),
            ]
    return "\n".join(lines) + "\n"


def write_reference(schema_dir, path) -> Path:
    """Write :func:`reference_markdown` to ``path``; return the path."""
    path = Path(path)
    path.write_text(reference_markdown(schema_dir))
    return path
