"""IntelligenceEngine: the tiers of memory behind one object, and the maintenance the `memory` command needs.

    working   WorkingMemory    last focus items, in memory
    session   SessionMemory    recent events, diskcache, 24 h
    project   ProjectMemory    <root>/.sophia: notes, reasons, feedback, analysis cache
    global_   GlobalMemory     the user's data folder: preferences, feedback statistics
    semantic  SemanticMemory   chunk catalogue + vectors: index and search

Everything is opened lazily: constructing an engine costs nothing, the embedding model loads on the first
search or index that needs it.

The archive written by `export` (tar.gz, portable between machines and paths):
    manifest.json     format, version, schema, model id, counts, sha256 of every other member
    meta.json         the project memory's meta.json
    memory.sqlite3    notes, suppression reasons, feedback (an SQLite snapshot)
    index.sqlite3     the chunk catalogue (an SQLite snapshot)
    vectors.json      ids, metadatas, documents of the stored vectors, in catalogue order
    vectors.f32       the vectors, float32 little-endian, row after row
The analysis cache and session events are not exported (a cache, and ephemeral). Importing puts the same
catalogue and the same vectors back, so searches answer exactly as before; vectors made by another model than
the importing side's are left out and their chunks embedded again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import shutil
import sqlite3
import sys
import tarfile
import tempfile
import time
from array import array
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from ..analysis.config import Settings
from .base import Cancel, Progress
from .embedder import DEFAULT_BATCH_SIZE, DEFAULT_MAX_SEQ_LENGTH, Embedder
from .global_ import GlobalMemory
from .project import SCHEMA, ProjectMemory, ReadOnlyMemory
from .semantic import (
    CATALOGUE_FILE,
    Fusion,
    IndexReport,
    SearchResponse,
    SemanticMemory,
    _forget_chroma_system,
)
from .session import DEFAULT_TTL, SessionMemory
from .storage import atomic_write_bytes, backup_sqlite, dir_size, sqlite_problem
from .working import FocusItem, WorkingMemory

log = logging.getLogger(__name__)

ARCHIVE_FORMAT = "sophia-artemis-memory"
ARCHIVE_VERSION = 1


class ArchiveError(ValueError):
    """The archive cannot be imported (the message says why, for the user)."""


class IntelligenceEngine:
    def __init__(
        self,
        root: Path | str,
        *,
        memory_dir: Path | str | None = None,
        model: str | None = None,
        chroma_url: str | None = None,
        chroma_token: str | None = None,
        allow_download: bool = False,
        vectors: bool = True,
        settings: Settings | None = None,
        working_size: int = 10,
        session_ttl: float = DEFAULT_TTL,
        global_dir: Path | str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
        fusion: Fusion | None = None,
        embedder: Embedder | None = None,
        hnsw: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = Path(root).resolve()
        self._clock = clock
        self.project = ProjectMemory(self.root, directory=memory_dir, clock=clock)
        self.working = WorkingMemory(working_size, clock=clock)
        self._session_ttl = session_ttl
        self._global_dir = global_dir
        self._semantic_options: dict[str, Any] = dict(
            model=model, chroma_url=chroma_url, chroma_token=chroma_token, allow_download=allow_download,
            vectors=vectors, batch_size=batch_size, max_seq_length=max_seq_length, settings=settings,
            fusion=fusion, embedder=embedder, hnsw=hnsw,
        )
        self._session: SessionMemory | None = None
        self._global: GlobalMemory | None = None
        self._semantic: SemanticMemory | None = None

    # ------------------------------------------------------------------------------------------ tiers

    @property
    def session(self) -> SessionMemory:
        if self._session is None:
            self.project.open()
            self.project.session_problem()
            self._session = SessionMemory(self.project.session_dir, self._session_ttl, clock=self._clock,
                                          read_only=self.project.read_only)
        return self._session

    @property
    def global_(self) -> GlobalMemory:
        if self._global is None:
            self._global = GlobalMemory(self._global_dir, clock=self._clock)
        return self._global

    @property
    def semantic(self) -> SemanticMemory:
        if self._semantic is None:
            self._semantic = SemanticMemory(self.project, working=self.working, **self._semantic_options)
        return self._semantic

    @property
    def repairs(self) -> list[str]:
        """What was found broken and fixed while opening the stores."""
        out = list(self.project.repairs)
        if self._semantic is not None:
            out += self._semantic.repairs
        if self._global is not None:
            out += self._global.repairs
        return out

    # ------------------------------------------------------------------------------------------ use

    def focus(self, path: str, qualname: str | None = None, *, context: str = "") -> FocusItem:
        item = self.working.focus(path, qualname, context=context)
        self.record("navigation", path=path, qualname=qualname)
        return item

    def record(self, kind: str, **data: Any) -> None:
        try:
            self.session.record(kind, **data)
        except Exception:  # session events are a convenience: never let them break the caller
            log.exception("recording a session event failed")

    def index(self, *, progress: Progress | None = None, cancel: Cancel | None = None, full: bool = False) -> IndexReport:
        return self.semantic.index(progress=progress, cancel=cancel, full=full)

    def search(self, query: str, k: int = 10, *, strategy: str | None = None, ensure: bool = True,
               progress: Progress | None = None) -> SearchResponse:
        response = self.semantic.search(query, k, strategy=strategy, ensure=ensure, progress=progress)
        self.record("query", query=query, mode=response.mode, results=len(response.results))
        return response

    def search_many(self, queries: Iterable[str], k: int = 10, *, strategy: str | None = None,
                    progress: Progress | None = None) -> list[SearchResponse]:
        return [self.search(q, k, strategy=strategy, progress=progress) for q in queries]

    def feedback(self, path: str, qualname: str | None, action: str, *, rule: str | None = None,
                 detail: str | None = None) -> None:
        """An action on a suggestion: recorded in the project (with the symbol) and counted globally."""
        self.project.record_feedback(path, qualname, action, rule=rule, detail=detail)
        if rule:
            self.global_.record_feedback(rule, action)
        self.record("suggestion", path=path, qualname=qualname, action=action, rule=rule)

    # ------------------------------------------------------------------------------------------ maintenance

    def stats(self) -> dict[str, Any]:
        p = self.project
        out: dict[str, Any] = {
            "root": str(self.root),
            "memory_dir": str(p.directory),
            "exists": p.exists,
        }
        if not p.exists:
            return out
        p.open()
        out.update(schema=p.meta().get("schema"), read_only=p.read_only, size_bytes=dir_size(p.directory))
        if p.message:
            out["message"] = p.message
        out.update(p.counts())
        out["semantic"] = self.semantic.stats()
        out["session_events"] = len(self.session)
        with contextlib.suppress(Exception):
            out["cache_entries"] = len(p.cache)
        out["working"] = [i.to_json() for i in self.working.items()]
        if self.repairs:
            out["repairs"] = self.repairs
        return out

    def verify(self) -> list[str]:
        """Every problem found in the stores, one message each; [] = healthy. Looks without changing anything
        (repairs made earlier by this engine while opening are reported too)."""
        problems = [f"repaired: {r}" for r in self.repairs]
        problems += self.project.verify()
        if self.project.exists:
            problems += self.semantic.verify()
        gm = self._global or GlobalMemory(self._global_dir, clock=self._clock)
        if gm.path.exists():
            problems += gm.verify()
        return problems

    def export(self, fileobj: IO[bytes]) -> dict[str, Any]:
        """Write the whole project memory to `fileobj` as one tar.gz archive; returns its manifest."""
        p = self.project
        p.open()
        sem = self.semantic
        members: dict[str, bytes] = {}
        with tempfile.TemporaryDirectory(prefix="sophia-export-") as tmp:
            snap = Path(tmp)
            backup_sqlite(p.db, snap / "memory.sqlite3")
            backup_sqlite(sem.catalogue.db, snap / CATALOGUE_FILE)
            members["memory.sqlite3"] = (snap / "memory.sqlite3").read_bytes()
            members[CATALOGUE_FILE] = (snap / CATALOGUE_FILE).read_bytes()
        members["meta.json"] = json.dumps(p.meta(), indent=2, sort_keys=True).encode()
        dumped = sem.export_vectors()
        dim = 0
        if dumped is not None:
            ids, vecs, metas, docs = dumped
            dim = len(vecs[0]) if vecs else 0
            flat = array("f", (x for v in vecs for x in v))
            if sys.byteorder != "little":
                flat.byteswap()
            members["vectors.f32"] = flat.tobytes()
            members["vectors.json"] = json.dumps({"ids": ids, "metadatas": metas, "documents": docs, "dim": dim}).encode()
        manifest = {
            "format": ARCHIVE_FORMAT,
            "version": ARCHIVE_VERSION,
            "schema": SCHEMA,
            "created": self._clock(),
            "root_name": self.root.name,
            "model": sem.model_id if dumped is not None else None,
            "dim": dim,
            "vectors": len(dumped[0]) if dumped is not None else 0,
            "chunks": sem.catalogue.count(),
            "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(members.items())},
        }
        with tarfile.open(fileobj=fileobj, mode="w|gz") as tar:
            for name, data in [("manifest.json", json.dumps(manifest, indent=2, sort_keys=True).encode()),
                               *sorted(members.items())]:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = int(manifest["created"])
                info.mode = 0o600
                tar.addfile(info, io.BytesIO(data))
        return manifest

    def import_(self, fileobj: IO[bytes]) -> dict[str, Any]:
        """Replace the project memory with an archive written by `export`. Raises ArchiveError (nothing is
        changed) when the archive is not one, is damaged, or comes from a newer version."""
        members = _read_archive(fileobj)
        manifest = _check_manifest(members)
        p = self.project
        p.open()
        if p.read_only:
            raise ReadOnlyMemory(p.message or "the project memory is read-only")
        with tempfile.TemporaryDirectory(prefix="sophia-import-") as tmp:
            for name in ("memory.sqlite3", CATALOGUE_FILE):
                probe = Path(tmp) / name
                probe.write_bytes(members[name])
                problem = sqlite_problem(probe, deep=True)
                if problem:
                    raise ArchiveError(f"the archive's {name} {problem}")
        try:
            meta = json.loads(members["meta.json"])
            if not isinstance(meta, dict):
                raise ValueError
        except ValueError as exc:
            raise ArchiveError("the archive's meta.json is not a JSON object") from exc
        ids: list[str] = []
        vecs: list[list[float]] = []
        metas: list[dict[str, Any]] = []
        docs: list[str] = []
        if "vectors.json" in members:
            info = json.loads(members["vectors.json"])
            ids, metas, docs, dim = info["ids"], info["metadatas"], info["documents"], int(info["dim"])
            flat = array("f")
            flat.frombytes(members.get("vectors.f32", b""))
            if sys.byteorder != "little":
                flat.byteswap()
            if len(flat) != dim * len(ids):
                raise ArchiveError(f"the archive holds {len(flat)} numbers for {len(ids)} vectors of {dim}")
            vecs = [list(flat[i * dim:(i + 1) * dim]) for i in range(len(ids))]
        # everything checked: replace
        self._close_all()
        d = p.directory
        atomic_write_bytes(d / "memory.sqlite3", members["memory.sqlite3"])
        atomic_write_bytes(d / CATALOGUE_FILE, members[CATALOGUE_FILE])
        for stale in ("memory.sqlite3-journal", f"{CATALOGUE_FILE}-journal"):
            with contextlib.suppress(OSError):
                (d / stale).unlink()
        meta.pop("semantic", None)
        meta["imported"] = {"from": manifest.get("root_name"), "created": manifest.get("created"), "at": self._clock()}
        atomic_write_bytes(d / "meta.json", (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
        p.close()
        p.open()  # migrates an archive of an older schema
        sem = self.semantic
        sem.reset()
        restored = sem.import_vectors(ids, vecs, metas, docs, manifest.get("model"))
        return {**manifest, "restored_vectors": restored}

    def clear(self) -> None:
        """Delete the project memory (and the server collection, with a Chroma server)."""
        if self._semantic is not None or self._semantic_options.get("chroma_url"):
            with contextlib.suppress(Exception):
                self.semantic.drop_remote()
        self._close_all()
        d = self.project.directory
        _forget_chroma_system(d / "chroma")
        if d.exists():
            shutil.rmtree(d)
        self.working.clear()
        self.project = ProjectMemory(self.root, directory=d, clock=self._clock)
        self._semantic = None
        self._session = None

    def _close_all(self) -> None:
        if self._semantic is not None:
            self._semantic.close()
        if self._session is not None:
            self._session.close()
            self._session = None
        self.project.close()

    def close(self) -> None:
        self._close_all()
        if self._global is not None:
            self._global.close()

    def __enter__(self) -> IntelligenceEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_archive(fileobj: IO[bytes]) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
            for info in tar:
                if not info.isfile():
                    continue
                name = info.name
                if "/" in name or name.startswith(".") or name in members:
                    raise ArchiveError(f"unexpected member {name!r} in the archive")
                f = tar.extractfile(info)
                if f is None:
                    continue
                members[name] = f.read()
    except (tarfile.TarError, EOFError, OSError, sqlite3.Error) as exc:
        raise ArchiveError(f"not a readable memory archive ({exc.__class__.__name__}: {exc})") from exc
    return members


def _check_manifest(members: dict[str, bytes]) -> dict[str, Any]:
    try:
        manifest = json.loads(members["manifest.json"])
    except (KeyError, ValueError) as exc:
        raise ArchiveError("not a sophia-artemis memory archive (no manifest.json)") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
        raise ArchiveError("not a sophia-artemis memory archive (unknown format)")
    if int(manifest.get("version", 0)) > ARCHIVE_VERSION:
        raise ArchiveError(f"the archive has format version {manifest.get('version')}; this sophia-artemis reads "
                           f"up to {ARCHIVE_VERSION} - upgrade it")
    if int(manifest.get("schema", 0)) > SCHEMA:
        raise ArchiveError(f"the archive was written with memory schema {manifest.get('schema')}, newer than this "
                           f"version's {SCHEMA} - upgrade sophia-artemis")
    files = manifest.get("files") or {}
    for name in ("meta.json", "memory.sqlite3", CATALOGUE_FILE):
        if name not in members:
            raise ArchiveError(f"the archive has no {name}")
    for name, digest in files.items():
        if name not in members:
            raise ArchiveError(f"the archive has no {name}")
        if hashlib.sha256(members[name]).hexdigest() != digest:
            raise ArchiveError(f"the archive's {name} is damaged (checksum mismatch)")
    return manifest
