"""Project memory: `<root>/.sophia/` (or `$SOPHIA_ARTEMIS_PROJECT_DIR`).

Layout
    .gitignore       `*`: the folder never enters the user's git
    meta.json        {"schema": N, ...} plus the semantic index manifest; written atomically
    memory.sqlite3   notes on symbols and files, suppression reasons, feedback records (SQLite transactions)
    cache/           diskcache: keyed analysis data (safe to lose)
    session/         diskcache: session events (see session.py)
    index.sqlite3    the chunk catalogue of semantic memory (see semantic.py)
    chroma/          the vector store of semantic memory

Versioning. `SCHEMA` is the layout version. Opening an older store runs the forward migrations in
`MIGRATIONS` one version at a time (a migration may instead rebuild what it cannot convert: derived data is
dropped and recomputed; user data - notes, reasons, feedback - is carried over). Opening a store written by a
newer version never writes to it: the memory is read-only and `message` says why. A store that cannot be read
is moved aside (`<name>.broken-<timestamp>`), recreated, and the fact reported in `repairs`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .storage import (
    atomic_write_bytes,
    atomic_write_json,
    clean_stale_temps,
    connect,
    move_aside,
    sqlite_problem,
    stale_temps,
    transaction,
)

log = logging.getLogger(__name__)

SCHEMA = 1
DIR_NAME = ".sophia"
ENV_DIR = "SOPHIA_ARTEMIS_PROJECT_DIR"
GITIGNORE = "*\n"
CACHE_SIZE_LIMIT = 256 * 1024 * 1024

_TABLES = """
CREATE TABLE IF NOT EXISTS notes(
    id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, text TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS notes_target ON notes(target);
CREATE TABLE IF NOT EXISTS suppressions(
    target TEXT NOT NULL, rule TEXT NOT NULL, reason TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY(target, rule));
CREATE TABLE IF NOT EXISTS feedback(
    id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, rule TEXT, action TEXT NOT NULL,
    detail TEXT, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS feedback_rule ON feedback(rule);
CREATE TABLE IF NOT EXISTS snapshots(
    id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, data TEXT NOT NULL);
"""


class ReadOnlyMemory(RuntimeError):
    """Raised by writes to a memory opened read-only (written by a newer version)."""


def memory_dir(root: Path | str) -> Path:
    """Where the project memory of `root` lives: `$SOPHIA_ARTEMIS_PROJECT_DIR` (relative = to the root) or
    `<root>/.sophia`."""
    root = Path(root)
    override = os.environ.get(ENV_DIR)
    if override:
        p = Path(override).expanduser()
        return p if p.is_absolute() else (root / p)
    return root / DIR_NAME


def symbol_target(path: str, qualname: str | None = None) -> str:
    """The key notes and reasons attach to: `path::qualname` for a symbol, `path` for a file."""
    return f"{path}::{qualname}" if qualname else path


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    target: str
    text: str
    created: float
    updated: float

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "target": self.target, "text": self.text, "created": self.created, "updated": self.updated}


@dataclass(frozen=True, slots=True)
class Feedback:
    id: int
    target: str
    rule: str | None
    action: str
    detail: str | None
    created: float

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "target": self.target, "rule": self.rule, "action": self.action,
                "detail": self.detail, "created": self.created}


Migration = Callable[["ProjectMemory", dict[str, Any]], dict[str, Any]]


def _migrate_0_to_1(memory: ProjectMemory, meta: dict[str, Any]) -> dict[str, Any]:
    """Schema 0 (pre-release stores without a schema field): the derived stores had another layout; they are
    dropped and rebuilt on the next index. Notes and feedback (memory.sqlite3) are kept: its tables are created
    if missing, which is all version 1 adds there."""
    for name in ("index.sqlite3", "chroma", "cache"):
        path = memory.directory / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
    meta = {k: v for k, v in meta.items() if k not in ("semantic", "index")}
    meta["schema"] = 1
    return meta


MIGRATIONS: dict[int, Migration] = {0: _migrate_0_to_1}


class ProjectMemory:
    """The project's memory folder and the stores inside it that are not semantic.

    Cheap to construct (no I/O); `open()` (called by every accessor) creates or repairs the folder. `verify()`
    checks the files on disk without changing anything."""

    def __init__(self, root: Path | str, *, directory: Path | str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = Path(root).resolve()
        self.directory = Path(directory) if directory is not None else memory_dir(self.root)
        self._clock = clock
        self.read_only = False
        self.message: str | None = None  # why the memory is read-only
        self.repairs: list[str] = []  # what open() found broken and fixed
        self.migrated_from: int | None = None
        self._opened = False
        self._db: sqlite3.Connection | None = None
        self._cache: Any = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------------------------------ paths

    @property
    def meta_path(self) -> Path:
        return self.directory / "meta.json"

    @property
    def db_path(self) -> Path:
        return self.directory / "memory.sqlite3"

    @property
    def cache_dir(self) -> Path:
        return self.directory / "cache"

    @property
    def session_dir(self) -> Path:
        return self.directory / "session"

    @property
    def exists(self) -> bool:
        return self.directory.is_dir()

    # ------------------------------------------------------------------------------------------ opening

    def open(self) -> ProjectMemory:
        with self._lock:
            if self._opened:
                return self
            self._opened = True
            d = self.directory
            if not d.exists():
                d.mkdir(parents=True, exist_ok=True)
            for removed in clean_stale_temps(d):
                log.info("removed %s, left by an interrupted write", removed)
            gi = d / ".gitignore"
            try:
                current = gi.read_text(encoding="utf-8") if gi.exists() else None
            except OSError:
                current = None
            if current is None or "*" not in current.split():
                atomic_write_bytes(gi, GITIGNORE.encode())
            self._open_meta()
            return self

    def _open_meta(self) -> None:
        meta, problem = self._read_meta()
        if problem is not None:
            if self.meta_path.exists():
                aside = move_aside(self.meta_path)
                self.repairs.append(f"{self.meta_path} {problem}; moved to {aside.name if aside else '?'} and recreated")
            meta = None
        if meta is None:
            # a new store, or one whose meta was lost: anything derived is rebuilt from scratch
            fresh = {"schema": SCHEMA, "created": self._clock()}
            if problem is not None:
                fresh["semantic"] = {"unknown": True}
            atomic_write_json(self.meta_path, fresh)
            return
        schema = meta.get("schema", 0)
        if not isinstance(schema, int) or isinstance(schema, bool) or schema < 0:
            aside = move_aside(self.meta_path)
            self.repairs.append(f"{self.meta_path} has an invalid schema {schema!r}; moved to "
                                f"{aside.name if aside else '?'} and recreated")
            atomic_write_json(self.meta_path, {"schema": SCHEMA, "created": self._clock(), "semantic": {"unknown": True}})
            return
        if schema > SCHEMA:
            self.read_only = True
            self.message = (
                f"the project memory in {self.directory} was written by a newer sophia-artemis "
                f"(schema {schema}, this version reads up to {SCHEMA}); it is used read-only - upgrade "
                f"sophia-artemis, or run `sophia-artemis memory clear` to start over with this version"
            )
            log.warning("%s", self.message)
            return
        if schema < SCHEMA:
            self._migrate(meta, schema)

    def _read_meta(self) -> tuple[dict[str, Any] | None, str | None]:
        try:
            raw = self.meta_path.read_bytes()
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            return None, f"cannot be read ({exc.strerror or exc})"
        try:
            meta = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return None, f"is not valid JSON ({'0 bytes' if not raw else exc})"
        if not isinstance(meta, dict):
            return None, "is not a JSON object"
        return meta, None

    def _migrate(self, meta: dict[str, Any], schema: int) -> None:
        start = schema
        self._close_stores()
        while schema < SCHEMA:
            step = MIGRATIONS.get(schema)
            if step is None:  # no way forward from here: rebuild everything derived
                meta = _migrate_0_to_1(self, meta)
                meta["schema"] = SCHEMA
                break
            try:
                meta = step(self, dict(meta))
            except Exception as exc:  # a failed migration rebuilds instead of crashing
                log.exception("migrating the project memory from schema %d failed", schema)
                self.repairs.append(f"migrating {self.directory} from schema {schema} failed ({exc}); rebuilt")
                meta = _migrate_0_to_1(self, {})
                meta["schema"] = SCHEMA
                break
            schema = int(meta.get("schema", schema + 1))
        meta["schema"] = SCHEMA
        meta["migrated_from"] = start
        atomic_write_json(self.meta_path, meta)
        self.migrated_from = start
        log.info("project memory %s migrated from schema %d to %d", self.directory, start, SCHEMA)

    # ------------------------------------------------------------------------------------------ meta

    def meta(self) -> dict[str, Any]:
        self.open()
        meta, _ = self._read_meta()
        return meta or {"schema": SCHEMA}

    def peek_meta(self) -> dict[str, Any]:
        """meta.json as it is on disk, without opening (or repairing) anything; {} when unreadable."""
        meta, _ = self._read_meta()
        return meta or {}

    def update_meta(self, **changes: Any) -> dict[str, Any]:
        """Merge `changes` into meta.json (atomic replace)."""
        with self._lock:
            self._writable()
            meta = self.meta()
            meta.update(changes)
            meta["schema"] = SCHEMA
            atomic_write_json(self.meta_path, meta)
            return meta

    def _writable(self) -> None:
        self.open()
        if self.read_only:
            raise ReadOnlyMemory(self.message or "the project memory is read-only")

    # ------------------------------------------------------------------------------------------ sqlite

    @property
    def db(self) -> sqlite3.Connection:
        with self._lock:
            self.open()
            if self._db is None:
                self._db = self._open_db()
            return self._db

    def _open_db(self) -> sqlite3.Connection:
        path = self.db_path
        if self.read_only:
            if not path.exists():
                con = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
                con.executescript(_TABLES)
                return con
            return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
        problem = sqlite_problem(path)
        if problem is None and path.exists():
            try:
                con = connect(path)
                con.executescript(_TABLES)
                return con
            except sqlite3.DatabaseError as exc:
                problem = f"cannot be opened ({exc})"
        if problem is not None:
            aside = move_aside(path)
            self.repairs.append(f"{path} {problem}; moved to {aside.name if aside else '?'} and recreated empty")
        con = connect(path)
        con.executescript(_TABLES)
        return con

    # ------------------------------------------------------------------------------------------ cache

    @property
    def cache(self) -> Any:
        """diskcache.Cache for keyed analysis data (values are pickled; never imported from an archive)."""
        with self._lock:
            self.open()
            if self._cache is None:
                self._cache = self._open_diskcache(self.cache_dir)
            return self._cache

    def _open_diskcache(self, directory: Path) -> Any:
        import diskcache

        if self.read_only:
            return {}  # opening diskcache writes its settings; a read-only memory works without the cache
        problem = sqlite_problem(directory / "cache.db")
        if problem is None:
            try:
                cache = diskcache.Cache(str(directory), size_limit=CACHE_SIZE_LIMIT)
                len(cache)
                return cache
            except Exception as exc:  # sqlite3.DatabaseError and friends: garbage where the cache was
                problem = f"cannot be opened ({exc.__class__.__name__}: {exc})"
        aside = move_aside(directory)
        self.repairs.append(f"analysis cache {directory} {problem}; moved to {aside.name if aside else '?'} and recreated")
        return diskcache.Cache(str(directory), size_limit=CACHE_SIZE_LIMIT)

    def session_problem(self) -> str | None:
        """Checks (and repairs) the session store's folder before SessionMemory opens it."""
        directory = self.session_dir
        problem = sqlite_problem(directory / "cache.db")
        if problem is None:
            return None
        if self.read_only:
            return f"session memory {directory} {problem}"
        aside = move_aside(directory)
        msg = f"session memory {directory} {problem}; moved to {aside.name if aside else '?'} and recreated"
        self.repairs.append(msg)
        return msg

    def cache_get(self, key: str, default: Any = None) -> Any:
        return self.cache.get(key, default)

    def cache_set(self, key: str, value: Any, *, tag: str | None = None, expire: float | None = None) -> None:
        if self.read_only:
            return
        self.cache.set(key, value, tag=tag, expire=expire)

    # ------------------------------------------------------------------------------------------ snapshots

    def add_snapshot(self, data: dict[str, Any]) -> bool:
        """Record a debt snapshot (one per index run). A run that changed nothing since the last snapshot
        only moves that snapshot's time forward, so restarts do not flood the trend. True when added."""
        self._writable()
        text = json.dumps(data, sort_keys=True)
        with self._lock, transaction(self.db) as con:
            last = con.execute("SELECT id, data FROM snapshots ORDER BY id DESC LIMIT 1").fetchone()
            if last is not None and last[1] == text:
                con.execute("UPDATE snapshots SET created = ? WHERE id = ?", (self._clock(), last[0]))
                return False
            con.execute("INSERT INTO snapshots(created, data) VALUES (?, ?)", (self._clock(), text))
            return True

    def snapshots(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest debt snapshots, oldest first: each `{"time": ..., **data}`."""
        with self._lock:
            rows = self.db.execute(
                "SELECT created, data FROM snapshots ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [{"time": created, **json.loads(data)} for created, data in reversed(rows)]

    # ------------------------------------------------------------------------------------------ notes

    def add_note(self, path: str, qualname: str | None, text: str) -> Note:
        self._writable()
        now = self._clock()
        target = symbol_target(path, qualname)
        with self._lock, transaction(self.db) as db:
            cur = db.execute("INSERT INTO notes(target, text, created, updated) VALUES (?, ?, ?, ?)", (target, text, now, now))
            note_id = int(cur.lastrowid or 0)
        return Note(note_id, target, text, now, now)

    def update_note(self, note_id: int, text: str) -> bool:
        self._writable()
        with self._lock, transaction(self.db) as db:
            cur = db.execute("UPDATE notes SET text = ?, updated = ? WHERE id = ?", (text, self._clock(), note_id))
            return cur.rowcount > 0

    def remove_note(self, note_id: int) -> bool:
        self._writable()
        with self._lock, transaction(self.db) as db:
            return db.execute("DELETE FROM notes WHERE id = ?", (note_id,)).rowcount > 0

    def notes(self, path: str | None = None, qualname: str | None = None) -> list[Note]:
        """Notes on one symbol (path + qualname), on one file and its symbols (path), or all."""
        sql = "SELECT id, target, text, created, updated FROM notes"
        args: tuple[Any, ...] = ()
        if path is not None and qualname:
            sql += " WHERE target = ?"
            args = (symbol_target(path, qualname),)
        elif path is not None:
            sql += " WHERE target = ? OR target LIKE ? ESCAPE '\\'"
            args = (path, _like_prefix(path + "::"))
        with self._lock:
            rows = self.db.execute(sql + " ORDER BY id", args).fetchall()
        return [Note(*row) for row in rows]

    # ------------------------------------------------------------------------------------------ suppressions

    def set_suppression_reason(self, path: str, qualname: str | None, rule: str, reason: str) -> None:
        self._writable()
        with self._lock, transaction(self.db) as db:
            db.execute(
                "INSERT INTO suppressions(target, rule, reason, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(target, rule) DO UPDATE SET reason = excluded.reason",
                (symbol_target(path, qualname), rule, reason, self._clock()),
            )

    def suppression_reasons(self, path: str | None = None) -> dict[tuple[str, str], str]:
        """{(target, rule): reason}, for one file (and its symbols) or all."""
        sql = "SELECT target, rule, reason FROM suppressions"
        args: tuple[Any, ...] = ()
        if path is not None:
            sql += " WHERE target = ? OR target LIKE ? ESCAPE '\\'"
            args = (path, _like_prefix(path + "::"))
        with self._lock:
            return {(t, r): reason for t, r, reason in self.db.execute(sql, args).fetchall()}

    # ------------------------------------------------------------------------------------------ feedback

    def record_feedback(self, path: str, qualname: str | None, action: str, *, rule: str | None = None,
                        detail: str | None = None) -> Feedback:
        """An action on a suggestion: `accepted`, `dismissed`, `suppressed`, `opened`..."""
        self._writable()
        now = self._clock()
        target = symbol_target(path, qualname)
        with self._lock, transaction(self.db) as db:
            cur = db.execute(
                "INSERT INTO feedback(target, rule, action, detail, created) VALUES (?, ?, ?, ?, ?)",
                (target, rule, action, detail, now),
            )
        return Feedback(int(cur.lastrowid or 0), target, rule, action, detail, now)

    def feedback(self, *, rule: str | None = None, limit: int = 1000) -> list[Feedback]:
        sql = "SELECT id, target, rule, action, detail, created FROM feedback"
        args: tuple[Any, ...] = ()
        if rule is not None:
            sql += " WHERE rule = ?"
            args = (rule,)
        with self._lock:
            rows = self.db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [Feedback(*row) for row in rows]

    # ------------------------------------------------------------------------------------------ maintenance

    def counts(self) -> dict[str, int]:
        with self._lock:
            db = self.db
            return {
                "notes": db.execute("SELECT COUNT(*) FROM notes").fetchone()[0],
                "suppression_reasons": db.execute("SELECT COUNT(*) FROM suppressions").fetchone()[0],
                "feedback": db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0],
            }

    def verify(self) -> list[str]:
        """Problems of the files on disk (nothing is changed); [] = healthy or not created yet."""
        d = self.directory
        if not d.exists():
            return []
        problems: list[str] = []
        gi = d / ".gitignore"
        try:
            if "*" not in gi.read_text(encoding="utf-8").split():
                problems.append(f"{gi} does not ignore everything (`*`): the memory could enter git")
        except OSError:
            problems.append(f"{gi} is missing: the memory could enter git")
        meta, problem = self._read_meta()
        if problem is not None:
            problems.append(f"{self.meta_path} {problem}")
        elif meta is None:
            problems.append(f"{self.meta_path} is missing")
        else:
            schema = meta.get("schema", 0)
            if not isinstance(schema, int) or isinstance(schema, bool):
                problems.append(f"{self.meta_path} has no valid schema number ({schema!r})")
            elif schema > SCHEMA:
                problems.append(f"{self.meta_path} has schema {schema}, newer than this version reads ({SCHEMA}); read-only")
            elif schema < SCHEMA and not self._opened:
                problems.append(f"{self.meta_path} has schema {schema}; it will be migrated to {SCHEMA} when opened")
        for path in (self.db_path,):
            problem = sqlite_problem(path, deep=True)
            if problem:
                problems.append(f"{path} {problem}")
        for label, directory in (("analysis cache", self.cache_dir), ("session memory", self.session_dir)):
            if directory.exists() and not directory.is_dir():
                problems.append(f"{label} {directory} is not a folder")
                continue
            problem = sqlite_problem(directory / "cache.db", deep=True)
            if problem:
                problems.append(f"{label} {directory / 'cache.db'} {problem}")
        stale = stale_temps(d)
        if stale:
            problems.append(
                f"{len(stale)} temporary file(s) left by an interrupted write in {d} "
                f"({', '.join(p.name for p in stale[:3])}); removed when the memory is next opened"
            )
        return problems

    def _close_stores(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._cache is not None and hasattr(self._cache, "close"):
            self._cache.close()
        self._cache = None

    def close(self) -> None:
        with self._lock:
            self._close_stores()
            self._opened = False
            self.repairs = list(self.repairs)


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
