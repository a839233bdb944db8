"""A valid RO-Crate with the code and commit that made the results; damage is reported as damage (issue 9, item 13)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import requests

from relurepro.archive import ArchiveError, create, verify

from .conftest import BIN, ROOT
from .test_archive import _project

CONTEXT_1_3 = "https://w3id.org/ro/crate/1.3/context"


@pytest.fixture
def made(tmp_path):
    res, cfgs, wf = _project(tmp_path)
    arc = create(res, cfgs, tmp_path / "out", "abc123", wf)
    with tarfile.open(arc, "r:gz") as tar:
        tar.extractall(tmp_path / "x", filter="data")
    return arc, next((tmp_path / "x").iterdir())


def _graph(crate_dir: Path) -> dict:
    return {e["@id"]: e for e in json.loads((crate_dir / "ro-crate-metadata.json").read_text())["@graph"]}


def test_crate_names_code_commit_and_licence(made):
    arc, crate_dir = made
    graph = _graph(crate_dir)
    names = verify(arc)
    # no doubled paths; the Snakefile and rules keep their project paths
    assert "Snakefile" in names and "workflow/rules/train.smk" in names
    assert not [n for n in [*names, *graph] if "workflow/workflow" in n]
    # the package code that made the results, *.py only
    code = [n for n in names if n.startswith("src/relurepro/")]
    assert "src/relurepro/archive.py" in code and "src/relurepro/io.py" in code
    assert all(n.endswith(".py") for n in code) and not [n for n in code if "__pycache__" in n]
    assert all(n in graph for n in code) and "src/relurepro/" in graph
    # the licence and the Snakemake version
    root = graph["./"]
    assert graph[root["license"]["@id"]]["identifier"] == "CC-BY-4.0"
    lang = graph[graph["Snakefile"]["programmingLanguage"]["@id"]]
    assert (
        lang["version"]
        == subprocess.run([str(BIN / "snakemake"), "--version"], capture_output=True, text=True).stdout.strip()
    )
    # the git commit: describe (with -dirty) and the full sha
    git = {
        "describe": ["describe", "--always", "--dirty"],
        "sha": ["rev-parse", "HEAD"],
    }
    want = {
        k: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip() for k, a in git.items()
    }
    source = graph[root["isBasedOn"]["@id"]]
    assert re.fullmatch(r"[0-9a-f]{40}", want["sha"])
    assert source["identifier"] == want["sha"] and source["version"] == want["describe"]
    run = json.loads((crate_dir / "RUN.json").read_text())
    assert run["git"] == want and run["config_files"] == ["config/config.yaml", "config/papers/p1.yaml"]


def _offline_cache(path: Path) -> None:
    """Put the RO-Crate 1.3 JSON-LD context bundled with ``rocrate`` into an HTTP cache the validator reads offline."""
    import rocrate
    from requests.adapters import BaseAdapter
    from requests_cache import CachedSession
    from urllib3.response import HTTPResponse

    body = (Path(rocrate.__file__).parent / "data" / "ro-crate.jsonld").read_bytes()
    assert json.loads(body)["@id"] == CONTEXT_1_3

    class Bundled(BaseAdapter):
        def send(self, request, **kwargs):
            if request.url != CONTEXT_1_3:
                raise requests.ConnectionError(f"offline test: no {request.url}")
            response = requests.Response()
            response.status_code, response.url, response.request = 200, request.url, request
            response.headers["Content-Type"] = "application/ld+json"
            response.raw = HTTPResponse(
                body=io.BytesIO(body), headers=dict(response.headers), status=200, preload_content=False
            )
            return response

        def close(self):
            pass

    session = CachedSession(str(path), backend="sqlite", expire_after=-1, allowable_methods=("GET",))
    session.mount("https://", Bundled())
    session.mount("http://", Bundled())
    # the same Accept header as the validator's JSON-LD loader, which is part of the cache key
    session.get(CONTEXT_1_3, headers={"Accept": "application/ld+json, application/json, */*;q=0.1"})
    session.close()


def test_rocrate_validator_passes(made, tmp_path):
    """Required checks of RO-Crate 1.3 and Workflow RO-Crate 1.0, run offline (roc-validator, a dev dependency)."""
    services = pytest.importorskip("rocrate_validator.services", reason="roc-validator (dev extra) is not installed")
    from rocrate_validator.models import Severity, ValidationSettings

    _, crate_dir = made
    cache = tmp_path / "http-cache"
    _offline_cache(cache)
    for profile in ("ro-crate-1.3", "workflow-ro-crate-1.0"):
        settings = ValidationSettings(
            rocrate_uri=str(crate_dir),
            profile_identifier=profile,
            requirement_severity=Severity.REQUIRED,
            offline=True,
            cache_path=cache,
            skip_availability_check=True,
        )
        result = services.validate(settings)
        issues = [f"{i.check.identifier} {i.check.name}: {i.message}" for i in result.get_issues()]
        assert result.passed(), f"{profile}: {issues}"
        assert len(result.executed_checks) > 20, profile  # the checks ran (not all skipped)


def _compressed_span(arc: Path) -> tuple[int, int]:
    """Byte range of the deflate stream: after the 10-byte gzip header (no name: mtime 0, filename ''), before the
    8-byte trailer."""
    data = arc.read_bytes()
    assert data[:4] == b"\x1f\x8b\x08\x00"  # no optional header fields
    return 10, len(data) - 8


def test_flipped_byte_in_compressed_stream_is_damage(made, tmp_path):
    arc, _ = made
    data = arc.read_bytes()
    start, end = _compressed_span(arc)
    for k in range(1, 12):
        pos = start + (end - start) * k // 12
        bad = tmp_path / f"flip{k}.tar.gz"
        bad.write_bytes(data[:pos] + bytes([data[pos] ^ 0x10]) + data[pos + 1 :])
        with pytest.raises(ArchiveError) as err:
            verify(bad)
        message = str(err.value)
        assert "truncated or corrupt" in message and "damaged" in message, (pos, message)
        assert "missing" not in message and "listed" not in message, (pos, message)


@pytest.mark.parametrize("where", ["crc", "size"])
def test_damaged_gzip_trailer_does_not_restore(made, tmp_path, where):
    arc, _ = made
    data = bytearray(arc.read_bytes())
    data[-8 if where == "crc" else -4] ^= 0x01
    bad = tmp_path / "trailer.tar.gz"
    bad.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="truncated or corrupt"):
        verify(bad)
    dest = tmp_path / "dest"
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [sys.executable, "-m", "relurepro.cli", "restore", str(bad), "--dest", str(dest)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode != 0 and "truncated or corrupt" in proc.stderr
    assert not (dest / "results").exists()
