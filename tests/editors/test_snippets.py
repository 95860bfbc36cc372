"""Every fenced code block of docs/editors.md parses: TOML, JSON, Lua (compiled by Neovim's LuaJIT), shell
(`bash -n`), Emacs Lisp (balanced parentheses, brackets and strings) and Rust (the Zed extension: balanced
brackets and braces outside strings and comments - compiling it needs a Rust toolchain and Zed's extension API
crate). A block in a language with no check here fails, so a new snippet cannot slip by unchecked; untagged
blocks (plain text, output) are not code and are left out.

This is a syntax check only: which setups also run in a real editor is in the docs' "How each setup is
tested" table.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # the project's dependency on 3.10
    import tomli as tomllib

from .conftest import REPO

DOC = REPO / "docs" / "editors.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def snippets() -> list[tuple[str, str, str]]:
    text = DOC.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        language = match.group(1) or "text"
        if language != "text":
            found.append((f"line{line}-{language}", language, match.group(2)))
    return found


SNIPPETS = snippets()


def elisp_balance_error(source: str) -> str | None:
    """Why `source` is not balanced Emacs Lisp (None when it is): ( ) and [ ] pair up outside strings,
    comments and character literals such as ?( or ?\\)."""
    closing = {")": "(", "]": "["}
    stack: list[tuple[str, int]] = []
    i, line = 0, 1
    while i < len(source):
        char = source[i]
        if char == "\n":
            line += 1
        elif char == ";":  # comment to the end of the line
            while i < len(source) and source[i] != "\n":
                i += 1
            continue
        elif char == '"':
            i += 1
            while i < len(source) and source[i] != '"':
                if source[i] == "\\":
                    i += 1
                elif source[i] == "\n":
                    line += 1
                i += 1
            if i >= len(source):
                return f"unterminated string (line {line})"
        elif char == "?":  # character literal
            i += 3 if source[i + 1 : i + 2] == "\\" else 2
            continue
        elif char in "([":
            stack.append((char, line))
        elif char in ")]":
            if not stack or stack[-1][0] != closing[char]:
                return f"unexpected {char!r} on line {line}"
            stack.pop()
        i += 1
    if stack:
        return f"{len(stack)} unclosed {stack[-1][0]!r}, the last opened on line {stack[-1][1]}"
    return None


def rust_balance_error(source: str) -> str | None:
    """Why `source` does not have balanced (), [] and {} outside strings and // comments (None when it does)."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[tuple[str, int]] = []
    line = 1
    in_string = False
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\n":
            line += 1
        elif in_string:
            if char == "\\":
                i += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif source.startswith("//", i):
            while i < len(source) and source[i] != "\n":
                i += 1
            continue
        elif char in "([{":
            stack.append((char, line))
        elif char in pairs:
            if not stack or stack[-1][0] != pairs[char]:
                return f"unexpected {char!r} on line {line}"
            stack.pop()
        i += 1
    if in_string:
        return "an unterminated string"
    if stack:
        return f"{len(stack)} unclosed {stack[-1][0]!r}, the last opened on line {stack[-1][1]}"
    return None


def test_every_editor_has_a_snippet():
    languages = {language for _, language, _ in SNIPPETS}
    assert {"json", "lua", "toml", "elisp", "bash"} <= languages, languages


@pytest.mark.parametrize(("language", "source"), [s[1:] for s in SNIPPETS], ids=[s[0] for s in SNIPPETS])
def test_snippet_parses(language, source, tmp_path):
    if language == "rust":
        problem = rust_balance_error(source)
        assert problem is None, problem
    elif language == "toml":
        tomllib.loads(source)
    elif language == "json":
        json.loads(source)
    elif language == "elisp":
        problem = elisp_balance_error(source)
        assert problem is None, problem
    elif language == "bash":
        done = subprocess.run(["bash", "-n"], input=source, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    elif language == "lua":
        nvim = shutil.which("nvim")
        if nvim is None:
            pytest.skip("no nvim on PATH to compile the Lua with")
        script = tmp_path / "snippet.lua"
        script.write_text(source, encoding="utf-8")
        check = (
            f"lua local ok, err = loadfile({json.dumps(str(script))}) "
            "if not ok then io.stderr:write(err) vim.cmd('cquit!') end"
        )
        done = subprocess.run(
            [nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", check, "-c", "qall!"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stderr
    else:
        pytest.fail(f"no check for {language} blocks: add one to {Path(__file__).name}")


def test_elisp_checker_finds_what_it_should():
    assert elisp_balance_error('(setq a "(") ; )\n(b ?\\( [c])') is None
    assert elisp_balance_error("(a (b)") == "1 unclosed '(', the last opened on line 1"
    assert elisp_balance_error("(a]") == "unexpected ']' on line 1"
    assert elisp_balance_error('(a "b)') == "unterminated string (line 1)"
