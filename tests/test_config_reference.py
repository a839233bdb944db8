"""config/README.md is the configuration reference generated from the schemas, and it is current (issue 9, item 10)."""

import subprocess
import sys
from pathlib import Path

from relurepro import config

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"


def test_committed_reference_is_current():
    committed = (ROOT / config.REFERENCE).read_text()
    assert committed == config.reference_markdown(SCHEMAS), "config/README.md is stale: run `relurepro config-doc`"


def test_reference_lists_keys_types_defaults_ranges_and_choices():
    text = config.reference_markdown(SCHEMAS)
    lines = text.splitlines()
    assert any(r.startswith("| `dtype` | string | `float64` | one of `float32`, `float64` |") for r in lines)
    assert "| `papers.zhang2024.enabled` | boolean | `true` |" in text
    assert "| `P` | integer | `256` | 2 ≤ x ≤ 1000000; even |" in text  # zhang2024 E1
    assert "| `frequency` | integer | `3` | 1 ≤ x ≤ 1000; odd |" in text
    e_c2_n = [r for r in text.splitlines() if r.startswith("| `n` |")]
    assert e_c2_n and "2 ≤ x ≤ 10000; even" in e_c2_n[0] and "`1000`" in e_c2_n[0]
    choice = [r for r in text.splitlines() if r.startswith("| `dead_tol` |")][0]
    assert choice.split("|")[5].strip() == "yes"
    assert "`0.1:0.1:4.5 (45 values)`" in text  # E_c4's grid, compressed
    assert "Precision: needs float64" in text and "follows `papers.meltzer2023.experiments.E_c5.dtype`" in text
    assert "[DESIGN]" not in text.split("## Shared settings")[1]  # tags become the Choice column


def test_cli_check_reports_a_stale_file(tmp_path):
    stale = tmp_path / "README.md"
    stale.write_text("old\n")
    cmd = [sys.executable, "-m", "relurepro.cli", "config-doc", "--output", str(stale)]
    assert subprocess.run([*cmd, "--check"], capture_output=True).returncode == 1
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    assert subprocess.run([*cmd, "--check"], capture_output=True).returncode == 0
    assert stale.read_text() == config.reference_markdown(SCHEMAS)
