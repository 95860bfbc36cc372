"""SA402's quick fix through a real client: the list literal becomes a set literal and the finding goes."""

from __future__ import annotations

import pytest

from .helpers import Session, workspace_edit_texts
from .test_code_actions import actions_at
from .test_diagnostics import has, lacks

SLOW = (
    "def keep(words):\n"
    "    out = []\n"
    "    for w in words:\n"
    "        if w in ['a', 'an', 'the', 'of', 'to']:\n"
    "            continue\n"
    "        out.append(w)\n"
    "    return out\n"
)


@pytest.mark.parametrize("profile", ["visual-studio-code", "neovim"])
async def test_list_literal_membership_becomes_a_set(session: Session):
    uri = session.open("shop/words.py", SLOW)
    diags = await session.diagnostics(uri, has("SA402"))
    target = next(d for d in diags if d.code == "SA402")
    assert target.data["collection"] == "literal" and target.data["loop_line"] == 3
    actions = await actions_at(session, uri, target.range, [target])
    action = next(a for a in actions if a.title == "Use a set literal for the membership test")
    assert action.is_preferred and [d.code for d in action.diagnostics] == ["SA402"]
    assert action.edit is not None  # a small edit: sent inline, not left for codeAction/resolve
    new = workspace_edit_texts(action.edit, session.read)[uri]
    assert "        if w in {'a', 'an', 'the', 'of', 'to'}:\n" in new
    session.replace_all(uri, new)
    await session.diagnostics(uri, lacks("SA402"))
