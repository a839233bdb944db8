"""Config validation: defaults are filled, and bad values stop the run naming the key."""

import copy
from pathlib import Path

import pytest
import yaml

from relurepro import config
from relurepro.registry import PAPERS

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"


def _cfg(name="config.yaml"):
    return yaml.safe_load((ROOT / "config" / name).read_text())


@pytest.mark.parametrize("name", ["config.yaml", "smoke.yaml"])
def test_shipped_configs_validate_and_build_a_grid(name):
    cfg = config.validate(_cfg(name), SCHEMAS)
    grid = config.build_grid(cfg)
    assert set(grid) == set(PAPERS)
    assert all(len(jobs) > 0 for jobs in grid.values())


def test_full_config_merges_onto_default():
    cfg = config.validate(config.deep_merge(_cfg(), _cfg("full.yaml")), SCHEMAS)
    assert cfg["profile"] == "full"
    quick = config.build_grid(config.validate(_cfg(), SCHEMAS))
    full = config.build_grid(cfg)
    assert sum(map(len, full.values())) >= sum(map(len, quick.values()))


def test_defaults_are_filled():
    cfg = config.validate({"papers": {"zhang2024": {}}}, SCHEMAS)
    assert cfg["device"] == "auto" and cfg["dtype"] == "float64"
    assert cfg["papers"]["zhang2024"]["experiments"]["E0"]["H"] == 50


BAD = [
    ("unknown top-level key", lambda c: c.update(colour="blue"), "colour"),
    ("wrong type", lambda c: c.update(train_threads="two"), "train_threads"),
    ("enum value", lambda c: c.update(device="tpu"), "device"),
    ("unknown paper", lambda c: c["papers"].update(smith2099={}), "smith2099"),
    (
        "negative width",
        lambda c: c["papers"]["zhang2024"].setdefault("experiments", {}).setdefault("E1", {}).update(width2=-5),
        "papers.zhang2024.experiments.E1.width2",
    ),
    (
        "unknown experiment key",
        lambda c: c["papers"]["zhang2024"].setdefault("experiments", {}).setdefault("E3", {}).update(widht=10),
        "widht",
    ),
    (
        "wrong type in a paper section",
        lambda c: c["papers"]["meltzer2023"].update(enabled="yes"),
        "papers.meltzer2023.enabled",
    ),
    ("out of range", lambda c: c.update(train_mem_mb=1), "train_mem_mb"),
]


@pytest.mark.parametrize("what,mutate,key", BAD, ids=[b[0] for b in BAD])
def test_bad_config_is_rejected_naming_the_key(what, mutate, key):
    cfg = copy.deepcopy(_cfg())
    mutate(cfg)
    with pytest.raises(config.ConfigError) as err:
        config.validate(cfg, SCHEMAS)
    assert key in str(err.value)


def test_grid_rejects_duplicate_and_unsafe_names(monkeypatch):
    from relurepro.papers import Job

    cfg = config.validate(_cfg("smoke.yaml"), SCHEMAS)
    monkeypatch.setattr(config.papers, "grid", lambda paper, c: [Job("E0", "a b", {})])
    with pytest.raises(config.ConfigError, match="file name"):
        config.build_grid(cfg)
    monkeypatch.setattr(config.papers, "grid", lambda paper, c: [Job("E0", "a", {}), Job("E0", "a", {})])
    with pytest.raises(config.ConfigError, match="share the key"):
        config.build_grid(cfg)


def test_a_grid_error_is_a_config_error_naming_the_paper(monkeypatch):
    def broken(paper, c):
        raise ValueError("E7: sigma0s needs one entry per entry of depths")

    monkeypatch.setattr(config.papers, "grid", broken)
    with pytest.raises(config.ConfigError, match="zhang2024: E7: sigma0s"):
        config.build_grid(config.validate(_cfg("smoke.yaml"), SCHEMAS))


def test_conflicting_dataset_specs_are_rejected():
    from relurepro.papers import Job

    jobs = {"a/1": Job("a", "1", {}, {"d": {"seed": 1}}), "a/2": Job("a", "2", {}, {"d": {"seed": 2}})}
    with pytest.raises(config.ConfigError, match="two different specs"):
        config.datasets(jobs)
