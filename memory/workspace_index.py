"""The project index: every file of a project analysed once, kept in project memory, refreshed incrementally.

    index = ProjectIndex(root, settings, memory=ProjectMemory(root))
    report = index.refresh(progress=..., cancel=...)    # cold: analyse everything; warm: stat + load
    index.findings_for(path)                            # the file's findings, SA301-SA303 included

What is kept (in the project memory's diskcache, `<root>/.sophia/cache`; keys carry the analyser version and
a fingerprint of the settings, values are pickles written in sqlite transactions, so a killed process leaves
the previous state):
    state/<version>/<settings>       {rel: (mtime_ns, size, FileFacts)} of the last run, and its time: one
                                     value, so a warm start is one read (facts: findings, suppressions, summary)
    imports/..., symbols/...         import records and symbols, under the graph's and symbol index's keys
    workspace/<version>/<settings>/<digest of all files>   SA301-SA303 of that exact state of the project
A file whose size and mtime match the state is not even read (unless its mtime is within RACY_SECONDS
of the state's time: it may have changed again in the same clock tick, so it is hashed). A file whose
content hash matches is not analysed again. When nothing changed at all, the workspace findings come from
the store too: a warm start is a directory walk, one stat per file and a few reads from the cache.

After a one-file change only that file is analysed again; the import graph and symbol index are rebuilt
from cached extractions (only the changed file is parsed) and SA301-SA303 recomputed, which covers
everything that depends on it. Each run records a debt snapshot in the project memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.config import Settings
from ..analysis.model import Finding
from ..analysis.project import (
    FACTS_VERSION,
    FileFacts,
    debt_snapshot,
    digest,
    file_facts,
    honour_suppressions,
    wanted,
    workspace_findings,
)
from ..analysis.worker_process import detach

log = logging.getLogger(__name__)

WORKSPACE_VERSION = f"ws2/{FACTS_VERSION}"
RACY_SECONDS = 2.0
PARALLEL_MIN_FILES = 24
# files whose content decides project-level findings besides the sources (contracts, entry points, paths)
PROJECT_FILES = ("pyproject.toml", "setup.cfg", ".importlinter", "tsconfig.json", "jsconfig.json")

Progress = Callable[[int, int, str], None]
Cancel = Callable[[], bool]


# settings that change nothing the index computes: the command line and the editor share one cache whatever they are
_NOT_ANALYSIS = (
    "semantic", "diagnostic_scope", "baseline", "learning", "completion", "new_code_focus", "preload_files",
)


def settings_fingerprint(settings: Settings) -> str:
    """A stable digest of the settings the analysis depends on (the same across processes and runs)."""
    values = {k: v for k, v in dataclasses.asdict(settings).items() if k not in _NOT_ANALYSIS}
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


@dataclass
class RefreshReport:
    files: int = 0  # files of the project
    analysed: int = 0  # read and analysed this run
    reused: int = 0  # taken from the store
    removed: int = 0  # gone since the last run
    changed: list[str] = field(default_factory=list)  # rel paths analysed again because they changed
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (absolute path, reason)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (absolute path, error)
    problems: list[str] = field(default_factory=list)
    workspace_reused: bool = False
    cancelled: bool = False
    seconds: float = 0.0
    snapshot: dict[str, Any] | None = None


class _Layered(MutableMapping[str, Any]):
    """A dict in front of the persistent store: reads fall through, writes stay in the dict until `flush`."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.fresh: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self.fresh:
            return self.fresh[key]
        value = self.store.get(key) if self.store is not None else None
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[key]
        except KeyError:
            return default

    def __setitem__(self, key: str, value: Any) -> None:
        self.fresh[key] = value

    def __delitem__(self, key: str) -> None:
        self.fresh.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.fresh)

    def __len__(self) -> int:
        return len(self.fresh)

    def flush(self) -> None:
        if self.store is None or not self.fresh:
            self.fresh.clear()
            return
        transact = getattr(self.store, "transact", None)
        try:
            if transact is None:
                self.store.update(self.fresh)
            else:
                with transact():
                    for key, value in self.fresh.items():
                        self.store[key] = value
        except Exception as exc:  # noqa: BLE001 - a full disk or a broken cache loses the cache, not the run
            log.warning("could not save the analysis cache (%s: %s); it will be rebuilt", exc.__class__.__name__, exc)
        self.fresh.clear()


# --------------------------------------------------------------------------------------------- workers

PRELOAD = (
    "sophia_artemis.analysis.engine",
    "sophia_artemis.analysis.files",
    "sophia_artemis.analysis.maintainability",
    "sophia_artemis.analysis.imports.extract",
    "sophia_artemis.analysis.symbols.extract",
)


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)

_WORKER: dict[str, Any] = {}


def _init_worker(settings: Settings, extract: bool = True) -> None:
    _WORKER["settings"] = settings
    _WORKER["extract"] = extract


def _facts_task(item: tuple[str, str, str | None, bool]) -> FileFacts:
    path, rel, module, analyse = item
    try:
        return file_facts(path, rel, module, _WORKER["settings"], analyse=analyse, extract=_WORKER["extract"])
    except Exception as exc:  # noqa: BLE001 - one file's failure must not lose the others'
        return FileFacts(rel, error=f"{exc.__class__.__name__}: {exc}")


def _facts_chunk(items: list[tuple[str, str, str | None, bool]]) -> list[FileFacts]:
    return [_facts_task(item) for item in items]


def run_parallel(
    todo: list[tuple[str, str, str | None, bool]],
    workers: int,
    settings: Settings,
    cancel: Cancel | None,
    mp_context: Any = None,
    extract: bool = True,
    inline: bool = False,
) -> Iterator[FileFacts]:
    """`file_facts` of each item in `workers` processes, in order; stops early when `cancel()` says so.

    `inline`: this process is one of the workers (the command line, where nothing else needs it): it takes
    chunks from the front of the list while `workers - 1` processes take them from the back, so nothing it
    analyses is pickled and one process fewer starts. Results then come in no particular order."""
    _preload()  # forked workers inherit what is imported here instead of each importing it again
    chunksize = max(1, min(16, len(todo) // (workers * 8)))
    pool = ProcessPoolExecutor(  # workers keep quiet on stdout (the server's LSP stream) and end with this process
        max_workers=workers - inline, initializer=detach, initargs=(os.getpid(), _init_worker, settings, extract),
        mp_context=mp_context,
    )
    try:
        if not inline:
            for facts in pool.map(_facts_task, todo, chunksize=chunksize):
                if cancel is not None and cancel():
                    return
                yield facts
            return
        items = deque(todo)

        def take(front: bool) -> list[tuple[str, str, str | None, bool]]:
            # chunks shrink as the list does, so that no process is left waiting long for the last ones
            size = min(len(items), max(1, min(chunksize, len(items) // (4 * workers))))
            return [items.popleft() if front else items.pop() for _ in range(size)]

        pending: deque[Any] = deque()
        while items or pending:
            if cancel is not None and cancel():
                return
            while items and len(pending) < 2 * (workers - 1):
                pending.append(pool.submit(_facts_chunk, take(front=False)))
            if pending and (pending[0].done() or not items):
                yield from pending.popleft().result()
            elif items:
                yield from _facts_chunk(take(front=True))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------------------------- index


class ProjectIndex:
    """Facts about every file of the project at `root` and the workspace findings, persisted in `memory`
    (a `ProjectMemory`; None keeps everything in this process)."""

    def __init__(
        self,
        root: Path | str,
        settings: Settings,
        *,
        memory: Any = None,
        jobs: int = 0,
        mp_context: Any = None,
        extract: bool | None = None,
        inline: bool = False,
    ) -> None:
        self.root = Path(os.path.abspath(root))
        self._prefix = str(self.root).rstrip(os.sep) + os.sep
        self.mp_context = mp_context  # multiprocessing context of the worker processes (None: the default)
        self.inline = inline  # this process analyses files too (see run_parallel): for a process that has nothing else to do
        self.settings = settings
        self.memory = memory
        self.jobs = jobs
        self.fingerprint = settings_fingerprint(settings)
        # read every file's imports and symbols (the editor's callers and impact need them; `check` only when a
        # project-wide rule is on)
        self.extract = wanted(settings) if extract is None else extract
        self.files: dict[str, FileFacts] = {}  # rel -> facts of the last refresh
        self.workspace: dict[str, list[Finding]] = {}  # rel -> SA301-SA303 (related paths absolute)
        self.problems: list[str] = []
        self.contracts: list[Any] = []
        self.graph: Any = None
        self.symbols: Any = None
        self._store: Any = None
        self._cache = _Layered(None)
        self._discovered: list[Path] | None = None  # the project's files as the last refresh walked them
        self._names: tuple[list[Path], dict[Path, str]] | None = None  # the last module naming, and of which files
        self.generation = 0  # bumped by every refresh that changed something
        self._lock = threading.RLock()  # one refresh or model build at a time (the server runs them in threads)

    # ---- store ----
    @property
    def store(self) -> Any:
        if self._store is None:
            self._store = {}
            if self.memory is not None:
                try:
                    self._store = self.memory.cache
                except Exception as exc:  # noqa: BLE001 - cannot create .sophia: work without a cache
                    log.warning("project memory unavailable (%s: %s); not caching", exc.__class__.__name__, exc)
            self._cache = _Layered(self._store)
        return self._store

    def _get(self, key: str) -> Any:
        try:
            return self.store.get(key)
        except Exception as exc:  # noqa: BLE001 - a damaged entry is a miss
            log.info("analysis cache entry %s unreadable (%s); recomputing", key, exc)
            return None

    @property
    def _state_key(self) -> str:
        return f"state/{FACTS_VERSION}/{self.fingerprint}"

    # ---- queries ----
    def rel(self, path: Path | str) -> str:
        absolute = os.path.abspath(path)
        if absolute.startswith(self._prefix):  # the common case, without pathlib's cost
            inside = absolute[len(self._prefix):]
            return inside.replace(os.sep, "/") if os.sep != "/" else inside
        return Path(os.path.relpath(absolute, self.root)).as_posix()

    def _module_names(self, paths: list[Path]) -> dict[Path, str]:
        """Dotted module names of the Python files, as the symbol index names them (needed for its keys)."""
        from ..analysis.symbols.index import module_names

        py_paths = [p for p in paths if p.suffix == ".py"]
        if not py_paths:
            return {}
        if self._names is None or self._names[0] != py_paths:
            self._names = (py_paths, module_names(self.root, py_paths, self.settings.import_roots or None))
        return self._names[1]

    def findings_for(self, path: Path | str) -> list[Finding]:
        """The file's own findings and its workspace findings, `# sophia: ignore` honoured, sorted."""
        rel = self.rel(path)
        facts = self.files.get(rel)
        own = facts.findings if facts is not None else []
        extra = self.workspace_for(path)
        if not extra:
            return list(own)
        return sorted([*own, *extra], key=Finding.sort_key)

    def workspace_for(self, path: Path | str) -> list[Finding]:
        rel = self.rel(path)
        found = self.workspace.get(rel, [])
        facts = self.files.get(rel)
        return honour_suppressions(found, facts.suppressions) if facts is not None and found else list(found)

    def snapshots(self, limit: int = 100) -> list[dict[str, Any]]:
        if self.memory is None:
            return []
        try:
            return self.memory.snapshots(limit)
        except Exception as exc:  # noqa: BLE001
            log.info("snapshots unavailable: %s", exc)
            return []

    # ---- refresh ----
    def refresh(self, **kwargs: Any) -> RefreshReport:
        """Bring the index up to date with the disk (see `_refresh`); one at a time."""
        with self._lock:
            return self._refresh(**kwargs)

    def _refresh(
        self,
        *,
        only: Iterable[Path | str] | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
        on_skip: Callable[[Path, str], None] | None = None,
        discovered: Iterable[Path | str] | None = None,
        known: Mapping[str, list[Path]] | None = None,
    ) -> RefreshReport:
        """Bring the index up to date with the disk. `only`: analyse just these files (others keep what the
        store has; the workspace findings still cover the whole project). `discovered`: the project's files as
        `discover([root], settings, root)` lists them, when the caller walked the root already (its skip
        notes are then the caller's). `known`: folders of the project the caller walked just now (see
        `files.discover`), when it did not walk the whole project."""
        from ..analysis.files import discover, read_source

        started = time.perf_counter()
        report = RefreshReport()
        self.store  # noqa: B018 - open the store (and the layered cache) now

        def skip(path: Path, reason: str) -> None:
            report.skipped.append((str(path), reason))
            if on_skip is not None:
                on_skip(path, reason)

        if discovered is None:
            discovered = discover([self.root], self.settings, self.root, on_skip=skip, known=known)
        paths = [Path(os.path.abspath(p)) for p in discovered]
        self._discovered = list(paths)
        project_rels = {self.rel(p) for p in paths}
        wanted_paths = None if only is None else {os.path.abspath(p) for p in only}
        # files named explicitly that the walk leaves out (ignored, excluded): analysed, not part of the project
        paths += sorted({Path(p) for p in wanted_paths or ()} - set(paths))
        report.files = len(paths)
        state = self._get(self._state_key) or {}
        known: dict[str, tuple[int, int, FileFacts]] = state.get("files", {})
        log.info("%s: %d files known from the project memory (%s)", self.root, len(known), self._state_key)
        racy_after = state.get("time", 0.0) - RACY_SECONDS

        new_manifest: dict[str, tuple[int, int, str]] = {}
        files: dict[str, FileFacts] = {}
        todo: list[tuple[str, str, str | None, bool]] = []
        dirty = False  # whether the stored state needs writing again
        for path in paths:
            rel = self.rel(path)
            try:
                st: os.stat_result | None = path.stat()
            except OSError:
                st = None  # the worker's read says why (broken link, permissions...)
            entry = known.get(rel) if st is not None else None
            facts = None
            if entry is not None and entry[0] == st.st_mtime_ns and entry[1] == st.st_size and st.st_mtime < racy_after:
                facts = entry[2]
            elif entry is not None:  # touched, or too recent to trust its mtime: compare the content
                data, _ = read_source(path, self.settings.max_file_size)
                if data is not None and digest(data) == entry[2].digest:
                    facts = entry[2]
            full = wanted_paths is None or str(path) in wanted_paths
            if facts is not None and not (full and facts.partial):  # partial facts do for a file not asked for
                dirty = dirty or entry[0] != st.st_mtime_ns or entry[1] != st.st_size  # type: ignore[union-attr,index]
                facts.rel = rel
                files[rel] = facts
                new_manifest[rel] = (st.st_mtime_ns, st.st_size, facts.digest)  # type: ignore[union-attr]
                report.reused += 1
                continue
            if not full and not self.extract:
                continue  # not asked for, and no project-wide rule needs it
            if entry is not None and full:
                report.changed.append(rel)
            todo.append((str(path), rel, None, full))
        report.removed = len(set(known) - project_rels)

        modules = self._module_names(paths) if todo else {}
        todo = [(path, rel, modules.get(Path(path)), analyse) for path, rel, _, analyse in todo]
        total = len(todo)
        done = 0
        for facts in self._run(todo, cancel):
            done += 1
            if progress is not None:
                progress(done, total, facts.rel)
            path = self.root / facts.rel
            if facts.error is not None:
                report.errors.append((str(path), facts.error))
                continue
            if facts.skip_reason is not None:
                if not facts.partial:
                    skip(path, facts.skip_reason)
                continue
            report.analysed += not facts.partial
            self._cache.update(facts.extractions)
            facts.extractions = {}
            try:
                st = path.stat()
                new_manifest[facts.rel] = (st.st_mtime_ns, st.st_size, facts.digest)
            except OSError:
                pass
            files[facts.rel] = facts
        if self.inline:  # results came in any order: keep the walk's (the stored state and outputs follow it)
            order = {self.rel(p): i for i, p in enumerate(paths)}
            files = dict(sorted(files.items(), key=lambda item: order.get(item[0], len(order))))
        if cancel is not None and cancel():
            report.cancelled = True
            self._cache.flush()
            report.seconds = time.perf_counter() - started
            return report

        changed = files.keys() != self.files.keys() or any(
            self.files.get(rel) is None or self.files[rel].digest != f.digest for rel, f in files.items()
        )
        self.files = files
        if dirty or todo or files.keys() != known.keys():
            self._cache[self._state_key] = {
                "time": time.time(),
                "files": {rel: (*new_manifest[rel][:2], facts) for rel, facts in files.items() if rel in new_manifest},
            }
        skipped = {self.rel(p) for p, _ in report.skipped}
        self._workspace(project_rels - skipped, {rel: new_manifest[rel] for rel in project_rels if rel in new_manifest}, report)
        self._cache.flush()
        if changed or report.analysed:
            self.generation += 1
        if all(not f.partial for f in files.values()) and all(self.rel(p) in files or self.rel(p) in skipped for p in paths):
            report.snapshot = debt_snapshot(files, self.workspace, self.settings)
            if self.memory is not None:
                try:
                    self.memory.add_snapshot(report.snapshot)
                except Exception as exc:  # noqa: BLE001 - read-only or broken memory: the run still stands
                    log.info("debt snapshot not recorded: %s", exc)
        report.problems = list(self.problems)
        report.seconds = time.perf_counter() - started
        return report

    def _run(self, todo: list[tuple[str, str, str | None, bool]], cancel: Cancel | None) -> Iterator[FileFacts]:
        workers = min(self.jobs or os.cpu_count() or 1, len(todo), 61)
        _init_worker(self.settings, self.extract)
        if workers <= 1 or len(todo) < PARALLEL_MIN_FILES:
            for item in todo:
                if cancel is not None and cancel():
                    return
                yield _facts_task(item)
            return
        yield from run_parallel(todo, workers, self.settings, cancel, self.mp_context, self.extract, self.inline)

    # ---- workspace findings ----
    def _state_digest(self, manifest: dict[str, tuple[int, int, str]]) -> str:
        h = hashlib.blake2b(digest_size=20)
        for rel in sorted(manifest):
            h.update(f"{rel}\0{manifest[rel][2]}\n".encode())
        for name in PROJECT_FILES:
            try:
                h.update(name.encode() + b"\0" + (self.root / name).read_bytes())
            except OSError:
                h.update(name.encode() + b"\0-")
        return h.hexdigest()

    def _workspace(self, rels: set[str], manifest: dict[str, tuple[int, int, str]], report: RefreshReport) -> None:
        if not wanted(self.settings):
            self.workspace = {}
            return
        complete = len(manifest) == len(rels)
        key = f"workspace/{WORKSPACE_VERSION}/{self.fingerprint}/{self._state_digest(manifest)}" if complete else None
        stored = self._get(key) if key else None
        if stored is not None:
            self.workspace = {rel: [self._absolute(f) for f in found] for rel, found in stored["findings"].items()}
            self.problems = stored["problems"]
            report.workspace_reused = True
            return
        self.build_models()
        result = workspace_findings(self.root, self.settings, self.graph, self.symbols)
        self.workspace = {self.rel(path): found for path, found in result.findings.items()}
        self.problems = result.problems
        self.contracts = result.contracts
        if key:
            self._cache[key] = {
                "findings": {rel: [self._relative(f) for f in found] for rel, found in self.workspace.items()},
                "problems": self.problems,
            }

    def _relative(self, finding: Finding) -> Finding:
        if not finding.related:
            return finding
        related = tuple(dataclasses.replace(r, path=self.rel(r.path)) if r.path else r for r in finding.related)
        return dataclasses.replace(finding, related=related)

    def _absolute(self, finding: Finding) -> Finding:
        if not finding.related:
            return finding
        related = tuple(dataclasses.replace(r, path=str(self.root / r.path)) if r.path else r for r in finding.related)
        return dataclasses.replace(finding, related=related)

    def build_models(self) -> None:
        """(Re)build the import graph and the symbol index from cached extractions (files not in the cache
        are parsed here and added to it)."""
        from ..analysis.imports import build_graph
        from ..analysis.symbols import WorkspaceIndex

        self.store  # noqa: B018
        walked = self._discovered
        # files this index read: their extractions are found by the digest it has, without reading them again
        digests = {str(self.root / rel): facts.digest for rel, facts in self.files.items() if facts.digest}
        self.graph = build_graph(
            self.root, self.settings, language="all", cache=self._cache, discovered=walked, digests=digests
        )
        names = self._module_names(walked) if walked is not None else None
        self.symbols = WorkspaceIndex.build(
            self.root, walked, settings=self.settings, cache=self._cache, digests=digests, names=names
        )
        self._cache.flush()

    def ensure_models(self) -> None:
        with self._lock:
            self._ensure_models()

    def _ensure_models(self) -> None:
        if self.graph is None or self.symbols is None:
            self.build_models()
            if not self.contracts and wanted(self.settings):
                from ..analysis.architecture import ArchitectureSettings, read_import_linter

                arch = self.settings.architecture or ArchitectureSettings()
                if self.settings.enabled("SA302") and arch.import_linter:
                    self.contracts, _ = read_import_linter(self.root)

    def close(self) -> None:
        self._cache.flush()


__all__ = ["ProjectIndex", "RefreshReport", "settings_fingerprint"]
