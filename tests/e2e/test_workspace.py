"""The whole workspace in the editor, end to end, on fixtures/workspace_project: background indexing with
progress, diagnostics for unopened files (push, and workspace/diagnostic pull), SA301/SA302 live on the
buffer, external changes, and the impact/graph/report/openCycle commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from .helpers import Session, position_of

INDEX_TIMEOUT = 60.0


@pytest.fixture
def project(fixture_copy) -> Path:
    return fixture_copy("workspace_project")


def codes(diagnostics: list[types.Diagnostic]) -> set[str]:
    return {str(d.code) for d in diagnostics}


def published(session: Session, relative: str) -> list[types.Diagnostic] | None:
    history = session.recorder.published.get(session.uri(relative))
    return history[-1][1] if history else None


async def command(session: Session, name: str, argument: dict) -> dict:
    result = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=name, arguments=[argument])
    )
    assert isinstance(result, dict), result
    assert "error" not in result, result["error"]
    return result


async def indexed(session: Session) -> None:
    """Until the first index has published the unopened files' findings (every profile gets those pushes until
    it pulls workspace diagnostics itself): the server logs "workspace index ... ready" after them, and the
    client receives messages in order."""
    await session.recorder.until(
        lambda: any("workspace index of" in m.message and m.message.endswith("ready")
                    for m in session.client.log_messages),
        INDEX_TIMEOUT,
        "the workspace index to be ready",
    )
    assert "SA302" in codes(published(session, "src/market/data/store.py") or [])


async def test_indexing_reports_progress_and_pushes_unopened_files(session: Session, lsp):
    await indexed(session)
    store = published(session, "src/market/data/store.py")
    violation = next(d for d in store if d.code == "SA302")
    assert violation.range.start.line == 2 and "market.ui" in violation.message
    assert "SA303" in codes(published(session, "src/market/services/legacy.py"))
    unused = next(d for d in published(session, "src/market/services/legacy.py") if d.code == "SA303")
    assert list(unused.tags) == [types.DiagnosticTag.Unnecessary] and unused.data["confidence"] >= 60
    cycle = next(d for d in published(session, "src/market/services/orders.py") if d.code == "SA301")
    assert cycle.related_information and "billing" in cycle.message
    assert "SA101" in codes(published(session, "web/src/rules.ts") or [])
    assert "SA301" in codes(published(session, "web/src/index.ts") or [])
    assert published(session, "src/market/ui/format.py") is None  # clean files are not published
    caps = session.client.capabilities
    if caps.window is not None and caps.window.work_done_progress:
        reports = [r for rs in lsp.progress_reports.values() for r in rs]
        begin = next(r for r in reports if isinstance(r, types.WorkDoneProgressBegin) and "indexing" in r.title)
        assert begin.cancellable
        assert any(isinstance(r, types.WorkDoneProgressEnd) and "14 files" in (r.message or "") for r in reports)
    assert (session.root / ".sophia" / "cache").is_dir()


@pytest.mark.parametrize("profile", ["visual-studio-code"])
@pytest.mark.lsp_session(pull=True)
async def test_workspace_diagnostic_pull_with_result_ids(session: Session):
    await indexed(session)
    report = await session.client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=[]))
    by_path = {item.uri: item for item in report.items}
    store = by_path[session.uri("src/market/data/store.py")]
    assert "SA302" in codes(store.items) and store.result_id
    assert "SA303" in codes(by_path[session.uri("src/market/services/legacy.py")].items)
    again = await session.client.workspace_diagnostic_async(
        types.WorkspaceDiagnosticParams(
            previous_result_ids=[types.PreviousResultId(uri=i.uri, value=i.result_id) for i in report.items]
        )
    )
    assert again.items and all(isinstance(i, types.WorkspaceUnchangedDocumentDiagnosticReport) for i in again.items)
    # the pushed copies were withdrawn once the client pulls, so nothing shows twice
    assert published(session, "src/market/data/store.py") == []


async def test_layer_violation_shows_while_typing_and_goes_when_removed(session: Session):
    await indexed(session)
    uri = session.open("src/market/services/orders.py")
    first = await session.diagnostics(uri, lambda d: "SA301" in codes(d))
    assert "SA302" not in codes(first)
    text = session.texts[uri]
    line = "from market.ui.views import checkout\n"
    start = types.Position(line=0, character=0)
    session.change(uri, [types.TextEdit(range=types.Range(start=start, end=start), new_text=line)])
    found = await session.diagnostics(uri, lambda d: "SA302" in codes(d))
    violation = next(d for d in found if d.code == "SA302")
    assert violation.range.start.line == 0 and "market.services.orders imports market.ui.views" in violation.message
    # services -> ui -> services: the new import also closes a cycle through views
    session.replace_all(uri, text)
    cleared = await session.diagnostics(uri, lambda d: "SA302" not in codes(d) and "SA301" in codes(d))
    assert cleared


async def test_external_changes_are_picked_up(session: Session):
    await indexed(session)
    legacy = session.root / "src/market/services/legacy.py"
    legacy.write_text("def old_discount(amount: int) -> int:\n    return amount - 1\n\n\nVALUE = old_discount(3)\n")
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=legacy.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    await session.recorder.until(
        lambda: published(session, "src/market/services/legacy.py") == [], what="SA303 withdrawn after the edit"
    )
    new = session.root / "src/market/data/cache.py"
    new.write_text("from market.ui.views import checkout\n")
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=new.as_uri(), type=types.FileChangeType.Created)])
    )
    await session.recorder.until(
        lambda: "SA302" in codes(published(session, "src/market/data/cache.py") or []), what="the new file's violation"
    )


@pytest.mark.parametrize("profile", ["visual-studio-code", "neovim@v0.7.0"])
async def test_impact_graph_report_and_cycle_commands(session: Session):
    await indexed(session)
    orders = session.root / "src/market/services/orders.py"
    text = orders.read_text()
    impact = await command(session, "sophia.impact", {
        "uri": orders.as_uri(), "position": position_of(text, "place_order", 1).__dict__ if False else
        {"line": position_of(text, "def place_order").line, "character": 6},
    })
    assert impact["target"] == "market.services.orders:place_order"
    callers = {c["path"] for c in impact["callers"]}
    assert {"src/market/ui/views.py", "tests/test_orders.py"} <= callers
    assert all(c["uri"].startswith("file://") for c in impact["callers"])
    assert {d["module"] for d in impact["dependents"]["direct"]} >= {"market.ui.views", "market.services.billing"}
    assert "tests/test_orders.py" in {t["path"] for t in impact["tests"]}
    assert impact["co_changed"] == []  # not a git repository

    module = await command(session, "sophia.impact", {"uri": orders.as_uri()})
    assert module["target"] == "market.services.orders" and module["callers"] == []

    graph = await command(session, "sophia.graph", {})
    names = {m["name"] for m in graph["modules"]}
    assert {"market.data.store", "web/src/cart"} <= names
    assert sorted(graph["cycles"]) == [["market.services.billing", "market.services.orders"], ["web/src/cart", "web/src/index"]]
    python_only = await command(session, "sophia.graph", {"language": "python"})
    assert not any(m["language"] != "python" for m in python_only["modules"])

    report = await command(session, "sophia.report", {})
    assert report["findings"]["SA302"] == 1 and report["findings"]["SA303"] == 1
    assert report["hotspots"][0]["path"] == "web/src/rules.ts"
    assert report["snapshots"] and report["snapshots"][-1]["findings"] == sum(report["findings"].values())

    cycle = await command(session, "sophia.openCycle", {
        "uri": orders.as_uri(), "modules": ["market.services.billing", "market.services.orders"]})
    assert [loc["uri"].rsplit("/", 1)[-1] for loc in cycle["locations"]] == ["billing.py", "orders.py"]

    bad = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="sophia.impact", arguments=[{"uri": "untitled:1"}])
    )
    assert bad["version"] == 1 and "not a file" in bad["error"]


@pytest.mark.parametrize("profile", ["visual-studio-code", "neovim"])
async def test_callers_lens_hover_and_cycle_action(session: Session):
    await indexed(session)
    uri = session.open("src/market/services/orders.py")
    await session.diagnostics(uri, lambda d: "SA301" in codes(d))
    lenses = await session.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    lazy = [lens for lens in lenses if lens.command is None]
    assert len(lazy) == 2  # place_order, order_total
    resolved = [await session.client.code_lens_resolve_async(lens) for lens in lazy]
    titles = {lens.range.start.line: lens.command.title for lens in resolved}
    # callers: ui/views.py and tests/test_orders.py; dependents in the graph (import root src/): billing, views
    assert titles[4] == "2 callers · 2 dependent modules"
    assert resolved[0].command.command == "sophia.impact"
    assert list(resolved[0].command.arguments) == [{"uri": uri, "target": "market.services.orders:place_order"}]

    text = session.texts[uri]
    hover = await session.client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position_of(text, "place_order", 2))
    )
    value = hover.contents.value if hasattr(hover.contents, "value") else str(hover.contents)
    assert "Callers (2)" in value and "tests/test_orders.py" in value

    # raw JSON-RPC: the typed client decodes a CodeAction that only carries a command as a bare Command
    actions = await session.request_raw("textDocument/codeAction", {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 5}},
        "context": {"diagnostics": []},
    })
    show = next(a for a in actions if a["title"].startswith("Show the import cycle"))
    assert show["kind"] == "quickfix" and show["diagnostics"][0]["code"] == "SA301"
    run = types.Command(title=show["command"]["title"], command=show["command"]["command"],
                        arguments=show["command"]["arguments"])
    assert run.command == "sophia.openCycle"
    answer = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=run.command, arguments=run.arguments)
    )
    assert len(answer["locations"]) == 2


@pytest.mark.parametrize("profile", ["visual-studio-code"])
async def test_a_settings_change_reindexes_with_the_new_settings(session: Session):
    await indexed(session)
    assert "SA303" in codes(published(session, "src/market/services/legacy.py"))
    pyproject = session.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.sophia-artemis.unused]\nwhitelist = ["*old_discount"]\n')
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    await session.recorder.until(
        lambda: published(session, "src/market/services/legacy.py") == [], what="SA303 withdrawn by the whitelist"
    )


@pytest.mark.parametrize("profile", ["visual-studio-code"])
async def test_a_restart_reloads_the_index_from_memory_with_identical_findings(session: Session, lsp, project):
    from pytest_lsp import ClientServerConfig

    from .conftest import SERVER, start_session
    from .helpers import make_client

    await indexed(session)
    before = {uri: sorted((d.code, d.range.start.line, d.message) for d in diags)
              for uri, diags in lsp.diagnostics.items() if diags}
    await lsp.shutdown_session()
    lsp.capabilities = None  # shut down: the fixture's own shutdown_session does nothing now
    second = await ClientServerConfig(server_command=SERVER, client_factory=make_client).start()
    try:
        again = await start_session(second, project, "visual-studio-code")
        await indexed(again)
        ended = await again.recorder.until(
            lambda: [m.message for m in second.log_messages if "14 from memory" in m.message],
            what="the warm index's log line",
        )
        assert "0 analysed" in ended[0]
        after = {uri: sorted((d.code, d.range.start.line, d.message) for d in diags)
                 for uri, diags in second.diagnostics.items() if diags}
        assert after == before
    finally:
        await second.shutdown_session()


async def test_hotspots_and_companions_from_git_history(lsp, fixture_copy):
    from test_history import _commit, _git

    from .conftest import start_session

    root = fixture_copy("workspace_project")
    hot = root / "src/market/services/pricing.py"
    body = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(24))
    _git(root, "init", "-q", "-b", "main")
    _commit(root, 0, "start")
    for day in range(1, 7):
        hot.write_text(f"def price(x):\n{body}    return {day}\n")
        (root / "src/market/services/orders.py").write_text(
            (root / "src/market/services/orders.py").read_text() + f"\n# change {day}\n"
        )
        _commit(root, day, f"change {day}")
    session = await start_session(lsp, root, "visual-studio-code")
    await session.recorder.until(
        lambda: "SA203" in codes(published(session, "src/market/services/pricing.py") or []),
        INDEX_TIMEOUT, "the hotspot",
    )
    spot = next(d for d in published(session, "src/market/services/pricing.py") if d.code == "SA203")
    assert spot.data["churn"] == 6 and spot.data["complexity"] == 25
    uri = session.open("src/market/services/pricing.py")
    found = await session.diagnostics(uri, lambda d: "SA203" in codes(d))
    assert "SA101" in codes(found)
    hover = await session.client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri),
                          position=types.Position(line=0, character=5))
    )
    assert "Often changes with" in hover.contents.value and "orders.py" in hover.contents.value
    related = await command(session, "sophia.related", {"uri": uri})
    assert related["related"][0]["path"] == "src/market/services/orders.py"
    assert related["related"][0]["commits"] == 6
