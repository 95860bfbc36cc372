"""Settings layers: pyproject, initializationOptions, workspace/configuration, didChangeConfiguration."""

from __future__ import annotations

import pytest
from lsprotocol import types

from .helpers import Session
from .test_diagnostics import PRICING, codes, has, lacks


def warnings(session: Session) -> list[str]:
    return [m.message for m in session.client.messages if m.type == types.MessageType.Warning]


@pytest.mark.parametrize(
    ("profile", "options"),
    [
        ("visual-studio-code", {"sophiaArtemis": {"thresholds": {"cyclomatic": 20}}}),
        ("emacs", {"settings": {"thresholds": {"cyclomatic": 20}}}),
        ("neovim@v0.7.0", {"thresholds": {"cyclomatic": 20}}),
    ],
)
async def test_initialization_options_override_pyproject(lsp, project, profile, options):
    from .conftest import start_session

    session = await start_session(lsp, project, profile, initialization_options=options)
    uri = session.open(PRICING)
    diags = await session.diagnostics(uri, has("SA102"))
    assert "SA101" not in codes(diags)  # 10 is under the editor's 20; pyproject's 5 is overridden
    assert next(d for d in diags if d.code == "SA102").data["threshold"] == 8  # pyproject still applies


@pytest.mark.parametrize("profile", ["visual-studio-code"])
@pytest.mark.lsp_session(
    initialization_options={"thresholds": {"cognitive": 5}},
    configuration={"thresholds": {"cognitive": 50}, "ignore": ["SA201"]},
)
async def test_workspace_configuration_wins_over_initialization_options(session: Session):
    uri = session.open(PRICING)
    diags = await session.diagnostics(uri, lambda ds: codes(ds) == ["SA101"])
    assert diags[0].data["threshold"] == 5
    (request,) = session.recorder.configuration_requests
    assert [(i.section, i.scope_uri) for i in request.items] == [("sophiaArtemis", session.root.as_uri())]


@pytest.mark.parametrize("profile", ["visual-studio-code", "emacs"])
async def test_did_change_configuration_pulls_the_new_settings(session: Session):
    uri = session.open(PRICING)
    await session.diagnostics(uri, has("SA201"))
    session.client.set_configuration({"ignore": ["SA2"]}, section="sophiaArtemis")
    session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    diags = await session.diagnostics(uri, lacks("SA201"))
    assert "SA101" in codes(diags)
    assert len(session.recorder.configuration_requests) == 2


@pytest.mark.parametrize("profile", ["neovim@v0.7.0"])
async def test_did_change_configuration_without_workspace_configuration(session: Session):
    assert not session.client.capabilities.workspace.configuration
    uri = session.open(PRICING)
    await session.diagnostics(uri, has("SA201"))
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"sophiaArtemis": {"select": ["SA2"]}})
    )
    diags = await session.diagnostics(uri, lacks("SA101"))
    assert codes(diags) == ["SA201"]
    assert not session.recorder.configuration_requests


@pytest.mark.parametrize("profile", ["visual-studio-code"])
@pytest.mark.lsp_session(pull=True)
async def test_settings_change_in_pull_mode_asks_the_client_to_refresh(session: Session):
    uri = session.open(PRICING)
    first = await session.pull_report(uri)
    assert "SA201" in codes(first.items)
    session.client.set_configuration({"ignore": ["SA201"]}, section="sophiaArtemis")
    session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await session.recorder.until(lambda: session.recorder.refreshes >= 1, what="workspace/diagnostic/refresh")
    again = await session.pull_report(uri, previous=first.result_id)
    assert again.kind == "full" and "SA201" not in codes(again.items)


@pytest.mark.parametrize("profile", ["visual-studio-code", "neovim"])
@pytest.mark.lsp_session(initialization_options={"thresholds": {"cyclomatic": "lots"}, "colour": "blue"})
async def test_bad_settings_are_shown_and_defaults_used(session: Session):
    uri = session.open(PRICING)
    await session.diagnostics(uri, has("SA102"))
    shown = await session.recorder.until(
        lambda: len(warnings(session)) >= 2 and warnings(session), what="warnings"
    )
    assert any("thresholds.cyclomatic" in m and "'lots'" in m and "10" in m for m in shown)
    assert any("unknown setting 'colour'" in m for m in shown)
    await session.alive()


@pytest.mark.parametrize("profile", ["visual-studio-code", "emacs"])
async def test_broken_pyproject_is_named_and_defaults_used(session: Session):
    pyproject = session.root / "pyproject.toml"
    pyproject.write_text("[tool.sophia-artemis\nthresholds = {", encoding="utf-8")
    uri = session.open(PRICING)
    diags = await session.diagnostics(uri, has("SA201"))
    assert "SA101" not in codes(diags)  # default threshold 10, not the file's 5
    shown = await session.recorder.until(lambda: warnings(session), what="a warning")
    assert any(str(pyproject) in m and "cannot parse" in m for m in shown)

    # fixing and saving it brings the project's settings back
    pyproject.write_text("[tool.sophia-artemis]\nthresholds = { cyclomatic = 5 }\n", encoding="utf-8")
    session.client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=pyproject.as_uri()))
    )
    await session.diagnostics(uri, has("SA101"))


@pytest.mark.parametrize("profile", ["neovim"])
async def test_unreadable_pyproject_is_named_and_defaults_used(session: Session):
    pyproject = session.root / "pyproject.toml"
    pyproject.unlink()
    pyproject.mkdir()  # root reads anything chmod forbids; a directory cannot be read as a file
    uri = session.open(PRICING)
    diags = await session.diagnostics(uri, has("SA201"))
    assert "SA101" not in codes(diags)
    shown = await session.recorder.until(lambda: warnings(session), what="a warning")
    assert any(str(pyproject) in m and "cannot read" in m for m in shown)
    await session.alive()
