"""A paper or experiment that needs float64 declares it, and a config that asks for less is refused (issue 9, item 4)."""

import copy
from pathlib import Path

import pytest
import yaml

from relurepro import config

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"


def _cfg(name="config.yaml"):
    return yaml.safe_load((ROOT / "config" / name).read_text())


def test_float32_is_refused_for_zhang2024_naming_the_key_and_the_paper():
    cfg = copy.deepcopy(_cfg("smoke.yaml"))
    cfg["dtype"] = "float32"
    cfg["papers"]["meltzer2023"]["enabled"] = False
    with pytest.raises(config.ConfigError) as err:
        config.build_grid(config.validate(cfg, SCHEMAS))
    msg = str(err.value)
    assert "dtype: float32" in msg and "zhang2024" in msg and "float64" in msg
    assert "E0, E1, E2, E3, E4, E5, E6, E7" in msg


def test_float32_is_refused_for_the_meltzer2023_toy_experiments_only():
    cfg = copy.deepcopy(_cfg())
    cfg["dtype"] = "float32"
    cfg["papers"]["zhang2024"]["enabled"] = False
    with pytest.raises(config.ConfigError) as err:
        config.build_grid(config.validate(cfg, SCHEMAS))
    msg = str(err.value)
    assert "meltzer2023 E_c0, E_c1, E_c2, E_c3, E_c4 need float64" in msg and "E_c5" not in msg
    # E_c5 alone has no precision need: it follows its own key, and float32 there is fine
    only_c5 = {e: {"enabled": e == "E_c5"} for e in ("E_c0", "E_c1", "E_c2", "E_c3", "E_c4", "E_c5", "E_c6")}
    cfg["papers"]["meltzer2023"]["experiments"] = only_c5
    assert config.build_grid(config.validate(cfg, SCHEMAS))["meltzer2023"]


def test_declarations_and_the_keys_that_set_each_precision():
    assert config.declared_precision("zhang2024", "E3") == "float64"
    assert config.declared_precision("meltzer2023", "E_c2") == "float64"
    assert config.declared_precision("meltzer2023", "E_c5") is None  # module overrides the paper
    cfg = config.validate(_cfg(), SCHEMAS)
    assert config.precision_key(cfg, "meltzer2023", "E_c5") == ("papers.meltzer2023.experiments.E_c5.dtype", "float32")
    assert config.precision_key(cfg, "zhang2024", "E1") == ("dtype", "float64")
    got = config.precisions(cfg)
    assert set(got["zhang2024"].values()) == {"float64"} and got["meltzer2023"]["E_c5"] == "float32"


def test_a_bad_declaration_is_an_error(monkeypatch):
    from relurepro.papers.zhang2024 import e0_identity

    monkeypatch.setattr(e0_identity, "PRECISION", "float16", raising=False)
    with pytest.raises(config.ConfigError, match="PRECISION"):
        config.declared_precision("zhang2024", "E0")
