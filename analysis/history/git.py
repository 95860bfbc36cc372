"""Reading a repository's history with the `git` CLI (read-only: `git log`, `git rev-parse`, `git rev-list`).

Nothing here writes to the repository, its index or its work tree.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

RECORD = "\x01"
FIELD = "\x1f"
LOG_FORMAT = "%x01%H%x1f%aN%x1f%ct"


class HistoryError(Exception):
    """Git is missing, the folder is not in a git repository, or a revision is unknown (one-line message)."""


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


def _git(root: Path | str, args: Sequence[str]) -> str:
    env = dict(os.environ)
    env.update({"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_PAGER": "cat"})
    cmd = ["git", "-C", str(root), "-c", "core.quotepath=off", "-c", "log.showSignature=false", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
    except FileNotFoundError:
        raise HistoryError("git is not installed (or not on PATH)") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        first = next((line for line in message if line.strip()), f"git {args[0]} failed")
        if "not a git repository" in first.lower():
            raise HistoryError(f"{root} is not in a git repository")
        raise HistoryError(first.removeprefix("fatal: ").strip())
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


def parse_log(text: str) -> list[Commit]:
    """Parse `git log -z --name-status --format=LOG_FORMAT` output (newest first, as git prints it)."""
    commits: list[Commit] = []
    for record in text.split(RECORD):
        if not record:
            continue
        header, _, rest = record.partition("\0")
        fields = header.split(FIELD)
        if len(fields) != 3:
            continue
        sha, author, ts = fields
        tokens = [t for t in rest.lstrip("\n").split("\0")]
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
        commits.append(Commit(sha, author, stamp, tuple(changes)))
    return commits


def log(
    root: Path | str, revs: Sequence[str], exclude: Sequence[str] = (), renames: bool = True
) -> list[Commit]:
    """The non-merge commits reachable from `revs` but not from `exclude`, newest first, with their files."""
    if not revs:
        return []
    args = ["log", "--no-merges", "-z", "--name-status", "--no-color", f"--format={LOG_FORMAT}"]
    args.append("-M" if renames else "--no-renames")
    args += list(revs) + [f"^{r}" for r in exclude] + ["--"]
    return parse_log(_git(root, args))
