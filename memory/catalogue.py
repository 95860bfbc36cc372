"""The chunk catalogue of semantic memory: `index.sqlite3`.

It is the source of truth for what the project contains (files with their size and mtime, chunks with their
location, hash, redacted text, embedding text and lexical terms) and for which chunks have a vector (the
`embedded` column holds the id of the model that made it). The vector store only holds vectors; lexical search
runs from this catalogue alone, so it works without chromadb.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis.chunks import Chunk, embedding_text, lexical_text, tokens
from .storage import connect, transaction

_TABLES = """
CREATE TABLE IF NOT EXISTS info(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
    key TEXT PRIMARY KEY, path TEXT NOT NULL, qualname TEXT NOT NULL, kind TEXT NOT NULL,
    sl INTEGER NOT NULL, sc INTEGER NOT NULL, el INTEGER NOT NULL, ec INTEGER NOT NULL,
    hash TEXT NOT NULL, text TEXT NOT NULL, etext TEXT NOT NULL, terms TEXT NOT NULL,
    embedded TEXT, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
CREATE INDEX IF NOT EXISTS chunks_embedded ON chunks(embedded);
"""


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    path: str
    qualname: str
    kind: str
    range: tuple[int, int, int, int]
    hash: str


@dataclass(slots=True)
class FileChange:
    added: list[str]
    changed: list[str]
    removed: list[str]
    rows: list[Row]  # every chunk of the file now (moved ones carry their new range)
    terms: dict[str, list[str]]  # terms of added and changed chunks


class Catalogue:
    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._lock = threading.RLock()
        if read_only:
            if path.exists():
                self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
            else:
                self.db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
                self.db.executescript(_TABLES)
        else:
            self.db = connect(path)
            self.db.executescript(_TABLES)
        row = self.db.execute("SELECT MAX(seq) FROM chunks").fetchone()
        self._seq = int(row[0] or 0)

    def close(self) -> None:
        with self._lock:
            self.db.close()

    # ------------------------------------------------------------------------------------------ files

    def file_stats(self) -> dict[str, tuple[int, int]]:
        with self._lock:
            return {p: (m, s) for p, m, s in self.db.execute("SELECT path, mtime_ns, size FROM files")}

    def apply_file(self, path: str, mtime_ns: int, size: int, chunks: Sequence[Chunk]) -> FileChange:
        """Replace the chunks of one file (one transaction). A chunk whose hash did not change keeps its
        vector; its range is updated."""
        with self._lock:
            old = {k: (h, e) for k, h, e in self.db.execute("SELECT key, hash, embedded FROM chunks WHERE path = ?", (path,))}
            added: list[str] = []
            changed: list[str] = []
            rows: list[Row] = []
            terms: dict[str, list[str]] = {}
            with transaction(self.db) as db:
                db.execute(
                    "INSERT INTO files(path, mtime_ns, size) VALUES (?, ?, ?) "
                    "ON CONFLICT(path) DO UPDATE SET mtime_ns = excluded.mtime_ns, size = excluded.size",
                    (path, mtime_ns, size),
                )
                for c in chunks:
                    r = c.range
                    rng = (r.start.line, r.start.character, r.end.line, r.end.character)
                    rows.append(Row(c.key, c.path, c.qualname, c.kind, rng, c.hash))
                    before = old.get(c.key)
                    if before is not None and before[0] == c.hash:
                        db.execute("UPDATE chunks SET sl = ?, sc = ?, el = ?, ec = ? WHERE key = ?", (*rng, c.key))
                        continue
                    t = tokens(lexical_text(c))
                    terms[c.key] = t
                    self._seq += 1
                    db.execute(
                        "INSERT INTO chunks(key, path, qualname, kind, sl, sc, el, ec, hash, text, etext, terms, embedded, seq) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?) "
                        "ON CONFLICT(key) DO UPDATE SET path = excluded.path, qualname = excluded.qualname, "
                        "kind = excluded.kind, sl = excluded.sl, sc = excluded.sc, el = excluded.el, ec = excluded.ec, "
                        "hash = excluded.hash, text = excluded.text, etext = excluded.etext, terms = excluded.terms, "
                        "embedded = NULL, seq = excluded.seq",
                        (c.key, c.path, c.qualname, c.kind, *rng, c.hash, c.text, embedding_text(c), " ".join(t), self._seq),
                    )
                    (changed if before is not None else added).append(c.key)
                current = {c.key for c in chunks}
                removed = [k for k in old if k not in current]
                db.executemany("DELETE FROM chunks WHERE key = ?", [(k,) for k in removed])
            return FileChange(added, changed, removed, rows, terms)

    def remove_file(self, path: str) -> list[str]:
        with self._lock:
            keys = [k for (k,) in self.db.execute("SELECT key FROM chunks WHERE path = ?", (path,))]
            with transaction(self.db) as db:
                db.execute("DELETE FROM chunks WHERE path = ?", (path,))
                db.execute("DELETE FROM files WHERE path = ?", (path,))
            return keys

    # ------------------------------------------------------------------------------------------ chunks

    def count(self) -> int:
        with self._lock:
            return int(self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def file_count(self) -> int:
        with self._lock:
            return int(self.db.execute("SELECT COUNT(*) FROM files").fetchone()[0])

    def rows(self) -> Iterator[tuple[Row, list[str]]]:
        """Every chunk with its lexical terms, in index order."""
        with self._lock:
            data = self.db.execute(
                "SELECT key, path, qualname, kind, sl, sc, el, ec, hash, terms FROM chunks ORDER BY seq"
            ).fetchall()
        for key, path, qn, kind, sl, sc, el, ec, h, terms in data:
            yield Row(key, path, qn, kind, (sl, sc, el, ec), h), terms.split()

    def pending(self, model: str) -> list[tuple[str, str, str, str, str, str, str]]:
        """(key, path, qualname, kind, hash, text, etext) of the chunks without a vector of `model`."""
        with self._lock:
            return self.db.execute(
                "SELECT key, path, qualname, kind, hash, text, etext FROM chunks "
                "WHERE embedded IS NULL OR embedded != ? ORDER BY seq",
                (model,),
            ).fetchall()

    def pending_count(self, model: str) -> int:
        with self._lock:
            return int(self.db.execute(
                "SELECT COUNT(*) FROM chunks WHERE embedded IS NULL OR embedded != ?", (model,)).fetchone()[0])

    def mark_embedded(self, keys: Iterable[str], model: str) -> None:
        with self._lock, transaction(self.db) as db:
            db.executemany("UPDATE chunks SET embedded = ? WHERE key = ?", [(model, k) for k in keys])

    def reset_embedded(self) -> None:
        with self._lock, transaction(self.db) as db:
            db.execute("UPDATE chunks SET embedded = NULL")

    def embedded_keys(self, model: str) -> list[str]:
        with self._lock:
            return [k for (k,) in self.db.execute("SELECT key FROM chunks WHERE embedded = ? ORDER BY seq", (model,))]

    def embedded_count(self, model: str) -> int:
        with self._lock:
            return int(self.db.execute("SELECT COUNT(*) FROM chunks WHERE embedded = ?", (model,)).fetchone()[0])

    def keys(self) -> set[str]:
        with self._lock:
            return {k for (k,) in self.db.execute("SELECT key FROM chunks")}

    def digest(self, model: str) -> str:
        """A digest of (key, hash) of the chunks with a vector of `model`: the manifest records it."""
        h = hashlib.blake2b(digest_size=16)
        with self._lock:
            for key, hsh in self.db.execute("SELECT key, hash FROM chunks WHERE embedded = ? ORDER BY key", (model,)):
                h.update(key.encode("utf-8", "replace") + b"\x00" + hsh.encode() + b"\x00")
        return h.hexdigest()

    def texts(self, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
        """{key: (text, etext)}"""
        out: dict[str, tuple[str, str]] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                part = list(keys[i:i + 500])
                marks = ",".join("?" * len(part))
                for k, t, e in self.db.execute(f"SELECT key, text, etext FROM chunks WHERE key IN ({marks})", part):
                    out[k] = (t, e)
        return out

    def info(self, key: str) -> Any:
        with self._lock:
            row = self.db.execute("SELECT value FROM info WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_info(self, key: str, value: str) -> None:
        with self._lock, transaction(self.db) as db:
            db.execute("INSERT INTO info(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (key, value))

    def clear(self) -> None:
        with self._lock, transaction(self.db) as db:
            db.execute("DELETE FROM chunks")
            db.execute("DELETE FROM files")
