"""Completion end to end (issue 7, generation): off by default (not advertised, a request answers null), on
through workspace configuration (dynamic registration) or initializationOptions (static, for clients that
cannot register dynamically); jedi's completions of `cart.` list the Cart methods, and the function the user
just edited ranks first, with `data` saying why.

Vector search is off in these sessions (semantic.enabled = false): the memory's working and session parts
are what ranking reads, and loading torch would only slow the test down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import start_session
from .helpers import TIMEOUT, Session

pytest.importorskip("jedi")

LEXICAL = {"semantic": {"enabled": False}}
SCRATCH = "from shopkit.cart import Cart\n\ncart = Cart()\ncart."
METHODS = {"add_item", "remove_item", "total_cents"}


@pytest.fixture
def shop(fixture_copy) -> Path:
    return fixture_copy("semantic_project")


async def start(lsp: LanguageClient, shop: Path, profile: str, **options: Any) -> tuple[Session, types.InitializeResult]:
    results: list[types.InitializeResult] = []
    initialize = lsp.initialize_session

    async def capture(params: types.InitializeParams) -> types.InitializeResult:
        result = await initialize(params)
        results.append(result)
        return result

    lsp.initialize_session = capture  # type: ignore[method-assign]
    session = await start_session(lsp, shop, profile, **options)
    return session, results[0]


async def complete(session: Session, uri: str, needle: str = "cart.") -> Any:
    text = session.texts[uri]
    offset = text.rindex(needle) + len(needle)
    line = text[:offset].count("\n")
    character = offset - (text[:offset].rfind("\n") + 1)
    return await session.client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.TriggerCharacter,
                                        trigger_character="."),
    ))


async def complete_until(session: Session, uri: str, ok: Any, what: str, *, edit: Any = None) -> types.CompletionList:
    """Ask again until `ok(items)` holds, each time after what it waits for has been logged by the server: jedi's
    late answer (its first run may exceed the time budget: isIncomplete), or, with `edit`, working memory
    recording the edited function (SA501's pass does that after an edit; an edit racing the pass that follows
    opening the file is absorbed by it, so the edit is made again when no record follows)."""
    logs = session.client.log_messages
    last: Any = None
    for _ in range(20):
        seen = len(logs)
        last = await complete(session, uri)
        assert isinstance(last, types.CompletionList), last
        if not last.is_incomplete and ok(last.items):
            return last
        wanted = "completion: jedi answered" if last.is_incomplete else "working memory:"
        if not last.is_incomplete:
            assert edit is not None, f"{what}: answered, but not as expected: {[i.label for i in last.items[:5]]}"
            edit()
        try:
            await session.recorder.until(lambda w=wanted, s=seen: any(w in m.message for m in logs[s:]), timeout=10,
                                         what=wanted)
        except AssertionError:
            continue  # the edit was absorbed by a pass that had not run yet: edit again
    labels = [(i.label, i.data) for i in last.items[:5]] if isinstance(last, types.CompletionList) else last
    raise AssertionError(f"gave up waiting for {what}; last answer: {labels}")


def completion_registrations(session: Session) -> list[types.Registration]:
    return [r for r in session.recorder.registrations if r.method == types.TEXT_DOCUMENT_COMPLETION]


@pytest.mark.parametrize("profile", ["visual-studio-code", "neovim"])
async def test_off_by_default(lsp: LanguageClient, shop: Path, profile: str) -> None:
    session, result = await start(lsp, shop, profile, initialization_options=LEXICAL)
    assert result.capabilities.completion_provider is None
    uri = session.open("scratch.py", SCRATCH)
    assert await complete(session, uri) in (None, [])  # not advertised, still no error
    symbols = await session.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert isinstance(symbols, list)  # the server goes on answering
    assert completion_registrations(session) == []


@pytest.mark.parametrize("profile", ["visual-studio-code"])
async def test_dynamic_registration_and_memory_ranking(lsp: LanguageClient, shop: Path, profile: str) -> None:
    session, result = await start(lsp, shop, profile, initialization_options=LEXICAL,
                                  configuration={"completion": True, **LEXICAL})
    assert result.capabilities.completion_provider is None  # registered dynamically instead
    registered = await session.recorder.until(lambda: completion_registrations(session), TIMEOUT,
                                              "textDocument/completion to be registered")
    options = registered[0].register_options
    assert options is not None
    as_json = session.client.protocol._converter.unstructure(options)
    assert as_json["triggerCharacters"] == ["."]
    assert as_json["documentSelector"] == [{"language": "python"}]

    scratch = session.open("scratch.py", SCRATCH)
    found = await complete_until(session, scratch, lambda items: METHODS <= {i.label for i in items},
                                 "the Cart methods")
    items = found.items
    assert [i.sort_text for i in items] == sorted(i.sort_text for i in items)
    add = next(i for i in items if i.label == "add_item")
    assert add.detail == "def add_item" and add.kind == types.CompletionItemKind.Function
    assert add.text_edit is not None and add.text_edit.new_text == "add_item"

    # focus: open cart.py and edit total_cents (working memory records the edited function)
    cart = session.open("shopkit/cart.py")
    edits = iter(range(1, 10_000))

    def edit_total() -> None:
        text = session.texts[cart]
        marker = "Sum of price times quantity over every line"
        at = text.index(marker) + len(marker)
        line = text[:at].count("\n")
        character = at - (text[:at].rfind("\n") + 1)
        pos = types.Position(line=line, character=character)
        session.change(cart, [types.TextEdit(range=types.Range(start=pos, end=pos), new_text=f" {next(edits)}")])

    def total_first(items: list[types.CompletionItem]) -> bool:
        return bool(items) and items[0].label == "total_cents"

    ranked = await complete_until(session, scratch, total_first, "total_cents first", edit=edit_total)
    top = ranked.items[0]
    assert top.data["boost"]["by"] == "working memory", top.data
    assert top.data["boost"]["qualname"] == "Cart.total_cents"
    assert top.data["boost"]["match"] == "symbol"
    assert top.data["jediRank"] > 0  # jedi alone put it lower
    others = [i.label for i in ranked.items[1:] if i.label in METHODS]
    assert others == ["add_item", "remove_item"]  # the rest keep jedi's order


@pytest.mark.parametrize("profile", ["neovim"])
async def test_static_for_clients_without_dynamic_registration(lsp: LanguageClient, shop: Path, profile: str) -> None:
    session, result = await start(lsp, shop, profile, initialization_options={"completion": True, **LEXICAL})
    provider = result.capabilities.completion_provider
    assert provider is not None and list(provider.trigger_characters or []) == ["."]
    scratch = session.open("scratch.py", SCRATCH)
    await complete_until(session, scratch, lambda items: METHODS <= {i.label for i in items}, "the Cart methods")
    assert completion_registrations(session) == []
