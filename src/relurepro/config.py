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
from .registry import PAPERS

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


def load_schema(schema_dir) -> dict:
    """The full schema: the shared one plus each registered paper's section."""
    schema_dir = Path(schema_dir)
    schema = yaml.safe_load((schema_dir / "config.schema.yaml").read_text())
    papers = schema["properties"]["papers"]
    papers["properties"] = {}
    for paper in PAPERS:
        section = yaml.safe_load((schema_dir / "papers" / f"{paper}.schema.yaml").read_text())
        # An $id makes the section its own resource, so its "#/$defs/..." refs resolve inside it.
        section.setdefault("$id", f"urn:relurepro:papers:{paper}")
        section.pop("$schema", None)  # keep our default-filling validator inside the section
        papers["properties"][paper] = section
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


def build_grid(cfg: dict) -> dict[str, dict[str, Job]]:
    """``{paper: {"<experiment>/<point>": Job}}`` for every enabled paper."""
    grid = {}
    for paper in enabled_papers(cfg):
        jobs: dict[str, Job] = {}
        try:
            made = papers.grid(paper, paper_config(cfg, paper))
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"{paper}: {exc}") from None
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
