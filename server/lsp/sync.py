"""Text synchronisation: didOpen / didChange (incremental) / didSave / didClose into the engine.

The protocol (transport.py) routes these notifications straight here instead of through pygls' own
workspace, so there is exactly one copy of each document: ours, parsed incrementally.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from . import convert
from .engine import WorkspaceEngine, uri_to_path
from .guard import guarded

log = logging.getLogger(__name__)


class TextSync:
    def __init__(self, engine: WorkspaceEngine, on_pyproject_saved: Callable[[Path], None]) -> None:
        self.engine = engine
        self.on_pyproject_saved = on_pyproject_saved

    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        self.engine.open(item.uri, item.language_id or "", item.version, item.text)

    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        changes = [
            (convert.range_(c.range), c.text)
            if isinstance(c, types.TextDocumentContentChangePartial)
            else (None, c.text)
            for c in params.content_changes
        ]
        if self.engine.change(uri, params.text_document.version, changes) is None:
            log.warning(
                "didChange for %s, which is not open: ignored (a client must send didOpen first)", uri
            )

    def did_save(self, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        self.engine.save(uri)
        path = uri_to_path(uri)
        if path is not None and path.name == "pyproject.toml":
            self.on_pyproject_saved(path)

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        if self.engine.close(params.text_document.uri) is None:
            log.warning("didClose for %s, which is not open: ignored", params.text_document.uri)


def setup(
    server: LanguageServer, engine: WorkspaceEngine, on_pyproject_saved: Callable[[Path], None]
) -> TextSync:
    sync = TextSync(engine, on_pyproject_saved)
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(guarded(types.TEXT_DOCUMENT_DID_OPEN)(sync.did_open))
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(guarded(types.TEXT_DOCUMENT_DID_CHANGE)(sync.did_change))
    server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))(
        guarded(types.TEXT_DOCUMENT_DID_SAVE)(sync.did_save)
    )
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(guarded(types.TEXT_DOCUMENT_DID_CLOSE)(sync.did_close))
    return sync
