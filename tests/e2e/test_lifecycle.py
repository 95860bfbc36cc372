"""Start, shutdown and exit, on stdio and TCP; stdout carries nothing but framed JSON-RPC."""

from __future__ import annotations

import asyncio
import json
import socket
import sys

from lsprotocol import types
from pytest_lsp.client import make_test_lsp_client

from .conftest import SERVER


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def unframe(data: bytes) -> list[dict]:
    """Every byte of `data` must belong to a Content-Length framed JSON message."""
    messages = []
    while data:
        header, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"stray bytes on stdout: {data[:80]!r}"
        lengths = [
            int(line.split(b":")[1])
            for line in header.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ]
        assert lengths, f"not a header: {header!r}"
        messages.append(json.loads(rest[: lengths[0]]))
        data = rest[lengths[0] :]
    return messages


async def run_stdio(messages: list[dict]) -> tuple[int, list[dict]]:
    proc = await asyncio.create_subprocess_exec(
        *SERVER,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"".join(frame(m) for m in messages))
    await proc.stdin.drain()
    # stdin stays open, as editors keep it: the server must still end on `exit`
    out = await asyncio.wait_for(proc.stdout.read(), 15)
    code = await asyncio.wait_for(proc.wait(), 15)
    proc.stdin.close()
    return code, unframe(out)


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}


async def test_shutdown_then_exit_is_code_0_and_stdout_is_only_protocol():
    opened = {
        "jsonrpc": "2.0",
        "method": "textDocument/didOpen",
        "params": {
            "textDocument": {
                "uri": "file:///nowhere/x.py",
                "languageId": "python",
                "version": 1,
                "text": "print('hi')  # TODO\n",
            }
        },
    }
    code, out = await run_stdio(
        [
            INITIALIZE,
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            opened,
            {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "textDocument/hover",
                "params": {
                    "textDocument": {"uri": "file:///nowhere/x.py"},
                    "position": {"line": 0, "character": 0},
                },
            },
            {"jsonrpc": "2.0", "method": "exit"},
        ]
    )
    assert code == 0
    answers = {m["id"]: m for m in out if "id" in m and "method" not in m}
    assert answers[1]["result"]["capabilities"]["positionEncoding"] == "utf-16"
    assert answers[2]["result"] is None
    assert answers[3]["error"]["code"] == -32600  # after shutdown: InvalidRequest, not silence


async def test_exit_without_shutdown_is_code_1():
    code, out = await run_stdio([INITIALIZE, {"jsonrpc": "2.0", "method": "exit"}])
    assert code == 1
    assert out[-1]["id"] == 1


async def test_tcp_transport():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sophia_artemis",
        "serve",
        "--tcp",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None and proc.stdout is not None
    # wait until it says it listens (a connection attempt before that would be refused)
    async with asyncio.timeout(15):
        while b"listening on" not in await proc.stderr.readline():
            pass
    client = make_test_lsp_client()
    await client.start_tcp("127.0.0.1", port)
    await client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri="file:///nowhere/y.py", language_id="python", version=1, text="# FIXME: tcp\n"
            )
        )
    )
    published = await asyncio.wait_for(
        client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 15
    )
    assert [d.code for d in published.diagnostics] == ["SA201"]
    await client.shutdown_async(None)
    client.exit(None)
    assert await asyncio.wait_for(proc.wait(), 15) == 0
    assert await proc.stdout.read() == b""
    await client.stop()
