"""The whole workspace in the editor: background indexing, diagnostics for unopened files, file watching,
and live SA301/SA302 on the buffer being typed.

On `initialized` (once the editor's settings are in) every workspace folder is indexed in a worker thread
(`memory.workspace_index.ProjectIndex`: files analysed in processes, kept in `<root>/.sophia`) with
`$/progress` (percent, file counts, cancellable) when the client supports it; requests are answered
meanwhile. A restart with nothing changed reloads the index from the project memory.

Diagnostics for files that are not open (setting `diagnosticScope`, default `workspace`; `open` turns this
off): pushed with `textDocument/publishDiagnostics`, or, once the client has asked `workspace/diagnostic`,
answered there (with result ids, so unchanged files cost nothing). Open documents keep their own analysis;
their workspace findings (SA301-SA303) join as extra findings: on every edit the buffer's imports replace
the file's edges in the graph and SA301/SA302 are recomputed for it, so a violation shows on the import
line as it is typed.

External changes (`workspace/didChangeWatchedFiles`, registered dynamically for sources and project files,
and saves) queue a refresh of the folder: only files whose size, mtime or content changed are analysed
again, then SA301-SA303 are recomputed for the whole project, which covers everything depending on them.
A git branch switch is just many changed files: the same path.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from sophia_artemis.analysis.model import Finding

from . import convert
from .configuration import SettingsStore
from .engine import OpenDocument, WorkspaceEngine, uri_to_path
from .progress import WorkDone
from .project_views import FolderState, ProjectViews
from .status import StatusReporter, component, index_summary

log = logging.getLogger(__name__)

REFRESH_DEBOUNCE = 0.3  # seconds: a burst of file events (a branch switch) becomes one refresh
LIVE_DEBOUNCE = 0.15  # seconds after an edit before the buffer's imports are checked against the graph
LIVE_BUDGET = 0.015  # seconds the live check may add to an edit's analysis before it moves off that path
WATCHED = ("**/*.{py,pyi,js,jsx,mjs,cjs,ts,tsx,mts,cts}", "**/{pyproject.toml,setup.cfg,.importlinter,tsconfig.json,jsconfig.json,.gitignore}")
SOURCE = "workspace"
SKIPS_LOGGED = 50


class ProjectFeature(ProjectViews):
    def __init__(self, server: LanguageServer, engine: WorkspaceEngine, store: SettingsStore) -> None:
        self.server = server
        self.engine = engine
        self.store = store
        self.folders: dict[Path, FolderState] = {}
        self.progress = False
        self.pull = False
        self.pulled_workspace = False  # the client asked workspace/diagnostic at least once
        self._pending: set[Path] = set()
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._live: dict[str, asyncio.Task[None]] = {}
        self._live_cost: dict[Path, float] = {}
        self._counts: dict[tuple[int, str], tuple[list[Any], list[str]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.on_indexed: list[Callable[[FolderState], None]] = []
        self.status = StatusReporter(server)  # app.py passes the server's one (sophia/status)

    # ---- lifecycle ----
    def configure(self, caps: types.ClientCapabilities) -> None:
        self.progress = bool(get_capability(caps, "window.work_done_progress", False))
        self.pull = get_capability(caps, "text_document.diagnostic", None) is not None

    async def start(self) -> None:
        """Index every workspace folder (called once the editor's settings are known)."""
        await self.engine.configured.wait()
        for folder in self.store.folders:
            self.request_refresh(folder, debounce=False)

    def shutdown(self) -> None:
        for task in [self._worker, *self._live.values(), *self._tasks]:
            if task is not None:
                task.cancel()
        for state in self.folders.values():
            try:
                state.index.close()
                if state.index.memory is not None:
                    state.index.memory.close()
            except Exception:
                log.exception("closing the project memory of %s failed", state.folder)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- folders and indexes ----
    def state_for(self, path: Path | None) -> FolderState | None:
        if path is None:
            return None
        folder = self.store.folder_of(path)
        return self.folders.get(folder) if folder is not None else None

    def _state(self, folder: Path) -> FolderState:
        from sophia_artemis.memory.project import ProjectMemory
        from sophia_artemis.memory.workspace_index import ProjectIndex

        settings = self.store.settings(folder)
        state = self.folders.get(folder)
        if state is not None and state.index.settings == settings:
            return state
        import multiprocessing

        # forkserver: this process runs threads (the protocol reader), which fork() must not copy
        from sophia_artemis.memory.workspace_index import PRELOAD

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))  # workers fork from a server that has them imported
        index = ProjectIndex(folder, settings, memory=ProjectMemory(folder), mp_context=context, extract=True)
        fresh = FolderState(folder, index)
        if state is not None:
            fresh.published = state.published
        self.folders[folder] = fresh
        return fresh

    def request_refresh(self, folder: Path, *, debounce: bool = True) -> None:
        self._pending.add(folder)
        if self._wake is None:
            self._wake = asyncio.Event()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._run_refreshes())
        self._debounce = debounce
        self._wake.set()

    async def _run_refreshes(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if getattr(self, "_debounce", True):
                await asyncio.sleep(REFRESH_DEBOUNCE)  # fold the rest of a burst of file events
            pending, self._pending = self._pending, set()
            for folder in sorted(pending):
                try:
                    await self.refresh(folder)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.exception("indexing %s failed", folder)
                    self.status.report(component("index", folder, self.store.folders), "degraded",
                                       f"indexing failed: {exc.__class__.__name__}: {exc}")

    async def refresh(self, folder: Path) -> None:
        state = self._state(folder)
        first = not state.ready.is_set()
        cancelled = False
        work = WorkDone(self.server, self.progress)
        await work.begin(f"sophia-artemis: indexing {folder.name}", "looking for changes", percentage=0)
        name = component("index", folder, self.store.folders)
        self.status.report(name, "indexing", "indexing: looking for changes", 0)

        def progress(done: int, total: int, rel: str) -> None:
            self.status.report(name, "indexing", f"indexing: {done}/{total} files", 100 * done // total if total else 100)
            work.report(f"{done}/{total} files", int(100 * done / total) if total else 100, last=done == total)

        cancel = work.cancelled

        log.info("indexing %s", folder)
        try:
            report = await asyncio.to_thread(state.index.refresh, progress=progress, cancel=cancel)
        except Exception as exc:
            state.error = f"{exc.__class__.__name__}: {exc}"
            work.end(f"failed: {state.error}")
            raise
        cancelled = report.cancelled
        summary = (
            f"{report.files} files: {report.analysed} analysed, {report.reused} from memory"
            f"{', cancelled' if cancelled else ''} ({report.seconds:.1f} s)"
        )
        log.info("indexed %s: %s", folder, summary)
        for problem in report.problems:
            self.server.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=problem))
        for path, error in report.errors:
            log.warning("analysis failed for %s: %s", path, error)
        for path, reason in report.skipped[:SKIPS_LOGGED]:
            log.info("not indexed: %s: %s", path, reason)
        if len(report.skipped) > SKIPS_LOGGED:
            log.info("... and %d more files or folders not indexed", len(report.skipped) - SKIPS_LOGGED)
        work.end(summary)
        if cancelled:
            self.status.report(name, "degraded", "indexing cancelled: findings of unopened files may be out of date")
            return
        self.status.report(name, "ready", index_summary(state.index))
        state.ready.set()
        state.error = None
        self.publish(state)
        if state.index.graph is None:  # a warm start reused every finding: the graph is built now, off the loop
            await asyncio.to_thread(state.index.ensure_models)
        for doc in list(self.engine.documents.values()):
            if doc.path is not None and self.state_for(doc.path) is state:
                self.schedule_live(doc, delay=0)
        for listener in list(self.on_indexed):
            listener(state)
        if first:
            log.info("workspace index of %s ready", folder)

    # ---- diagnostics of unopened files ----
    def scope(self, folder: Path) -> str:
        return getattr(self.store.settings(folder), "diagnostic_scope", "workspace")

    def unopened(self, state: FolderState) -> dict[str, list[Finding]]:
        """uri -> findings for the folder's files that are not open and have findings (when in scope)."""
        if self.scope(state.folder) != "workspace":
            return {}
        index = state.index
        out: dict[str, list[Finding]] = {}
        rels = set(index.files) | set(index.workspace) | set(state.hotspots)
        for rel in rels:
            path = index.root / rel
            uri = path.as_uri()
            if uri in self.engine.documents:
                continue
            found = index.findings_for(path) + state.hotspots.get(rel, [])
            if found:
                out[uri] = found
        return out

    def publish(self, state: FolderState) -> None:
        current = self.unopened(state)
        if self.pulled_workspace:
            self.engine_refresh()
            return
        for uri, found in current.items():
            rid = _result_id(found)
            if state.published.get(uri) == rid:
                continue
            state.published[uri] = rid
            self._push(uri, found, state.index.root)
        for uri in [u for u in state.published if u not in current and u not in self.engine.documents]:
            del state.published[uri]
            self._push(uri, [], state.index.root)

    def _push(self, uri: str, found: list[Finding], root: Path) -> None:
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=convert.diagnostics(found, uri, root))
        )

    def engine_refresh(self) -> None:
        diagnostics = getattr(self.server, "diagnostics_feature", None)
        if diagnostics is not None:
            diagnostics.request_refresh()

    def on_opened(self, doc: OpenDocument) -> None:
        state = self.state_for(doc.path)
        if state is None:
            return
        if self.pull and state.published.pop(doc.uri, None) is not None and not self.pulled_workspace:
            self._push(doc.uri, [], state.index.root)  # the pulled document report takes over
        else:
            state.published.pop(doc.uri, None)

    def on_closed(self, doc: OpenDocument) -> None:
        """A closed file falls back to the index's findings (of its text on disk)."""
        state = self.state_for(doc.path)
        if state is None or not state.ready.is_set() or doc.path is None:
            return
        if not self.pulled_workspace and self.scope(state.folder) == "workspace":
            found = state.index.findings_for(doc.path)
            if found:
                state.published[doc.uri] = _result_id(found)
                self._push(doc.uri, found, state.index.root)
        elif self.pulled_workspace:
            self.engine_refresh()

    async def workspace_diagnostic(self, params: types.WorkspaceDiagnosticParams) -> types.WorkspaceDiagnosticReport:
        self.pulled_workspace = True
        previous = {p.uri: p.value for p in params.previous_result_ids or []}
        items: list[Any] = []
        for state in list(self.folders.values()):
            if not state.ready.is_set():
                continue
            for uri, found in sorted(self.unopened(state).items()):
                rid = _result_id(found)
                if previous.get(uri) == rid:
                    items.append(types.WorkspaceUnchangedDocumentDiagnosticReport(uri=uri, result_id=rid, version=None))
                else:
                    items.append(types.WorkspaceFullDocumentDiagnosticReport(
                        uri=uri, items=convert.diagnostics(found, uri, state.index.root), result_id=rid, version=None))
            if state.published:  # what was pushed before the client started pulling
                for uri in list(state.published):
                    if uri not in self.engine.documents:
                        self._push(uri, [], state.index.root)
                state.published.clear()
            answered = {i.uri for i in items}
            for uri in previous:  # files whose findings are gone: say so once
                if uri in answered or uri in self.engine.documents or self.state_for(uri_to_path(uri)) is not state:
                    continue
                items.append(types.WorkspaceFullDocumentDiagnosticReport(uri=uri, items=[], version=None))
        return types.WorkspaceDiagnosticReport(items=items)

    # ---- open documents: workspace findings, live ----
    def before_report(self, doc: OpenDocument) -> None:
        """Called after each analysis, before it is reported: the document's workspace findings for its new
        text join at once while that is cheap (LIVE_BUDGET), so a pull answers with them; when a project
        makes it costly they follow after a short pause instead."""
        if doc.reason == "open":
            self.on_opened(doc)
        if doc.reason not in ("open", "edit") or doc.path is None or not doc.python:
            return
        state = self.state_for(doc.path)
        if state is None or not state.ready.is_set():
            return
        if self._live_cost.get(state.folder, 0.0) > LIVE_BUDGET or state.index.graph is None:
            self.schedule_live(doc, delay=LIVE_DEBOUNCE if doc.reason == "edit" else 0)
            return
        started = time.perf_counter()
        try:
            found = self.live_findings(state, doc)
        except Exception:
            log.exception("workspace findings of %s failed", doc.uri)
            return
        self._live_cost[state.folder] = time.perf_counter() - started
        self.engine.update_extra(doc, SOURCE, found)

    def schedule_live(self, doc: OpenDocument, delay: float) -> None:
        if doc.path is None or not doc.python:
            return
        old = self._live.get(doc.uri)
        if old is not None and not old.done():
            old.cancel()
        self._live[doc.uri] = asyncio.get_running_loop().create_task(self._live_later(doc, delay))

    async def _live_later(self, doc: OpenDocument, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.engine.get(doc.uri) is not doc:
            return
        state = self.state_for(doc.path)
        if state is None or not state.ready.is_set():
            return
        try:
            found = self.live_findings(state, doc)
        except Exception:
            log.exception("workspace findings of %s failed", doc.uri)
            return
        if self.engine.get(doc.uri) is doc:
            self.engine.set_extra(doc, SOURCE, found)

    def live_findings(self, state: FolderState, doc: OpenDocument) -> list[Finding]:
        """The document's SA301-SA303 for its current text: SA301/SA302 from its buffer's imports against
        the graph of the rest of the project; SA303 from the last index run."""
        from sophia_artemis.analysis.architecture import architecture_findings
        from sophia_artemis.analysis.imports.extract import tree_imports
        from sophia_artemis.analysis.imports.languages import dialect_of

        index = state.index
        assert doc.path is not None
        rel = index.rel(doc.path)
        stored = index.workspace_for(doc.path)
        parsed = doc.parsed
        dialect = dialect_of(doc.path.name)
        settings = index.settings
        if parsed is None or dialect is None or not (settings.enabled("SA301") or settings.enabled("SA302")):
            return stored
        graph = index.graph
        if graph is None:
            return stored
        module = graph.module_for_path(rel) if graph is not None else None
        if module is None:
            return stored
        records = tree_imports(parsed.tree, parsed.source, dialect)
        live_graph = graph.with_imports(module, records)
        live = architecture_findings(live_graph, index.root, settings, index.contracts, texts={rel: parsed.text})
        mine = live.get(str(index.root / rel), [])
        return sorted([*mine, *(f for f in stored if f.rule not in ("SA301", "SA302"))], key=Finding.sort_key)

    # ---- file events ----
    def files_changed(self, changes: list[types.FileEvent]) -> None:
        folders: set[Path] = set()
        for change in changes:
            path = uri_to_path(change.uri)
            if path is None or any(part in (".sophia", ".git", "node_modules") for part in path.parts):
                continue
            folder = self.store.folder_of(path)
            if folder is not None:
                folders.add(folder)
        for folder in folders:
            self.request_refresh(folder)

    def settings_changed(self) -> None:
        """After settings or workspace folders changed: index new folders, re-index those whose settings
        differ, forget removed ones (withdrawing what was published for them)."""
        if not self.engine.configured.is_set():
            return  # the first index starts once the settings are in
        current = set(self.store.folders)
        for folder in list(self.folders):
            if folder not in current:
                state = self.folders.pop(folder)
                self.status.forget(component("index", folder, [*current, folder]))
                for uri in state.published:
                    if uri not in self.engine.documents:
                        self._push(uri, [], folder)
        for folder in current:
            state = self.folders.get(folder)
            if state is None or state.index.settings != self.store.settings(folder):
                self.request_refresh(folder)

    def saved(self, uri: str, path: Path | None) -> None:
        if path is None:
            return
        folder = self.store.folder_of(path)
        if folder is not None and folder in self.folders:
            self.request_refresh(folder)


def _result_id(found: list[Finding]) -> str:
    h = hashlib.blake2b(digest_size=10)
    for f in found:
        h.update(repr((f.rule, f.range, f.message, f.severity)).encode())
    return h.hexdigest()


def watchers() -> list[types.FileSystemWatcher]:
    return [types.FileSystemWatcher(glob_pattern=glob) for glob in WATCHED]


def setup(
    server: LanguageServer, engine: WorkspaceEngine, store: SettingsStore, *, view: Any = None, actions: Any = None,
    status: StatusReporter | None = None,
) -> ProjectFeature:
    from .guard import guarded

    feature = ProjectFeature(server, engine, store)
    feature.status = status or feature.status
    if view is not None:
        view.lens_providers.append(feature.callers_lenses)
        view.lens_resolvers["callers"] = feature.resolve_callers
        view.hover_sections.append(feature.hover_section)
    if actions is not None:
        actions.providers.append(feature.cycle_actions)
    engine.hook(before=feature.before_report, closed=feature.on_closed)
    engine.save_listeners.append(feature.saved)
    reanalyse = engine.reanalyse

    def reanalyse_all(*args: Any, **kwargs: Any) -> None:  # settings or folders changed
        reanalyse(*args, **kwargs)
        feature.settings_changed()

    engine.reanalyse = reanalyse_all  # type: ignore[method-assign]
    server.feature(types.WORKSPACE_DIAGNOSTIC)(
        guarded(types.WORKSPACE_DIAGNOSTIC, lambda: types.WorkspaceDiagnosticReport(items=[]))(
            feature.workspace_diagnostic
        )
    )
    return feature
