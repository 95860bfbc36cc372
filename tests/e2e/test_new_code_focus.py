"""New-code focus (setting `newCodeFocus`), end to end on a copy of fixtures/workspace_project: the findings the
baseline (`sophia-artemis baseline`, run for real) records are hidden or shown as hints, in open documents and
unopened files (push and workspace/diagnostic pull); a changed baseline applies without a restart, a broken one
is reported and hides nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from .conftest import start_session
from .helpers import Session, position_of

INDEX_TIMEOUT = 60.0
BASELINE = ".sophia-baseline.json"
LEGACY = "src/market/services/tariffs.py"
FRESH = "src/market/services/fresh.py"


def branchy(name: str, branches: int = 12) -> str:
    body = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(branches))
    return f"def {name}(x):\n{body}    return -1\n"


@pytest.fixture
def project(fixture_copy) -> Path:
    """workspace_project with a legacy complex function, baselined, then a new file the baseline does not know."""
    root = fixture_copy("workspace_project")
    (root / LEGACY).write_text(branchy("legacy_tariff"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "sophia_artemis", "baseline", str(root), "-j", "1"],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    recorded = {(e["path"], e["rule"]) for e in json.loads((root / BASELINE).read_text())["findings"]}
    assert {(LEGACY, "SA101"), ("src/market/data/store.py", "SA302")} <= recorded
    (root / FRESH).write_text(branchy("fresh_tariff"), encoding="utf-8")
    return root


def codes(diagnostics: list[types.Diagnostic] | None) -> list[str]:
    return sorted(str(d.code) for d in diagnostics or [])


def complex_functions(diagnostics: list[types.Diagnostic]) -> dict[str, types.DiagnosticSeverity | None]:
    """SA101's function name -> severity."""
    return {d.message.split("'")[1]: d.severity for d in diagnostics if d.code == "SA101"}


def published(session: Session, relative: str) -> list[types.Diagnostic] | None:
    history = session.recorder.published.get(session.uri(relative))
    return history[-1][1] if history else None


async def indexed(session: Session) -> None:
    """Until the unopened files' findings are pushed (the log line follows them; messages arrive in order)."""
    await session.recorder.until(
        lambda: any("workspace index of" in m.message and m.message.endswith("ready")
                    for m in session.client.log_messages),
        INDEX_TIMEOUT, "the workspace index to be ready",
    )


def watched(session: Session, path: Path, kind: types.FileChangeType = types.FileChangeType.Changed) -> None:
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=path.as_uri(), type=kind)])
    )


def add_function(session: Session, uri: str) -> None:
    end = len(session.texts[uri].splitlines())
    at = types.Position(line=end, character=0)
    session.change(uri, [types.TextEdit(range=types.Range(start=at, end=at), new_text="\n\n" + branchy("new_tariff"))])


@pytest.mark.lsp_session(initialization_options={"newCodeFocus": "hide"})  # every profile sends these
async def test_hide_shows_only_new_findings_and_follows_the_baseline(session: Session, project: Path):
    await indexed(session)
    assert "SA101" in codes(published(session, FRESH))  # not in the baseline: shown
    assert "SA302" not in codes(published(session, "src/market/data/store.py"))  # baselined: not pushed

    uri = session.open(LEGACY)
    assert await session.diagnostics(uri) == []  # its only finding is legacy
    add_function(session, uri)
    found = await session.diagnostics(uri, lambda d: bool(d))
    assert codes(found) == ["SA101"] and "new_tariff" in found[0].message

    # the baseline is regenerated with nothing in it (as after fixing everything): everything shows again
    (project / BASELINE).write_text(json.dumps({"version": 1, "findings": []}), encoding="utf-8")
    watched(session, project / BASELINE)
    found = await session.diagnostics(uri, lambda d: len(complex_functions(d)) == 2)
    assert sorted(complex_functions(found)) == ["legacy_tariff", "new_tariff"] and "SA303" in codes(found)
    await session.recorder.until(lambda: "SA302" in codes(published(session, "src/market/data/store.py")),
                                 what="the baselined SA302 pushed again")

    # a broken baseline: said once, naming the file; nothing hidden; the server carries on
    (project / BASELINE).write_text("{ not json", encoding="utf-8")
    watched(session, project / BASELINE)
    message = await session.recorder.until(
        lambda: next((m for m in session.client.messages if BASELINE in m.message), None), what="the warning")
    assert message.type == types.MessageType.Warning and "no findings hidden" in message.message
    session.change(uri, [types.TextEdit(range=types.Range(start=types.Position(line=0, character=0),
                                                           end=types.Position(line=0, character=0)),
                                        new_text="# edited\n")])
    found = await session.diagnostics(uri)
    assert sorted(complex_functions(found)) == ["legacy_tariff", "new_tariff"]


async def test_hint_quiets_legacy_findings_in_pull_and_hover(lsp, project: Path):
    session = await start_session(lsp, project, "visual-studio-code", pull=True,
                                  configuration={"newCodeFocus": "hint"})
    await indexed(session)
    report = await session.client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=[]))
    by_uri = {item.uri: item.items for item in report.items}
    store = by_uri[session.uri("src/market/data/store.py")]
    assert [(d.code, d.severity) for d in store] == [("SA302", types.DiagnosticSeverity.Hint)]
    assert complex_functions(by_uri[session.uri(FRESH)]) == {"fresh_tariff": types.DiagnosticSeverity.Warning}

    uri = session.open(LEGACY)
    add_function(session, uri)
    found = await session.diagnostics(uri, lambda d: len(complex_functions(d)) == 2)
    assert complex_functions(found) == {
        "legacy_tariff": types.DiagnosticSeverity.Hint, "new_tariff": types.DiagnosticSeverity.Warning}
    assert all(not d.tags for d in found if d.code == "SA101")  # not faded: legacy code is not unused code

    hover = await session.client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=position_of(session.texts[uri], "legacy_tariff")))
    assert hover is not None and "In the baseline (legacy)" in hover.contents.value
    assert "shown as hints" in hover.contents.value


async def test_off_by_default_shows_everything(lsp, project: Path):
    session = await start_session(lsp, project, "neovim")
    uri = session.open(LEGACY)
    found = await session.diagnostics(uri, lambda d: "SA101" in codes(d))
    assert complex_functions(found) == {"legacy_tariff": types.DiagnosticSeverity.Warning}
