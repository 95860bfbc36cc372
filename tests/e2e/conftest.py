"""End-to-end fixtures: the real server in a subprocess, driven by pytest-lsp's client.

`lsp` starts the server; `session` initializes it with an editor's capability profile on a fresh copy of
fixtures/lsp_project. Tests tune the session with the `lsp_session` marker:

    @pytest.mark.lsp_session(pull=True, initialization_options={...}, configuration={...})

`pull=True` adds `textDocument.diagnostic` (and refresh support) to the profile, `pull=False` removes it;
unset keeps the profile as the editor sends it (only neovim 0.11 pulls).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from .helpers import Session, make_client

SERVER = [sys.executable, "-m", "sophia_artemis", "serve"]
PROFILES = ["visual-studio-code", "neovim", "neovim@v0.7.0", "emacs"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "lsp_session(**options): how the e2e session initializes the server")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, client_factory=make_client))
async def lsp(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def project(fixture_copy) -> Path:
    return fixture_copy("lsp_project")


def capabilities_for(profile: str, pull: bool | None) -> types.ClientCapabilities:
    caps = client_capabilities(profile)
    if pull is True:
        text = caps.text_document or types.TextDocumentClientCapabilities()
        text.diagnostic = types.DiagnosticClientCapabilities(related_document_support=False)
        caps.text_document = text
        workspace = caps.workspace or types.WorkspaceClientCapabilities()
        workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
        caps.workspace = workspace
    elif pull is False and caps.text_document is not None:
        caps.text_document.diagnostic = None
    return caps


async def start_session(
    client: LanguageClient,
    project: Path,
    profile: str,
    *,
    pull: bool | None = None,
    initialization_options: object = None,
    configuration: dict | None = None,
) -> Session:
    if configuration is not None:
        client.set_configuration(configuration, section="sophiaArtemis")
    caps = capabilities_for(profile, pull)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            root_uri=project.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name=project.name)],
            initialization_options=initialization_options,
        )
    )
    session = Session(
        client, project, pull=caps.text_document is not None and caps.text_document.diagnostic is not None
    )
    await session.wait_ready()
    return session


@pytest.fixture
async def session(
    lsp: LanguageClient, project: Path, profile: str, request: pytest.FixtureRequest
) -> Session:
    marker = request.node.get_closest_marker("lsp_session")
    options = dict(marker.kwargs) if marker else {}
    return await start_session(lsp, project, profile, **options)
