"""Code fingerprints: an edit changes the hash of exactly the rules whose code it touches."""

import shutil
import textwrap

import pytest

from relurepro import codehash

TOY = {
    "__init__.py": 'EXPERIMENTS = {"E1": "e1"}\nCHOICES = {"a": "why"}\n',
    "common.py": """
        def trainer_helper(x):
            return x + 1


        def claim_helper(x):
            return x * 2
        """,
    "e1.py": """
        from ...claims import Claim
        from . import common


        def jobs(e, cfg):
            return []


        def train(job, data, ctx):
            from ... import engine

            return engine.train, common.trainer_helper(1)


        def _measure(t):
            return common.claim_helper(0.1)


        def figures(e, cfg):
            return {"toy_fig": lambda t: CLAIMS[0].thresholds}


        CLAIMS = [Claim("toy.E1.x", "d", "s", "<", _measure, {"quick": 1.0})]
        """,
}


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A copy of the package with a toy paper in it; codehash reads the copy."""
    root = tmp_path / "relurepro"
    shutil.copytree(codehash.PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__"))
    toy = root / "papers" / "toy"
    toy.mkdir()
    for name, text in TOY.items():
        (toy / name).write_text(textwrap.dedent(text))
    monkeypatch.setattr(codehash, "PACKAGE", root)

    def hashes():
        codehash.clear_caches()
        return {stage: codehash.code_hash(stage, toy, ["e1"]) for stage in ("train", "claims", "figure")}

    return root, toy, hashes


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_editing_a_measure_changes_the_claims_hash_only(package):
    """The figure reads the claim's threshold (it reaches CLAIMS) but not its measure."""
    root, toy, hashes = package
    before = hashes()
    _edit(toy / "e1.py", "claim_helper(0.1)", "claim_helper(0.2)")
    after = hashes()
    assert after["claims"] != before["claims"]
    assert after["train"] == before["train"] and after["figure"] == before["figure"]
    _edit(toy / "common.py", "return x * 2", "return x * 3")  # a helper only claims use
    assert hashes()["train"] == before["train"]


def test_editing_the_engine_changes_training_not_claims(package):
    root, toy, hashes = package
    before = hashes()
    _edit(root / "engine.py", "def train(", "def train(  # edited\n    ")
    after = hashes()
    assert after["train"] != before["train"]
    assert after["claims"] == before["claims"]


def test_editing_a_trainer_helper_or_the_claims_framework(package):
    root, toy, hashes = package
    before = hashes()
    _edit(toy / "common.py", "return x + 1", "return x + 2")
    assert hashes()["train"] != before["train"]
    _edit(root / "claims.py", "def evaluate_one(", "def evaluate_one(  # edited\n    ")
    after = hashes()
    assert after["claims"] != before["claims"] and after["figure"] == before["figure"]


def test_editing_figures_changes_the_figure_hash_only(package):
    root, toy, hashes = package
    before = hashes()
    _edit(toy / "e1.py", 'return {"toy_fig"', 'return {"toy_figure"')
    after = hashes()
    assert after["figure"] != before["figure"] and after["train"] == before["train"]


def test_editing_a_threshold_changes_claims_and_figures(package):
    root, toy, hashes = package
    before = hashes()
    _edit(toy / "e1.py", '{"quick": 1.0}', '{"quick": 2.0}')
    after = hashes()
    assert after["claims"] != before["claims"] and after["figure"] != before["figure"]
    assert after["train"] == before["train"]
