"""Low-level storage helpers shared by the tiers: atomic file writes, leftovers of killed writers, SQLite
health checks, moving a broken store aside.

Atomic write = write a temporary file in the same folder, flush + fsync it, `os.replace` it over the target,
fsync the folder. A process killed half-way leaves the old file intact and, at worst, a temporary file named
`.<name>.tmp-<pid>-<random>`; `clean_stale_temps` removes those whose writer is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TEMP_MARK = ".tmp-"
STALE_AFTER = 3600.0  # a temp file older than this is stale even if its pid was reused
SQLITE_MAGIC = b"SQLite format 3\x00"


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_path(target: Path) -> Path:
    return target.with_name(f".{target.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


def atomic_write_bytes(target: Path | str, data: bytes) -> None:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def atomic_write_json(target: Path | str, value: Any) -> None:
    atomic_write_bytes(target, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8"))


@contextlib.contextmanager
def atomic_output(target: Path | str) -> Iterator[Path]:
    """A temporary path to write (by any means) that replaces `target` when the block ends without error."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target)
    try:
        yield tmp
        if tmp.is_file():
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    _fsync_dir(target.parent)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def stale_temps(directory: Path, *, now: float | None = None) -> list[Path]:
    """Temporary files in `directory` (not recursive) left by writers that are gone."""
    found: list[Path] = []
    if not directory.is_dir():
        return found
    now = time.time() if now is None else now
    for entry in directory.iterdir():
        name = entry.name
        if not name.startswith(".") or TEMP_MARK not in name:
            continue
        tail = name.rsplit(TEMP_MARK, 1)[1]
        try:
            pid = int(tail.split("-", 1)[0])
        except ValueError:
            pid = -1
        try:
            age = now - entry.stat().st_mtime
        except OSError:
            continue
        if not _pid_alive(pid) or age > STALE_AFTER:
            found.append(entry)
    return found


def clean_stale_temps(directory: Path) -> list[Path]:
    removed = []
    for path in stale_temps(directory):
        try:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed


def timestamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.localtime()) + f"-{secrets.token_hex(2)}"


def move_aside(path: Path) -> Path | None:
    """Rename a broken store to `<name>.broken-<timestamp>` next to it (kept for inspection). None when it
    did not exist."""
    if not path.exists() and not path.is_symlink():
        return None
    dest = path.with_name(f"{path.name}.broken-{timestamp()}")
    os.replace(path, dest)
    # an SQLite file's journal belongs to it: move it along, or the fresh file would replay it
    for suffix in ("-journal", "-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            with contextlib.suppress(OSError):
                os.replace(side, dest.with_name(dest.name + suffix))
    return dest


# --------------------------------------------------------------------------------------------- sqlite


def sqlite_header_problem(path: Path) -> str | None:
    """What is wrong with an SQLite file judging by its size and header, or None. Cheap: reads 100 bytes.

    Catches what SQLite itself would silently accept or fail on later: a 0-byte file (SQLite opens it as a
    new, empty database), a file shorter than its header, a foreign header, and a file shorter than the page
    count its header records (truncated)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    if size == 0:
        return "is empty (0 bytes)"
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    if len(header) < 100:
        return f"is truncated ({size} bytes, shorter than an SQLite header)"
    if header[:16] != SQLITE_MAGIC:
        return "is not an SQLite database (bad header)"
    page_size = int.from_bytes(header[16:18], "big")
    if page_size == 1:
        page_size = 65536
    if page_size < 512 or page_size & (page_size - 1):
        return "is not an SQLite database (bad page size)"
    if size % page_size:
        return f"is truncated ({size} bytes is not a whole number of {page_size}-byte pages)"
    change_counter = int.from_bytes(header[24:28], "big")
    valid_for = int.from_bytes(header[92:96], "big")
    pages = int.from_bytes(header[28:32], "big")
    if change_counter == valid_for and pages and pages * page_size > size:
        return f"is truncated ({size} bytes, its header records {pages * page_size})"
    return None


def sqlite_problem(path: Path, *, deep: bool = False) -> str | None:
    """`sqlite_header_problem`, then (deep) SQLite's own `PRAGMA quick_check`, read-only."""
    problem = sqlite_header_problem(path)
    if problem or not deep or not path.exists():
        return problem
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        return f"cannot be read by SQLite ({exc})"
    if rows and rows[0][0] != "ok":
        return "is damaged (SQLite quick_check: " + "; ".join(str(r[0]) for r in rows[:3]) + ")"
    return None


def connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(path), timeout=10, check_same_thread=False, isolation_level=None)
    con.execute("PRAGMA busy_timeout=10000")
    con.execute("PRAGMA synchronous=FULL")
    return con


@contextlib.contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): all or nothing, even if the process dies."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def backup_sqlite(src: sqlite3.Connection, dest: Path) -> None:
    """A consistent snapshot of an open database into a new file."""
    out = sqlite3.connect(str(dest))
    try:
        src.backup(out)
    finally:
        out.close()


def dir_size(path: Path) -> int:
    total = 0
    if path.is_file():
        return path.stat().st_size
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total
