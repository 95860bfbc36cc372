"""Code actions: suppress on the line, suppress for the project, insert a missing token; resolved lazily
where the client supports it. Each edit is applied client-side, and then the finding must be gone."""

from __future__ import annotations

import pytest
from lsprotocol import types

from .helpers import Session, edit_of, position_of, workspace_edit_texts
from .test_diagnostics import PRICING, codes, has, lacks


async def actions_at(
    session: Session, uri: str, rng: types.Range, diagnostics: list[types.Diagnostic]
) -> list[types.CodeAction]:
    result = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=rng,
            context=types.CodeActionContext(diagnostics=diagnostics, only=[types.CodeActionKind.QuickFix]),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def test_suppress_on_this_line(session: Session):
    uri = session.open(PRICING)
    diags = await session.diagnostics(uri, has("SA101"))
    target = next(d for d in diags if d.code == "SA101")
    # a cursor on the name, sent with the diagnostics the client has there
    cursor = types.Range(start=target.range.start, end=target.range.start)
    actions = await actions_at(session, uri, cursor, [target])
    titles = [a.title for a in actions]
    assert "Suppress SA101 on this line" in titles and "Suppress SA101 for the project" in titles
    assert "Suppress SA102 on this line" in titles  # every finding at that range
    action = next(a for a in actions if a.title == "Suppress SA101 on this line")
    assert action.kind == types.CodeActionKind.QuickFix
    assert [d.code for d in action.diagnostics] == ["SA101"]

    new = workspace_edit_texts(await edit_of(session, action), session.read)[uri]
    assert "def price(kind, amount, member, coupon, season):  # sophia: ignore[SA101]\n" in new
    session.replace_all(uri, new)
    after = await session.diagnostics(uri, lacks("SA101"))
    assert "SA102" in codes(after)


@pytest.mark.parametrize("profile", ["visual-studio-code", "emacs"])
async def test_suppression_merges_into_an_existing_comment_keeping_its_reason(session: Session):
    text = (
        (session.root / PRICING)
        .read_text(encoding="utf-8")
        .replace("season):\n", "season):  # sophia: ignore[SA102] -- legacy pricing, rewrite in Q3\n")
    )
    uri = session.open(PRICING, text)
    diags = await session.diagnostics(uri, lambda ds: "SA101" in codes(ds) and "SA102" not in codes(ds))
    target = next(d for d in diags if d.code == "SA101")
    actions = await actions_at(session, uri, target.range, [target])
    action = next(a for a in actions if a.title == "Suppress SA101 on this line")
    new = workspace_edit_texts(await edit_of(session, action), session.read)[uri]
    assert "season):  # sophia: ignore[SA101, SA102] -- legacy pricing, rewrite in Q3\n" in new
    session.replace_all(uri, new)
    await session.diagnostics(uri, lacks("SA101", "SA102"))


@pytest.mark.parametrize("profile", ["visual-studio-code", "neovim", "emacs"])
async def test_suppress_for_the_project_edits_pyproject(session: Session):
    uri = session.open(PRICING)
    diags = await session.diagnostics(uri, has("SA201"))
    todo = next(d for d in diags if d.code == "SA201")
    actions = await actions_at(session, uri, todo.range, [])  # no client diagnostics: found from our own
    action = next(a for a in actions if a.title == "Suppress SA201 for the project")
    pyproject = session.root / "pyproject.toml"
    before = pyproject.read_text(encoding="utf-8")

    texts = workspace_edit_texts(await edit_of(session, action), session.read)
    assert list(texts) == [pyproject.as_uri()]
    after = texts[pyproject.as_uri()]
    # formatting kept, the key added to the existing table
    assert after.startswith(before.rstrip("\n").split("[tool.sophia-artemis]")[0])
    assert "# settings the language server tests rely on\n[tool.sophia-artemis]\n" in after
    assert 'ignore = ["SA201"]' in after
    pyproject.write_text(after, encoding="utf-8")
    session.client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=pyproject.as_uri()))
    )
    remaining = await session.diagnostics(uri, lacks("SA201"))
    assert {"SA101", "SA102"} <= set(codes(remaining))


@pytest.mark.parametrize("profile", ["visual-studio-code", "emacs"])
async def test_suppress_for_the_project_creates_pyproject(session: Session):
    (session.root / "pyproject.toml").unlink()
    (session.root / ".git").mkdir()  # still the project root
    uri = session.open(PRICING)
    diags = await session.diagnostics(uri, has("SA201"))
    todo = next(d for d in diags if d.code == "SA201")
    actions = await actions_at(session, uri, todo.range, [todo])
    action = next(a for a in actions if a.title == "Suppress SA201 for the project")
    edit = await edit_of(session, action)
    pyproject = session.root / "pyproject.toml"
    if session.client.capabilities.workspace.workspace_edit.resource_operations:
        assert isinstance(edit.document_changes[0], types.CreateFile)
        assert edit.document_changes[0].uri == pyproject.as_uri()
    text = workspace_edit_texts(edit, session.read)[pyproject.as_uri()]
    assert text == '[tool.sophia-artemis]\nignore = ["SA201"]\n'
    pyproject.write_text(text, encoding="utf-8")
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Created)]
        )
    )
    await session.diagnostics(uri, lacks("SA201"))


@pytest.mark.parametrize("profile", ["neovim", "emacs"])
async def test_insert_missing_colon(session: Session):
    uri = session.open("shop/draft.py", "def half(x)\n    return x / 2\n")
    diags = await session.diagnostics(uri, has("SA001"))
    syntax = next(d for d in diags if d.code == "SA001")
    assert syntax.data == {"missing": ":"}
    actions = await actions_at(session, uri, syntax.range, [syntax])
    # a syntax error gets its fix and no suppression
    assert [a.title for a in actions] == ["Insert missing ':'"]
    assert actions[0].is_preferred
    new = workspace_edit_texts(await edit_of(session, actions[0]), session.read)[uri]
    assert new == "def half(x):\n    return x / 2\n"
    session.replace_all(uri, new)
    await session.diagnostics(uri, lacks("SA001"))


@pytest.mark.parametrize("profile", ["visual-studio-code"])
async def test_no_actions_away_from_findings_or_for_other_kinds(session: Session):
    uri = session.open(PRICING)
    await session.diagnostics(uri, has("SA101"))
    elsewhere = position_of(session.texts[uri], "class Cart")
    assert await actions_at(session, uri, types.Range(start=elsewhere, end=elsewhere), []) == []
    todo = position_of(session.texts[uri], "TODO")
    result = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=todo, end=todo),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.Refactor]),
        )
    )
    assert not result


@pytest.mark.parametrize("profile", ["emacs"])
async def test_broken_pyproject_gets_no_project_action(session: Session):
    (session.root / "pyproject.toml").write_text("[tool.sophia-artemis\nignore = [", encoding="utf-8")
    uri = session.open(PRICING)
    diags = await session.diagnostics(uri, has("SA201"))
    todo = next(d for d in diags if d.code == "SA201")
    titles = [a.title for a in await actions_at(session, uri, todo.range, [todo])]
    assert titles == ["Suppress SA201 on this line"]
