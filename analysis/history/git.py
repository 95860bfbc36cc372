"""Reading a repository's history with the `git` CLI (read-only: `git log`, `git rev-parse`, `git rev-list`).

Nothing here writes to the repository, its index or its work tree. `log` streams `git log`'s output: it parses
commits chunk by chunk as git prints them, so a caller can show real progress (`progress(done, total)`, total
from `git rev-list --count`) and stop a long read (`cancel()` returning true kills git and raises
`HistoryCancelled`).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

RECORD = "\x01"
FIELD = "\x1f"
LOG_FORMAT = "%x01%H%x1f%aN%x1f%ct"
CHUNK = 64 * 1024  # bytes of `git log` output read (and parsed) at a time: some 300 commits


class HistoryError(Exception):
    """Git is missing, the folder is not in a git repository, or a revision is unknown (one-line message)."""


class HistoryCancelled(HistoryError):
    """The caller's `cancel()` said stop while the history was being read."""


Progress = Callable[[int, int], None]  # (commits read so far, commits to read)


@dataclass(frozen=True)
class Change:
    """One file of a commit: `status` is git's letter (A, M, D, R, C, T); `old_path` only for R and C."""

    status: str
    path: str
    old_path: str | None = None


@dataclass(frozen=True)
class Commit:
    hash: str
    author: str
    timestamp: int  # committer time, seconds since the epoch
    changes: tuple[Change, ...]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(c.path for c in self.changes)


def _command(root: Path | str, args: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env.update({"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_PAGER": "cat"})
    cmd = ["git", "-C", str(root), "-c", "core.quotepath=off", "-c", "log.showSignature=false", *args]
    return cmd, env


def _failure(root: Path | str, args: Sequence[str], stderr: bytes) -> HistoryError:
    message = stderr.decode("utf-8", "replace").strip().splitlines()
    first = next((line for line in message if line.strip()), f"git {args[0]} failed")
    if "not a git repository" in first.lower():
        return HistoryError(f"{root} is not in a git repository")
    return HistoryError(first.removeprefix("fatal: ").strip())


def _git(root: Path | str, args: Sequence[str]) -> str:
    cmd, env = _command(root, args)
    try:
        proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
    except FileNotFoundError:
        raise HistoryError("git is not installed (or not on PATH)") from None
    if proc.returncode != 0:
        raise _failure(root, args, proc.stderr)
    return proc.stdout.decode("utf-8", "surrogateescape")


def toplevel(path: Path | str) -> Path:
    """The work tree root of the repository holding `path`."""
    return Path(_git(path, ["rev-parse", "--show-toplevel"]).strip())


def resolve(root: Path | str, rev: str) -> str:
    """The full hash of commit `rev`."""
    if rev.startswith("-"):
        raise HistoryError(f"unknown revision {rev}")
    try:
        return _git(
            root, ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"]
        ).strip()
    except HistoryError:
        raise HistoryError(f"unknown revision {rev}") from None


def parents(root: Path | str, rev: str) -> list[str]:
    """The parents of commit `rev` (empty for a root commit)."""
    line = _git(root, ["rev-list", "--parents", "-n", "1", resolve(root, rev)]).split()
    return line[1:]


def head(root: Path | str) -> str | None:
    """The hash of HEAD, or None in a repository without commits."""
    try:
        return _git(root, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]).strip() or None
    except HistoryError:
        _git(root, ["rev-parse", "--git-dir"])  # raises when this is not a repository at all
        return None


def _parse_record(record: str) -> Commit | None:
    """One commit of `git log -z --name-status --format=LOG_FORMAT` output, without its leading RECORD."""
    header, _, rest = record.partition("\0")
    fields = header.split(FIELD)
    if len(fields) != 3:
        return None
    sha, author, ts = fields
    tokens = rest.lstrip("\n").split("\0")
    changes: list[Change] = []
    i = 0
    while i < len(tokens):
        status = tokens[i].strip()
        if not status:
            i += 1
            continue
        letter = status[0]
        if letter in "RC" and i + 2 < len(tokens):
            old, new = tokens[i + 1], tokens[i + 2]
            changes.append(Change(letter, new, old))
            i += 3
        elif i + 1 < len(tokens):
            changes.append(Change(letter, tokens[i + 1]))
            i += 2
        else:
            break
    try:
        stamp = int(ts)
    except ValueError:
        stamp = 0
    return Commit(sha, author, stamp, tuple(changes))


def parse_log(text: str) -> list[Commit]:
    """Parse `git log -z --name-status --format=LOG_FORMAT` output (newest first, as git prints it)."""
    return [c for record in text.split(RECORD) if record and (c := _parse_record(record)) is not None]


def _range(revs: Sequence[str], exclude: Sequence[str]) -> list[str]:
    return list(revs) + [f"^{r}" for r in exclude]


def count(root: Path | str, revs: Sequence[str], exclude: Sequence[str] = ()) -> int:
    """How many non-merge commits `log(root, revs, exclude)` would read (`git rev-list --count`)."""
    if not revs:
        return 0
    return int(_git(root, ["rev-list", "--count", "--no-merges", *_range(revs, exclude), "--"]).strip() or 0)


def log(
    root: Path | str,
    revs: Sequence[str],
    exclude: Sequence[str] = (),
    renames: bool = True,
    *,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    total: int | None = None,
    chunk: int = CHUNK,
) -> list[Commit]:
    """The non-merge commits reachable from `revs` but not from `exclude`, newest first, with their files.

    Read as git prints them, `chunk` bytes at a time: after each chunk `progress(done, total)` (total: `total`,
    or counted with `count` when a progress callback is given) and `cancel()` (true: git is stopped and
    HistoryCancelled raised; nothing is returned)."""
    if not revs:
        return []
    args = ["log", "--no-merges", "-z", "--name-status", "--no-color", f"--format={LOG_FORMAT}"]
    args.append("-M" if renames else "--no-renames")
    args += _range(revs, exclude) + ["--"]
    if progress is not None and total is None:
        total = count(root, revs, exclude)
    cmd, env = _command(root, args)
    commits: list[Commit] = []
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: git never blocks on a full stderr
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, env=env)
        except FileNotFoundError:
            raise HistoryError("git is not installed (or not on PATH)") from None
        assert proc.stdout is not None
        pending = b""
        try:
            while True:
                data = proc.stdout.read(chunk)  # blocks until `chunk` bytes or the end
                if data:
                    pending += data
                    cut = pending.rfind(b"\x01")  # everything before the last record start is complete
                    if cut <= 0:
                        continue
                    ready, pending = pending[:cut], pending[cut:]
                else:
                    ready, pending = pending, b""
                commits += parse_log(ready.decode("utf-8", "surrogateescape"))
                if cancel is not None and cancel():
                    raise HistoryCancelled("reading the history was cancelled")
                if progress is not None:
                    progress(len(commits), max(total or 0, len(commits)))
                if not data:
                    break
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            errors.seek(0)
            raise _failure(root, args, errors.read())
    return commits
