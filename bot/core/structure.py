"""Questions answered from the knowledge's structure rather than from one written fact.

"What meetings do you know?", "what was planned for April 2007?", "what did the Geneva
meeting recommend?" and "which meetings dealt with trafficking?" have answers that follow
from the meetings' dates and places and the facts' kinds; writing a fact for each would go
stale the moment an admin adds a meeting.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass

from bot.core.knowledge import Knowledge
from bot.core.mentions import Mentions
from bot.core.schema import Fact, Meeting
from bot.core.text import FOLLOW_UP, fold

_LISTING = {
    "meetings", "meeting", "events", "event", "sessions", "conferences", "happened",
    "happening", "planned", "scheduled", "timeline", "calendar", "held", "took",
}  # fmt: skip
_FILLER = {
    "what", "which", "whats", "list", "show", "me", "all", "the", "do", "does", "you", "know",
    "about", "cover", "covered", "covers", "have", "has", "are", "there", "is", "of", "in",
    "on", "for", "during", "were", "was", "place", "any", "a", "an", "dated", "upcoming",
    "to", "be", "did", "and", "other", "please", "pls", "bot", "can", "tell", "give", "your",
    "it", "take", "takes", "took", "between", "from", "until", "till", "since", "before",
    "after", "later", "earlier", "than", "then", "at", "by", "year", "month", "whole",
    "announced", "mentioned", "scheduled", "set", "happen", "go", "up", "coming",
    "documents", "document", "sources", "source", "every", "each", "held", "organised",
    "organized", "im", "i", "want", "see", "get", "need", "where", "when",
} | _LISTING  # fmt: skip
_RECOMMEND = {"recommend", "recommended", "recommends", "recommendation", "recommendations",
              "conclusion", "conclusions", "conclude", "concluded", "decide", "decided",
              "decisions", "decision", "outcome", "outcomes", "agree", "agreed", "result",
              "results", "resolve", "resolved"}  # fmt: skip
_TOPIC = re.compile(
    r"^(?:which|what) (?:meetings?|events?|sessions?|documents?) (?:\w+ )?"
    r"(?:deal|dealt|deals|discuss|discussed|discusses|talk|talked|cover|covered|covers|address|"
    r"addressed|addresses|mention|mentioned|mentions|look|looked|touch|touched|focus|focused)"
    r"(?: (?:with|about|on|at|upon))? (?P<topic>.+)$"
)
_RECOMMENDATION_KINDS = ("recommendation", "conclusion", "decision")
# Words that leave "what were the main recommendations of the meeting?" a question about all of
# a meeting's recommendations rather than about one of them.
_GENERIC = {"main", "key", "major", "important", "they", "meeting", "meetings", "session"}
_MONTHS = {fold(name): n for n, name in enumerate(calendar.month_name) if name}
WHICH_MEETING = "recommendations_of_which_meeting"


@dataclass(frozen=True)
class Structured:
    """A structural answer: text lines plus the meetings and facts that back them."""

    kind: str
    lines: list[str]
    meetings: list[Meeting]
    facts: list[Fact]
    heading: str


def structured_answer(
    folded: str,
    mentions: Mentions,
    knowledge: Knowledge,
    context_meeting: str | None,
    place_meetings: set[str],
) -> Structured | None:
    """Answer structural questions; None lets the fact matcher try."""
    words = folded.split()
    topic = _TOPIC.match(folded)
    if topic:
        return Structured("topic", [], [], [], topic.group("topic"))
    named = mentions.named
    residual = [w for w in words if w not in _FILLER and not _is_date_word(w)]
    if set(residual) & _RECOMMEND:
        leftover = [
            w
            for w in residual
            if w not in _RECOMMEND and w not in _GENERIC and not _names_meeting(w, named, knowledge)
        ]
        meeting_id = named[0] if len(named) == 1 else context_meeting if not named else None
        if leftover:
            return None
        if meeting_id:
            return _recommendations(knowledge, knowledge.meetings[meeting_id])
        if mentions.strengths and not named:
            return None
        choices = _which_meeting(knowledge, named)
        return choices if choices.lines else None
    if not (set(words) & _LISTING) and not (
        {"what", "whats"} & set(words) and "happen" in " ".join(words)
    ):
        return None
    if FOLLOW_UP.search(folded) and not named and not mentions.years and not place_meetings:
        return None
    place_words = {w for w in residual if _in_place_of(w, place_meetings, knowledge)}
    if "new" in words and "york" in words:
        place_words.add("new york")
    leftover = [w for w in residual if w not in place_words and w not in ("new", "york")]
    if leftover:
        return None
    return _listing(knowledge, mentions, words, place_meetings if place_words else None)


def _is_date_word(word: str) -> bool:
    return word.isdigit() or word in _MONTHS or word[:3] in {m[:3] for m in _MONTHS}


def _names_meeting(word: str, named: list[str], knowledge: Knowledge) -> bool:
    for meeting_id in named:
        meeting = knowledge.meetings[meeting_id]
        if word in _folded_words(" ".join([meeting.name, *meeting.aliases, meeting.place or ""])):
            return True
    return False


def _in_place_of(word: str, place_meetings: set[str], knowledge: Knowledge) -> bool:
    return any(word in _folded_words(knowledge.meetings[m].place or "") for m in place_meetings)


@functools.lru_cache(maxsize=4096)
def _folded_words(text: str) -> frozenset[str]:
    """Words of a meeting's names, folded once: the same few texts are checked per question."""
    return frozenset(fold(text).split())


def _listing(
    knowledge: Knowledge, mentions: Mentions, words: list[str], places: set[str] | None
) -> Structured:
    meetings = [m for m in knowledge.meetings.values() if m.start is not None]
    heading_parts = []
    if places is not None:
        meetings = [m for m in meetings if m.id in places]
        heading_parts.append("at that place")
    window = _window(mentions, words)
    if window is not None:
        start, end, label = window
        meetings = [m for m in meetings if _overlaps(m, start, end)]
        heading_parts.append(label)
    meetings.sort(key=lambda m: (m.start.first_day, m.id))
    lines = [describe_meeting_line(m) for m in meetings]
    heading = "Meetings and events" + (" " + ", ".join(heading_parts) if heading_parts else "")
    return Structured("listing", lines, meetings, [], heading)


def _window(mentions: Mentions, words: list[str]) -> tuple[dt.date, dt.date, str] | None:
    spans: list[tuple[dt.date, dt.date, str]] = []
    for year, month in mentions.months:
        last = calendar.monthrange(year, month)[1]
        label = f"{calendar.month_name[month]} {year}"
        spans.append((dt.date(year, month, 1), dt.date(year, month, last), label))
    for year in mentions.years:
        spans.append((dt.date(year, 1, 1), dt.date(year, 12, 31), str(year)))
    if not spans:
        return None
    start, end, label = spans[0]
    if "before" in words or "until" in words or "till" in words or "earlier" in words:
        return dt.date.min, start - dt.timedelta(days=1), f"before {label}"
    if "after" in words or "since" in words or "later" in words:
        return end + dt.timedelta(days=1), dt.date.max, f"after {label}"
    if len(spans) > 1 and "between" in words:
        return start, spans[-1][1], f"between {label} and {spans[-1][2]}"
    return start, end, f"in {label}"


def _overlaps(meeting: Meeting, start: dt.date, end: dt.date) -> bool:
    assert meeting.start is not None
    last = (meeting.end or meeting.start).last_day
    return meeting.start.first_day <= end and last >= start


def describe_meeting_line(meeting: Meeting) -> str:
    """'18-22 November 2002: Expert Group Meeting ... (Glen Cove, New York)'."""
    where = f" ({meeting.place})" if meeting.place else ""
    return f"{date_range(meeting)}: {meeting.name}{where}"


def date_range(meeting: Meeting) -> str:
    if meeting.start is None:
        return "date not given"
    start, end = meeting.start, meeting.end
    if end is None or end == start:
        return start.human()
    if start.day and end.day and (start.year, start.month) == (end.year, end.month):
        return f"{start.day}-{end.human()}"
    if start.day and end.day and start.year == end.year:
        return f"{start.day} {calendar.month_name[start.month or 1]} - {end.human()}"
    return f"{start.human()} - {end.human()}"


def _which_meeting(knowledge: Knowledge, named: list[str]) -> Structured:
    """Meetings to pick from when "what were the recommendations?" names none, nor has one in
    context: those named, when a name fits several; else the documents' own meetings, in date
    order, not the events they mention in passing. Answering with one meeting's list, or with
    one recommendation, would be a guess."""
    meetings = [
        m
        for m in knowledge.meetings.values()
        if (m.id in named if named else m.kind == "meeting")
        and recommendation_facts(knowledge, m.id)
    ]
    meetings.sort(key=lambda m: (m.start.first_day if m.start else dt.date.max, m.id))
    lines = [describe_meeting_line(m) for m in meetings]
    heading = "Recommendations of which meeting? My documents record some for"
    return Structured(WHICH_MEETING, lines, meetings, [], heading)


def recommendation_facts(knowledge: Knowledge, meeting_id: str) -> list[Fact]:
    """A meeting's recommendations, conclusions and decisions: what "what did it recommend?"
    lists, here and in the front ends' recommendation buttons."""
    return [f for f in knowledge.facts_of(meeting_id) if f.kind in _RECOMMENDATION_KINDS]


def _recommendations(knowledge: Knowledge, meeting: Meeting) -> Structured:
    facts = recommendation_facts(knowledge, meeting.id)
    lines = [f.answer for f in facts]
    heading = f"Recommendations and conclusions of the {meeting.name}"
    return Structured("recommendations", lines, [meeting], facts, heading)
