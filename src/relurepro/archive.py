"""Archive and restore the results of a workflow run as one verifiable ``.tar.gz``.

Layout of ``relurepro-<version>-<config_hash>.tar.gz`` (everything under one top folder of the same name)::

    results/...                         every file under the results folder except ``results/archive/``
    config/...                          the config files the run used
    environment/requirements-frozen.txt the exact installed package versions (and the Python version)
    workflow/...                        the Snakefile, rules and schemas, for the record
    ro-crate-metadata.json              an RO-Crate (Workflow RO-Crate profile) describing all of the above
    MANIFEST.sha256                     ``<sha256>  <path>`` for every other file, sorted

Members are written in sorted order with their modification times kept to the nanosecond (pax ``mtime`` header),
owner fields cleared and a zero gzip timestamp, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import importlib.metadata
import io
import os
import platform
import re
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from relurepro import __version__
from relurepro.io import _atomic, write_text

MANIFEST = "MANIFEST.sha256"
CRATE_METADATA = "ro-crate-metadata.json"
REQUIREMENTS = "environment/requirements-frozen.txt"
_CHUNK = 1 << 20
_MANIFEST_LINE = re.compile(r"^([0-9a-f]{64})  (.+)$")
_SKIP_DIRS = {"__pycache__", ".snakemake", ".git"}

_FORMATS = {
    ".parquet": "application/vnd.apache.parquet",
    ".png": "image/png",
    ".pdf": "application/pdf",
    ".npz": "application/x-npz",
    ".npy": "application/x-npy",
    ".md": "text/markdown",
    ".html": "text/html",
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".smk": "text/x-python",
    ".py": "text/x-python",
}


class ArchiveError(ValueError):
    """An archive is damaged, incomplete, unsafe, or cannot be restored where asked."""


# --------------------------------------------------------------------------------------------------------------------
# helpers


def archive_name(config_hash: str) -> str:
    """The top folder (and file stem) of the archive for ``config_hash``."""
    return f"relurepro-{__version__}-{config_hash}"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _pump(src, h, sink=None) -> None:
    """Copy ``src`` in chunks into hash ``h`` and, if given, ``sink``."""
    while chunk := src.read(_CHUNK):
        h.update(chunk)
        if sink is not None:
            sink.write(chunk)


def _is_partial(name: str) -> bool:
    """Temporary files left by :func:`relurepro.io._atomic` while a write is in progress."""
    return name.startswith(".") and name.endswith(".tmp")


def _walk_files(root: Path, exclude: Path | None = None) -> list[Path]:
    """Regular files under ``root`` (symlinks followed), sorted, skipping ``exclude`` and caches."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if n not in _SKIP_DIRS and (exclude is None or d / n != exclude))
        for n in filenames:
            p = d / n
            if not _is_partial(n) and p.is_file():
                out.append(p)
    return sorted(out)


def _relative_layout(paths: list[Path], prefix: str) -> dict[str, Path]:
    """Map archive names ``<prefix>/<path relative to the common parent>`` to the files (directories expanded)."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(_walk_files(p))
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"cannot archive {p}: no such file")
    if not files:
        return {}
    absolute = [f.resolve() for f in files]
    base = Path(os.path.commonpath([a.parent for a in absolute]))
    out: dict[str, Path] = {}
    for a in absolute:
        name = f"{prefix}/{a.relative_to(base).as_posix()}"
        if name in out and out[name] != a:
            raise ValueError(f"two files would be archived as {name}: {out[name]} and {a}")
        out[name] = a
    return out


def _frozen_requirements() -> str:
    pins = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            pins[name.lower()] = f"{name}=={dist.version}"
    lines = [
        f"# python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}",
        f"# relurepro {__version__}",
    ]
    lines += [pins[k] for k in sorted(pins)]
    return "\n".join(lines) + "\n"


def _crate_json(
    top: str,
    config_hash: str,
    members: dict[str, Path],
    workflow_names: list[str],
    config_names: list[str],
    result_names: list[str],
) -> str:
    """The ``ro-crate-metadata.json`` text: a Workflow RO-Crate with a CreateAction linking config to results."""
    from rocrate.rocrate import ROCrate

    crate = ROCrate()
    crate.name = top
    crate.description = (
        f"Results of the relurepro {__version__} Snakemake workflow (config hash {config_hash}), "
        "with the config, frozen environment and workflow sources used to produce them."
    )
    crate.root_dataset["version"] = __version__
    crate.root_dataset["identifier"] = top
    crate.root_dataset["keywords"] = ["ReLU networks", "reproduction", "Snakemake", "PyTorch"]

    def props(name: str, description: str) -> dict:
        st = members[name].stat()
        p = {
            "name": PurePosixPath(name).name,
            "description": description,
            "contentSize": str(st.st_size),
            "dateModified": _dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc).isoformat(),
        }
        fmt = _FORMATS.get(PurePosixPath(name).suffix.lower())
        if fmt:
            p["encodingFormat"] = fmt
        return p

    main_name = next((n for n in workflow_names if PurePosixPath(n).name == "Snakefile"), None)
    main = None
    others = []
    for name in workflow_names:
        if name == main_name:
            main = crate.add_workflow(
                dest_path=name,
                main=True,
                lang="snakemake",
                properties=props(name, "Main Snakefile of the relurepro workflow"),
            )
        else:
            others.append(crate.add_file(dest_path=name, properties=props(name, "Workflow source (rule or schema)")))
    if main is not None and others:
        main["hasPart"] = others

    configs = [crate.add_file(dest_path=n, properties=props(n, "Workflow configuration")) for n in config_names]
    req = crate.add_file(dest_path=REQUIREMENTS, properties=props(REQUIREMENTS, "Frozen package versions of the run"))
    results = [crate.add_file(dest_path=n, properties=props(n, "Workflow output")) for n in result_names]
    crate.add_file(
        dest_path=MANIFEST,
        properties={"name": MANIFEST, "description": "sha256 of every other file", "encodingFormat": "text/plain"},
    )
    crate.add_action(
        main if main is not None else crate.root_dataset,
        identifier="#run",
        object=configs + [req],
        result=results,
        properties={"name": f"relurepro run {config_hash}", "@type": "CreateAction"},
    )
    with tempfile.TemporaryDirectory() as tmp:
        # entities carry no source, so only the metadata file is written (nothing is copied)
        crate.metadata.write(tmp)
        return (Path(tmp) / CRATE_METADATA).read_text()


def _tarinfo(name: str, size: int, mtime_ns: int, mode: int) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size = size
    sec, ns = divmod(mtime_ns, 1_000_000_000)
    ti.mtime = sec
    ti.pax_headers = {"mtime": f"{sec}.{ns:09d}"}
    ti.mode = mode & 0o777 or 0o644
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.type = tarfile.REGTYPE
    return ti


def _member_mtime_ns(m: tarfile.TarInfo) -> int:
    text = m.pax_headers.get("mtime")
    if text and re.fullmatch(r"\d+(\.\d{1,9})?", text):
        sec, _, frac = text.partition(".")
        return int(sec) * 1_000_000_000 + int(frac.ljust(9, "0") or 0)
    return int(m.mtime * 1_000_000_000)


# --------------------------------------------------------------------------------------------------------------------
# create


def create(
    results_dir: Path,
    config_files: list[Path],
    out_dir: Path,
    config_hash: str,
    workflow_files: list[Path],
) -> Path:
    """Write ``out_dir/relurepro-<version>-<config_hash>.tar.gz`` atomically and return its path.

    The archive is verified (:func:`verify`) before it is renamed into place, so a published archive always checks.
    """
    results_dir = Path(results_dir)
    out_dir = Path(out_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results folder {results_dir} does not exist")
    top = archive_name(config_hash)
    target = out_dir / f"{top}.tar.gz"

    members: dict[str, Path] = {}
    exclude = (results_dir / "archive").resolve()
    for f in _walk_files(results_dir.resolve(), exclude=exclude):
        members[f"results/{f.relative_to(results_dir.resolve()).as_posix()}"] = f
    result_names = sorted(members)
    config_layout = _relative_layout(list(config_files), "config")
    workflow_layout = _relative_layout(list(workflow_files), "workflow")
    members.update(config_layout)
    members.update(workflow_layout)

    with tempfile.TemporaryDirectory(prefix=".archive-", dir=out_dir if out_dir.is_dir() else None) as tmp:
        tmp = Path(tmp)
        write_text(_frozen_requirements(), tmp / REQUIREMENTS)
        members[REQUIREMENTS] = tmp / REQUIREMENTS
        crate_text = _crate_json(
            top, config_hash, members, sorted(workflow_layout), sorted(config_layout), result_names
        )
        write_text(crate_text, tmp / CRATE_METADATA)
        members[CRATE_METADATA] = tmp / CRATE_METADATA
        manifest = "".join(f"{_sha256_file(members[n])}  {n}\n" for n in sorted(members))
        write_text(manifest, tmp / MANIFEST)
        for generated in (REQUIREMENTS, CRATE_METADATA, MANIFEST):
            os.chmod(tmp / generated, 0o644)  # mkstemp creates 0600 files
        members[MANIFEST] = tmp / MANIFEST

        def write(tmp_path: str) -> None:
            with open(tmp_path, "wb") as raw:
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz:
                    with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
                        for name in sorted(members):
                            with open(members[name], "rb") as fh:
                                st = os.fstat(fh.fileno())
                                ti = _tarinfo(f"{top}/{name}", st.st_size, st.st_mtime_ns, st.st_mode)
                                tar.addfile(ti, fh)
            verify(Path(tmp_path))

        _atomic(target, write)
    return target


# --------------------------------------------------------------------------------------------------------------------
# verify


def _check_member(m: tarfile.TarInfo, top: str | None) -> tuple[str, str]:
    """Return ``(top, relative name)`` of a safe member or raise :class:`ArchiveError`."""
    name = m.name
    p = PurePosixPath(name)
    if name.startswith("/") or p.is_absolute() or re.match(r"^[A-Za-z]:", name):
        raise ArchiveError(f"unsafe member {name!r}: absolute path")
    if ".." in p.parts:
        raise ArchiveError(f"unsafe member {name!r}: path contains '..'")
    if not (m.isfile() or m.isdir()):
        raise ArchiveError(f"unsafe member {name!r}: only regular files and folders are allowed")
    parts = [s for s in p.parts if s not in ("", ".")]
    if not parts:
        raise ArchiveError(f"unsafe member {name!r}: empty path")
    if top is not None and parts[0] != top:
        raise ArchiveError(f"member {name!r} is outside the top folder {top!r}")
    return parts[0], "/".join(parts[1:])


def _open_error(archive: Path, exc: BaseException) -> ArchiveError:
    return ArchiveError(f"archive {archive} is truncated or corrupt (cannot read it as .tar.gz: {exc})")


def _scan(archive: Path) -> tuple[str, dict[str, str], list[tuple[str, str]]]:
    """Read every member once: the top folder, sha256 of every file, and the parsed manifest entries."""
    archive = Path(archive)
    if not archive.is_file():
        raise ArchiveError(f"archive {archive} does not exist")
    top: str | None = None
    digests: dict[str, str] = {}
    manifest_text: str | None = None
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for m in tar:
                top, rel = _check_member(m, top)
                if m.isdir():
                    continue
                if not rel:
                    raise ArchiveError(f"member {m.name!r} is a file in place of the top folder")
                if rel in digests:
                    raise ArchiveError(f"file {rel} appears twice in archive {archive}")
                fh = tar.extractfile(m)
                h = hashlib.sha256()
                buf = io.BytesIO() if rel == MANIFEST else None
                _pump(fh, h, buf)
                digests[rel] = h.hexdigest()
                if buf is not None:
                    manifest_text = buf.getvalue().decode("utf-8", errors="replace")
    except ArchiveError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _open_error(archive, exc) from exc
    if top is None:
        raise ArchiveError(f"archive {archive} is empty")
    if manifest_text is None:
        raise ArchiveError(f"archive {archive} has no {MANIFEST} (expected {top}/{MANIFEST})")
    entries = []
    for i, line in enumerate(manifest_text.splitlines(), 1):
        if not line.strip():
            continue
        match = _MANIFEST_LINE.match(line)
        if not match:
            raise ArchiveError(f"{MANIFEST} line {i} is malformed: {line!r}")
        entries.append((match.group(2), match.group(1)))
    return top, digests, entries


def _verify(archive: Path) -> tuple[str, dict[str, str]]:
    top, digests, entries = _scan(archive)
    listed: dict[str, str] = {}
    for rel, digest in entries:
        if rel in listed:
            raise ArchiveError(f"{rel} is listed twice in {MANIFEST}")
        listed[rel] = digest
    missing = sorted(set(listed) - set(digests))
    if missing:
        raise ArchiveError(f"{missing[0]} is listed in {MANIFEST} but missing from archive {archive}")
    for rel in sorted(listed):
        if digests[rel] != listed[rel]:
            raise ArchiveError(
                f"checksum mismatch for {rel} in archive {archive}: {MANIFEST} says {listed[rel]}, "
                f"content is {digests[rel]}"
            )
    unlisted = sorted(set(digests) - set(listed) - {MANIFEST})
    if unlisted:
        raise ArchiveError(f"{unlisted[0]} is in archive {archive} but not listed in {MANIFEST}")
    return top, listed


def verify(archive: Path) -> list[str]:
    """Check every file of ``archive`` against its manifest; return the manifest entries checked (sorted).

    Raises :class:`ArchiveError` naming the archive (truncated/corrupt gzip or tar, missing manifest) or the
    offending file (checksum differs, listed but missing, present but not listed, unsafe path).
    """
    _, listed = _verify(Path(archive))
    return sorted(listed)


# --------------------------------------------------------------------------------------------------------------------
# restore


def _non_empty(path: Path) -> bool:
    return path.exists() and (not path.is_dir() or any(path.iterdir()))


def restore(archive: Path, dest: Path, force: bool = False) -> Path:
    """Verify ``archive`` and restore its ``results/`` into ``dest/results`` and its config into
    ``dest/restored-config``; return ``dest/results``.

    Nothing is written when verification fails. Existing non-empty targets are refused unless ``force``.
    Files are extracted into a temporary sibling folder and renamed into place; modification times are restored to
    the nanosecond so the relative ages Snakemake saw when it produced the results are kept.
    """
    archive = Path(archive)
    dest = Path(dest)
    results_target = dest / "results"
    config_target = dest / "restored-config"
    if not force:
        for t in (results_target, config_target):
            if _non_empty(t):
                raise ArchiveError(f"{t} exists and is not empty; pass force=True to replace it")
    top, listed = _verify(archive)

    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=dest))
    try:
        (staging / "results").mkdir()
        (staging / "config").mkdir()
        try:
            with tarfile.open(archive, mode="r:gz") as tar:
                for m in tar:
                    _, rel = _check_member(m, top)
                    if not m.isfile() or not (rel.startswith("results/") or rel.startswith("config/")):
                        continue
                    out = staging.joinpath(*PurePosixPath(rel).parts)
                    if staging.resolve() not in out.resolve().parents:
                        raise ArchiveError(f"unsafe member {m.name!r}: resolves outside the destination")
                    out.parent.mkdir(parents=True, exist_ok=True)
                    h = hashlib.sha256()
                    src = tar.extractfile(m)
                    with open(out, "wb") as fh:
                        _pump(src, h, fh)
                    if h.hexdigest() != listed.get(rel):
                        raise ArchiveError(f"checksum mismatch for {rel} while extracting {archive}")
                    os.chmod(out, (m.mode & 0o777) or 0o644)
                    mtime = _member_mtime_ns(m)
                    os.utime(out, ns=(mtime, mtime))
        except ArchiveError:
            raise
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise _open_error(archive, exc) from exc

        for src_name, target in (("results", results_target), ("config", config_target)):
            old = None
            if target.exists() or target.is_symlink():
                if _non_empty(target) and not force:
                    raise ArchiveError(f"{target} exists and is not empty; pass force=True to replace it")
                old = staging / f"old-{src_name}"
                os.replace(target, old)
            os.replace(staging / src_name, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return results_target
