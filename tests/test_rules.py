"""Every rule says what it does, and the light rules stay on the submitting node of a cluster."""

import re

from .conftest import ROOT, snakemake

LIGHT = {"aggregate", "figure", "paper_claims", "claims", "report_tables", "archive"}


def test_every_rule_has_a_docstring_and_a_message():
    listing = snakemake(ROOT, "--list-rules", "--configfile", "config/smoke.yaml").stdout
    rules = dict(re.findall(r"^(\w+)(?: \((.*)\))?$", listing, re.M))
    assert {"data", "train", "baselines", "aggregate", "figure", "paper_claims", "claims"} <= set(rules)
    undocumented = [r for r, doc in rules.items() if r != "all" and not doc]
    assert not undocumented, f"rules without a docstring: {undocumented}"
    text = "".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    for block in re.split(r"^rule ", text, flags=re.M)[1:]:
        assert "    message:" in block, f"rule {block.split(':')[0]} has no message"


def test_light_rules_are_local():
    common = (ROOT / "workflow" / "rules" / "common.smk").read_text()
    local = set(re.findall(r"^    (\w+),$", common.split("localrules:")[1].split("\n\n")[0], re.M))
    assert local == LIGHT
