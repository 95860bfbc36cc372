"""Code lenses, hover and document symbols: the per-function metrics in the editor."""

from __future__ import annotations

import pytest
from lsprotocol import types

from .helpers import Session, position_of
from .test_diagnostics import PRICING


def ident(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


@pytest.mark.parametrize("profile", ["visual-studio-code", "neovim"])
async def test_code_lens_per_function_with_a_working_command(session: Session):
    uri = session.open(PRICING)
    lenses = await session.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=ident(uri))
    )
    titles = {lens.range.start.line: lens.command.title for lens in lenses}
    text = session.texts[uri]
    assert titles[position_of(text, "price(").line] == "cyclomatic 10 · cognitive 10"
    assert titles[position_of(text, "simple(").line] == "cyclomatic 1 · cognitive 0"
    assert len(lenses) == 5  # price, simple, __init__, add, check

    price = next(lens for lens in lenses if lens.range.start.line == 5)
    assert price.command.command == "sophia.showMetrics"
    metrics = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=price.command.command, arguments=price.command.arguments)
    )
    assert metrics["qualname"] == "price" and metrics["cyclomatic"] == 10 and metrics["def_line"] == 6


@pytest.mark.parametrize("profile", ["visual-studio-code", "neovim@v0.7.0"])
async def test_hover_on_a_function_name_explains_its_findings(session: Session):
    uri = session.open(PRICING)
    text = session.texts[uri]
    hover = await session.client.text_document_hover_async(
        types.HoverParams(text_document=ident(uri), position=position_of(text, "price(", after=2))
    )
    assert hover is not None and hover.contents.kind == types.MarkupKind.Markdown
    value = hover.contents.value
    assert "**`price`**" in value
    assert "| cyclomatic complexity | **10** | 5 |" in value
    assert "| parameters | 5 | 7 |" in value
    assert (
        "[SA101 cyclomatic-complexity](https://github.com/sophia-artemis/sophia-artemis/blob/main/docs/rules.md#sa101)"
        in value
    )
    assert "cyclomatic 10 is over the threshold of 5" in value
    assert hover.range.start == position_of(text, "price(")

    # anywhere on the `def` line of a nested function: that function
    on_def = await session.client.text_document_hover_async(
        types.HoverParams(text_document=ident(uri), position=position_of(text, "def check"))
    )
    assert "**`Cart.add.<locals>.check`**" in on_def.contents.value
    assert "Why it is flagged" not in on_def.contents.value

    # not on a function: nothing
    nowhere = await session.client.text_document_hover_async(
        types.HoverParams(text_document=ident(uri), position=position_of(text, "total = 0"))
    )
    assert nowhere is None


@pytest.mark.parametrize("profile", ["visual-studio-code", "emacs"])
async def test_document_symbols_are_hierarchical_with_metrics(session: Session):
    uri = session.open(PRICING)
    symbols = await session.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=ident(uri))
    )
    assert [(s.name, s.kind) for s in symbols] == [
        ("price", types.SymbolKind.Function),
        ("simple", types.SymbolKind.Function),
        ("Cart", types.SymbolKind.Class),
    ]
    price = symbols[0]
    assert price.detail == "cc 10 · cog 10 · 16 lines"
    assert price.selection_range.start == position_of(session.texts[uri], "price(")
    cart = symbols[2]
    assert [(m.name, m.kind) for m in cart.children] == [
        ("__init__", types.SymbolKind.Method),
        ("add", types.SymbolKind.Method),
    ]
    add = cart.children[1]
    assert [(f.name, f.kind) for f in add.children] == [("check", types.SymbolKind.Function)]
    assert add.detail.startswith("cc 2 · cog")
