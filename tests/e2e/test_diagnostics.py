"""Diagnostics through a real client: push and pull, their fields, edits, syntax errors, bursts of changes."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from .helpers import Session, position_of

PRICING = "shop/pricing.py"
DOCS = "https://github.com/sophia-artemis/sophia-artemis/blob/main/docs/rules.md#"


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


def has(*rules: str):
    return lambda ds: all(r in codes(ds) for r in rules)


def lacks(*rules: str):
    return lambda ds: not any(r in codes(ds) for r in rules)


async def test_findings_carry_rule_link_source_data_and_utf16_columns(session: Session):
    uri = session.open(PRICING)
    diags = await session.diagnostics(uri, has("SA101", "SA102", "SA201"))
    by_code = {d.code: d for d in diags}

    complex_ = by_code["SA101"]
    assert complex_.source == "sophia-artemis"
    assert complex_.code_description is not None and complex_.code_description.href == DOCS + "sa101"
    assert complex_.data == {
        "cyclomatic": 10,
        "threshold": 5,
        "qualname": "price",
    }  # same as `check --format json`
    assert complex_.severity == types.DiagnosticSeverity.Warning
    assert complex_.range.start == position_of(session.texts[uri], "price(")
    assert not complex_.tags

    todo = by_code["SA201"]
    # `PYTHON = "🐍 ünïcode"  # TODO`: the snake is two UTF-16 units, so TODO starts at 25 (24 code points)
    assert todo.range.start == types.Position(line=2, character=25)
    assert todo.severity == types.DiagnosticSeverity.Information
    assert todo.data == {"marker": "TODO", "text": "localise the mascot"}


@pytest.mark.parametrize("profile", ["visual-studio-code", "emacs"])
async def test_related_information_points_at_the_deepest_block(session: Session):
    uri = session.open("shop/stock.py")
    diags = await session.diagnostics(uri, has("SA105"))
    nested = next(d for d in diags if d.code == "SA105")
    assert nested.data == {"depth": 5, "threshold": 4, "qualname": "restock"}
    (related,) = nested.related_information
    assert related.location.uri == uri
    assert related.location.range.start.line == 9  # `fh.write(...)`, inside the fifth block
    assert "nested 5 deep" in related.message


async def test_edits_create_and_remove_a_finding(session: Session):
    uri = session.open(PRICING)
    await session.diagnostics(uri, has("SA101"))
    text = session.texts[uri]
    # make `simple` complex: six `if`s under its return
    at = position_of(text, "    return x + 1")
    branches = "".join(f"    if x == {i}:\n        x += {i}\n" for i in range(6))
    session.change(uri, [types.TextEdit(range=types.Range(start=at, end=at), new_text=branches)])
    diags = await session.diagnostics(uri, lambda ds: sum(d.code == "SA101" for d in ds) == 2)
    assert {d.data["qualname"] for d in diags if d.code == "SA101"} == {"price", "simple"}

    # and take them away again
    start = at
    end = types.Position(line=at.line + 12, character=0)
    session.change(uri, [types.TextEdit(range=types.Range(start=start, end=end), new_text="")])
    diags = await session.diagnostics(uri, lambda ds: sum(d.code == "SA101" for d in ds) == 1)
    assert session.texts[uri] == text


@pytest.mark.parametrize("profile", ["visual-studio-code", "neovim"])
async def test_syntax_error_mid_typing_still_reports_other_findings(session: Session):
    uri = session.open(PRICING)
    await session.diagnostics(uri, has("SA101"))
    # the user is typing a new function: `def half(x)` with no colon yet
    end = position_of(session.texts[uri] + "\0", "\0")
    session.change(
        uri,
        [
            types.TextEdit(
                range=types.Range(start=end, end=end), new_text="\n\ndef half(x)\n    return x / 2\n"
            )
        ],
    )
    diags = await session.diagnostics(uri, has("SA001"))
    assert {"SA001", "SA101", "SA102", "SA201"} <= set(codes(diags))
    syntax = next(d for d in diags if d.code == "SA001")
    assert syntax.severity == types.DiagnosticSeverity.Error


@pytest.mark.parametrize("profile", ["visual-studio-code", "emacs"])
@pytest.mark.lsp_session(pull=True)
async def test_pull_diagnostics_honour_previous_result_id(session: Session):
    uri = session.open(PRICING)
    first = await session.pull_report(uri)
    assert first.kind == "full" and first.result_id
    assert "SA101" in codes(first.items)

    again = await session.pull_report(uri, previous=first.result_id)
    assert again.kind == "unchanged" and again.result_id == first.result_id

    # an edit that changes nothing the analysis reports still moves nothing: same result id
    blank = position_of(session.texts[uri], "class Cart")
    session.change(uri, [types.TextEdit(range=types.Range(start=blank, end=blank), new_text="")])
    assert (await session.pull_report(uri, previous=first.result_id)).kind == "unchanged"

    # an edit that changes the findings gets a new full report
    todo = position_of(session.texts[uri], "TODO")
    session.change(
        uri,
        [
            types.TextEdit(
                range=types.Range(
                    start=todo, end=types.Position(line=todo.line, character=todo.character + 4)
                ),
                new_text="NOTE",
            )
        ],
    )
    changed = await session.pull_report(uri, previous=first.result_id)
    assert changed.kind == "full" and changed.result_id != first.result_id
    assert "SA201" not in codes(changed.items)
    assert not session.recorder.published  # pull mode never pushes


@pytest.mark.parametrize("profile", ["visual-studio-code", "neovim@v0.7.0"])
@pytest.mark.lsp_session(pull=False)
async def test_a_burst_of_changes_ends_with_the_final_version(session: Session):
    uri = session.open(PRICING)
    await session.diagnostics(uri, has("SA201"))
    todo = position_of(session.texts[uri], "TODO")
    # 40 single-character edits as fast as the client can send them: replace "TODO" with "toDO", then back...
    for i in range(40):
        letter = "t" if i % 2 == 0 else "T"
        session.change(
            uri,
            [
                types.TextEdit(
                    range=types.Range(
                        start=todo, end=types.Position(line=todo.line, character=todo.character + 1)
                    ),
                    new_text=letter,
                )
            ],
        )
    final = session.versions[uri]
    await session.recorder.until(
        lambda: session.recorder.published[uri][-1][0] == final, what="final version"
    )
    history = session.recorder.published[uri]
    versions = [v for v, _ in history]
    assert versions == sorted(versions), "publishes went out of order"
    assert "SA201" in codes(history[-1][1])  # 40 edits: back to "TODO"
    assert len(history) < 41  # stale versions were skipped, not all published


@pytest.mark.parametrize("profile", ["neovim"])
async def test_cancel_request_gets_an_answer(session: Session):
    assert session.pull
    uri = session.open(PRICING)
    for _ in range(5):
        end = types.Position(line=0, character=0)
        session.change(uri, [types.TextEdit(range=types.Range(start=end, end=end), new_text="#\n")])
    request = session.client.protocol.send_request_async(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri)),
        msg_id="to-cancel",
    )
    session.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="to-cancel"))
    try:
        result = await asyncio.wait_for(request, 10)
        assert result.kind == "full"  # it finished before the cancel arrived: a normal answer
    except asyncio.TimeoutError:
        raise AssertionError("a cancelled request got no response") from None
    except JsonRpcException as exc:
        assert exc.code == -32800, exc  # RequestCancelled
    await session.alive()


@pytest.mark.parametrize("profile", ["visual-studio-code"])
async def test_closing_a_document_clears_its_diagnostics(session: Session):
    uri = session.open(PRICING)
    await session.diagnostics(uri, has("SA101"))
    session.client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await session.recorder.until(
        lambda: session.recorder.published[uri][-1][1] == [], what="cleared diagnostics"
    )


@pytest.mark.parametrize("profile", ["visual-studio-code", "emacs"])
async def test_editor_data_equals_the_command_line(session: Session):
    """The contract: the same finding has the same rule, range and data in `check --format json`."""
    uri = session.open(PRICING)
    # SA303 (unused code) joins once the workspace index is ready: the editor then shows what check shows
    diags = await session.diagnostics(uri, has("SA101", "SA102", "SA201", "SA303"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sophia_artemis",
        "check",
        PRICING,
        "--format",
        "json",
        cwd=session.root,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await proc.communicate()
    findings = json.loads(stdout)["findings"]
    cli = sorted(
        (
            f["rule"],
            f["range"]["start"]["line"],
            f["range"]["start"]["character"],
            json.dumps(f["data"], sort_keys=True),
        )
        for f in findings
    )
    editor = sorted(
        (d.code, d.range.start.line, d.range.start.character, json.dumps(d.data, sort_keys=True))
        for d in diags
    )
    assert editor == cli


@pytest.mark.parametrize("profile", ["visual-studio-code"])
@pytest.mark.parametrize("pull", [False, True])
async def test_maintainability_arrives_after_the_first_diagnostics(lsp, project, profile, pull):
    """radon's MI is computed off the keystroke path; when it lands, push re-publishes and pull refreshes."""
    from .conftest import start_session

    options = {"thresholds": {"maintainability": 100}}  # every file is under 100
    session = await start_session(lsp, project, profile, pull=pull, initialization_options=options)
    uri = session.open(PRICING)
    diags = await session.diagnostics(uri, has("SA202"))
    mi = next(d for d in diags if d.code == "SA202")
    assert mi.range.start.line == 0 and mi.data["threshold"] == 100 and 0 < mi.data["maintainability"] < 100
    if pull:
        assert session.recorder.refreshes >= 1 or "SA202" in codes((await session.pull_report(uri)).items)
