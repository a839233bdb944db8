"""Archive and restore the results of a workflow run as one verifiable ``.tar.gz``.

Layout of ``relurepro-<version>-<config_hash>.tar.gz`` (everything under one top folder of the same name)::

    results/...                         every file under the results folder except ``results/archive/`` and the
                                        generated data sets ``results/<paper>/data/`` (see REGENERABLE below)
    config/...                          the config files the run used
    Snakefile, workflow/...             the workflow sources, at their paths in the project
    src/relurepro/...                   the package code (``*.py``) that made the results
    environment/requirements-frozen.txt the exact installed package versions (and the Python version)
    RUN.json                            config hash, the config files in the order they were merged (later ones
                                        override earlier ones), git commit (``git describe --always --dirty`` and
                                        the full sha), Snakemake and relurepro versions
    REGENERABLE.sha256                  ``<sha256>  <path>`` of each generated data set left out of the archive
    ro-crate-metadata.json              an RO-Crate (Workflow RO-Crate profile) describing all of the above
    MANIFEST.sha256                     ``<sha256>  <path>`` for every other file (REGENERABLE.sha256 included)

Generated data sets are left out because their seeds regenerate them (at paper scale they are gigabytes). Their
hashes are kept in REGENERABLE.sha256 (restored as ``restored-config/REGENERABLE.sha256``), so that a regenerated
file can be checked against the original (``sha256sum -c restored-config/REGENERABLE.sha256`` in the project); :func:`verify` refuses an archive that lists a file both as a member and
as regenerable. :func:`restore` does not regenerate them, and nothing needs to: Snakemake builds a missing input
only for a job that has to run, and the re-render (``relurepro rerender``: ``--rerun-triggers mtime`` and
``--forcerun`` of the figure, claims and report-table rules, which read only the aggregated tables) runs no job that
reads a data set; nor does a plain ``snakemake`` with the restored config (measured: nothing to do). A data set is
regenerated when a job that reads it must run again (a changed config value), and then, being new, it makes the
other training jobs that read it run again too.

The crate is RO-Crate 1.3. The root data set is licensed CC-BY-4.0 (:data:`CRATE_LICENSE`: the results and
metadata; the project declares no licence of its own for the code). So that validators of Workflow RO-Crate 1.0,
which is defined on RO-Crate 1.1 (``workflow-ro-crate-1.0`` of ``roc-validator``), accept it too, the metadata
descriptor also names RO-Crate 1.1 and the main workflow also carries the RO-Crate 1.1 IRI of
``ComputationalWorkflow``. The git commit is the ``#source`` entity (``version``: the describe string, ending in
``-dirty`` when the checkout had uncommitted changes; ``identifier``: the full sha), which the root ``isBasedOn``.

Members are written in sorted order with their modification times kept to the nanosecond (pax ``mtime`` header),
modes normalised to 0644 (0755 for executables), owner fields cleared and a zero gzip timestamp, so the same inputs
give the same bytes. Reading checks the whole gzip stream, trailer (CRC and length) included: a flipped byte or a
damaged trailer is reported as a damaged archive.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import importlib.metadata
import io
import json
import os
import platform
import re
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from relurepro import __version__
from relurepro.io import _atomic, file_mode, write_text

MANIFEST = "MANIFEST.sha256"
REGENERABLE = "REGENERABLE.sha256"
RUN_RECORD = "RUN.json"
CRATE_METADATA = "ro-crate-metadata.json"
REQUIREMENTS = "environment/requirements-frozen.txt"
CODE_PREFIX = "src/relurepro"
RESTORED_CONFIG = "restored-config"
#: The licence of the archived results and metadata (the project declares none of its own).
CRATE_LICENSE = {
    "@id": "https://spdx.org/licenses/CC-BY-4.0",
    "@type": "CreativeWork",
    "identifier": "CC-BY-4.0",
    "name": "Creative Commons Attribution 4.0 International",
    "url": "https://creativecommons.org/licenses/by/4.0/",
    "description": "Licence of the results and metadata in this archive.",
}
_GENERATED = (REQUIREMENTS, RUN_RECORD, REGENERABLE, CRATE_METADATA, MANIFEST)
_CHUNK = 1 << 20
_MANIFEST_LINE = re.compile(r"^([0-9a-f]{64})  (.+)$")
_SKIP_DIRS = {"__pycache__", ".snakemake", ".git"}
_WROC_1_0_WORKFLOW = "https://bioschemas.org/ComputationalWorkflow"  # the RO-Crate 1.1 IRI of ComputationalWorkflow

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
    ".sha256": "text/plain",
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


def is_regenerable(name: str) -> bool:
    """Whether archive name ``name`` is a generated data set (``results/<paper>/data/...``), left out of archives."""
    parts = PurePosixPath(name).parts
    return len(parts) >= 4 and parts[0] == "results" and parts[2] == "data"


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


def _skipped(path: Path) -> bool:
    return any(part in _SKIP_DIRS for part in path.parts) or path.suffix == ".pyc" or _is_partial(path.name)


def _walk_files(root: Path, exclude: Path | None = None) -> list[Path]:
    """Regular files under ``root`` (symlinks followed), sorted, skipping ``exclude`` and caches."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if n not in _SKIP_DIRS and (exclude is None or d / n != exclude))
        for n in filenames:
            p = d / n
            if not _skipped(Path(n)) and p.is_file():
                out.append(p)
    return sorted(out)


def _relative_layout(paths: list[Path], prefix: str = "") -> dict[str, Path]:
    """Map archive names ``[<prefix>/]<path relative to the common parent>`` to the files (directories expanded)."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(_walk_files(p))
        elif p.is_file():
            if not _skipped(p):
                files.append(p)
        else:
            raise FileNotFoundError(f"cannot archive {p}: no such file")
    if not files:
        return {}
    absolute = [f.resolve() for f in files]
    base = Path(os.path.commonpath([a.parent for a in absolute]))
    out: dict[str, Path] = {}
    for a in absolute:
        rel = a.relative_to(base).as_posix()
        name = f"{prefix}/{rel}" if prefix else rel
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


def _git(code_dir: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=code_dir, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def git_commit(code_dir: Path) -> dict[str, str]:
    """``{"describe": git describe --always --dirty, "sha": full sha}`` of the checkout holding ``code_dir``."""
    return {"describe": _git(code_dir, "describe", "--always", "--dirty"), "sha": _git(code_dir, "rev-parse", "HEAD")}


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _crate_json(top: str, run: dict, members: dict[str, Path], groups: dict[str, list[str]]) -> str:
    """The ``ro-crate-metadata.json`` text: a Workflow RO-Crate with a CreateAction linking config to results."""
    from rocrate.rocrate import ROCrate

    crate = ROCrate()
    crate.name = top
    crate.description = (
        f"Results of the relurepro {__version__} Snakemake workflow (config hash {run['config_hash']}, "
        f"git {run['git']['describe']}), with the config, package code, frozen environment and workflow sources "
        "used to produce them. Generated data sets are left out (their sha256 are in REGENERABLE.sha256)."
    )
    root = crate.root_dataset
    root["version"] = __version__
    root["identifier"] = top
    root["keywords"] = ["ReLU networks", "reproduction", "Snakemake", "PyTorch"]
    root["license"] = crate.add_jsonld(dict(CRATE_LICENSE))
    source = crate.add_jsonld(
        {
            "@id": "#source",
            "@type": "CreativeWork",  # as SoftwareSourceCode, RO-Crate 1.3 would want a File (a script)
            "name": f"relurepro source at git commit {run['git']['sha']}",
            "description": "The git commit of the checkout that made these results ('-dirty': with uncommitted "
            "changes, which the archived src/relurepro and workflow files hold).",
            "version": run["git"]["describe"],
            "identifier": run["git"]["sha"],
        }
    )
    root["isBasedOn"] = source
    # RO-Crate 1.3 names its spec on the descriptor; Workflow RO-Crate 1.0 validators look for RO-Crate 1.1 there
    crate.metadata["conformsTo"] = [{"@id": "https://w3id.org/ro/crate/1.3"}, {"@id": "https://w3id.org/ro/crate/1.1"}]

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

    workflow_names = groups["workflow"]
    main_name = "Snakefile" if "Snakefile" in workflow_names else None
    main = None
    others = []
    for name in workflow_names:
        if name == main_name:
            main = crate.add_workflow(
                dest_path=name,
                main=True,
                lang="snakemake",
                lang_version=run["snakemake"],
                properties=props(name, "Main Snakefile of the relurepro workflow"),
            )
            main["version"] = run["git"]["describe"]
        else:
            others.append(crate.add_file(dest_path=name, properties=props(name, "Workflow source (rule or schema)")))
    if main is not None and others:
        main["hasPart"] = others

    code = [crate.add_file(dest_path=n, properties=props(n, "relurepro package code")) for n in groups["code"]]
    if code:
        crate.add_dataset(
            dest_path=f"{CODE_PREFIX}/",
            properties={
                "name": "relurepro package",
                "description": "The Python package (*.py) the workflow scripts import: the code that made the results",
                "version": run["git"]["describe"],
                "hasPart": code,
            },
        )
    configs = [crate.add_file(dest_path=n, properties=props(n, "Workflow configuration")) for n in groups["config"]]
    req = crate.add_file(dest_path=REQUIREMENTS, properties=props(REQUIREMENTS, "Frozen package versions of the run"))
    record = crate.add_file(
        dest_path=RUN_RECORD,
        properties=props(RUN_RECORD, "Config hash, config files in merge order, git commit and versions of the run"),
    )
    regenerable = crate.add_file(
        dest_path=REGENERABLE,
        properties=props(
            REGENERABLE, "sha256 of the generated data sets left out of the archive; the workflow regenerates them"
        ),
    )
    results = [crate.add_file(dest_path=n, properties=props(n, "Workflow output")) for n in groups["results"]]
    crate.add_file(
        dest_path=MANIFEST,
        properties={"name": MANIFEST, "description": "sha256 of every other file", "encodingFormat": "text/plain"},
    )
    crate.add_action(
        main if main is not None else root,
        identifier="#run",
        object=configs + [req, record],
        result=results + [regenerable],
        properties={"name": f"relurepro run {run['config_hash']}", "@type": "CreateAction"},
    )
    with tempfile.TemporaryDirectory() as tmp:
        # entities carry no source, so only the metadata file is written (nothing is copied)
        crate.metadata.write(tmp)
        data = json.loads((Path(tmp) / CRATE_METADATA).read_text())
    if main is not None:  # rocrate entities refuse to set "@type"
        entity = next(e for e in data["@graph"] if e["@id"] == main.id)
        entity["@type"] = [*entity["@type"], _WROC_1_0_WORKFLOW]
    return json.dumps(data, indent=4) + "\n"


def _tarinfo(name: str, size: int, mtime_ns: int, mode: int) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size = size
    sec, ns = divmod(mtime_ns, 1_000_000_000)
    ti.mtime = sec
    ti.pax_headers = {"mtime": f"{sec}.{ns:09d}"}
    # the reader's umask decides who may read restored files, not the writer's
    ti.mode = 0o755 if mode & 0o100 else 0o644
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


def _sums(entries: dict[str, str]) -> str:
    return "".join(f"{entries[n]}  {n}\n" for n in sorted(entries))


def _parse_sums(text: str, label: str) -> list[tuple[str, str]]:
    entries = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _MANIFEST_LINE.match(line)
        if not match:
            raise ArchiveError(f"{label} line {i} is malformed: {line!r}")
        entries.append((match.group(2), match.group(1)))
    return entries


# --------------------------------------------------------------------------------------------------------------------
# create


def create(
    results_dir: Path,
    config_files: list[Path],
    out_dir: Path,
    config_hash: str,
    workflow_files: list[Path],
    code_dir: Path | None = None,
) -> Path:
    """Write ``out_dir/relurepro-<version>-<config_hash>.tar.gz`` atomically and return its path.

    ``config_files`` are in the order they were merged (later ones override earlier ones); ``workflow_files`` are
    archived at their paths relative to their common folder (the project root, when the Snakefile is among them);
    ``code_dir`` (default: the installed ``relurepro`` package) gives the ``*.py`` files under ``src/relurepro/``.
    Generated data sets under ``results/<paper>/data/`` are left out and listed in ``REGENERABLE.sha256``.
    The archive is verified (:func:`verify`) before it is renamed into place, so a published archive always checks.
    """
    results_dir = Path(results_dir)
    out_dir = Path(out_dir)
    code_dir = Path(code_dir) if code_dir is not None else Path(__file__).resolve().parent
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results folder {results_dir} does not exist")
    top = archive_name(config_hash)
    target = out_dir / f"{top}.tar.gz"

    members: dict[str, Path] = {}
    regenerable: dict[str, str] = {}
    exclude = (results_dir / "archive").resolve()
    for f in _walk_files(results_dir.resolve(), exclude=exclude):
        name = f"results/{f.relative_to(results_dir.resolve()).as_posix()}"
        if is_regenerable(name):
            regenerable[name] = _sha256_file(f)
        else:
            members[name] = f
    config_layout = _relative_layout(list(config_files), "config")
    workflow_layout = _relative_layout(list(workflow_files))
    code_layout = {
        f"{CODE_PREFIX}/{p.relative_to(code_dir).as_posix()}": p for p in _walk_files(code_dir) if p.suffix == ".py"
    }
    groups = {
        "results": sorted(members),
        "config": list(config_layout),
        "workflow": sorted(workflow_layout),
        "code": sorted(code_layout),
    }
    for layout in (config_layout, workflow_layout, code_layout):
        clash = sorted(set(layout) & (set(members) | set(_GENERATED)))
        if clash:
            raise ValueError(f"two files would be archived as {clash[0]}")
        members.update(layout)
    run = {
        "config_hash": config_hash,
        "config_files": list(config_layout),
        "git": git_commit(code_dir),
        "relurepro": __version__,
        "snakemake": _version("snakemake"),
        "regenerable": len(regenerable),
    }

    with tempfile.TemporaryDirectory(prefix=".archive-", dir=out_dir if out_dir.is_dir() else None) as tmp:
        tmp = Path(tmp)
        write_text(_frozen_requirements(), tmp / REQUIREMENTS)
        write_text(json.dumps(run, indent=2) + "\n", tmp / RUN_RECORD)
        write_text(_sums(regenerable), tmp / REGENERABLE)
        for generated in (REQUIREMENTS, RUN_RECORD, REGENERABLE):
            members[generated] = tmp / generated
        write_text(_crate_json(top, run, members, groups), tmp / CRATE_METADATA)
        members[CRATE_METADATA] = tmp / CRATE_METADATA
        write_text(_sums({n: _sha256_file(members[n]) for n in members}), tmp / MANIFEST)
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
    return ArchiveError(f"archive {archive} is truncated or corrupt (damaged .tar.gz stream: {exc})")


_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)


def _members(archive: Path, visit) -> None:
    """Call ``visit(member, tar)`` for each member in order, then read the gzip stream to its end.

    ``tarfile`` stops at the first invalid header (it takes it for the end of the archive) and never reads the gzip
    trailer, so damage there would pass unseen; draining the stream checks the CRC and length of all of it.
    """
    with open(archive, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz:
        with tarfile.open(fileobj=gz, mode="r|") as tar:
            for m in tar:
                visit(m, tar)
        while gz.read(_CHUNK):
            pass


def _scan(archive: Path) -> tuple[str, dict[str, str], list[tuple[str, str]], list[tuple[str, str]]]:
    """Read every member once: the top folder, sha256 of every file, and the manifest and regenerable entries."""
    archive = Path(archive)
    if not archive.is_file():
        raise ArchiveError(f"archive {archive} does not exist")
    state: dict = {"top": None}
    digests: dict[str, str] = {}
    texts: dict[str, str] = {}

    def visit(m: tarfile.TarInfo, tar: tarfile.TarFile) -> None:
        state["top"], rel = _check_member(m, state["top"])
        if m.isdir():
            return
        if not rel:
            raise ArchiveError(f"member {m.name!r} is a file in place of the top folder")
        if rel in digests:
            raise ArchiveError(f"file {rel} appears twice in archive {archive}")
        h = hashlib.sha256()
        buf = io.BytesIO() if rel in (MANIFEST, REGENERABLE) else None
        _pump(tar.extractfile(m), h, buf)
        digests[rel] = h.hexdigest()
        if buf is not None:
            texts[rel] = buf.getvalue().decode("utf-8", errors="replace")

    try:
        _members(archive, visit)
    except ArchiveError:
        raise
    except _READ_ERRORS as exc:
        raise _open_error(archive, exc) from exc
    top = state["top"]
    if top is None:
        raise ArchiveError(f"archive {archive} is empty")
    if MANIFEST not in texts:
        raise ArchiveError(f"archive {archive} has no {MANIFEST} (expected {top}/{MANIFEST})")
    entries = _parse_sums(texts[MANIFEST], MANIFEST)
    regenerable = _parse_sums(texts.get(REGENERABLE, ""), REGENERABLE)
    return top, digests, entries, regenerable


def _verify(archive: Path) -> tuple[str, dict[str, str], dict[str, str]]:
    top, digests, entries, regen_entries = _scan(archive)
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
    regenerable = dict(regen_entries)
    both = sorted(set(regenerable) & set(digests))
    if both:
        raise ArchiveError(f"{both[0]} is both a member of archive {archive} and listed in {REGENERABLE}")
    return top, listed, regenerable


def verify(archive: Path) -> list[str]:
    """Check every file of ``archive`` against its manifest; return the manifest entries checked (sorted).

    Raises :class:`ArchiveError` naming the archive (truncated or damaged gzip stream or tar, missing manifest) or
    the offending file (checksum differs, listed but missing, present but not listed, unsafe path).
    """
    _, listed, _ = _verify(Path(archive))
    return sorted(listed)


def regenerable(archive: Path) -> dict[str, str]:
    """The generated data sets left out of a verified ``archive``: archive name -> sha256."""
    return _verify(Path(archive))[2]


# --------------------------------------------------------------------------------------------------------------------
# restore


def _non_empty(path: Path) -> bool:
    return path.exists() and (not path.is_dir() or any(path.iterdir()))


def restore(archive: Path, dest: Path, force: bool = False) -> Path:
    """Verify ``archive`` and restore its ``results/`` into ``dest/results`` and its config files, with ``RUN.json``
    and ``REGENERABLE.sha256``, into ``dest/restored-config``; return ``dest/results``.

    Nothing is written when verification fails. Existing non-empty targets are refused unless ``force``.
    Files are extracted into a temporary sibling folder and renamed into place; modification times are restored to
    the nanosecond so the relative ages Snakemake saw when it produced the results are kept; modes follow the umask.
    The generated data sets are not in the archive and are not regenerated here (see the module docstring).
    """
    archive = Path(archive)
    dest = Path(dest)
    results_target = dest / "results"
    config_target = dest / RESTORED_CONFIG
    if not force:
        for t in (results_target, config_target):
            if _non_empty(t):
                raise ArchiveError(f"{t} exists and is not empty; pass force=True to replace it")
    top, listed, _ = _verify(archive)
    for extra in (RUN_RECORD, REGENERABLE):
        if f"config/{extra}" in listed:
            raise ArchiveError(f"config file config/{extra} would clash with the archive's {extra}")

    def target_of(rel: str) -> PurePosixPath | None:
        if rel.startswith("results/"):
            return PurePosixPath(rel)
        if rel.startswith("config/"):
            return PurePosixPath(rel)
        if rel in (RUN_RECORD, REGENERABLE):
            return PurePosixPath("config", rel)
        return None

    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=dest))
    try:
        (staging / "results").mkdir()
        (staging / "config").mkdir()

        def visit(m: tarfile.TarInfo, tar: tarfile.TarFile) -> None:
            _, rel = _check_member(m, top)
            where = target_of(rel) if m.isfile() else None
            if where is None:
                return
            out = staging.joinpath(*where.parts)
            if staging.resolve() not in out.resolve().parents:
                raise ArchiveError(f"unsafe member {m.name!r}: resolves outside the destination")
            out.parent.mkdir(parents=True, exist_ok=True)
            h = hashlib.sha256()
            with open(out, "wb") as fh:
                _pump(tar.extractfile(m), h, fh)
            if h.hexdigest() != listed.get(rel):
                raise ArchiveError(f"checksum mismatch for {rel} while extracting {archive}")
            os.chmod(out, file_mode(0o777 if m.mode & 0o100 else 0o666))
            mtime = _member_mtime_ns(m)
            os.utime(out, ns=(mtime, mtime))

        try:
            _members(archive, visit)
        except ArchiveError:
            raise
        except _READ_ERRORS as exc:
            raise _open_error(archive, exc) from exc

        for src_name, target in (("results", results_target), ("config", config_target)):
            if target.exists() or target.is_symlink():
                if _non_empty(target) and not force:
                    raise ArchiveError(f"{target} exists and is not empty; pass force=True to replace it")
                os.replace(target, staging / f"old-{src_name}")
            os.replace(staging / src_name, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return results_target


def restored_run(dest: Path) -> dict:
    """The ``RUN.json`` record that :func:`restore` wrote under ``dest/restored-config`` (``ArchiveError`` if none)."""
    path = Path(dest) / RESTORED_CONFIG / RUN_RECORD
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ArchiveError(f"{path} does not exist: restore an archive there first (relurepro restore)") from None
    except ValueError as exc:
        raise ArchiveError(f"{path} is not valid JSON: {exc}") from None
