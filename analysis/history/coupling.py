"""Churn, authors and change coupling mined from `git log` (Code-Maat style, with recency weighting).

`mine(root)` reads the history once (one `git log`); `History.related(path)` ranks the files that changed
together with `path`: confidence = decayed weight of the commits touching both / decayed weight of the commits
touching `path`, where a commit's weight halves every `half_life_days` before the newest commit considered.
Commits touching more than `max_files` files (mass reformatting, vendoring, license headers) are ignored for
coupling. A module and its test file by name (`x.py` and `test_x.py`, `x_test.py`, `x.test.ts`) get
`test_pair_bonus` added to their score, even without a shared commit yet. Renames are followed: an older path maps to the name the file has at the newest commit, and files
deleted by then are never suggested. `mine(root, at=REV)` only reads the history reachable from REV's parents;
`History.extend(root)` reads only the commits after the known head (the structure is plain data, picklable).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sophia_artemis.analysis.history import git
from sophia_artemis.analysis.history.git import Commit

DEFAULT_MAX_FILES = 30
DEFAULT_HALF_LIFE_DAYS = 365.0
DEFAULT_MIN_SUPPORT = 1
DEFAULT_TEST_PAIR_BONUS = (
    0.3  # tuned on bench/cochange_replay.py (neutral on click, +2.4 points @3 on requests)
)
SECONDS_PER_DAY = 86400.0


def _stem(path: str) -> str:
    name = path.rpartition("/")[2]
    return name.partition(".")[0] if not name.startswith(".") else name


def _partner_stems(path: str) -> set[str]:
    """Stems of the files a test and the module it tests would have: `x` <-> `test_x`, `x_test`, `x.test`."""
    name = path.rpartition("/")[2]
    stem = _stem(path)
    parts = name.split(".")
    if stem.startswith("test_"):
        return {stem[5:]}
    if stem.endswith("_test"):
        return {stem[:-5]}
    if len(parts) > 2 and parts[1] in ("test", "spec"):
        return {parts[0]}
    return {f"test_{stem}", f"{stem}_test"}


def _is_partner(path: str, candidate: str, stems: set[str]) -> bool:
    name = candidate.rpartition("/")[2]
    parts = name.split(".")
    if _stem(candidate) in stems:
        return True
    return len(parts) > 2 and parts[1] in ("test", "spec") and f"test_{parts[0]}" in stems


@dataclass(frozen=True)
class Related:
    path: str  # relative to the repository root, with `/`
    score: float  # confidence, 0..1
    support: int  # commits touching both
    changes: int  # (non-ignored) commits touching the query file
    last_together: int  # timestamp of the newest commit touching both
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "score": round(self.score, 4), "reasons": list(self.reasons)}


@dataclass
class FileStats:
    commits: int = 0
    authors: dict[str, int] = field(default_factory=dict)
    first: int = 0
    last: int = 0


@dataclass
class History:
    """The mined history: raw commits (newest first) and the revisions they were read from."""

    commits: list[Commit]
    heads: tuple[str, ...]  # the revisions mined (their ancestors are all in `commits`)
    max_files: int = DEFAULT_MAX_FILES
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    _index: Any = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ derived data (rebuilt lazily)

    def _build(self) -> Any:
        if self._index is not None:
            return self._index
        alias: dict[str, str] = {}  # a path as an older commit names it -> its name at the newest commit
        alive: dict[str, bool] = {}  # canonical path -> still present at the newest commit
        files_of: list[tuple[str, ...]] = []
        renamed: dict[str, str] = {}  # an old path -> the file's name at the newest commit (latest rename)
        for commit in self.commits:  # newest first
            names: list[str] = []
            for change in commit.changes:
                canon = alias.get(change.path, change.path)
                if canon not in alive:
                    alive[canon] = change.status != "D"
                names.append(canon)
            for change in commit.changes:
                if change.status == "R" and change.old_path:
                    alias[change.old_path] = alias.get(change.path, change.path)
                    renamed.setdefault(change.old_path, alias[change.old_path])
                elif change.status == "A":  # before its creation this path named another (deleted) file
                    alias.pop(change.path, None)
            files_of.append(tuple(dict.fromkeys(names)))
        by_file: dict[str, list[int]] = defaultdict(list)
        for i, names in enumerate(files_of):
            for name in names:
                by_file[name].append(i)
        self._index = (files_of, dict(by_file), alive, renamed)
        return self._index

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_index"] = None
        return state

    @property
    def newest(self) -> int:
        return max((c.timestamp for c in self.commits), default=0)

    def canonical(self, path: str) -> str:
        """The name at the newest commit of a file an older commit called `path`."""
        _, _, alive, renamed = self._build()
        return path if alive.get(path, False) else renamed.get(path, path)

    def files(self) -> list[str]:
        """Files present at the newest commit, as far as the history shows."""
        _, by_file, alive, _ = self._build()
        return sorted(p for p in by_file if alive.get(p, False))

    def knows(self, path: str) -> bool:
        return self.canonical(path) in self._build()[1]

    def stats(self, path: str) -> FileStats:
        """Churn (commits), authors (commits per author), first and last change of `path`."""
        _, by_file, _, _ = self._build()
        out = FileStats()
        for i in by_file.get(self.canonical(path), []):
            c = self.commits[i]
            out.commits += 1
            out.authors[c.author] = out.authors.get(c.author, 0) + 1
            out.first = c.timestamp if not out.first else min(out.first, c.timestamp)
            out.last = max(out.last, c.timestamp)
        return out

    def churn(self) -> dict[str, int]:
        """Commits per (canonical) file, deleted files included."""
        return {p: len(ix) for p, ix in self._build()[1].items()}

    # ------------------------------------------------------------------ coupling

    def related(
        self,
        path: str,
        k: int = 5,
        min_support: int = DEFAULT_MIN_SUPPORT,
        include_deleted: bool = False,
        test_pair_bonus: float = DEFAULT_TEST_PAIR_BONUS,
    ) -> list[Related]:
        """The `k` files most likely to change with `path`, best first."""
        files_of, by_file, alive, _ = self._build()
        target = self.canonical(path)
        newest = self.newest
        decay = math.log(2) / (self.half_life_days * SECONDS_PER_DAY) if self.half_life_days > 0 else 0.0
        total = 0.0
        changes = 0
        weight: dict[str, float] = defaultdict(float)
        support: dict[str, int] = defaultdict(int)
        last: dict[str, int] = {}
        for i in by_file.get(target, []):
            names = files_of[i]
            if len(names) > self.max_files:
                continue
            ts = self.commits[i].timestamp
            w = math.exp(-decay * max(0, newest - ts))
            total += w
            changes += 1
            for other in names:
                if other == target:
                    continue
                weight[other] += w
                support[other] += 1
                if ts > last.get(other, -1):
                    last[other] = ts
        if not total:
            return []
        folder = target.rpartition("/")[0]
        candidates = [
            p for p in weight if support[p] >= min_support and (include_deleted or alive.get(p, False))
        ]
        bonus: dict[str, float] = {}
        if test_pair_bonus:
            stems = _partner_stems(target)
            for p in by_file:
                if alive.get(p, False) and p != target and _is_partner(target, p, stems):
                    bonus[p] = test_pair_bonus
                    if p not in weight:
                        candidates.append(p)
                        last[p] = 0
        score = {p: weight.get(p, 0.0) / total + bonus.get(p, 0.0) for p in candidates}
        candidates.sort(
            key=lambda p: (
                -round(score[p], 9),
                -support[p],
                p.rpartition("/")[0] != folder,
                -last[p],
                p,
            )
        )
        out = []
        for p in candidates[: max(0, k)]:
            reasons: tuple[str, ...] = (f"changed together in {support[p]} of {changes} commits",)
            if support[p]:
                reasons += (f"last together {time.strftime('%Y-%m-%d', time.gmtime(last[p]))}",)
            if p in bonus:
                reasons += ("its test file" if "test" not in _stem(target) else "the module it tests",)
            out.append(Related(p, min(1.0, score[p]), support[p], changes, last[p], reasons))
        return out

    # ------------------------------------------------------------------ incremental

    def extend(self, root: Path | str, rev: str = "HEAD") -> int:
        """Read the commits reachable from `rev` but not from the known heads; returns how many were added."""
        target = git.resolve(root, rev)
        if target in self.heads:
            return 0
        newer = git.log(root, [target], exclude=self.heads)
        known = {c.hash for c in self.commits}
        newer = [c for c in newer if c.hash not in known]
        self.commits = sorted(newer + self.commits, key=lambda c: -c.timestamp)
        self.heads = (target,)
        self._index = None
        return len(newer)


def mine(
    root: Path | str,
    at: str | None = None,
    max_files: int = DEFAULT_MAX_FILES,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    since: str | None = None,
) -> History:
    """Mine the history of the repository holding `root`: all of HEAD's, or with `at` only the commits
    reachable from `at`'s parents (so `at` itself and later commits never count). With `since` (a known
    head), only the commits not reachable from it (to extend a cached History)."""
    if at is not None:
        heads = tuple(git.parents(root, at))
    else:
        h = git.head(root)
        heads = (h,) if h else ()
    commits = git.log(root, list(heads), exclude=[git.resolve(root, since)] if since else ())
    return History(commits, heads, max_files=max_files, half_life_days=half_life_days)


def mine_since(root: Path | str, known_head: str, rev: str = "HEAD") -> list[Commit]:
    """Only the commits reachable from `rev` and not from `known_head` (newest first)."""
    return git.log(root, [git.resolve(root, rev)], exclude=[git.resolve(root, known_head)])


def related(
    root: Path | str,
    path: str,
    k: int = 5,
    at: str | None = None,
    **options: Any,
) -> list[Related]:
    """Mine and rank in one call (`path` relative to the repository root, with `/`)."""
    ranking = {key: options.pop(key) for key in ("min_support", "test_pair_bonus") if key in options}
    return mine(root, at=at, **options).related(path, k=k, **ranking)
