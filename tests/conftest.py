"""Hermetic test environment: every home, cache and store points into a temporary directory, offline."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"

# Set once for the whole session, before any server subprocess starts, so children inherit it too.
_HERMETIC_ROOT = Path(tempfile.mkdtemp(prefix="sophia-tests-"))
for _var, _sub in {
    "HOME": "home",
    "XDG_CONFIG_HOME": "xdg/config",
    "XDG_DATA_HOME": "xdg/data",
    "XDG_STATE_HOME": "xdg/state",
    "XDG_CACHE_HOME": "xdg/cache",
    "SOPHIA_ARTEMIS_HOME": "sophia-home",
    "HF_HOME": "hf",
    "TRANSFORMERS_CACHE": "hf/transformers",
    "SENTENCE_TRANSFORMERS_HOME": "hf/st",
}.items():
    (_HERMETIC_ROOT / _sub).mkdir(parents=True, exist_ok=True)
    os.environ[_var] = str(_HERMETIC_ROOT / _sub)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.pop("SOPHIA_ARTEMIS_PROJECT_DIR", None)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_HERMETIC_ROOT, ignore_errors=True)


@pytest.fixture
def fixture_copy(tmp_path):
    """Copy a folder of fixtures/ into a temp dir (tests never mutate fixtures/ itself)."""

    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(FIXTURES / name, dest)
        return dest

    return copy
