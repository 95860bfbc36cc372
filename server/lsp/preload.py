"""Predictive pre-loading: when a file is opened or edited, the files predicted to be opened next are read and
analysed in the background, so that opening one of them shows its diagnostics without analysing it.

Predictions for the current file, each candidate scored by the sum of its reasons:
  * history: the files that often change with it (git change coupling, `HistoryViews.companions`): its score;
  * imports: what it imports and what imports it, directly (the workspace index's import graph);
  * navigation (session memory): a file the user went to right after this one before ("opened" and
    "navigation" events; this module records an "opened" event per didOpen), and a boost for files in working
    memory's focus, by recency. Open documents and the file itself are never candidates.

The top `preload_files` (setting, default 3; 0 turns this off) are pre-analysed one at a time at the lowest
priority: before each, every open document's pending analysis is awaited; the read, parse and analysis run in
a worker thread of its own (with the engine's function cache, so editing the file later starts warm) and radon's
maintainability index in a worker process of this module's own, never the one the open documents use. The
results sit in an LRU of a few files (CACHE_SIZE), each with the digest of the text and the Settings it was
made with. On didOpen the engine asks `prepared(doc)`: when the text and settings match, the document takes
the parsed tree, findings and maintainability index as they are, and is reported without analysing
("preload: hit for X" in the log); anything else is a miss and the usual analysis runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pygls.lsp.server import LanguageServer
from sophia_artemis.analysis import AnalysisResult, Document, Settings, analyze
from sophia_artemis.analysis.document import dialect_for
from sophia_artemis.analysis.files import read_source
from sophia_artemis.analysis.project import digest

from .engine import OpenDocument, WorkspaceEngine, uri_to_path
from .memory_features import relative  # session memory's keys: the same as the files it records
from .mi_worker import MaintainabilityWorker

log = logging.getLogger(__name__)

CACHE_SIZE = 5  # pre-analysed files kept (at least `preload_files` of them)
EDIT_IDLE = 2.0  # seconds after the last edit before predictions are made again
HISTORY_K = 8  # co-changed files asked for
IMPORT_SCORE = 0.3  # a direct import neighbour
TRAIL_SCORE = 0.6  # opened right after this file before (newest transition; older ones count less)
FOCUS_SCORE = 0.2  # in working memory's focus (the newest item; older ones count less)
TRAIL_EVENTS = 200  # session events read for the navigation trail
TRAIL_KINDS = ("opened", "navigation")


@dataclass
class Candidate:
    path: Path
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def add(self, score: float, reason: str) -> None:
        self.score += score
        if reason not in self.reasons:
            self.reasons.append(reason)


@dataclass
class Preloaded:
    digest: str  # analysis.project.digest of the text
    dialect: str
    settings: Settings
    parsed: Document
    result: AnalysisResult
    maintainability: float | None
    signature: tuple[int, int]  # the file's (mtime_ns, size) when read
    ms: float


class Preloader:
    def __init__(self, server: LanguageServer, engine: WorkspaceEngine, *, whole: Any = None, history: Any = None,
                 memory: Any = None) -> None:
        self.server = server
        self.engine = engine
        self.whole = whole  # project.ProjectFeature: the import graph
        self.history = history  # history_views.HistoryViews: co-changed files
        self.memory = memory  # memory_features.MemoryFeatures: session and working memory per root
        self.cache: OrderedDict[Path, Preloaded] = OrderedDict()
        self.maintainability = MaintainabilityWorker()
        # one thread, so an "opened" event is recorded before the next prediction reads the trail
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sophia-preload")
        self.hits = 0
        self._task: asyncio.Task[None] | None = None

    # ---- engine events ----
    def on_analysed(self, doc: OpenDocument, changed: bool) -> None:
        if doc.path is None or not doc.python or doc.reason not in ("open", "edit"):
            return
        try:
            self._analysed(doc)
        except Exception:  # the features hooked after this one still run
            log.exception("preload: after the analysis of %s", doc.uri)

    def _analysed(self, doc: OpenDocument) -> None:
        assert doc.path is not None
        if doc.reason == "open":
            self._record_opened(doc)
        if self.settings_for(doc.path).preload_files > 0:
            self.schedule(doc, 0 if doc.reason == "open" else EDIT_IDLE)

    def schedule(self, doc: OpenDocument, delay: float) -> None:
        """Predict and pre-analyse for `doc` after `delay`, replacing what is pending for another file."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = asyncio.get_running_loop().create_task(self._run(doc, delay))

    def settings_for(self, path: Path) -> Settings:
        return self.engine.settings.settings(self.engine.settings.project_root(path))

    # ---- the engine asks on didOpen ----
    def prepared(self, doc: OpenDocument) -> tuple[Document, AnalysisResult, float | None] | None:
        if doc.path is None or not self.cache:
            return None
        entry = self.cache.pop(doc.path, None)
        if entry is None:
            return None
        name = self.shown(doc.path)
        if entry.dialect != doc.dialect or entry.settings != self.engine.settings_for(doc):
            log.info("preload: miss for %s (other settings)", name)
            return None
        if entry.digest != digest(doc.buffer.source):
            log.info("preload: miss for %s (the text differs from the file pre-analysed)", name)
            return None
        self.hits += 1
        log.info("preload: hit for %s (analysed ahead in %.0f ms)", name, entry.ms)
        return entry.parsed, entry.result, entry.maintainability

    # ---- predictions ----
    def predict(self, path: Path, trail: tuple[list[str], list[str]] | None = None) -> list[Candidate]:
        """The files predicted to be opened after `path`, best first (open documents left out)."""
        found: dict[Path, Candidate] = {}

        def add(other: Path, score: float, reason: str) -> None:
            if other != path:
                found.setdefault(other, Candidate(other)).add(score, reason)

        if self.history is not None:
            try:
                for c in self.history.companions(path, k=HISTORY_K):
                    other = uri_to_path(c["uri"])
                    if other is not None:
                        add(other, float(c["score"]), f"changes with it ({c['commits']} commits)")
            except Exception:
                log.exception("preload: co-changed files of %s failed", path)
        for other, reason in self._import_neighbours(path):
            add(other, IMPORT_SCORE, reason)
        root = self.engine.settings.project_root(path)
        if trail is not None and root is not None:
            events, focus = trail
            here = relative(path, root)
            # events are newest first: a file opened right after `here` is one transition, the newest weighs most
            transitions = [events[i - 1] for i in range(1, len(events)) if events[i] == here and events[i - 1] != here]
            for rank, rel in enumerate(transitions):
                add(root / rel, TRAIL_SCORE / (1 + rank), "opened after it before")
            for rank, rel in enumerate(focus):
                other = root / rel
                if other in found:
                    found[other].add(FOCUS_SCORE * (1 - rank / max(len(focus), 1)), "in focus")
        open_paths = {d.path for d in self.engine.documents.values()}
        ranked = [c for c in found.values() if c.path not in open_paths]
        return sorted(ranked, key=lambda c: (-c.score, str(c.path)))

    def _import_neighbours(self, path: Path) -> list[tuple[Path, str]]:
        state = self.whole.state_for(path) if self.whole is not None else None
        if state is None or not state.ready.is_set() or state.index.graph is None:
            return []
        index, graph = state.index, state.index.graph
        module = graph.module_for_path(index.rel(path))
        if module is None:
            return []
        out = []
        for names, reason in ((graph.dependencies_of(module), "imported by it"), (graph.dependents_of(module), "imports it")):
            for name in names:
                node = graph.module(name)
                if node is not None:
                    out.append((index.root / node.path, reason))
        return out

    def _trail(self, root: Path | None) -> tuple[list[str], list[str]] | None:
        """(files of the session's recent opened/navigation events, newest first; working memory's focus)."""
        rm = self.memory.roots.get(root) if self.memory is not None and root is not None else None
        if rm is None:
            return None
        events = [e.data.get("path") for e in rm.memory.session.recent(limit=TRAIL_EVENTS) if e.kind in TRAIL_KINDS]
        focus = [item.path for item in rm.memory.working.items()]
        return [p for p in events if isinstance(p, str) and p], focus

    def _record_opened(self, doc: OpenDocument) -> None:
        rm = self.memory.roots.get(doc.root) if self.memory is not None and doc.root is not None else None
        if rm is None or doc.path is None:
            return
        rel = relative(doc.path, rm.root)
        self.pool.submit(rm.memory.record, "opened", path=rel)  # never raises: session events are a convenience

    # ---- pre-analysing ----
    async def _run(self, doc: OpenDocument, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.engine.get(doc.uri) is not doc or doc.path is None:
            return
        try:
            count = self.settings_for(doc.path).preload_files
            trail = await self._in_pool(self._trail, doc.root)
            ranked = self.predict(doc.path, trail)[:count]
            if ranked:
                log.info("preload: predicted after %s: %s", self.shown(doc.path),
                         ", ".join(f"{self.shown(c.path)} ({c.score:.2f})" for c in ranked))
            for candidate in ranked:
                await self._idle()
                await self.preload(candidate)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("preload: predicting for %s failed", doc.uri)

    async def _idle(self) -> None:
        """Until no open document waits for its analysis: pre-loading never goes before them."""
        for doc in list(self.engine.documents.values()):
            await self.engine.settled(doc)

    async def preload(self, candidate: Candidate) -> Preloaded | None:
        path = candidate.path
        settings = self.settings_for(path)
        dialect = dialect_for(path.name)
        if dialect is None or path.as_uri() in self.engine.documents:
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        signature = (stat.st_mtime_ns, stat.st_size)
        known = self.cache.get(path)
        if known is not None and known.signature == signature and known.settings == settings:
            self.cache.move_to_end(path)
            return known
        started = time.perf_counter()
        # as the editor will hold it: no BOM, UTF-8 (a declared coding transcoded); binary and huge files are None
        source, _ = await self._in_pool(read_source, path, settings.max_file_size)
        if source is None:
            return None
        mi = None
        if dialect == "python" and settings.enabled("SA202"):
            mi = await self.maintainability.compute(source.decode("utf-8", "replace"))
        parsed, result = await self._in_pool(self._analyse, source, dialect, settings, mi)
        ms = (time.perf_counter() - started) * 1000
        entry = Preloaded(digest(source), dialect, settings, parsed, result, mi, signature, ms)
        self.cache[path] = entry
        self.cache.move_to_end(path)
        while len(self.cache) > max(CACHE_SIZE, settings.preload_files):
            self.cache.popitem(last=False)
        log.info("preload: analysed %s in %.0f ms (score %.2f: %s)", self.shown(path), ms, candidate.score,
                 ", ".join(candidate.reasons))
        return entry

    def _analyse(self, source: bytes, dialect: str, settings: Settings, mi: float | None) -> tuple[Document, AnalysisResult]:
        parsed = Document(source, dialect)
        return parsed, analyze(parsed, settings, self.engine.cache, maintainability=mi)

    # ---- helpers ----
    def shown(self, path: Path) -> str:
        folder = self.engine.settings.folder_of(path)
        return relative(path, folder) if folder is not None else str(path)

    async def _in_pool(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self.cache.clear()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.maintainability.close()


def setup(server: LanguageServer, engine: WorkspaceEngine, *, whole: Any = None, history: Any = None,
          memory: Any = None) -> Preloader:
    """Pre-analyse the predicted next files after each open or edit; `engine.prepared` hands them over."""
    preloader = Preloader(server, engine, whole=whole, history=history, memory=memory)
    engine.hook(after=preloader.on_analysed)
    engine.prepared = preloader.prepared
    return preloader
