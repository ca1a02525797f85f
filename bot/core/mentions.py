"""Which meetings a question names: by name, alias or acronym, place, or date.

"Who chaired it in Geneva?" and "who chaired the OSCE group?" differ only in the meeting they
name; finding that name lets the matcher prefer the right meeting's facts and lets the engine
ask "which meeting do you mean?" when nothing names one.
"""

from __future__ import annotations

import calendar
import itertools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from bot.core.knowledge import Knowledge
from bot.core.text import fold

ALIAS = 1.0
CONTAINING_ALIAS = 0.9
TYPO_ALIAS = 0.8
TYPO_SCORE = 90  # partial_ratio a long phrase needs to count as a misspelt name
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
        # Word counts of the phrases starting with each word: a question's words are looked up
        # once each instead of joining every n-gram of up to the longest phrase's length.
        sizes: dict[str, set[int]] = defaultdict(set)
        for phrase in owners:
            words = phrase.split()
            sizes[words[0]].add(len(words))
        self._sizes = {word: sorted(counts) for word, counts in sizes.items()}
        for other, other_owners in owners.items():
            for phrase in self._phrases_in(other):
                if phrase != other:
                    for m in other_owners:
                        self.phrases[phrase].setdefault(m, CONTAINING_ALIAS)
        self._long_phrases = [p for p in self.phrases if len(p) >= 8]
        self._typo_filter = _BigramFilter(self._long_phrases, TYPO_SCORE)
        self.places = self._place_words(knowledge)
        self._dated = [m for m in knowledge.meetings.values() if m.start is not None]

    def _phrases_in(self, folded: str) -> list[str]:
        """Known phrases occurring in a folded text as whole words: a set lookup per word
        n-gram that starts like a phrase, since folded text is words separated by single
        spaces."""
        words = folded.split()
        found: list[tuple[int, int, str]] = []
        for start, word in enumerate(words):
            for size in self._sizes.get(word, ()):
                if start + size <= len(words):
                    gram = " ".join(words[start : start + size])
                    if gram in self.phrases:
                        found.append((size, start, gram))
        found.sort()  # shortest first, then leftmost: the order callers have always seen
        return list(dict.fromkeys(gram for _, _, gram in found))

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
            candidates = self._typo_filter.candidates(folded)
            for phrase, score, _ in process.extract(
                folded, candidates, scorer=fuzz.partial_ratio, score_cutoff=TYPO_SCORE, limit=3
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
        years, months = named_dates(words)
        for meeting in self._dated if years or months else ():
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


class _BigramFilter:
    """Which phrases could reach a partial_ratio of `cutoff` with a text, by counting shared
    character bigrams: scoring every meeting name against every question that names none was
    the slowest part of `find`, and most names share too few bigrams to stand a chance.

    The bound: partial_ratio aligns the shorter string (m characters) with a window of the
    longer one no longer than m; a ratio of at least c/100 allows an indel distance d of at most
    (1 - c/100) * 2m, each edit breaks at most two of the shorter string's m - 1 bigrams, so at
    least m - 1 - 2d of them occur in the other string.
    """

    def __init__(self, phrases: list[str], cutoff: float) -> None:
        self.phrases = phrases
        self.slack = 4 * (1 - cutoff / 100)
        grams = [_bigrams(phrase) for phrase in phrases]
        flat = list(itertools.chain.from_iterable(grams))
        self.numbering = {gram: i for i, gram in enumerate(dict.fromkeys(flat))}
        size = max(len(self.numbering), 1)
        ids = np.fromiter(map(self.numbering.__getitem__, flat), dtype=np.int64, count=len(flat))
        owner = np.repeat(np.arange(len(phrases)), [len(g) for g in grams])
        keys, self.counts = np.unique(owner * size + ids, return_counts=True)
        self.owners, self.columns = np.divmod(keys, size)
        self.lengths = np.array([len(p) for p in phrases], dtype=np.float64)

    def candidates(self, text: str) -> list[str]:
        """The phrases, in order, that pass the bound for `text` (a superset of the matches)."""
        mine = np.zeros(len(self.numbering) + 1, dtype=np.int64)  # last slot: bigrams no phrase has
        unseen = len(self.numbering)
        for gram, count in Counter(_bigrams(text)).items():
            mine[self.numbering.get(gram, unseen)] = count
        overlap = np.minimum(self.counts, mine[self.columns])
        shared = np.bincount(self.owners, weights=overlap, minlength=len(self.phrases))
        shorter = np.minimum(self.lengths, len(text))
        keep = shared >= shorter - 1 - self.slack * shorter - 1e-6
        return [self.phrases[i] for i in np.flatnonzero(keep).tolist()]


def _bigrams(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1)]


def _raise(strengths: dict[str, float], meeting: str, value: float) -> None:
    strengths[meeting] = max(strengths.get(meeting, 0.0), value)


def named_dates(words: list[str]) -> tuple[list[int], list[tuple[int, int]]]:
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
