"""Churn, authors and change coupling mined from `git log` (Code-Maat style, with recency weighting).

`mine(root)` reads the history once (one `git log`); `History.related(path)` ranks the files likely to change
with `path`, blending (weights in `Ranking`, defaults below):
- co-change confidence: decayed weight of the commits touching both / decayed weight of the commits touching
  `path`, a commit weighing half per `change_half_life` newer commits of `path` (a file's own pace, not the
  calendar; `half_life_days` adds wall-clock decay when set);
- the file's test (or the module a test tests) by name (`x.py` and `test_x.py`, `x_test.py`, `x.test.ts`),
  even without a shared commit yet, and what that partner usually changes with (one step, discounted);
- recency: files changed in the newest commits tend to change next (work in progress, changelogs);
- cold start: for a file with little history, the recently changed files of its folder.
Every signal that adds to a file's score adds a line to its `reasons`.
Commits touching more than `max_files` files (mass reformatting, vendoring, license headers) are ignored for
coupling. Renames are followed: an older path maps to the name the file has at the newest commit, and files
deleted by then are never suggested. `mine(root, at=REV)` only reads the history reachable from REV's parents;
`History.extend(root)` reads only the commits after the known head (the structure is plain data, picklable).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from sophia_artemis.analysis.history import git
from sophia_artemis.analysis.history.defaults import DEFAULT_HALF_LIFE_DAYS, DEFAULT_MAX_FILES
from sophia_artemis.analysis.history.git import Commit

DEFAULT_MIN_SUPPORT = 1
# The ranking's weights below were tuned with bench/cochange_replay.py on OLDER windows only (the 400
# commits before the 200 most recent ones, `--offset 200` and `--offset 400`, click and requests), on a coarse
# grid, keeping a value only when it helped both repositories; the 200 most recent commits stay held out.
# docs/performance.md has the figures, and the signals tried and left out (the author's working set, what new
# contributors touch, same-name docs and examples, per-repository self-calibration).
DEFAULT_CHANGE_HALF_LIFE = 20.0  # a commit of the query file weighs half per 20 newer commits of that file
DEFAULT_TEST_PAIR_BONUS = 0.3  # a module and its test file by name, even without a shared commit yet
DEFAULT_TRANSITIVE_WEIGHT = 0.2  # x the coupling of the query's test file (or tested module) with a file
DEFAULT_RECENT_COMMITS = 20  # the window for recency: the newest commits before `at`
DEFAULT_RECENCY_WEIGHT = 0.3  # x the candidate's own recency (0..1) over that window
DEFAULT_FOLDER_BONUS = 0.0  # a candidate in the query's folder (any bonus >= 0.02 cost @3 on both: off)
DEFAULT_COLD_START_CHANGES = 3  # below this many commits of the query, recent files of its folder join in
DEFAULT_COLD_START_WEIGHT = 0.5  # x (1 - commits / DEFAULT_COLD_START_CHANGES) x the candidate's recency
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
class Ranking:
    """How `History.related` weighs its signals (see the DEFAULT_* constants for what each one is)."""

    min_support: int = DEFAULT_MIN_SUPPORT
    change_half_life: float = DEFAULT_CHANGE_HALF_LIFE
    test_pair_bonus: float = DEFAULT_TEST_PAIR_BONUS
    transitive_weight: float = DEFAULT_TRANSITIVE_WEIGHT
    recent_commits: int = DEFAULT_RECENT_COMMITS
    recency_weight: float = DEFAULT_RECENCY_WEIGHT
    folder_bonus: float = DEFAULT_FOLDER_BONUS
    cold_start_changes: int = DEFAULT_COLD_START_CHANGES
    cold_start_weight: float = DEFAULT_COLD_START_WEIGHT

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


DEFAULT_RANKING = Ranking()


@dataclass
class _Coupling:
    total: float = 0.0  # decayed weight of the query's commits
    changes: int = 0  # how many
    weight: dict[str, float] = field(default_factory=dict)  # decayed weight of the commits shared with a file
    support: dict[str, int] = field(default_factory=dict)
    last: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Related:
    path: str  # relative to the repository root, with `/`
    score: float  # the blended score (co-change confidence plus the other signals), capped at 1
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
        newest = max((c.timestamp for c in self.commits), default=0)
        self._index = (files_of, dict(by_file), alive, renamed, newest)
        return self._index

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_index"] = None
        return state

    @property
    def newest(self) -> int:
        return self._build()[4]

    def canonical(self, path: str) -> str:
        """The name at the newest commit of a file an older commit called `path`."""
        _, _, alive, renamed, _ = self._build()
        return path if alive.get(path, False) else renamed.get(path, path)

    def files(self) -> list[str]:
        """Files present at the newest commit, as far as the history shows."""
        _, by_file, alive, _, _ = self._build()
        return sorted(p for p in by_file if alive.get(p, False))

    def knows(self, path: str) -> bool:
        return self.canonical(path) in self._build()[1]

    def stats(self, path: str) -> FileStats:
        """Churn (commits), authors (commits per author), first and last change of `path`."""
        _, by_file, _, _, _ = self._build()
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

    def _coupling(
        self,
        target: str,
        files_of: list[tuple[str, ...]],
        by_file: dict[str, list[int]],
        change_half_life: float,
    ) -> _Coupling:
        """Decayed co-change weights of every file that shared a (not too large) commit with `target`: a commit
        weighs 1/2 per `change_half_life` newer commits of `target` (and per `half_life_days` of age)."""
        newest = self._build()[4]
        decay = math.log(2) / (self.half_life_days * SECONDS_PER_DAY) if self.half_life_days > 0 else 0.0
        step = 0.5 ** (1 / change_half_life) if change_half_life > 0 else 1.0
        nth = 1.0
        out = _Coupling()
        for i in by_file.get(target, []):
            names = files_of[i]
            if len(names) > self.max_files:
                continue
            ts = self.commits[i].timestamp
            w = nth * math.exp(-decay * max(0, newest - ts)) if decay else nth
            nth *= step
            out.total += w
            out.changes += 1
            for other in names:
                if other == target:
                    continue
                out.weight[other] = out.weight.get(other, 0.0) + w
                out.support[other] = out.support.get(other, 0) + 1
                if ts > out.last.get(other, -1):
                    out.last[other] = ts
        return out

    def _recent(
        self, files_of: list[tuple[str, ...]], window: int
    ) -> tuple[dict[str, float], dict[str, int], int]:
        """Over the newest `window` (not too large) commits: a recency score per file in 0..1 (a commit
        weighs linearly less the older it is), how many of those commits touched it, and how many there were."""
        score: dict[str, float] = {}
        count: dict[str, int] = {}
        seen = 0
        for names in files_of:
            if seen >= window:
                break
            if len(names) > self.max_files:
                continue
            w = (window - seen) / window
            seen += 1
            for name in names:
                score[name] = score.get(name, 0.0) + w
                count[name] = count.get(name, 0) + 1
        norm = sum((window - i) / window for i in range(seen)) or 1.0
        return {p: v / norm for p, v in score.items()}, count, seen

    def related(
        self,
        path: str,
        k: int = 5,
        include_deleted: bool = False,
        ranking: Ranking | None = None,
        **overrides: Any,
    ) -> list[Related]:
        """The `k` files most likely to change with `path`, best first. `ranking` (default `Ranking()`)
        weighs the signals; keyword `overrides` replace single fields (`min_support=2`)."""
        opts = replace(ranking or DEFAULT_RANKING, **overrides) if overrides else ranking or DEFAULT_RANKING
        files_of, by_file, alive, _, _ = self._build()
        target = self.canonical(path)
        own = self._coupling(target, files_of, by_file, opts.change_half_life)
        folder = target.rpartition("/")[0]

        def wanted(p: str) -> bool:
            return p != target and (include_deleted or alive.get(p, False))

        score: dict[str, float] = {}
        why: dict[str, list[str]] = defaultdict(list)
        for p, w in own.weight.items():
            if own.support[p] >= opts.min_support and wanted(p):
                score[p] = w / own.total
        partners: list[str] = []
        if opts.test_pair_bonus or opts.transitive_weight:
            stems = _partner_stems(target)
            partners = [
                p for p in by_file if alive.get(p, False) and p != target and _is_partner(target, p, stems)
            ]
        label = "the module it tests" if "test" in _stem(target) else "its test file"
        if opts.test_pair_bonus:
            for p in partners:
                score[p] = score.get(p, 0.0) + opts.test_pair_bonus
                why[p].append(label)
        if opts.transitive_weight:  # what the test (or the tested module) usually changes with
            for partner in partners[:2]:
                via = self._coupling(partner, files_of, by_file, opts.change_half_life)
                if not via.total:
                    continue
                for p, w in via.weight.items():
                    if via.support[p] < opts.min_support or not wanted(p):
                        continue
                    score[p] = score.get(p, 0.0) + opts.transitive_weight * w / via.total
                    why[p].append(
                        f"changed with {partner} ({label}) in {via.support[p]} of {via.changes} commits"
                    )
        recent, recent_count, seen = (
            self._recent(files_of, opts.recent_commits) if opts.recent_commits else ({}, {}, 0)
        )
        cold = max(0.0, 1.0 - own.changes / opts.cold_start_changes) if opts.cold_start_changes else 0.0
        for p, r in recent.items():
            if not wanted(p):
                continue
            same_folder = p.rpartition("/")[0] == folder
            bonus = opts.recency_weight * r + (opts.cold_start_weight * cold * r if same_folder else 0.0)
            if not bonus:
                continue
            score[p] = score.get(p, 0.0) + bonus
            how = f"changed in {recent_count[p]} of the last {seen} commits"
            if cold and same_folder and opts.cold_start_weight:
                how += f", in the same folder ({target} has {own.changes} commit{'s' if own.changes != 1 else ''})"
            why[p].append(how)
        if opts.folder_bonus:
            for p in score:
                if p.rpartition("/")[0] == folder:
                    score[p] += opts.folder_bonus
                    why[p].append("in the same folder")
        candidates = [p for p in score if score[p] > 0]
        candidates.sort(
            key=lambda p: (
                -round(score[p], 9),
                -own.support.get(p, 0),
                p.rpartition("/")[0] != folder,
                -own.last.get(p, 0),
                p,
            )
        )
        out = []
        for p in candidates[: max(0, k)]:
            support = own.support.get(p, 0)
            reasons: list[str] = []
            if own.changes and (support or not why[p]):
                reasons.append(f"changed together in {support} of {own.changes} commits")
            if support:
                reasons.append(f"last together {time.strftime('%Y-%m-%d', time.gmtime(own.last[p]))}")
            reasons += why[p]
            out.append(
                Related(p, min(1.0, score[p]), support, own.changes, own.last.get(p, 0), tuple(reasons))
            )
        return out

    # ------------------------------------------------------------------ incremental

    def extend(self, root: Path | str, rev: str = "HEAD", **reading: Any) -> int:
        """Read the commits reachable from `rev` but not from the known heads; returns how many were added.
        `reading`: `progress`, `cancel`, `total` as `git.log` takes them (cancelled: unchanged, raises)."""
        target = git.resolve(root, rev)
        if target in self.heads:
            return 0
        newer = git.log(root, [target], exclude=self.heads, **reading)
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
    **reading: Any,
) -> History:
    """Mine the history of the repository holding `root`: all of HEAD's, or with `at` only the commits
    reachable from `at`'s parents (so `at` itself and later commits never count). With `since` (a known
    head), only the commits not reachable from it (to extend a cached History). `reading`: `progress`,
    `cancel`, `total` as `git.log` takes them."""
    if at is not None:
        heads = tuple(git.parents(root, at))
    else:
        h = git.head(root)
        heads = (h,) if h else ()
    commits = git.log(root, list(heads), exclude=[git.resolve(root, since)] if since else (), **reading)
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
    ranking = {key: options.pop(key) for key in Ranking.names() if key in options}
    return mine(root, at=at, **options).related(path, k=k, **ranking)
