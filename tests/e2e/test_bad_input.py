"""Every bad input gets an answer (or is ignored, for notifications), and the server keeps answering."""

from __future__ import annotations

import json

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from .helpers import Session, position_of
from .test_diagnostics import PRICING, codes, has

pytestmark = pytest.mark.parametrize("profile", ["visual-studio-code"])


def ident(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


def warnings(session: Session) -> list[str]:
    return [m.message for m in session.client.messages if m.type == types.MessageType.Warning]


async def expect_error(session: Session, method: str, params: object, code: int, **kw) -> str:
    with pytest.raises(JsonRpcException) as info:
        await session.request_raw(method, params, **kw)
    assert info.value.code == code, info.value
    return str(info.value)


async def test_five_megabyte_single_line_file_is_skipped_with_one_message(session: Session):
    uri = session.open("big.py", "x = 1  # TODO: " + "a" * 5_000_000)
    assert await session.diagnostics(uri) == []
    shown = await session.recorder.until(lambda: warnings(session), what="a warning")
    assert len(shown) == 1 and "big.py" in shown[0] and "5.0 MB" in shown[0] and "max_file_size" in shown[0]
    # more typing in the big file: no second message
    end = types.Position(line=0, character=5)
    session.change(uri, [types.TextEdit(range=types.Range(start=end, end=end), new_text="2")])
    assert await session.diagnostics(uri) == []
    await session.alive()
    assert len(warnings(session)) == 1


async def test_nul_bytes_are_not_analysed_until_removed(session: Session):
    uri = session.open("binary.py", "x = 1  # TODO: later\n\0\0\0\n")
    assert await session.diagnostics(uri) == []
    shown = await session.recorder.until(lambda: warnings(session), what="a warning")
    assert "binary.py" in shown[0] and "NUL" in shown[0]
    session.change(
        uri,
        [
            types.TextEdit(
                range=types.Range(
                    start=types.Position(line=1, character=0), end=types.Position(line=2, character=0)
                ),
                new_text="",
            )
        ],
    )
    diags = await session.diagnostics(uri, has("SA201"))
    assert codes(diags) == ["SA201"]


async def test_lone_surrogates_keep_utf16_columns(session: Session):
    # "\ud800" is one UTF-16 unit; JSON can carry it, UTF-8 cannot
    uri = session.open("odd.py", 'x = "\ud800\ud800"  # TODO: surrogates\n')
    diags = await session.diagnostics(uri, has("SA201"))
    assert diags[0].range.start == types.Position(line=0, character=12)
    hover = await session.client.text_document_hover_async(
        types.HoverParams(text_document=ident(uri), position=types.Position(line=0, character=5))
    )
    assert hover is None
    await session.alive()


async def test_positions_past_the_end(session: Session):
    uri = session.open(PRICING)
    await session.diagnostics(uri, has("SA101"))
    far = types.Position(line=10_000, character=500)
    hover = await session.client.text_document_hover_async(
        types.HoverParams(text_document=ident(uri), position=far)
    )
    assert hover is None
    actions = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=ident(uri),
            range=types.Range(start=far, end=far),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert not actions
    # an edit past the end lands at the end, as LSP clamps positions
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=far, end=far), text="# FIXME: tail\n"
                )
            ],
        )
    )
    session.versions[uri] = 2
    diags = await session.diagnostics(uri, lambda ds: "FIXME: tail" in [d.message for d in ds])
    assert next(d for d in diags if d.message == "FIXME: tail").range.start.line == session.texts[uri].count(
        "\n"
    )
    await session.alive()


async def test_did_change_for_an_unopened_document_is_a_warning(session: Session):
    uri = session.uri("never_opened.py")
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="x = 1\n")],
        )
    )
    await session.alive()
    logged = await session.recorder.until(
        lambda: [m.message for m in session.client.log_messages if "never_opened.py" in m.message],
        what="a log line",
    )
    assert "not open" in logged[0]
    assert not session.client.messages  # no "Error in server" popup


async def test_invalid_params_get_an_invalid_params_error(session: Session):
    uri = session.open(PRICING)
    message = await expect_error(session, "textDocument/codeAction", {"textDocument": 3}, -32602)
    assert "textDocument/codeAction" in message and "textDocument" in message
    message = await expect_error(session, "textDocument/hover", None, -32602)
    assert "textDocument/hover" in message
    position = {"line": "one", "character": 0}
    await expect_error(
        session, "textDocument/hover", {"textDocument": {"uri": uri}, "position": position}, -32602
    )
    # a bad notification is dropped, quietly
    session.send_raw({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": []}})
    await session.alive()
    assert not session.client.messages


async def test_unknown_methods(session: Session):
    await expect_error(session, "sophia/noSuchThing", {}, -32601)
    session.send_raw({"jsonrpc": "2.0", "method": "sophia/noSuchNotification", "params": {}})
    session.send_raw({"jsonrpc": "2.0", "method": "$/someClientExtension", "params": {"x": 1}})
    await session.alive()
    assert not session.client.messages


async def test_not_json_rpc_2(session: Session):
    await expect_error(
        session,
        "",
        None,
        -32600,
        body=b'{"jsonrpc": "1.0", "id": "$ID", "method": "textDocument/hover", "params": {}}',
    )
    session.send_raw(b'{"id": 99}')
    session.send_raw(b"this is not json")
    await session.alive()


async def test_body_that_is_not_utf8(session: Session):
    uri = session.uri("latin1.py")
    body = (
        json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {
                        "uri": uri,
                        "languageId": "python",
                        "version": 1,
                        "text": "s = 'XX'  # TODO: bytes\n",
                    }
                },
            }
        )
        .encode()
        .replace(b"XX", b"\xff\xfe")
    )
    session.send_raw(body)
    session.versions[uri] = 1
    diags = await session.diagnostics(uri, has("SA201"))
    # each bad byte became one U+FFFD: one UTF-16 unit
    assert diags[0].range.start == types.Position(line=0, character=12)
    await session.alive()


async def test_code_action_with_odd_client_diagnostics(session: Session):
    """neovim 0.7 passes an empty table (and `user_data`) where a Diagnostic goes: still answered."""
    uri = session.open(PRICING)
    diags = await session.diagnostics(uri, has("SA101"))
    start = position_of(session.texts[uri], "price(")
    rng = {
        "start": {"line": start.line, "character": start.character},
        "end": {"line": start.line, "character": start.character},
    }
    odd = [{}, {"range": rng, "message": "x", "user_data": {"lsp": {}}}]
    result = await session.request_raw(
        "textDocument/codeAction",
        {"textDocument": {"uri": uri}, "range": rng, "context": {"diagnostics": odd}},
    )
    assert "Suppress SA101 on this line" in [a["title"] for a in result]
    assert diags


async def test_garbage_code_action_data_on_resolve(session: Session):
    session.open(PRICING)
    action = await session.request_raw(
        "codeAction/resolve", {"title": "x", "data": {"uri": 5, "range": "nope"}}
    )
    # (a dict result comes back as pygls' namedtuple on the client side)
    assert action.title == "x" and "edit" not in action._fields
    await session.alive()


async def test_execute_unknown_command_or_bad_arguments(session: Session):
    await expect_error(session, "workspace/executeCommand", {"command": "nope", "arguments": []}, -32602)
    result = await session.request_raw(
        "workspace/executeCommand", {"command": "sophia.showMetrics", "arguments": [1]}
    )
    assert result is None
    await session.alive()
