"""Round trip and failure modes of relurepro.archive (create / verify / restore)."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from relurepro import __version__
from relurepro.archive import MANIFEST, ArchiveError, create, restore, verify

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def _results(root: Path) -> Path:
    res = root / "results"
    df = pd.DataFrame({"width": [8, 16], "loss": [0.5, 0.25], "config_hash": ["abc", "abc"]})
    (res / "p1" / "runs" / "exp").mkdir(parents=True)
    (res / "p1" / "figures").mkdir(parents=True)
    df.to_parquet(res / "p1" / "runs.parquet", index=False)
    df.to_parquet(res / "p1" / "runs" / "exp" / "w8.parquet", index=False)
    (res / "p1" / "figures" / "fig1.png").write_bytes(PNG)
    (res / "claims.md").write_text("# Claims\n\n- claim 1: holds\n")
    (res / "archive").mkdir()
    (res / "archive" / "old.tar.gz").write_bytes(b"not part of the archive")
    (res / "p1" / ".runs.parquet.abc.tmp").write_bytes(b"partial write")
    # distinct, sub-second mtimes: inputs older than outputs
    for i, f in enumerate(sorted(p for p in res.rglob("*") if p.is_file())):
        t = 1_700_000_000_123_456_789 + i * 1_000_000_007
        os.utime(f, ns=(t, t))
    return res


def _project(tmp_path: Path) -> tuple[Path, list[Path], list[Path]]:
    src = tmp_path / "src"
    res = _results(src)
    (src / "config" / "papers").mkdir(parents=True)
    cfg = src / "config" / "config.yaml"
    cfg.write_text("seed: 0\n")
    paper_cfg = src / "config" / "papers" / "p1.yaml"
    paper_cfg.write_text("widths: [8, 16]\n")
    (src / "workflow" / "rules").mkdir(parents=True)
    (src / "Snakefile").write_text('include: "workflow/rules/train.smk"\n')
    (src / "workflow" / "rules" / "train.smk").write_text("rule train:\n    output: 'x'\n")
    return res, [cfg, paper_cfg], [src / "Snakefile", src / "workflow" / "rules"]


@pytest.fixture
def made(tmp_path):
    res, cfgs, wf = _project(tmp_path)
    arc = create(res, cfgs, res / "archive", "abc123", wf)
    return res, arc


def _rewrite(arc: Path, out: Path, edit) -> Path:
    """Copy ``arc`` to ``out`` passing each (TarInfo, bytes) through ``edit`` (returns a list of pairs)."""
    with tarfile.open(arc, "r:gz") as tin, tarfile.open(out, "w:gz", format=tarfile.PAX_FORMAT) as tout:
        for m in tin.getmembers():
            data = tin.extractfile(m).read() if m.isfile() else b""
            for m2, d2 in edit(m, data):
                m2.size = len(d2)
                tout.addfile(m2, io.BytesIO(d2))
    return out


def test_round_trip(made, tmp_path):
    res, arc = made
    assert arc.name == f"relurepro-{__version__}-abc123.tar.gz"
    assert not [p for p in arc.parent.iterdir() if p.name.endswith(".tmp")]
    checked = verify(arc)
    assert "results/p1/runs.parquet" in checked
    assert "config/config.yaml" in checked and "config/papers/p1.yaml" in checked
    assert "Snakefile" in checked and "workflow/rules/train.smk" in checked
    assert not any(c.startswith("workflow/workflow/") for c in checked)
    assert "environment/requirements-frozen.txt" in checked and "ro-crate-metadata.json" in checked
    assert not any("archive/" in c or c.endswith(".tmp") for c in checked)

    with tarfile.open(arc, "r:gz") as tar:
        names = tar.getnames()
        top = f"relurepro-{__version__}-abc123"
        assert names == sorted(names) and all(n.startswith(top + "/") for n in names)
        reqs = tar.extractfile(f"{top}/environment/requirements-frozen.txt").read().decode()
        crate = json.loads(tar.extractfile(f"{top}/ro-crate-metadata.json").read())
    assert reqs.startswith("# python ") and "pandas==" in reqs
    graph = {e["@id"]: e for e in crate["@graph"]}
    assert graph["./"]["mainEntity"] == {"@id": "Snakefile"}
    assert graph["results/p1/figures/fig1.png"]["encodingFormat"] == "image/png"
    assert "ComputationalWorkflow" in graph["Snakefile"]["@type"]

    dest = tmp_path / "dest"
    out = restore(arc, dest)
    assert out == dest / "results"
    src_files = sorted(p.relative_to(res) for p in res.rglob("*") if p.is_file() and "archive" not in p.parts)
    src_files = [p for p in src_files if not p.name.endswith(".tmp")]
    got = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert got == src_files
    for rel in src_files:
        assert (out / rel).read_bytes() == (res / rel).read_bytes()
        assert (out / rel).stat().st_mtime_ns == (res / rel).stat().st_mtime_ns
    assert pd.read_parquet(out / "p1" / "runs.parquet").equals(pd.read_parquet(res / "p1" / "runs.parquet"))
    assert (dest / "restored-config" / "config.yaml").read_text() == "seed: 0\n"
    assert (dest / "restored-config" / "papers" / "p1.yaml").exists()
    assert not [p for p in dest.iterdir() if p.name.startswith(".restore-")]


def test_deterministic_bytes(tmp_path):
    res, cfgs, wf = _project(tmp_path)
    a = create(res, cfgs, tmp_path / "a", "h", wf)
    b = create(res, cfgs, tmp_path / "b", "h", wf)
    with tarfile.open(a, "r:gz") as ta, tarfile.open(b, "r:gz") as tb:
        assert ta.getnames() == tb.getnames()
        # archived sources keep their (sub-second) mtimes; generated files (manifest, crate) are stamped at creation
        src = [(m.name, m.pax_headers["mtime"], m.size) for m in ta if "/results/" in m.name or "/config/" in m.name]
        assert src == [(m.name, m.pax_headers["mtime"], m.size) for m in tb if m.name in {n for n, _, _ in src}]
        assert ("relurepro-0.1.0-h/results/claims.md".replace("0.1.0", __version__)) in {n for n, _, _ in src}


def test_corrupted_member_named(made, tmp_path):
    _, arc = made

    def edit(m, data):
        if m.name.endswith("results/p1/runs.parquet"):
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        return [(m, data)]

    bad = _rewrite(arc, tmp_path / "bad.tar.gz", edit)
    with pytest.raises(ArchiveError, match=r"checksum mismatch for results/p1/runs\.parquet"):
        verify(bad)
    dest = tmp_path / "dest"
    with pytest.raises(ArchiveError, match="runs.parquet"):
        restore(bad, dest)
    assert not dest.exists()


def test_missing_and_unlisted(made, tmp_path):
    _, arc = made
    dropped = _rewrite(arc, tmp_path / "d.tar.gz", lambda m, d: [] if m.name.endswith("claims.md") else [(m, d)])
    with pytest.raises(ArchiveError, match=r"results/claims\.md is listed in MANIFEST\.sha256 but missing"):
        verify(dropped)

    def add(m, d):
        out = [(m, d)]
        if m.name.endswith("claims.md"):
            extra = tarfile.TarInfo(m.name.replace("claims.md", "extra.txt"))
            out.append((extra, b"sneaky"))
        return out

    added = _rewrite(arc, tmp_path / "a.tar.gz", add)
    with pytest.raises(ArchiveError, match=r"results/extra\.txt is in archive .* not listed"):
        verify(added)

    no_manifest = _rewrite(arc, tmp_path / "n.tar.gz", lambda m, d: [] if m.name.endswith(MANIFEST) else [(m, d)])
    with pytest.raises(ArchiveError, match="has no MANIFEST.sha256"):
        verify(no_manifest)


def test_truncated_archive(made, tmp_path):
    _, arc = made
    data = arc.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError, match=r"cut\.tar\.gz is truncated or corrupt"):
        verify(cut)
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"definitely not gzip" * 10)
    with pytest.raises(ArchiveError, match="truncated or corrupt"):
        verify(garbage)
    dest = tmp_path / "dest"
    with pytest.raises(ArchiveError, match="truncated or corrupt"):
        restore(cut, dest)
    assert not dest.exists()


@pytest.mark.parametrize("evil", ["relurepro-x/../../evil.txt", "/etc/evil.txt", "relurepro-x/results/../../x"])
def test_path_traversal_refused(tmp_path, evil):
    arc = tmp_path / "evil.tar.gz"
    with gzip.open(arc, "wb") as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        ok = tarfile.TarInfo("relurepro-x/results/a.txt")
        ok.size = 1
        tar.addfile(ok, io.BytesIO(b"a"))
        bad = tarfile.TarInfo(evil)
        bad.size = 4
        tar.addfile(bad, io.BytesIO(b"evil"))
    with pytest.raises(ArchiveError, match="unsafe member"):
        verify(arc)
    with pytest.raises(ArchiveError, match="unsafe member"):
        restore(arc, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_symlink_member_refused(tmp_path):
    arc = tmp_path / "link.tar.gz"
    with tarfile.open(arc, "w:gz") as tar:
        link = tarfile.TarInfo("relurepro-x/results/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(ArchiveError, match="only regular files"):
        verify(arc)


def test_no_overwrite_without_force(made, tmp_path):
    _, arc = made
    dest = tmp_path / "dest"
    (dest / "results").mkdir(parents=True)
    keep = dest / "results" / "mine.txt"
    keep.write_text("keep me")
    with pytest.raises(ArchiveError, match="not empty"):
        restore(arc, dest)
    assert keep.read_text() == "keep me"
    out = restore(arc, dest, force=True)
    assert not keep.exists()
    assert (out / "claims.md").exists()
    assert not [p for p in dest.iterdir() if p.name.startswith(".restore-")]


def test_empty_results_dir_is_replaced(made, tmp_path):
    _, arc = made
    dest = tmp_path / "dest"
    (dest / "results").mkdir(parents=True)
    assert (restore(arc, dest) / "claims.md").exists()
