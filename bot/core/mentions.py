"""Which meetings a question names: by name, alias or acronym, place, or date.

"Who chaired it in Geneva?" and "who chaired the OSCE group?" differ only in the meeting they
name; finding that name lets the matcher prefer the right meeting's facts and lets the engine
ask "which meeting do you mean?" when nothing names one.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.core.knowledge import Knowledge
from bot.core.text import fold

ALIAS = 1.0
CONTAINING_ALIAS = 0.9
TYPO_ALIAS = 0.8
PLACE = 0.6
MONTH_YEAR = 0.6
YEAR = 0.35

_GENERIC_PLACE_WORDS = {
    "the", "of", "and", "in", "at", "on", "un", "united", "nations", "headquarters", "hq",
    "new", "york", "city", "usa", "us", "center", "centre", "conference", "state", "states",
    "not", "stated", "document", "summary", "report", "given", "room", "chamber", "building",
    "nation", "ny", "international", "hall", "palais",
}  # fmt: skip
_ARTICLES = re.compile(r"^(the|a|an) ")
_YEAR = re.compile(r"(?<!\d)(19|20)\d{2}(?!\d)")
_MONTHS = {fold(name): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({fold(name): n for n, name in enumerate(calendar.month_abbr) if name})


@dataclass(frozen=True)
class Mentions:
    """Meeting id -> strength (1.0 = named outright), plus the dates the question names."""

    strengths: dict[str, float] = field(default_factory=dict)
    years: tuple[int, ...] = ()
    months: tuple[tuple[int, int], ...] = ()

    @property
    def named(self) -> list[str]:
        """Meetings named outright (by name or alias), only the most strongly named ones."""
        if not self.strengths:
            return []
        top = max(self.strengths.values())
        if top < CONTAINING_ALIAS:
            return []
        return sorted(m for m, s in self.strengths.items() if s == top)


class MeetingMentions:
    """Lookup tables built once per knowledge version."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        owners: dict[str, set[str]] = defaultdict(set)
        for meeting in knowledge.meetings.values():
            for phrase in (meeting.name, *meeting.aliases):
                folded = _ARTICLES.sub("", fold(phrase))
                if folded:
                    owners[folded].add(meeting.id)
        self.phrases: dict[str, dict[str, float]] = {
            phrase: {m: ALIAS for m in holders} for phrase, holders in owners.items()
        }
        self._max_words = max((len(p.split()) for p in owners), default=0)
        for other, other_owners in owners.items():
            for phrase in self._phrases_in(other):
                if phrase != other:
                    for m in other_owners:
                        self.phrases[phrase].setdefault(m, CONTAINING_ALIAS)
        self._long_phrases = [p for p in self.phrases if len(p) >= 8]
        self.places = self._place_words(knowledge)

    def _phrases_in(self, folded: str) -> list[str]:
        """Known phrases occurring in a folded text as whole words: a set lookup per word
        n-gram, since folded text is words separated by single spaces."""
        words = folded.split()
        found: dict[str, None] = {}
        for size in range(1, min(self._max_words, len(words)) + 1):
            for start in range(len(words) - size + 1):
                gram = " ".join(words[start : start + size])
                if gram in self.phrases:
                    found[gram] = None
        return list(found)

    @staticmethod
    def _place_words(knowledge: Knowledge) -> dict[str, set[str]]:
        words: dict[str, set[str]] = defaultdict(set)
        for meeting in knowledge.meetings.values():
            for word in fold(meeting.place or "").split():
                if len(word) >= 4 and word not in _GENERIC_PLACE_WORDS and not word.isdigit():
                    words[word].add(meeting.id)
        return dict(words)

    def find(self, folded: str) -> Mentions:
        strengths: dict[str, float] = {}
        matched = self._phrases_in(folded)
        matched = [p for p in matched if not any(p != q and p in q for q in matched)]
        if not matched and self._long_phrases:
            for phrase, score, _ in process.extract(
                folded, self._long_phrases, scorer=fuzz.partial_ratio, score_cutoff=90, limit=3
            ):
                for m in self.phrases[phrase]:
                    _raise(strengths, m, TYPO_ALIAS * score / 100)
        for phrase in matched:
            for m, strength in self.phrases[phrase].items():
                _raise(strengths, m, strength)
        words = folded.split()
        for word in words:
            holders = self.places.get(word, set())
            for m in holders:
                _raise(strengths, m, PLACE / len(holders))
        years, months = _dates(words)
        for meeting in self.knowledge.meetings.values():
            if meeting.start is None:
                continue
            last = meeting.end or meeting.start
            for year, month in months:
                if (
                    (meeting.start.year, meeting.start.month or month)
                    <= (year, month)
                    <= (
                        last.year,
                        last.month or month,
                    )
                ):
                    _raise(strengths, meeting.id, MONTH_YEAR)
            for year in years:
                if meeting.start.year <= year <= last.year:
                    _raise(strengths, meeting.id, YEAR)
        return Mentions(strengths, tuple(years), tuple(months))


def _raise(strengths: dict[str, float], meeting: str, value: float) -> None:
    strengths[meeting] = max(strengths.get(meeting, 0.0), value)


def _dates(words: list[str]) -> tuple[list[int], list[tuple[int, int]]]:
    years: list[int] = []
    months: list[tuple[int, int]] = []
    for index, word in enumerate(words):
        if _YEAR.fullmatch(word):
            year = int(word)
            previous = words[index - 1] if index else ""
            if previous in _MONTHS:
                months.append((year, _MONTHS[previous]))
            else:
                years.append(year)
    return years, months
