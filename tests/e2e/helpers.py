"""A test client that records what the server sends, and a Session wrapping the common steps.

Nothing here sleeps: waits are on an event poked by every message the client receives, with a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES

T = TypeVar("T")
TIMEOUT = 15.0
_raw_ids = itertools.count(1)


class Recorder:
    """Everything the server sent that tests look at, plus an event that fires on each of them."""

    def __init__(self) -> None:
        self.published: dict[str, list[tuple[int | None, list[types.Diagnostic]]]] = {}
        self.configuration_requests: list[types.ConfigurationParams] = []
        self.refreshes = 0
        self.registrations: list[types.Registration] = []
        self.statuses: list[Any] = []  # sophia/status notifications (sent to clients that opt in)
        self._event = asyncio.Event()

    def poke(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def until(self, predicate: Callable[[], T], timeout: float = TIMEOUT, what: str = "") -> T:
        try:
            async with asyncio.timeout(timeout):
                while not (result := predicate()):
                    await self._event.wait()
                return result
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what or predicate}") from None


def make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=default_converter)
    recorder = Recorder()
    client.recorder = recorder  # type: ignore[attr-defined]
    configuration_default = DEFAULT_CLIENT_FEATURES[types.WORKSPACE_CONFIGURATION]
    overridden = {
        types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
        types.WORKSPACE_CONFIGURATION,
        types.WORKSPACE_DIAGNOSTIC_REFRESH,
        types.WINDOW_SHOW_MESSAGE,
        types.WINDOW_LOG_MESSAGE,
    }
    for method, handler in DEFAULT_CLIENT_FEATURES.items():
        if method not in overridden:
            client.feature(method)(handler)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish(params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        recorder.published.setdefault(params.uri, []).append((params.version, list(params.diagnostics)))
        recorder.poke()

    @client.feature(types.WORKSPACE_CONFIGURATION)
    def configuration(params: types.ConfigurationParams) -> list[Any]:
        recorder.configuration_requests.append(params)
        recorder.poke()
        return configuration_default(client, params)

    @client.feature(types.WORKSPACE_DIAGNOSTIC_REFRESH)
    def refresh(params: None) -> None:
        recorder.refreshes += 1
        recorder.poke()

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def show_message(params: types.ShowMessageParams) -> None:
        client.messages.append(params)
        recorder.poke()

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def log_message(params: types.LogMessageParams) -> None:
        client.log_messages.append(params)
        recorder.poke()

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        recorder.registrations.extend(params.registrations)
        recorder.poke()

    @client.feature("sophia/status")
    def status(params: Any) -> None:
        recorder.statuses.append(params)
        recorder.poke()

    @client.feature(types.CLIENT_UNREGISTER_CAPABILITY)
    def unregister(params: types.UnregistrationParams) -> None:
        return None

    return client


# ---- text edits, applied client-side as an editor would ----
def _offset(text: str, pos: types.Position) -> int:
    lines = text.splitlines(keepends=True)
    if pos.line >= len(lines):
        return len(text)
    start = sum(len(line) for line in lines[: pos.line])
    line = lines[pos.line].rstrip("\r\n")
    units = 0
    for i, ch in enumerate(line):
        if units >= pos.character:
            return start + i
        units += 2 if ord(ch) > 0xFFFF else 1
    return start + len(line)


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    spans = sorted(
        ((_offset(text, e.range.start), _offset(text, e.range.end), e.new_text) for e in edits), reverse=True
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def workspace_edit_texts(edit: types.WorkspaceEdit, read: Callable[[str], str | None]) -> dict[str, str]:
    """uri -> new text after applying `edit`; `read(uri)` gives the current text (None = no such file)."""
    out: dict[str, str] = {}

    def current(uri: str) -> str:
        if uri not in out:
            out[uri] = read(uri) or ""
        return out[uri]

    for uri, edits in (edit.changes or {}).items():
        out[uri] = apply_text_edits(current(uri), list(edits))
    for change in edit.document_changes or []:
        if isinstance(change, types.CreateFile):
            out.setdefault(change.uri, "")
        elif isinstance(change, types.TextDocumentEdit):
            uri = change.text_document.uri
            out[uri] = apply_text_edits(
                current(uri), [e for e in change.edits if isinstance(e, types.TextEdit)]
            )
    return out


async def edit_of(session: Session, action: types.CodeAction) -> types.WorkspaceEdit:
    """The action's edit, resolving it first when the server left it for codeAction/resolve."""
    lazy = session.client.capabilities.text_document.code_action.resolve_support is not None
    if lazy:
        assert action.edit is None and action.data, "a resolving client should get the edit lazily"
        action = await session.client.code_action_resolve_async(action)
    assert action.edit is not None
    return action.edit


def position_of(text: str, needle: str, after: int = 0) -> types.Position:
    """The UTF-16 position of `needle` in `text`."""
    offset = text.index(needle)
    before = text[:offset]
    line = before.count("\n")
    column = before[before.rfind("\n") + 1 :]
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in column)
    return types.Position(line=line, character=units + after)


def uri_to_path(uri: str) -> Path:
    from pygls.uris import to_fs_path

    return Path(to_fs_path(uri))  # type: ignore[arg-type]


class Session:
    """One initialized server on a copy of fixtures/lsp_project."""

    def __init__(self, client: LanguageClient, root: Path, pull: bool) -> None:
        self.client = client
        self.root = root
        self.pull = pull
        self.recorder: Recorder = client.recorder  # type: ignore[attr-defined]
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}

    async def wait_ready(self) -> None:
        """Until the server has asked for the editor configuration (when the client can answer that)."""
        caps = self.client.capabilities
        if caps is not None and caps.workspace is not None and caps.workspace.configuration:
            await self.recorder.until(
                lambda: self.recorder.configuration_requests, what="workspace/configuration"
            )

    def uri(self, relative: str) -> str:
        return (self.root / relative).as_uri()

    def open(self, relative: str, text: str | None = None, language_id: str = "python") -> str:
        uri = self.uri(relative)
        if text is None:
            text = (self.root / relative).read_text(encoding="utf-8")
        self.texts[uri] = text
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text)
            )
        )
        return uri

    def change(self, uri: str, edits: list[types.TextEdit]) -> int:
        """Send `edits` as one incremental didChange (each applied in order, as LSP says)."""
        version = self.versions[uri] + 1
        self.versions[uri] = version
        for e in edits:
            self.texts[uri] = apply_text_edits(self.texts[uri], [e])
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(range=e.range, text=e.new_text) for e in edits
                ],
            )
        )
        return version

    def replace_all(self, uri: str, text: str) -> int:
        version = self.versions[uri] + 1
        self.versions[uri] = version
        self.texts[uri] = text
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return version

    async def pull_report(self, uri: str, previous: str | None = None) -> Any:
        return await self.client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(
                text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=previous
            )
        )

    async def diagnostics(
        self,
        uri: str,
        until: Callable[[list[types.Diagnostic]], bool] = lambda d: True,
        timeout: float = TIMEOUT,
    ) -> list[types.Diagnostic]:
        """The document's diagnostics for the last version sent, once `until` holds for them."""
        version = self.versions.get(uri)
        if self.pull:
            async with asyncio.timeout(timeout):
                while True:
                    report = await self.pull_report(uri)
                    if until(list(report.items)):
                        return list(report.items)
                    await self.recorder.until(lambda n=self.recorder.refreshes: self.recorder.refreshes > n)

        def latest() -> list[types.Diagnostic] | None:
            history = self.recorder.published.get(uri, [])
            if history and history[-1][0] in (version, None) and until(history[-1][1]):
                return history[-1][1]
            return None

        found = await self.recorder.until(lambda: latest() is not None, timeout, f"diagnostics of {uri}")
        assert found
        return latest() or []

    async def alive(self) -> None:
        """Prove the server still answers: a documentSymbol request on the fixture module."""
        uri = self.uri("shop/pricing.py")
        if uri not in self.texts:
            self.open("shop/pricing.py")
        result = await asyncio.wait_for(
            self.client.text_document_document_symbol_async(
                types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
            ),
            TIMEOUT,
        )
        assert result and any(s.name == "price" for s in result)

    def read(self, uri: str) -> str | None:
        if uri in self.texts:
            return self.texts[uri]
        path = uri_to_path(uri)
        return path.read_text(encoding="utf-8") if path.is_file() else None

    # ---- raw JSON-RPC, for inputs the typed client cannot produce ----
    def send_raw(self, payload: dict[str, Any] | bytes) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        self.client.protocol.writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)  # type: ignore[union-attr]

    async def request_raw(self, method: str, params: Any, *, body: bytes | None = None) -> Any:
        """Send a request with arbitrary params; returns the result or raises the JSON-RPC error."""
        msg_id = f"raw-{next(_raw_ids)}"
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.client.protocol._request_futures[msg_id] = future
        if body is None:
            self.send_raw({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        else:
            self.send_raw(body.replace(b"$ID", msg_id.encode()))
        return await asyncio.wait_for(asyncio.wrap_future(future), TIMEOUT)
