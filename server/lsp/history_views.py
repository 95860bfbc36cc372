"""Git history in the editor: SA203 hotspots, "often changes with" in hover, and `sophia.related`.

After each index of a folder, its history is read in a worker thread (kept in project memory: only new
commits are mined after the first time; memory/history_store.py). Then hotspots (analysis/hotspots.py) join
the folder's diagnostics - unopened files through the project feature's publishing, open ones as extra
findings (source "history") - and hover on a module's first lines lists the files that usually change with it.

Reading many commits (a first read of a long history: PROGRESS_MIN_COMMITS or more) shows `$/progress`
("sophia-artemis: reading git history", commit counts, percent from `git rev-list --count`) when the client
supports it; `git log` is streamed, so the counts are real, and the user can cancel (git is stopped, nothing
is stored, the next index tries again). The `history` component of `sophia/status` follows the read. One
read per folder at a time: an index that finishes meanwhile asks for one more read after it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from .engine import OpenDocument, WorkspaceEngine, uri_to_path
from .progress import WorkDone
from .project import ProjectFeature
from .project_views import FolderState
from .status import component

log = logging.getLogger(__name__)

RELATED = "sophia.related"
SOURCE = "history"
HOVER_LINES = 2  # hover on a module's first lines shows its companions
COMPANIONS_SHOWN = 5
PROGRESS_MIN_COMMITS = 100  # a read of fewer commits (an incremental update) shows no $/progress
PROGRESS_TITLE = "sophia-artemis: reading git history"


class HistoryViews:
    def __init__(self, server: LanguageServer, engine: WorkspaceEngine, project: ProjectFeature) -> None:
        self.server = server
        self.engine = engine
        self.project = project
        self._tasks: set[asyncio.Task[None]] = set()
        self._reading: dict[Path, asyncio.Task[None]] = {}  # folder -> its history read in flight
        self._again: set[Path] = set()  # folders indexed again while their history was being read
        self._stopping = False

    # ---- after each index ----
    def indexed(self, state: FolderState) -> None:
        if state.folder in self._reading:
            self._again.add(state.folder)
            return
        task = asyncio.get_running_loop().create_task(self._read_while_asked(state))
        self._reading[state.folder] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_while_asked(self, state: FolderState) -> None:
        try:
            while True:
                self._again.discard(state.folder)
                await self._mine(state)
                if state.folder not in self._again or self._stopping:
                    return
        finally:
            self._reading.pop(state.folder, None)

    async def _mine(self, state: FolderState) -> None:
        try:
            found = await self._read(state)
        except Exception:
            log.exception("reading the git history of %s failed", state.folder)
            return
        if found is None:
            return
        state.history = found
        state.hotspots = await asyncio.to_thread(self._hotspots, state, *found)
        log.info("history of %s: %d hotspots", state.folder, len(state.hotspots))
        self.project.publish(state)
        for doc in list(self.engine.documents.values()):
            if doc.path is not None and self.project.state_for(doc.path) is state:
                self.engine.set_extra(doc, SOURCE, state.hotspots.get(state.index.rel(doc.path), []))

    async def _read(self, state: FolderState) -> tuple[Path, Any] | None:
        """The folder's history, read in a worker thread with progress when there is much to read; None when
        the folder is not in a git repository or the user cancelled."""
        from sophia_artemis.analysis.history import HistoryCancelled

        planned = await asyncio.to_thread(self._plan, state)
        if planned is None:
            return None
        top, plan = planned
        status = getattr(self.project, "status", None)
        name = component("history", state.folder, self.project.store.folders)
        work = WorkDone(self.server, bool(self.project.progress))
        many = plan.to_read >= PROGRESS_MIN_COMMITS
        if many:
            await work.begin(PROGRESS_TITLE, f"0/{plan.to_read:,} commits", percentage=0)
            if status is not None:
                status.report(name, "indexing", f"reading git history: 0/{plan.to_read:,} commits", 0)

        def progress(done: int, total: int) -> None:
            if not many:
                return
            percentage = 100 * done // total if total else 100
            work.report(f"{done:,}/{total:,} commits", percentage, last=done >= total)
            if status is not None:
                message = f"reading git history: {done:,}/{total:,} commits"
                status.report(name, "indexing", message, percentage)

        def cancel() -> bool:
            return self._stopping or work.cancelled()

        started = time.perf_counter()
        try:
            history = await asyncio.to_thread(plan.run, progress, cancel)
        except HistoryCancelled:
            work.end("cancelled")
            if status is not None:
                message = "git history not read: cancelled (read again on the next index)"
                status.report(name, "degraded", message)
            log.info("reading the git history of %s was cancelled", state.folder)
            return None
        except Exception as exc:
            work.end(f"failed: {exc.__class__.__name__}: {exc}")
            if status is not None:
                status.report(name, "degraded", f"reading git history failed: {exc}")
            raise
        commits = len(history.commits)
        work.end(f"{commits:,} commits ({time.perf_counter() - started:.1f} s)")
        if status is not None:
            status.report(name, "ready", f"git history: {commits:,} commits")
        log.info("git history of %s: %d commits, %d read now", state.folder, commits, plan.to_read)
        return top, history

    @staticmethod
    def _plan(state: FolderState) -> tuple[Path, Any] | None:
        from sophia_artemis.analysis.history import HistoryError, toplevel
        from sophia_artemis.memory.history_store import plan_history

        try:
            top = toplevel(state.folder)
            known = state.history[1] if state.history is not None and state.history[0] == top else None
            return top, plan_history(top, state.index.memory, known=known)
        except HistoryError as exc:
            log.info("no git history for %s: %s", state.folder, exc)
            return None

    @staticmethod
    def _history(state: FolderState) -> tuple[Path, Any] | None:
        from sophia_artemis.analysis.history import HistoryError, toplevel
        from sophia_artemis.memory.history_store import project_history

        try:
            top = toplevel(state.folder)
            return top, project_history(top, state.index.memory)
        except HistoryError as exc:
            log.info("no git history for %s: %s", state.folder, exc)
            return None

    @staticmethod
    def _hotspots(state: FolderState, top: Path, history: Any) -> dict[str, list[Any]]:
        from sophia_artemis.analysis.hotspots import hotspot_findings

        index = state.index
        churn: dict[str, int] = {}
        for path, commits in history.churn().items():
            rel = Path(os.path.relpath(top / path, index.root)).as_posix()
            if not rel.startswith("../"):
                churn[rel] = commits
        complexity = {rel: sum(f.cyclomatic for f in facts.functions) for rel, facts in index.files.items()}
        return hotspot_findings(churn, complexity, index.settings)

    # ---- hover and command ----
    def companions(self, path: Path, k: int = COMPANIONS_SHOWN) -> list[dict[str, Any]]:
        state = self.project.state_for(path)
        if state is None or state.history is None:
            return []
        top, history = state.history
        rel = Path(os.path.relpath(path, top)).as_posix()
        if rel.startswith("../") or not history.knows(rel):
            return []
        out = []
        for r in history.related(history.canonical(rel), k=k):
            shown = Path(os.path.relpath(top / r.path, state.index.root)).as_posix()
            out.append({"path": shown, "uri": (top / r.path).as_uri(), "score": round(r.score, 4),
                        "commits": r.support, "reasons": list(r.reasons)})
        return out

    def hover_section(self, doc: OpenDocument, position: Any, markdown: bool) -> str | None:
        if doc.path is None or position.line >= HOVER_LINES:
            return None
        found = self.companions(doc.path)
        if not found:
            return None
        items = ", ".join(f"{c['path']} ({c['score']:.0%}, {c['commits']} commits)" for c in found)
        return f"{'**Often changes with**' if markdown else 'Often changes with'}: {items}"

    async def related(self, args: Any) -> dict[str, Any]:
        arg = args[0] if isinstance(args, (list, tuple)) and args else args
        uri = arg.get("uri") if isinstance(arg, dict) else None
        path = uri_to_path(uri) if isinstance(uri, str) else None
        if path is None:
            return {"version": 1, "error": "sophia.related needs {\"uri\": a file uri}"}
        state = self.project.state_for(path)
        if state is None:
            return {"version": 1, "error": f"{path} is not inside a workspace folder"}
        reading = self._reading.get(state.folder)
        if state.history is None and reading is not None:  # the read in flight answers (one read at a time)
            await asyncio.shield(reading)
        if state.history is None:
            found = await asyncio.to_thread(self._history, state)
            if found is None:
                return {"version": 1, "error": f"{state.folder} is not in a git repository"}
            state.history = found
        k = arg.get("k", COMPANIONS_SHOWN) if isinstance(arg.get("k", COMPANIONS_SHOWN), int) else COMPANIONS_SHOWN
        return {"version": 1, "file": state.index.rel(path), "related": self.companions(path, k)}

    def shutdown(self) -> None:
        self._stopping = True  # a read in a worker thread stops at its next chunk
        for task in list(self._tasks):
            task.cancel()


def setup(server: LanguageServer, engine: WorkspaceEngine, project: ProjectFeature, *, view: Any = None) -> HistoryViews:
    feature = HistoryViews(server, engine, project)
    project.on_indexed.append(feature.indexed)
    if view is not None:
        view.hover_sections.append(feature.hover_section)

    @server.command(RELATED)
    async def related(*args: Any) -> dict[str, Any]:
        try:
            return await feature.related(args[-1] if args else None)
        except Exception as exc:  # every command answers
            log.exception("%s failed", RELATED)
            return {"version": 1, "error": f"{RELATED} failed: {exc.__class__.__name__}: {exc}"}

    return feature


__all__ = ["HistoryViews", "setup", "types"]
