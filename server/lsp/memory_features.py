"""The memory in the editor: background indexing, `sophia.search|remember|notes|reindex`, SA501, hover notes.

One `IntelligenceEngine` per project root, opened on first use. After `initialized` (once the editor's settings
are in) each workspace folder is indexed in a worker thread: the scan first (quick), then the embedding in
batches, with workDoneProgress when the client supports it (cancellable), log lines otherwise. A search that
arrives while chunks are being embedded makes the embedding pause at the next batch, answers, and lets it go
on; so does typing (the scan and the embedding wait until no document was opened or edited for TYPING_PAUSE,
since they share the GIL with the keystroke path; the model itself runs in a worker process). Without a model
or the `semantic` extra, search is lexical: the reason is shown once (window/showMessage) and carried in each
answer's `note`. Saving a file brings the index up to date (only files whose size or mtime
changed are read, only chunks whose hash changed are embedded again).

Notes (`sophia.remember`) live in the project memory; they are searchable (their text is embedded and
compared with the query; lexical overlap without a model) and shown in hover: a symbol's notes on its `def` /
`class` line, the file's notes on the first line. Hover also shows the most similar code found by the last
SA501 run for that function (never computed on hover).

SA501 (similar_code.py) runs off the keystroke path: SIMILAR_DELAY after the last edit (at once on open),
in a worker thread, on the document's current text; it feeds `engine.set_extra(doc, "memory", findings)`.
Focus (working memory): the file opened, the function edited, the symbol hovered; search ranking gives a
small boost to results in focus (memory.semantic.Fusion.focus_weight).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from sophia_artemis.analysis import Finding, Position, Range
from sophia_artemis.analysis.chunks import Chunk, chunk_file
from sophia_artemis.analysis.model import Related
from sophia_artemis.analysis.redact import redact

from . import convert
from . import similar_code as sc
from .engine import OpenDocument, WorkspaceEngine, uri_to_path
from .status import StatusReporter, component, search_status

log = logging.getLogger(__name__)

SEARCH, REMEMBER, NOTES, REINDEX, SHOW_SIMILAR = (
    "sophia.search", "sophia.remember", "sophia.notes", "sophia.reindex", "sophia.showSimilar",
)
SOURCE = "memory"  # engine.set_extra source of SA501
SIMILAR_DELAY = 1.0  # seconds after the last edit
TYPING_PAUSE = 1.0  # background indexing waits until no document was opened or edited for this long
NOTE_MIN_SIMILARITY = 0.35  # a note answers a query when its text is at least this close (cosine)
PROGRESS_EVERY = 0.25  # seconds between progress reports (log lines: LOG_EVERY)
LOG_EVERY = 5.0


class CommandError(Exception):
    """A command cannot answer; the message goes to the client as {"version": 1, "error": message}."""


def relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def symbol_at(chunks: list[Chunk], pos: Position, *, def_line_only: bool = False) -> Chunk | None:
    """The innermost function or class containing `pos` (or whose first line `pos` is on)."""
    best = None
    for c in chunks:
        if c.kind not in ("function", "method", "class"):
            continue
        inside = c.range.start.line == pos.line if def_line_only else c.range.contains(pos)
        if inside and (best is None or (c.range.start.line, c.range.start.character) >=
                       (best.range.start.line, best.range.start.character)):
            best = c
    return best


@dataclass
class DocState:
    """What the memory knows of one open document: its chunks and SA501 matches for a version."""

    version: int = -1
    chunks: list[Chunk] = field(default_factory=list)
    matches: dict[str, sc.Match] = field(default_factory=dict)  # qualname -> match
    hashes: dict[str, str] = field(default_factory=dict)  # qualname -> hash (to see what was edited)
    task: asyncio.Task[None] | None = None


class RootMemory:
    """One project root: its IntelligenceEngine, the state of its indexing, SA501's vectors."""

    def __init__(self, root: Path, memory: Any, options: tuple[Any, ...]) -> None:
        self.root = root
        self.memory = memory
        self.options = options
        self.scanned = asyncio.Event()  # the catalogue is up to date with the disk (searchable)
        self.ready = asyncio.Event()  # indexing finished: SA501 can run (similar is set when it can)
        self.indexing = False
        self.again = False  # a save arrived while indexing: index once more afterwards
        self.similar: sc.SimilarityIndex | None = None
        self.lock = threading.Lock()  # guards `similar`
        self.vector_cache: dict[str, Any] = {}  # chunk hash -> vector embedded for SA501
        self.note_vectors: dict[tuple[int, float], Any] = {}
        self.waiting = 0  # searches waiting for the embedding to pause
        self.cond = threading.Condition()
        self.note_shown = False
        self.task: asyncio.Task[None] | None = None


class MemoryFeatures:
    def __init__(self, server: LanguageServer, engine: WorkspaceEngine) -> None:
        self.server = server
        self.engine = engine
        self.roots: dict[Path, RootMemory] = {}
        self.docs: dict[str, DocState] = {}
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sophia-memory")
        self.progress_support = False
        self.show_document = False
        self.markdown = True
        self._background: set[asyncio.Task[Any]] = set()
        self.status = StatusReporter(server)  # app.py passes the server's one (sophia/status)
        # time.monotonic() of the last open or edit: indexing gives way to typing (and, from the start, to the
        # editor's first opens)
        self.last_activity = time.monotonic()

    def search_component(self, rm: RootMemory) -> str:
        return component("search", rm.root, self.engine.settings.folders)

    def configure(self, capabilities: types.ClientCapabilities) -> None:
        self.progress_support = bool(get_capability(capabilities, "window.work_done_progress", False))
        self.show_document = bool(get_capability(capabilities, "window.show_document.support", False))

    # ------------------------------------------------------------------------------------------ roots

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def start(self) -> None:
        """Called on `initialize`: index the workspace folders once the editor's settings are known."""
        self._spawn(self._index_folders())

    async def _index_folders(self) -> None:
        await self.engine.configured.wait()
        for folder in list(self.engine.settings.folders):
            self.ensure_indexed(self.root_of(folder, folder=True))

    def root_of(self, path: Path | None, *, folder: bool = False) -> Path | None:
        if path is None:
            return self.engine.settings.project_root(None)
        if folder:
            return self.engine.settings.project_root(path / "__init__.py")
        return self.engine.settings.project_root(path)

    def memory_for(self, root: Path) -> RootMemory:
        from sophia_artemis.memory import IntelligenceEngine
        from sophia_artemis.server.memory_commands import _model_spec

        settings = self.engine.settings.settings(root)
        sem = settings.semantic
        options = (_model_spec(root, sem.model), sem.chroma_url, sem.chroma_token, sem.allow_download, sem.enabled)
        rm = self.roots.get(root)
        if rm is not None and (rm.options == options or rm.indexing):
            return rm
        if rm is not None:  # the semantic settings changed: a new engine (indexed again)
            log.info("semantic settings of %s changed; reopening its memory", root)
            with contextlib.suppress(Exception):
                rm.memory.close()
        model, url, token, allow, enabled = options
        memory = IntelligenceEngine(root, model=model, chroma_url=url, chroma_token=token, allow_download=allow,
                                    vectors=enabled, settings=settings)
        rm = self.roots[root] = RootMemory(root, memory, options)
        return rm

    def ensure_indexed(self, root: Path | None) -> RootMemory | None:
        if root is None:
            return None
        rm = self.memory_for(root)
        if rm.task is None:
            rm.task = self._spawn(self.index(rm))
        return rm

    # ------------------------------------------------------------------------------------------ indexing

    async def index(self, rm: RootMemory) -> None:
        """Index `rm` in a worker thread, with progress; then load SA501's vectors."""
        if rm.indexing:
            rm.again = True
            return
        rm.indexing = True
        token: str | None = None
        name = rm.root.name or str(rm.root)
        search = self.search_component(rm)
        self.status.report(search, "indexing", "search index: scanning files", 0)
        try:
            if self.progress_support:
                token = f"sophia-index-{uuid.uuid4()}"
                try:
                    await self.server.work_done_progress.create_async(token)
                except Exception as exc:  # noqa: BLE001 - the client refused: index without progress
                    log.info("window/workDoneProgress/create refused (%s); indexing without progress", exc)
                    token = None
            reporter = _Progress(self.server, token, name, asyncio.get_running_loop())
            reporter.status = lambda percent, message: self.status.report(search, "indexing", f"search index: {message}", percent)
            reporter.begin()
            loop = asyncio.get_running_loop()
            try:
                report = await loop.run_in_executor(self.pool, self._index_sync, rm, reporter)
            except Exception as exc:
                log.exception("indexing %s failed", rm.root)
                self.status.report(search, "degraded", f"search index failed: {exc.__class__.__name__}: {exc}")
                reporter.end(f"indexing failed: {exc}")
                rm.scanned.set()
                rm.ready.set()
                return
            reporter.end("cancelled" if report.cancelled else f"{report.files} files, {report.chunks} chunks")
            log.info("indexed %s: %d files (%d read), %d chunks, %d embedded, %.1f s%s", rm.root, report.files,
                     report.files_read, report.chunks, report.embedded, report.seconds,
                     " (cancelled)" if report.cancelled else "")
            note = report.note or rm.memory.semantic.note  # the scan's report may predate the model check
            self._show_note(rm, note if report.mode == "lexical" else None)
            self.status.report(search, *search_status(report.mode, note, rm.options[4]))
            rm.ready.set()
        finally:
            rm.indexing = False
            rm.scanned.set()
        if rm.again:
            rm.again = False
            await self.index(rm)
        for doc in list(self.engine.documents.values()):  # SA501 for documents opened meanwhile
            if doc.python and doc.root == rm.root:
                self.schedule_similar(doc, 0)

    def typing(self) -> bool:
        return time.monotonic() - self.last_activity < TYPING_PAUSE

    def _quiet(self, rm: RootMemory, reporter: _Progress) -> None:
        """Wait (in the indexing thread) while the user types: indexing shares the GIL with the keystroke
        path, and a keystroke must not wait for it."""
        with rm.cond:
            while self.typing() and not reporter.cancelled():
                rm.cond.wait(0.05)

    def _index_sync(self, rm: RootMemory, reporter: _Progress) -> Any:
        self._quiet(rm, reporter)  # opening the stores (chromadb) and the scan start once the editor is quiet
        sem = rm.memory.semantic

        def scan(stage: str, done: int, total: int) -> None:
            self._quiet(rm, reporter)
            reporter.scan(stage, done, total)

        report = sem.index(progress=scan, cancel=reporter.cancelled, embed=False)
        reporter.loop.call_soon_threadsafe(rm.scanned.set)  # asyncio.Event: set on the loop's thread
        if report.cancelled:
            return report
        if sem.mode == "vector" and sem.model_id:
            pending = [r[1] for r in sem.catalogue.pending(sem.model_id)]
            ends = sorted({p: i + 1 for i, p in enumerate(pending)}.values())
            reporter.set_embedding(len(pending), ends)

            def stop() -> bool:
                return reporter.cancelled() or rm.waiting > 0 or self.typing()

            while True:
                left = sem.catalogue.pending_count(sem.model_id)
                if not left:
                    break
                reporter.base = len(pending) - left
                sem.embed_pending(progress=reporter.embed, cancel=stop)
                if reporter.cancelled():
                    report.cancelled = True
                    break
                with rm.cond:  # a search wants the lock: let it run, then go on
                    while rm.waiting > 0:
                        rm.cond.wait(0.05)
                self._quiet(rm, reporter)
            if not report.cancelled:  # deletes vectors of removed chunks, writes the manifest
                report = sem.index(cancel=reporter.cancelled)
        if sem.mode == "vector" and not report.cancelled:
            self._load_similar(rm)
        return report

    def _load_similar(self, rm: RootMemory) -> None:
        try:
            similar = sc.SimilarityIndex()
        except ImportError:
            return
        sem = rm.memory.semantic
        ranges = {row.key: row.range for row, _ in sem.catalogue.rows()}
        similar.load(sem.export_vectors(), ranges)
        with rm.lock:
            rm.similar = similar

    def _show_note(self, rm: RootMemory, note: str | None) -> None:
        if not note or rm.note_shown:
            return
        rm.note_shown = True
        message = f"sophia-artemis: search in {rm.root.name} is lexical only: {note}"
        log.warning("%s", message)
        self.server.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=message))

    def on_saved(self, uri: str) -> None:
        path = uri_to_path(uri)
        root = self.root_of(path) if path is not None else None
        rm = self.roots.get(root) if root is not None else None
        if rm is None or path is None or rm.task is None:
            return
        if rm.indexing:
            rm.again = True
            return
        self._spawn(self._reindex_file(rm, path))

    async def _reindex_file(self, rm: RootMemory, path: Path) -> None:
        loop = asyncio.get_running_loop()

        def work() -> None:
            report = rm.memory.semantic.index()
            rel = relative(path, rm.root)
            log.info("index after saving %s: %d file(s) read, %d embedded", rel, report.files_read, report.embedded)
            if rm.similar is None or not path.is_file():
                return
            chunks = [c for c in chunk_file(rel, path.read_bytes(), redact=redact) if c.kind in sc.FUNCTION_KINDS]
            todo = [c for c in chunks if c.hash not in rm.vector_cache and rm.similar.vector(rel, c.qualname, c.hash) is None]
            if todo:
                from sophia_artemis.analysis.chunks import embedding_text

                for c, v in zip(todo, rm.memory.semantic.embedder.embed([embedding_text(c) for c in todo])):
                    rm.vector_cache[c.hash] = v
            with rm.lock:
                vecs = [rm.vector_cache.get(c.hash) if c.hash in rm.vector_cache else
                        rm.similar.vector(rel, c.qualname, c.hash) for c in chunks]
                rm.similar.replace_file(rel, chunks, vecs)

        try:
            await loop.run_in_executor(self.pool, work)
        except Exception:
            log.exception("re-indexing %s after a save failed", path)

    # ------------------------------------------------------------------------------------------ SA501

    def on_analysed(self, doc: OpenDocument, changed: bool) -> None:
        if doc.reason not in ("open", "edit"):
            return
        self.last_activity = time.monotonic()
        if doc.python and doc.path is not None and doc.root is not None:
            self.schedule_similar(doc, 0 if doc.reason == "open" else SIMILAR_DELAY)

    def on_closed(self, doc: OpenDocument) -> None:
        state = self.docs.pop(doc.uri, None)
        if state is not None and state.task is not None:
            state.task.cancel()

    def schedule_similar(self, doc: OpenDocument, delay: float) -> None:
        state = self.docs.setdefault(doc.uri, DocState())
        if state.task is not None and not state.task.done():
            state.task.cancel()
        state.task = asyncio.get_running_loop().create_task(self._similar_later(doc, state, delay))

    async def _similar_later(self, doc: OpenDocument, state: DocState, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await self._similar_now(doc, state)
        except Exception:
            log.exception("SA501 for %s failed", doc.uri)

    async def _similar_now(self, doc: OpenDocument, state: DocState) -> None:
        if self.engine.get(doc.uri) is not doc or doc.path is None or doc.root is None:
            return
        rm = self.ensure_indexed(doc.root)
        if rm is None:
            return
        await rm.ready.wait()
        if self.engine.get(doc.uri) is not doc:
            return
        settings = self.engine.settings_for(doc)
        version, source = doc.version, doc.buffer.source
        rel = relative(doc.path, rm.root)
        loop = asyncio.get_running_loop()
        chunks, matches = await loop.run_in_executor(self.pool, self._similar_sync, rm, rel, source,
                                                     settings.enabled(sc.RULE))
        if self.engine.get(doc.uri) is not doc or doc.version != version:
            return  # a newer edit scheduled its own run
        edited = [c for c in chunks if c.kind in sc.FUNCTION_KINDS and state.hashes.get(c.qualname) not in (None, c.hash)]
        state.version, state.chunks = version, chunks
        state.hashes = {c.qualname: c.hash for c in chunks}
        state.matches = {c.qualname: matches[c.key] for c in chunks if c.key in matches}
        for c in edited[:3]:
            self._in_background(self._focus_edited, rm, rel, c.qualname)
        findings = [self._finding(doc, rm, c, matches[c.key], settings.severity_of(sc.RULE))
                    for c in chunks if c.key in matches]
        self.engine.set_extra(doc, SOURCE, findings)

    def _similar_sync(self, rm: RootMemory, rel: str, source: bytes, enabled: bool) -> tuple[list[Chunk], dict[str, sc.Match]]:
        chunks = chunk_file(rel, source, redact=redact)
        if not enabled or rm.similar is None:
            return chunks, {}

        def embed(texts: list[str]) -> list[Any]:
            return rm.memory.semantic.embedder.embed(texts)

        with rm.lock:
            matches = sc.find_similar(rm.similar, rel, chunks, embed, cache=rm.vector_cache)
        return chunks, matches

    def _finding(self, doc: OpenDocument, rm: RootMemory, chunk: Chunk, match: sc.Match, severity: str) -> Finding:
        name = self._name_range(doc, chunk)
        other = match.range or (0, 0, 0, 0)
        where = Range.of(*other)
        same_file = match.path == relative(doc.path, rm.root) if doc.path is not None else False
        return Finding(
            rule=sc.RULE,
            severity=severity,
            message=f"Similar code exists: {match.qualname} in {match.path} (similarity {match.score:.2f})",
            range=name,
            data={"similar": match.to_json(), "threshold": sc.THRESHOLD},
            related=(Related(where, f"similar code: {match.qualname}", None if same_file else str(rm.root / match.path)),),
        )

    @staticmethod
    def _name_range(doc: OpenDocument, chunk: Chunk) -> Range:
        functions = doc.result.functions if doc.result is not None else []
        for info in functions:
            if info.qualname == chunk.qualname and info.range.start.line == chunk.range.start.line:
                return info.name_range
        return Range(chunk.range.start, chunk.range.start)

    @staticmethod
    def _focus_edited(rm: RootMemory, rel: str, qualname: str) -> None:
        rm.memory.focus(rel, qualname, context="edited")
        log.info("working memory: %s::%s (edited)", rel, qualname)

    def _in_background(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        def run() -> None:
            try:
                fn(*args, **kwargs)
            except Exception:
                log.exception("memory: %s failed", getattr(fn, "__name__", fn))

        self.pool.submit(run)

    def close(self) -> None:
        for rm in self.roots.values():
            with contextlib.suppress(Exception):
                rm.memory.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
        if "sophia_artemis.memory.embedder" in sys.modules:  # no model was asked for otherwise
            from sophia_artemis.memory.embedder import close_embedders

            close_embedders()


class _Progress:
    """Index progress: workDoneProgress with a token, log lines without. Called from the worker thread."""

    SCAN_SHARE = 10  # percent of the bar for the scan; the embedding fills the rest

    def __init__(self, server: LanguageServer, token: str | None, name: str, loop: asyncio.AbstractEventLoop) -> None:
        self.server, self.token, self.name, self.loop = server, token, name, loop
        self.total = 0
        self.ends: list[int] = []
        self.base = 0
        self._last = 0.0
        self.status: Callable[[int, str], None] | None = None  # sophia/status (throttled there)

    def _send(self, value: Any) -> None:
        if self.token is None:
            return
        token = self.token

        def send() -> None:
            method = {types.WorkDoneProgressBegin: self.server.work_done_progress.begin,
                      types.WorkDoneProgressReport: self.server.work_done_progress.report,
                      types.WorkDoneProgressEnd: self.server.work_done_progress.end}[type(value)]
            method(token, value)

        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:  # a worker thread
            on_loop = False
        if on_loop:
            send()  # at once, so what the caller logs next follows it on the wire
        else:
            self.loop.call_soon_threadsafe(send)

    def begin(self) -> None:
        log.info("indexing %s", self.name)
        self._send(types.WorkDoneProgressBegin(title=f"Indexing {self.name}", cancellable=True, percentage=0,
                                               message="scanning files"))

    def end(self, message: str) -> None:
        self._send(types.WorkDoneProgressEnd(message=message))

    def cancelled(self) -> bool:
        if self.token is None:
            return False
        future = self.server.work_done_progress.tokens.get(self.token)
        return future is not None and future.cancelled()

    def _report(self, percent: int, message: str, force: bool = False) -> None:
        if self.status is not None:
            self.status(percent, message)
        now = time.monotonic()
        every = PROGRESS_EVERY if self.token is not None else LOG_EVERY
        if not force and now - self._last < every:
            return
        self._last = now
        if self.token is None:
            log.info("indexing %s: %s (%d%%)", self.name, message, percent)
        self._send(types.WorkDoneProgressReport(percentage=percent, message=message))

    def scan(self, stage: str, done: int, total: int) -> None:
        self._report(self.SCAN_SHARE * done // max(total, 1), f"scanned {done}/{total} files", done == total)

    def set_embedding(self, total: int, ends: list[int]) -> None:
        self.total, self.ends = total, ends

    def embed(self, stage: str, done: int, total: int) -> None:
        done = min(self.base + done, self.total)
        files = bisect.bisect_right(self.ends, done)
        percent = self.SCAN_SHARE + (100 - self.SCAN_SHARE) * done // max(self.total, 1)
        self._report(percent, f"embedded {files}/{len(self.ends)} files", done == self.total)


def hover_section(features: MemoryFeatures) -> Callable[[OpenDocument, Position, bool], str | None]:
    """Notes and the most similar code for metrics_view's hover (see the module docstring for where)."""

    def section(doc: OpenDocument, pos: Position, markdown: bool) -> str | None:
        if doc.path is None or doc.root is None:
            return None
        rm = features.roots.get(doc.root)
        if rm is None:
            return None
        rel = relative(doc.path, rm.root)
        state = features.docs.get(doc.uri)
        chunks = state.chunks if state is not None and state.version == doc.version else chunk_file(rel, doc.buffer.source)
        symbol = symbol_at(chunks, pos, def_line_only=True)
        lines: list[str] = []
        if symbol is not None:
            notes = rm.memory.project.notes(rel, symbol.qualname)
            features._in_background(rm.memory.focus, rel, symbol.qualname, context="hover")
        elif pos.line == 0:
            notes = [n for n in rm.memory.project.notes(rel) if n.target == rel]
        else:
            return None
        if notes:
            lines.append("**Notes**" if markdown else "Notes")
            lines += [f"- {n.text}" for n in notes]
        match = state.matches.get(symbol.qualname) if symbol is not None and state is not None else None
        if match is not None:
            line = (match.range[0] + 1) if match.range else 1
            where = f"{match.path}:{line}"
            if markdown:
                link = f"{(rm.root / match.path).as_uri()}#L{line}"
                lines.append(f"Similar code: [`{match.qualname}`]({link}) in `{where}` (similarity {match.score:.2f})")
            else:
                lines.append(f"Similar code: {match.qualname} in {where} (similarity {match.score:.2f})")
        return "\n".join(lines) or None

    return section


def similar_actions(features: MemoryFeatures) -> Callable[[OpenDocument, Range], list[types.CodeAction]]:
    """Code actions: "Go to similar code" for each SA501 finding at the range."""

    def provide(doc: OpenDocument, wanted: Range) -> list[types.CodeAction]:
        actions = []
        for finding in doc.extra.get(SOURCE, []):
            if finding.rule != sc.RULE or not convert.overlaps(finding.range, wanted):
                continue
            similar = finding.data["similar"]
            rel = finding.related[0] if finding.related else None
            target = convert.related_uri(doc.uri, rel.path, doc.root) if rel is not None else doc.uri
            title = f"Go to similar code: {similar['qualname']} ({similar['path']})"
            own = doc.path is not None and doc.root is not None
            argument = {
                "uri": target, "range": (rel.range if rel else finding.range).to_json(),
                "qualname": similar["qualname"],
                "from": {"uri": doc.uri, "path": relative(doc.path, doc.root) if own else "",
                         "qualname": getattr(symbol_at(features.docs.get(doc.uri, DocState()).chunks,
                                                       finding.range.start), "qualname", None)},
            }
            actions.append(types.CodeAction(
                title=title, kind=types.CodeActionKind.QuickFix,
                diagnostics=[convert.diagnostic(finding, doc.uri, doc.root)],
                command=types.Command(title=title, command=SHOW_SIMILAR, arguments=[argument]),
            ))
        return actions

    return provide


def setup(server: LanguageServer, engine: WorkspaceEngine, *, view: Any = None, actions: Any = None,
          status: StatusReporter | None = None) -> MemoryFeatures:
    """Register the memory's commands and hook into the engine (analyses, saves, closes), the hover of
    `view` (metrics_view.MetricsView.hover_sections) and the code actions of `actions` (CodeActions.providers);
    indexing and search mode go to `status` (sophia/status)."""
    from .memory_commands import MemoryCommands, command  # that module builds on this one

    features = MemoryFeatures(server, engine)
    features.status = status or features.status
    commands = MemoryCommands(features)

    engine.hook(after=features.on_analysed, closed=features.on_closed)
    engine.save_listeners.append(lambda uri, path: features.on_saved(uri))

    for name, handler in ((SEARCH, commands.search), (REMEMBER, commands.remember), (NOTES, commands.notes),
                          (REINDEX, commands.reindex), (SHOW_SIMILAR, commands.show_similar)):
        server.command(name)(command(name, handler, commands))
    if view is not None:
        view.hover_sections.append(hover_section(features))
    if actions is not None:
        actions.providers.append(similar_actions(features))
    return features
