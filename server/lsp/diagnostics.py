"""Diagnostics: pulled (`textDocument/diagnostic` with result ids) when the client can, pushed otherwise.

In pull mode the client asks after each edit by itself; when findings change for another reason (settings,
the maintainability index arriving later) the server asks it to pull again with
`workspace/diagnostic/refresh` if it supports that. In push mode every analysis is published with the
document version it describes, and closing a document clears its diagnostics.

New-code focus (`NewCodeFocus`, setting `newCodeFocus`) decides how findings recorded in the project's
baseline are shown, in open documents and unopened files alike.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fnmatch
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from sophia_artemis.analysis import Finding, Position, Range

from . import convert
from .engine import OpenDocument, WorkspaceEngine, uri_to_path
from .guard import guarded

log = logging.getLogger(__name__)

# the baseline files watched: the default `.sophia-baseline.json` and names like `ci/sophia-baseline.json`
BASELINE_GLOB = "**/*baseline*.json"


class Diagnostics:
    def __init__(self, server: LanguageServer, engine: WorkspaceEngine) -> None:
        self.server = server
        self.engine = engine
        self.pull = False
        self.refresh_support = False
        self._refresh_queued = False
        self._background: set[asyncio.Task[None]] = set()

    def configure(self, capabilities: types.ClientCapabilities) -> None:
        self.pull = get_capability(capabilities, "text_document.diagnostic", None) is not None
        self.refresh_support = bool(
            get_capability(capabilities, "workspace.diagnostics.refresh_support", False)
        )
        log.info("diagnostics: %s mode", "pull" if self.pull else "push")

    # ---- engine events ----
    def on_analysed(self, doc: OpenDocument, changed: bool) -> None:
        if self.pull:
            if changed and doc.reason not in ("open", "edit"):
                self.request_refresh()
        elif changed or doc.reason in ("open", "edit"):
            self.publish(doc)

    def on_closed(self, doc: OpenDocument) -> None:
        if not self.pull and doc.python:
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=doc.uri, diagnostics=[])
            )

    def publish(self, doc: OpenDocument) -> None:
        items = convert.diagnostics(doc.findings, doc.uri, doc.root)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=doc.uri, diagnostics=items, version=doc.version)
        )

    def request_refresh(self) -> None:
        """Ask the client to pull again: once for a burst of changes, and only if it supports that."""
        if not self.refresh_support or self._refresh_queued:
            return
        self._refresh_queued = True
        asyncio.get_running_loop().call_soon(self._send_refresh)

    def _send_refresh(self) -> None:
        self._refresh_queued = False

        async def send() -> None:
            try:
                await self.server.workspace_diagnostic_refresh_async(None)
            except Exception as exc:  # noqa: BLE001 - the client said no; nothing else to do
                log.debug("workspace/diagnostic/refresh failed: %s", exc)

        task = asyncio.get_running_loop().create_task(send())
        self._background.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._background.discard)

    # ---- pull ----
    async def document_diagnostic(
        self, params: types.DocumentDiagnosticParams
    ) -> types.DocumentDiagnosticReport:
        doc = self.engine.get(params.text_document.uri)
        if doc is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        # answer for the newest text: let a pending (debounced) analysis of it finish first
        await self.engine.settled(doc)
        if self.engine.get(doc.uri) is not doc:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        self.engine.refresh(doc)
        if params.previous_result_id is not None and params.previous_result_id == doc.result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=doc.result_id)
        return types.RelatedFullDocumentDiagnosticReport(
            items=convert.diagnostics(doc.findings, doc.uri, doc.root), result_id=doc.result_id
        )


def setup(server: LanguageServer, engine: WorkspaceEngine) -> Diagnostics:
    feature = Diagnostics(server, engine)
    engine.on_analysed = feature.on_analysed
    engine.on_closed = feature.on_closed
    server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier="sophia-artemis", inter_file_dependencies=True, workspace_diagnostics=True
        ),
    )(
        guarded(types.TEXT_DOCUMENT_DIAGNOSTIC, lambda: types.RelatedFullDocumentDiagnosticReport(items=[]))(
            feature.document_diagnostic
        )
    )
    return feature


# --------------------------------------------------------------------------------------------- new-code focus


class NewCodeFocus:
    """Setting `new_code_focus` (`newCodeFocus`): how findings the project's baseline records are shown in the
    editor - `off` as every other finding, `hint` as hints, `hide` not at all - so legacy code stays quiet and
    new findings stand out. The baseline is the one `check`/`review` use (server/review_commands.py: the file,
    its loading and its matcher are theirs), read again whenever it changes on disk; a broken one is reported
    once and hides nothing. Applied to open documents (an engine transform) and to the workspace diagnostics
    of unopened files."""

    def __init__(self, server: LanguageServer, engine: WorkspaceEngine) -> None:
        self.server = server
        self.engine = engine
        self.whole: Any = None  # project.ProjectFeature, for the unopened files
        self._baselines: dict[Path, tuple[tuple[Any, ...], Any]] = {}  # root -> (file signature, Baseline | None)
        self._lines: dict[str, tuple[int, list[str]]] = {}  # uri -> (version, lines) of open documents
        self._unopened: dict[str, tuple[tuple[Any, ...], list[Finding], list[bool]]] = {}
        self._reported: set[str] = set()

    def mode(self, root: Path | None) -> str:
        if root is None:
            return "off"
        return getattr(self.engine.settings.settings(root), "new_code_focus", "off")

    # ---- the baseline ----
    def baseline(self, root: Path) -> Any:
        """The root's Baseline, or None (no file, or a broken one: reported once, nothing hidden)."""
        from sophia_artemis.server.review_commands import baseline_file, load_baseline

        path, warning = baseline_file(root, self.engine.settings.settings(root))
        if warning:
            self._report(warning)
        if path is None:
            self._baselines.pop(root, None)
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        signature = (str(path), stat.st_mtime_ns, stat.st_size)
        known = self._baselines.get(root)
        if known is not None and known[0] == signature:
            return known[1]
        baseline, warning = load_baseline(path)
        if warning:
            self._report(f"new-code focus: {warning}")
        else:
            log.info("new-code focus: %d findings in the baseline %s", len(baseline.fingerprints), path)
        self._baselines[root] = (signature, baseline)
        return baseline

    def _report(self, message: str) -> None:
        if message in self._reported:
            return
        self._reported.add(message)
        log.warning("%s", message)
        self.server.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))

    def listed(self, doc: OpenDocument, findings: list[Finding]) -> list[bool] | None:
        """Which of an open document's `findings` the baseline records; None when no baseline applies."""
        if not findings or doc.root is None or doc.path is None:
            return None
        baseline = self.baseline(doc.root)
        if baseline is None:
            return None
        from sophia_artemis.server.review_commands import lines_of, project_rel

        known = self._lines.get(doc.uri)
        if known is None or known[0] != doc.version:
            known = self._lines[doc.uri] = (doc.version, lines_of(doc.buffer.source))
        return baseline.lists(project_rel(doc.root, doc.path), findings, known[1])

    # ---- applying it ----
    @staticmethod
    def apply(mode: str, findings: list[Finding], listed: list[bool]) -> list[Finding]:
        if mode == "hide":
            return [f for f, old in zip(findings, listed) if not old]
        # hint: still there for whoever looks (hover, the Problems view's hints), out of the way otherwise
        return [dataclasses.replace(f, severity="hint") if old and f.severity != "hint" else f
                for f, old in zip(findings, listed)]

    def transform(self, doc: OpenDocument, findings: list[Finding]) -> list[Finding]:
        mode = self.mode(doc.root)
        if mode == "off":
            return findings
        try:
            listed = self.listed(doc, findings)
        except Exception:
            log.exception("new-code focus: matching the findings of %s with the baseline failed", doc.uri)
            return findings
        return findings if listed is None else self.apply(mode, findings, listed)

    def wrap_unopened(self, original: Callable[[Any], dict[str, list[Finding]]]) -> Callable[[Any], dict[str, list[Finding]]]:
        """`ProjectFeature.unopened` with the focus applied (as learning.py wraps it for severities)."""

        def unopened(state: Any) -> dict[str, list[Finding]]:
            found = original(state)
            out: dict[str, list[Finding]] = {}
            for uri, findings in found.items():
                try:
                    out[uri] = self._unopened_findings(uri, findings)
                except Exception:
                    log.exception("new-code focus: matching the findings of %s with the baseline failed", uri)
                    out[uri] = findings
            for uri in [u for u in self._unopened if u not in found]:
                del self._unopened[uri]
            return {uri: findings for uri, findings in out.items() if findings}

        return unopened

    def _unopened_findings(self, uri: str, findings: list[Finding]) -> list[Finding]:
        path = uri_to_path(uri)
        root = self.engine.settings.project_root(path) if path is not None else None
        mode = self.mode(root)
        if mode == "off" or path is None or root is None:
            return findings
        baseline = self.baseline(root)
        if baseline is None:
            return findings
        try:
            stat = path.stat()
        except OSError:
            return findings
        # the file's text is read only when it, its findings or the baseline changed
        key = (stat.st_mtime_ns, stat.st_size, self._baselines[root][0])
        known = self._unopened.get(uri)
        if known is not None and known[0] == key and known[1] == findings:
            listed = known[2]
        else:
            from sophia_artemis.server.review_commands import file_lines, project_rel

            size = self.engine.settings.settings(root).max_file_size
            listed = baseline.lists(project_rel(root, path), findings, file_lines(path, size))
            self._unopened[uri] = (key, list(findings), listed)
        return self.apply(mode, findings, listed)

    # ---- the baseline changed ----
    def files_changed(self, changes: list[types.FileEvent]) -> None:
        paths = [uri_to_path(change.uri) for change in changes]
        if any(p is not None and self._is_baseline(p) for p in paths):
            self.baseline_changed()

    def saved(self, uri: str, path: Path | None) -> None:
        if path is not None and self._is_baseline(path):
            self.baseline_changed()

    @staticmethod
    def _is_baseline(path: Path) -> bool:
        return fnmatch.fnmatch(path.name, BASELINE_GLOB.rsplit("/", 1)[-1])

    def baseline_changed(self) -> None:
        """Show every document and unopened file again with the baseline as it is on disk now."""
        log.info("new-code focus: the baseline changed; updating diagnostics")
        self._baselines.clear()
        self._unopened.clear()
        self._reported.clear()
        for doc in list(self.engine.documents.values()):
            if doc.python and self.mode(doc.root) != "off":
                self.engine.transformed(doc, "baseline")
        whole = self.whole
        if whole is not None:
            for state in list(whole.folders.values()):
                if state.ready.is_set() and self.mode(state.folder) != "off":
                    whole.publish(state)

    def closed(self, doc: OpenDocument) -> None:
        self._lines.pop(doc.uri, None)

    # ---- hover ----
    def hover_section(self, doc: OpenDocument, position: Position, markdown: bool) -> str | None:
        mode = self.mode(doc.root)
        if mode == "off":
            return None
        found = doc.raw_findings
        listed = self.listed(doc, found) or []
        here = Range(position, position)
        rules = sorted({f.rule for f, old in zip(found, listed) if old and convert.overlaps(f.range, here)})
        if not rules:
            return None
        shown = "shown as hints" if mode == "hint" else "hidden"
        codes = ", ".join(f"`{r}`" if markdown else r for r in rules)
        head = "**In the baseline (legacy)**" if markdown else "In the baseline (legacy)"
        return f"{head}: {codes} - {shown} by the newCodeFocus setting"


def focus_setup(
    server: LanguageServer, engine: WorkspaceEngine, session: Any, *, whole: Any = None, view: Any = None
) -> NewCodeFocus:
    """New-code focus on the engine's findings (a transform, after the others), the unopened files of `whole`,
    hover (`view`), and the baseline file watched through `session`. Call after learning.setup."""
    focus = NewCodeFocus(server, engine)
    engine.transforms.append(focus.transform)
    engine.hook(closed=focus.closed)
    engine.save_listeners.append(focus.saved)
    session.watchers.append(types.FileSystemWatcher(glob_pattern=BASELINE_GLOB))
    session.files_listeners.append(focus.files_changed)
    if whole is not None:
        focus.whole = whole
        whole.unopened = focus.wrap_unopened(whole.unopened)
    if view is not None:
        view.hover_sections.append(focus.hover_section)
    return focus
