"""Diagnostics: pulled (`textDocument/diagnostic` with result ids) when the client can, pushed otherwise.

In pull mode the client asks after each edit by itself; when findings change for another reason (settings,
the maintainability index arriving later) the server asks it to pull again with
`workspace/diagnostic/refresh` if it supports that. In push mode every analysis is published with the
document version it describes, and closing a document clears its diagnostics.
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer

from . import convert
from .engine import OpenDocument, WorkspaceEngine
from .guard import guarded

log = logging.getLogger(__name__)


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
