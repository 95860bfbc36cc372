"""Global memory: what the user teaches sophia-artemis across projects - preferences and feedback statistics.

One SQLite file, `global.sqlite3`, in the user data folder (`platformdirs.user_data_dir("sophia-artemis")`)
or `$SOPHIA_ARTEMIS_HOME`. Every change is one transaction, so concurrent editors and command lines never
lose an update and a killed process never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .storage import connect, move_aside, sqlite_problem, transaction

APP_NAME = "sophia-artemis"
ENV_HOME = "SOPHIA_ARTEMIS_HOME"
FILE_NAME = "global.sqlite3"
SCHEMA = 1

_TABLES = """
CREATE TABLE IF NOT EXISTS info(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS preferences(key TEXT PRIMARY KEY, value TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS feedback_stats(
    rule TEXT NOT NULL, action TEXT NOT NULL, count INTEGER NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY(rule, action));
CREATE TABLE IF NOT EXISTS projects(root TEXT PRIMARY KEY, first_seen REAL NOT NULL, last_seen REAL NOT NULL);
"""


def global_dir() -> Path:
    override = os.environ.get(ENV_HOME)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class GlobalMemory:
    def __init__(self, directory: Path | str | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory) if directory is not None else global_dir()
        self._clock = clock
        self._db: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self.repairs: list[str] = []
        self.read_only = False
        self.message: str | None = None

    @property
    def path(self) -> Path:
        return self.directory / FILE_NAME

    @property
    def db(self) -> sqlite3.Connection:
        with self._lock:
            if self._db is None:
                self._db = self._open()
            return self._db

    def _open(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        problem = sqlite_problem(self.path)
        con: sqlite3.Connection | None = None
        if problem is None:
            try:
                con = connect(self.path)
                con.executescript(_TABLES)
            except sqlite3.DatabaseError as exc:
                problem = f"cannot be opened ({exc})"
                if con is not None:
                    con.close()
                con = None
        if con is None:
            aside = move_aside(self.path)
            self.repairs.append(f"{self.path} {problem}; moved to {aside.name if aside else '?'} and recreated empty")
            con = connect(self.path)
            con.executescript(_TABLES)
        row = con.execute("SELECT value FROM info WHERE key = 'schema'").fetchone()
        if row is None:
            con.execute("INSERT OR IGNORE INTO info(key, value) VALUES ('schema', ?)", (str(SCHEMA),))
        elif int(row[0]) > SCHEMA:
            self.read_only = True
            self.message = f"{self.path} was written by a newer sophia-artemis (schema {row[0]}); read-only"
        return con

    def _write(self) -> sqlite3.Connection:
        db = self.db
        if self.read_only:
            from .project import ReadOnlyMemory

            raise ReadOnlyMemory(self.message or "global memory is read-only")
        return db

    # ------------------------------------------------------------------------------------------ preferences

    def get_preference(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self.db.execute("SELECT value FROM preferences WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_preference(self, key: str, value: Any) -> None:
        data = json.dumps(value)
        with self._lock, transaction(self._write()) as db:
            db.execute(
                "INSERT INTO preferences(key, value, updated) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
                (key, data, self._clock()),
            )

    def remove_preference(self, key: str) -> None:
        with self._lock, transaction(self._write()) as db:
            db.execute("DELETE FROM preferences WHERE key = ?", (key,))

    def preferences(self) -> dict[str, Any]:
        with self._lock:
            return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM preferences ORDER BY key")}

    # ------------------------------------------------------------------------------------------ feedback

    def record_feedback(self, rule: str, action: str, count: int = 1) -> None:
        with self._lock, transaction(self._write()) as db:
            db.execute(
                "INSERT INTO feedback_stats(rule, action, count, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(rule, action) DO UPDATE SET count = count + excluded.count, updated = excluded.updated",
                (rule, action, count, self._clock()),
            )

    def feedback_stats(self, rule: str | None = None) -> dict[str, dict[str, int]]:
        sql = "SELECT rule, action, count FROM feedback_stats"
        args: tuple[Any, ...] = ()
        if rule is not None:
            sql += " WHERE rule = ?"
            args = (rule,)
        out: dict[str, dict[str, int]] = {}
        with self._lock:
            for r, action, count in self.db.execute(sql + " ORDER BY rule, action", args):
                out.setdefault(r, {})[action] = int(count)
        return out

    def acceptance_rate(self, rule: str) -> float | None:
        """accepted / (accepted + dismissed) for a rule, None before any feedback."""
        stats = self.feedback_stats(rule).get(rule, {})
        accepted, dismissed = stats.get("accepted", 0), stats.get("dismissed", 0)
        total = accepted + dismissed
        return accepted / total if total else None

    # ------------------------------------------------------------------------------------------ projects

    def note_project(self, root: Path | str) -> None:
        now = self._clock()
        with self._lock, transaction(self._write()) as db:
            db.execute(
                "INSERT INTO projects(root, first_seen, last_seen) VALUES (?, ?, ?) "
                "ON CONFLICT(root) DO UPDATE SET last_seen = excluded.last_seen",
                (str(root), now, now),
            )

    def projects(self) -> list[str]:
        with self._lock:
            return [r for (r,) in self.db.execute("SELECT root FROM projects ORDER BY last_seen DESC")]

    # ------------------------------------------------------------------------------------------ maintenance

    def verify(self) -> list[str]:
        problem = sqlite_problem(self.path, deep=True)
        return [f"global memory {self.path} {problem}"] if problem else []

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
