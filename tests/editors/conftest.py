"""Shared pieces for the real-editor tests: where the tools are, where screenshots and logs go.

The tools live outside the repository (`tests/editors/install_tools.sh` puts them in
`$SOPHIA_EDITOR_TOOLS`, default /opt/sophia-editor-tools). Without them the tests skip and say what to run;
with `SOPHIA_EDITOR_TESTS=require` (for CI, after install_tools.sh) a missing tool fails the test instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
EXTENSION = REPO / "vscode-extension"
NEOVIM_CONFIG = REPO / "editors" / "neovim"
TOOLS = Path(os.environ.get("SOPHIA_EDITOR_TOOLS", "/opt/sophia-editor-tools"))
INSTALL_HINT = "run `bash tests/editors/install_tools.sh` (with the venv active)"


def missing_tool(reason: str) -> None:
    """Skip, or fail when the run requires the editor tests (SOPHIA_EDITOR_TESTS=require)."""
    if os.environ.get("SOPHIA_EDITOR_TESTS") == "require":
        pytest.fail(f"{reason} (SOPHIA_EDITOR_TESTS=require)")
    pytest.skip(reason)


def output_dir(name: str) -> Path:
    """A fresh folder for one test's screenshots and logs (tests/editors/out/NAME, gitignored)."""
    base = Path(os.environ.get("SOPHIA_EDITOR_TEST_OUT", HERE / "out"))
    out = base / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return out


def _send(stream, message: dict) -> None:
    body = json.dumps(message).encode("utf-8")
    stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stream.flush()


def _receive(stream) -> dict:
    length = 0
    while True:
        line = stream.readline()
        if not line:
            raise EOFError("the server closed its stdout")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return json.loads(stream.read(length))


def server_commands(folder: Path) -> list[str]:
    """The `executeCommandProvider.commands` the server announces for `folder` (one initialize, then exit).

    The editor tests for search and the graph run once the server lists `sophia.search`/`sophia.graph`,
    and skip, saying so, until then.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "sophia_artemis", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=folder,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        _send(
            process.stdin,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "processId": os.getpid(),
                    "rootUri": folder.as_uri(),
                    "workspaceFolders": [{"uri": folder.as_uri(), "name": folder.name}],
                    "capabilities": {},
                },
            },
        )
        while True:
            message = _receive(process.stdout)
            if message.get("id") == 1 and "method" not in message:
                break
        _send(process.stdin, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        _send(process.stdin, {"jsonrpc": "2.0", "method": "exit"})
        provider = (message.get("result") or {}).get("capabilities", {}).get("executeCommandProvider") or {}
        return list(provider.get("commands") or [])
    finally:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def require_server_command(folder: Path, command: str) -> list[str]:
    """Skip (always: this is the server's state, not a missing tool) unless the server offers `command`."""
    commands = server_commands(folder)
    if command not in commands:
        pytest.skip(
            f"the server does not list {command} in executeCommandProvider.commands (it offers {commands})"
        )
    return commands
