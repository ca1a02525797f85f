"""Replies rendered as Telegram HTML, split to Telegram's limits.

Every piece of text from the knowledge or the user is escaped; markup is only ever added here,
one balanced element per line, so a message can be split on any line boundary without cutting a
tag in half.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.adapters.telegram.callbacks import Action, encode
from bot.core.browse import MeetingCard
from bot.core.replies import Alternative, Reply, SourceRef, Status

MESSAGE_LIMIT = 4096
SAFE_LIMIT = 4000
BUTTON_TEXT_LIMIT = 60


@dataclass
class Rendered:
    """Message chunks (each under the limit) and the keyboard for the last one."""

    chunks: list[str]
    keyboard: InlineKeyboardMarkup | None = None
    extra: dict[str, str] = field(default_factory=dict)


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def source_line(source: SourceRef) -> str:
    return f"📄 <i>{esc(source.short())}</i>"


def quote_block(source: SourceRef) -> str:
    return f"<blockquote>{esc(source.quote)}</blockquote>"


def render_reply(reply: Reply, with_quote: bool = False) -> Rendered:
    """The message for a reply: answer, compact source line, buttons."""
    lines = [esc(line) for line in reply.answer.split("\n")]
    keyboard: list[list[InlineKeyboardButton]] = []
    if reply.status == Status.ANSWERED and reply.fact is not None:
        source = reply.sources[0]
        lines += ["", source_line(source)]
        if with_quote:
            lines.append(quote_block(source))
        buttons = [] if with_quote else [button("Source", Action.QUOTE, reply.fact)]
        buttons.append(button("Related", Action.RELATED, reply.fact))
        keyboard.append(buttons)
    elif reply.status == Status.ANSWERED:
        if reply.sources:
            lines.append("")
            lines += [source_line(s) for s in _unique(reply.sources)[:5]]
        keyboard += [[fact_button(a)] for a in reply.alternatives]
    elif reply.status == Status.CLARIFY:
        keyboard += [[fact_button(a)] for a in reply.alternatives]
        keyboard += [
            [button(label, Action.RECOMMENDATIONS, meeting)]
            for meeting, label in reply.extra.get("meetings", ())
        ]
    elif reply.status == Status.NO_MATCH:
        if reply.alternatives:
            lines += ["", "Perhaps one of these?"]
            keyboard += [[fact_button(a)] for a in reply.alternatives]
        lines += ["", "Type /help for examples of what I can answer."]
    return Rendered(split_lines(lines), InlineKeyboardMarkup(keyboard) if keyboard else None)


def render_card(card: MeetingCard) -> Rendered:
    meeting = card.meeting
    lines = [f"<b>{esc(meeting.name)}</b>", f"🗓 {esc(card.dates)}"]
    if meeting.place:
        lines.append(f"📍 {esc(meeting.place)}")
    if meeting.chairs:
        lines.append(f"🪑 Chair: {esc('; '.join(meeting.chairs))}")
    if meeting.organisers:
        lines.append(f"🏛 Organisers: {esc('; '.join(meeting.organisers))}")
    if meeting.summary:
        lines += ["", esc(meeting.summary)]
    lines += ["", f"📄 <i>{esc(card.source_title)}</i>"]
    if card.source is not None:
        lines.append(f"<i>{esc(card.source.short())}</i>")
    keyboard = []
    if card.fact_count:
        keyboard.append([button("Recommendations", Action.RECOMMENDATIONS, meeting.id)])
    return Rendered(split_lines(lines), InlineKeyboardMarkup(keyboard) if keyboard else None)


def button(text: str, action: Action, target: str | None = None) -> InlineKeyboardButton:
    return InlineKeyboardButton(shorten(text), callback_data=encode(action, target))


def fact_button(alternative: Alternative) -> InlineKeyboardButton:
    return button(alternative.question, Action.FACT, alternative.fact)


def shorten(text: str, limit: int = BUTTON_TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_lines(lines: list[str], limit: int = SAFE_LIMIT) -> list[str]:
    """Join lines into chunks under `limit`, breaking only between lines.

    A single line over the limit (never produced by the renderers above, whose lines are short)
    is cut into plain-text pieces after removing its markup, so no tag is ever split.
    """
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        pieces = [line] if utf16_len(line) <= limit else _cut_long_line(line, limit)
        for piece in pieces:
            added = utf16_len(piece) + (1 if current else 0)
            if current and size + added > limit:
                chunks.append("\n".join(current).strip("\n"))
                current, size = [], 0
                added = utf16_len(piece)
            current.append(piece)
            size += added
    if current:
        chunks.append("\n".join(current).strip("\n"))
    return [c for c in chunks if c] or [""]


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units: an emoji counts twice."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _cut_long_line(line: str, limit: int) -> list[str]:
    import re

    plain = html.unescape(re.sub(r"<[^>]+>", "", line))
    pieces = []
    while plain:
        cut = plain[: limit // 2]
        if len(plain) > len(cut) and " " in cut:
            cut = cut[: cut.rfind(" ")]
        pieces.append(esc(cut))
        plain = plain[len(cut) :].lstrip()
    return pieces


def _unique(sources: tuple[SourceRef, ...]) -> list[SourceRef]:
    seen, result = set(), []
    for source in sources:
        key = (source.document, source.paragraph)
        if key not in seen:
            seen.add(key)
            result.append(source)
    return result
