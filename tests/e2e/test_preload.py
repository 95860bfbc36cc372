"""Predictive pre-loading, end to end on a copy of fixtures/workspace_project made a real git repository: opening
a file pre-analyses its co-changed files and import neighbours, and opening one of those then publishes its
diagnostics from that analysis ("preload: hit"); a changed text is a miss; the navigation trail of session
memory adds the file the user went to next last time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from lsprotocol import types

from .conftest import start_session
from .helpers import Session

INDEX_TIMEOUT = 60.0
BILLING = "src/market/services/billing.py"
FORMAT = "src/market/ui/format.py"  # changes with billing in git history; no import between them
ORDERS = "src/market/services/orders.py"  # billing imports it, and it imports billing
VIEWS = "src/market/ui/views.py"  # predicted only by navigation


@pytest.fixture
def project(fixture_copy) -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from test_history import _commit, _git

    root = fixture_copy("workspace_project")
    _git(root, "init", "-q", "-b", "main")
    _commit(root, 0, "start")
    for day in range(1, 6):
        for rel in (BILLING, FORMAT):
            path = root / rel
            path.write_text(path.read_text() + f"\n# change {day}\n")
        _commit(root, day, f"billing and format, change {day}")
    return root


def logged(session: Session, text: str) -> bool:
    return any(text in m.message for m in session.client.log_messages)


async def wait_log(session: Session, text: str, timeout: float = INDEX_TIMEOUT) -> str:
    return await session.recorder.until(
        lambda: next((m.message for m in session.client.log_messages if text in m.message), None), timeout, text)


async def ready(session: Session) -> None:
    """Until the index and the git history are in (predictions use both)."""
    await wait_log(session, "workspace index of")
    await wait_log(session, "hotspots")


async def test_opening_a_predicted_file_uses_its_preloaded_analysis(lsp, project: Path):
    session = await start_session(lsp, project, "visual-studio-code", initialization_options={"preloadFiles": 3})
    await ready(session)
    session.open(BILLING)
    line = await wait_log(session, f"preload: analysed {FORMAT}")
    assert "changes with it (6 commits)" in line  # the first commit added both
    line = await wait_log(session, f"preload: analysed {ORDERS}")
    assert "imported by it" in line and "imports it" in line

    uri = session.open(FORMAT)
    await wait_log(session, f"preload: hit for {FORMAT}")
    await session.diagnostics(uri)  # published for version 1, from the preloaded analysis

    # what the editor opens differs from what was read: analysed as usual
    orders = session.open(ORDERS, text=(project / ORDERS).read_text() + "\nx = 1\n")
    await wait_log(session, f"preload: miss for {ORDERS}")
    found = await session.diagnostics(orders, lambda d: any(x.code == "SA301" for x in d))
    assert found


@pytest.mark.parametrize("profile", ["neovim"])
async def test_the_navigation_trail_predicts_the_file_opened_next(lsp, project: Path, profile: str):
    session = await start_session(lsp, project, profile, initialization_options={"preloadFiles": 3})
    await ready(session)
    billing = session.open(BILLING)
    await wait_log(session, "preload: predicted after " + BILLING)
    assert not logged(session, f"preload: analysed {VIEWS}")
    views = session.open(VIEWS)
    await session.diagnostics(views)
    for uri in (views, billing):
        session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    session.open(BILLING)
    line = await wait_log(session, f"preload: analysed {VIEWS}")
    assert "opened after it before" in line


async def test_off_with_zero(lsp, project: Path):
    session = await start_session(lsp, project, "emacs", initialization_options={"preloadFiles": 0})
    await ready(session)
    uri = session.open(BILLING)
    await session.diagnostics(uri)
    other = session.open(FORMAT)
    await session.diagnostics(other)
    assert not any("preload:" in m.message for m in session.client.log_messages)
