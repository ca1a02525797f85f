"""Callback data for inline buttons: short, typed, validated.

Telegram allows 64 bytes of callback data and sends back whatever a client says, so every
button press is parsed here and rejected if malformed, unknown or stale; handlers only ever see
a `Press` whose target exists in the live knowledge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_BYTES = 64


class Action(StrEnum):
    FACT = "f"  # answer this fact
    QUOTE = "q"  # show the verbatim quote of this fact
    RELATED = "r"  # offer other facts of the same meeting
    MEETING = "m"  # meeting card
    RECOMMENDATIONS = "rec"  # recommendations of a meeting
    EVENTS = "ev"  # list announced events
    APPLY = "apply"  # admin: apply an uploaded knowledge file
    DISCARD = "discard"  # admin: discard it


_PATTERN = re.compile(r"^(?P<action>[a-z]{1,8})(?::(?P<target>[a-z0-9][a-z0-9-]{0,55}))?$")


@dataclass(frozen=True)
class Press:
    action: Action
    target: str | None


def encode(action: Action, target: str | None = None) -> str:
    data = action.value if target is None else f"{action.value}:{target}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Press | None:
    """The press, or None for anything malformed (a forged or outdated button)."""
    if not data or not data.isascii() or len(data) > MAX_BYTES:
        return None
    match = _PATTERN.fullmatch(data)
    if match is None:
        return None
    try:
        action = Action(match.group("action"))
    except ValueError:
        return None
    return Press(action, match.group("target"))
