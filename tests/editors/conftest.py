"""Shared pieces for the real-editor tests: where the tools are, where screenshots and logs go.

The tools live outside the repository (`tests/editors/install_tools.sh` puts them in
`$SOPHIA_EDITOR_TOOLS`, default /opt/sophia-editor-tools). Without them the tests skip and say what to run;
with `SOPHIA_EDITOR_TESTS=require` (for CI, after install_tools.sh) a missing tool fails the test instead.
"""

from __future__ import annotations

import os
import shutil
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
