"""Browsing the knowledge without a question: meeting cards, timeline, search, related facts.

These back the menu-like commands (/meetings, /timeline, /search, /about) of every front end;
they read the same Knowledge as `answer()` and return plain data.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.engine import Engine
from bot.core.replies import SourceRef
from bot.core.schema import Fact, Meeting
from bot.core.structure import date_range, describe_meeting_line, recommendation_facts


@dataclass(frozen=True)
class MeetingCard:
    """What the bot shows for one meeting: the essentials and where they come from."""

    meeting: Meeting
    dates: str
    source: SourceRef | None
    source_title: str
    fact_count: int


def main_meetings(engine: Engine) -> list[Meeting]:
    """Meetings the documents describe, then announced events, each in date order."""
    meetings = list(engine.knowledge.meetings.values())
    return sorted(meetings, key=lambda m: (m.kind != "meeting", _sort_date(m), m.id))


def meeting_card(engine: Engine, meeting_id: str) -> MeetingCard | None:
    meeting = engine.knowledge.meetings.get(meeting_id)
    if meeting is None:
        return None
    facts = engine.knowledge.facts_of(meeting_id)
    dated = [f for f in facts if f.kind == "date"] or facts
    source = engine.source_ref(dated[0]) if dated else None
    title = engine.knowledge.sources[meeting.source].title
    return MeetingCard(meeting, date_range(meeting), source, title, len(facts))


def timeline(engine: Engine, year: int | None = None) -> list[str]:
    """Dated meetings and events in order, optionally of one year."""
    meetings = [m for m in engine.knowledge.meetings.values() if m.start is not None]
    if year is not None:
        meetings = [m for m in meetings if _years(m)[0] <= year <= _years(m)[1]]
    meetings.sort(key=lambda m: (_sort_date(m), m.id))
    return [describe_meeting_line(m) for m in meetings]


def recommendations(engine: Engine, meeting_id: str) -> list[Fact]:
    return recommendation_facts(engine.knowledge, meeting_id)


def meetings_with_recommendations(engine: Engine) -> list[Meeting]:
    return [m for m in main_meetings(engine) if recommendations(engine, m.id)]


def search(engine: Engine, words: str, limit: int = 8) -> list[Fact]:
    """Facts containing all the words (best matches first), else the closest matches.

    Looser than answering: a search lists what is there, it never clarifies or refuses.
    """
    facts = engine.knowledge.facts
    ranking = engine.matcher.rank(words)
    order = {c.fact: i for i, c in enumerate(ranking.candidates)}
    complete = [f for f, share in engine.matcher.topic_scores(words).items() if share >= 1.0]
    if complete:
        complete.sort(key=lambda f: (order.get(f, len(order)), f))
        return [facts[f] for f in complete[:limit]]
    floor = engine.thresholds.suggest
    return [facts[c.fact] for c in ranking.candidates if c.score >= floor][:limit]


def related(engine: Engine, fact_id: str, limit: int = 3) -> list[Fact]:
    """Other facts of the same meeting, those closest to this one first."""
    fact = engine.knowledge.facts.get(fact_id)
    if fact is None:
        return []
    siblings = {f.id for f in engine.knowledge.facts_of(fact.meeting)} - {fact.id}
    ranking = engine.matcher.rank(fact.answer)
    ordered = [c.fact for c in ranking.candidates if c.fact in siblings]
    ordered += sorted(siblings - set(ordered))
    return [engine.knowledge.facts[f] for f in ordered[:limit]]


def about(engine: Engine) -> dict[str, object]:
    knowledge = engine.knowledge
    return {
        "sources": list(knowledge.sources.values()),
        "meetings": sum(m.kind == "meeting" for m in knowledge.meetings.values()),
        "events": sum(m.kind == "event" for m in knowledge.meetings.values()),
        "facts": len(knowledge.facts),
        "questions": sum(len(f.questions) for f in knowledge.facts.values()),
        "version": knowledge.version,
        "loaded_at": knowledge.loaded_at,
    }


def _sort_date(meeting: Meeting) -> tuple[int, int, int]:
    if meeting.start is None:
        return (9999, 12, 31)
    return (meeting.start.year, meeting.start.month or 0, meeting.start.day or 0)


def _years(meeting: Meeting) -> tuple[int, int]:
    assert meeting.start is not None
    return meeting.start.year, (meeting.end or meeting.start).year
