"""Generation code actions on fixtures/generation_project (src/ layout, flat tests/, NumPy docstrings):
"Add a docstring" and "Create a test for <name>", picked and applied client-side as an editor would."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from lsprotocol import types

from .helpers import Session, edit_of, position_of, workspace_edit_texts

STOCK = "src/inventory/stock.py"
REPORT = "src/inventory/report.py"
REWRITE = types.CodeActionKind.RefactorRewrite


@pytest.fixture
def project(fixture_copy) -> Path:
    return fixture_copy("generation_project")


async def actions_on(
    session: Session, uri: str, needle: str, only: list[str] | None = None
) -> list[types.CodeAction]:
    """The actions for a cursor on `needle` (the lightbulb's request: no `only`)."""
    at = position_of(session.texts[uri], needle)
    result = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=[], only=only),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def test_add_a_docstring_in_the_project_style(session: Session):
    uri = session.open(STOCK)
    actions = await actions_on(session, uri, "def restock")
    action = next(a for a in actions if a.title == "Add a docstring")
    assert action.kind == REWRITE
    new = workspace_edit_texts(await edit_of(session, action), session.read)[uri]
    ast.parse(new)
    expected = (
        "def restock(levels: dict[str, int], item: str, count: int = 1) -> int:\n"
        '    """_summary_\n\n'
        "    Parameters\n    ----------\n"
        "    levels : dict[str, int]\n        _description_\n"
        "    item : str\n        _description_\n"
        "    count : int\n        _description_\n\n"
        "    Returns\n    -------\n    int\n        _description_\n\n"
        "    Raises\n    ------\n    ValueError\n        _description_\n"
        '    """\n'
        "    if count <= 0:\n"
    )
    assert expected in new
    assert (
        new.replace(
            expected,
            "def restock(levels: dict[str, int], item: str, count: int = 1) -> int:\n    if count <= 0:\n",
        )
        == session.texts[uri]
    )  # nothing else changed
    # documented functions get no such action; the refactor menu (only=refactor) finds it too
    assert "Add a docstring" not in [a.title for a in await actions_on(session, uri, "def available")]
    refactors = await actions_on(session, uri, "def take", only=[types.CodeActionKind.Refactor])
    assert {a.title for a in refactors} >= {"Add a docstring"}
    assert await actions_on(session, uri, "def take", only=[types.CodeActionKind.QuickFix]) == []


@pytest.mark.parametrize("profile", ["visual-studio-code", "neovim", "emacs"])
async def test_create_a_test_in_an_existing_test_file(session: Session):
    uri = session.open(REPORT)
    actions = await actions_on(session, uri, "async def empty_items")
    action = next(a for a in actions if a.title == "Create a test for empty_items")
    test_file = session.root / "tests/test_report.py"
    texts = workspace_edit_texts(await edit_of(session, action), session.read)
    assert list(texts) == [test_file.as_uri()]
    new = texts[test_file.as_uri()]
    ast.parse(new)
    assert new.startswith(
        '"""Tests of inventory.report."""\n\nfrom inventory.report import summary\n'
        "import asyncio\nfrom inventory.report import empty_items\n"
    )
    assert (
        "\n\n\ndef test_empty_items():\n"
        "    # TODO: real arguments\n"
        "    result = asyncio.run(empty_items(levels=...))\n"
        "    assert result == ...  # TODO: the expected result\n"
    ) in new
    assert "def test_summary():" in new  # the existing test is kept


@pytest.mark.parametrize("profile", ["visual-studio-code"])
async def test_create_a_test_file_for_a_function_with_branches(session: Session):
    uri = session.open(STOCK)
    actions = await actions_on(session, uri, "def restock")
    action = next(a for a in actions if a.title == "Create a test for restock")
    edit = await edit_of(session, action)
    test_file = session.root / "tests/test_stock.py"
    assert edit.document_changes and isinstance(edit.document_changes[0], types.CreateFile)
    assert edit.document_changes[0].uri == test_file.as_uri()
    new = workspace_edit_texts(edit, session.read)[test_file.as_uri()]
    ast.parse(new)
    assert new.startswith("from inventory.stock import restock\n\n\ndef test_restock_when_count_le_0():\n")
    for name in (
        "test_restock_when_levels_get_item_0_count_gt_limit",
        "test_restock_when_not_levels_get_item_0",
    ):
        assert any(line.startswith(f"def {name}") for line in new.splitlines()), name
    assert new.count("    result = restock(levels=..., item=...)\n") == 3

    method = next(
        a for a in await actions_on(session, uri, "def take") if a.title.startswith("Create a test")
    )
    assert method.title == "Create a test for Shelf.take"
    text = workspace_edit_texts(await edit_of(session, method), session.read)[test_file.as_uri()]
    assert "from inventory.stock import Shelf\n" in text
    assert "    result = Shelf(name=...).take(item=...)\n    assert result is None  # TODO" in text


@pytest.mark.parametrize("profile", ["emacs"])
async def test_a_client_that_cannot_create_files_is_told_which_file_is_needed(session: Session):
    uri = session.open(STOCK)
    actions = await actions_on(session, uri, "def restock")
    action = next(a for a in actions if a.title.startswith("Create a test for restock"))
    assert action.title == "Create a test for restock (needs tests/test_stock.py: create it first)"
    assert action.edit is None
    (session.root / "tests/test_stock.py").write_text("", encoding="utf-8")
    action = next(
        a for a in await actions_on(session, uri, "def restock") if a.title.startswith("Create a test")
    )
    assert action.title == "Create a test for restock"
    new = workspace_edit_texts(await edit_of(session, action), session.read)[
        (session.root / "tests/test_stock.py").as_uri()
    ]
    ast.parse(new)
    assert new.startswith("from inventory.stock import restock\n")
