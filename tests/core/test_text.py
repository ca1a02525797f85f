"""Folding: the one normal form every comparison in the project goes through."""

from __future__ import annotations

import pytest

from bot.core.text import fold


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Who CHAIRED the Meeting?", "who chaired the meeting"),
        ("Schmögnerová’s speech", "schmognerova speech"),
        ("@bot when was it?", "when was it"),
        ("@MeetingsBot, @alice: who chaired", "who chaired"),
        ("ask @alice who chaired", "ask alice who chaired"),
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded
