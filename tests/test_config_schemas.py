"""The paper schemas refuse what the code cannot take, and every refusal names its key (issue 9, item 5)."""

import copy
from pathlib import Path

import jsonschema
import pytest
import yaml

from relurepro import config

from .conftest import copy_project, snakemake

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"

# Every keyword the schemas may use: JSON Schema's own plus this project's annotations.
KEYWORDS = {
    "$schema", "$id", "$defs", "$ref", "description", "type", "default", "enum", "not",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "items", "minItems", "maxItems", "uniqueItems", "properties", "additionalProperties", "required",
    "x-choice",
}  # fmt: skip


def _schema_files():
    return [SCHEMAS / "config.schema.yaml", *sorted((SCHEMAS / "papers").glob("*.schema.yaml"))]


def _stray_keys(node, path):
    """Keywords no validator knows (a flow-style description with a comma makes one)."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for name, sub in value.items():
                    out += _stray_keys(sub, f"{path}.{name}")
            elif key not in KEYWORDS:
                out.append(f"{path}: {key!r}")
            elif key in ("items", "not"):
                out += _stray_keys(value, f"{path}.{key}")
    return out


@pytest.mark.parametrize("path", _schema_files(), ids=lambda p: p.name)
def test_schema_is_valid_and_has_no_stray_keywords(path):
    schema = yaml.safe_load(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert _stray_keys(schema, path.name) == []


def _defaults_under_defs(node, path="", inside=False):
    if isinstance(node, dict):
        return [f"{path}.{k}" for k in node if k == "default" and inside] + [
            hit for k, v in node.items() for hit in _defaults_under_defs(v, f"{path}.{k}", inside or k == "$defs")
        ]
    return []


@pytest.mark.parametrize("path", _schema_files(), ids=lambda p: p.name)
def test_defaults_live_at_the_property_not_under_defs(path):
    """The validator fills a missing key from its own property schema: a default under $defs would be lost."""
    assert _defaults_under_defs(yaml.safe_load(path.read_text())) == []


def _cfg(name="config.yaml"):
    return yaml.safe_load((ROOT / "config" / name).read_text())


def _set(cfg, dotted: str, value):
    """Set ``papers.<paper>.experiments.<E>.<key>`` (creating the sections) in a raw config."""
    node = cfg
    *parents, last = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return cfg


Z, M = "papers.zhang2024.experiments", "papers.meltzer2023.experiments"

# (what, {dotted key: value}, the key the error must name)
BAD = [
    ("odd circle points", {f"{Z}.E1.P": 255}, f"{Z}.E1.P"),
    ("odd recording grid", {f"{Z}.E1.n_grid": 721}, f"{Z}.E1.n_grid"),
    ("even target frequency", {f"{Z}.E1.frequency": 2}, f"{Z}.E1.frequency"),
    ("odd quadratic dimension", {f"{M}.E_c2.n": 301}, f"{M}.E_c2.n"),
    ("80 GB quadratic matrix", {f"{M}.E_c2.n": 100000}, f"{M}.E_c2.n"),
    ("odd E_c6 meta dimension", {f"{M}.E_c6.enabled": True, f"{M}.E_c6.fig05.meta_dim": 301}, f"{M}.E_c6.fig05.meta_dim"),
    ("repeated slope", {f"{M}.E_c3.slopes": [0.5, 0.5]}, f"{M}.E_c3.slopes"),
    ("slopes with one job name", {f"{M}.E_c3.slopes": [0.1234561, 0.1234562]}, f"{M}.E_c3.slopes"),
    ("repeated width", {f"{M}.E_c1.widths": [256, 256]}, f"{M}.E_c1.widths"),
    ("repeated learning rate", {f"{M}.E_c4.eta_lambda0": [1.0, 1.0]}, f"{M}.E_c4.eta_lambda0"),
    ("repeated seed", {f"{M}.E_c5.seeds": [0, 0]}, f"{M}.E_c5.seeds"),
    ("one init std for two depths", {f"{Z}.E7.sigma0s": [0.005]}, f"{Z}.E7.sigma0s"),
    ("rank above min(D, C)", {f"{Z}.E2.singular_values": [4.0, 3.0, 2.0, 1.0]}, f"{Z}.E2.singular_values"),
    ("rank-3 teacher with C = 2", {f"{Z}.E7.C": 2}, f"{Z}.E7.singular_values_rank3"),
    ("fewer samples than dimensions", {f"{Z}.E3.P": 5}, f"{Z}.E3.P"),
    ("unsymmetrised sample below D", {f"{Z}.E6.P": [100, 4]}, f"{Z}.E6.P"),
    ("less than one step", {f"{Z}.E3.t_max": 0.001}, f"{Z}.E3.t_max"),
    ("odd paired width", {f"{Z}.E7.width": 51}, f"{Z}.E7.width"),
    ("masks the whole model", {f"{M}.E_c6.enabled": True, f"{M}.E_c6.fig05.masks_meta": 500}, f"{M}.E_c6.fig05.masks_meta"),
    (
        "meta-features beyond memory",
        {f"{M}.E_c6.enabled": True, f"{M}.E_c6.fig04.meta_dim": 2000, f"{M}.E_c6.fig04.n_train": 1000},
        f"{M}.E_c6.fig04.meta_dim",
    ),
    ("more training images than the pair has", {f"{M}.E_c5.n_train": 400}, f"{M}.E_c5.n_train"),
    ("empty E_c6 part list", {f"{M}.E_c6.enabled": True, f"{M}.E_c6.parts": []}, f"{M}.E_c6.parts"),
    ("unknown E_c6 part key", {f"{M}.E_c6.fig09.widht": 10}, f"{M}.E_c6.fig09"),
]  # fmt: skip


@pytest.mark.parametrize("what,values,key", BAD, ids=[b[0] for b in BAD])
def test_bad_config_stops_before_any_job_naming_the_key(what, values, key):
    cfg = copy.deepcopy(_cfg())
    for dotted, value in values.items():
        _set(cfg, dotted, value)
    with pytest.raises(config.ConfigError) as err:
        config.build_grid(config.validate(cfg, SCHEMAS))
    assert key in str(err.value), str(err.value)


def test_an_e_c6_part_given_in_part_keeps_its_own_defaults():
    cfg = _set(copy.deepcopy(_cfg()), f"{M}.E_c6.fig06.steps", 7)
    e = config.validate(cfg, SCHEMAS)["papers"]["meltzer2023"]["experiments"]["E_c6"]
    assert e["fig06"]["steps"] == 7 and e["fig06"]["feat_dim"] == 10 and e["fig06"]["seed"] == 123
    assert e["fig04"]["d"] == 2 and e["fig09"]["model"] == "leaky" and e["fig04"]["eta_lambda0"][0] == 0.1


def test_shipped_configs_pass_the_new_limits():
    for extra in ({}, _cfg("smoke.yaml"), _cfg("full.yaml")):
        cfg = config.validate(config.deep_merge(_cfg(), extra), SCHEMAS)
        assert config.build_grid(cfg)


def test_snakemake_stops_on_a_grid_error_naming_the_key(tmp_path):
    project = copy_project(tmp_path / "project")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"papers": {"zhang2024": {"experiments": {"E7": {"sigma0s": [0.005]}}}}}))
    proc = snakemake(project, "-n", "--configfile", str(bad), check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"{Z}.E7.sigma0s" in out
    assert "Traceback" not in out and "rule train" not in out
