"""The knowledge file's data model: sources, meetings, facts and synonyms.

Pydantic does the type checking so that an admin's typo ("questoins:") or a number where a
list belongs is reported precisely; cross-references and content rules live in `validation`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
_ID = r"^[a-z0-9][a-z0-9-]*$"

SourceKind = Literal["report", "summary", "concept paper", "aide-memoire", "note", "other"]
MeetingKind = Literal["meeting", "event"]
FactKind = Literal[
    "date",
    "place",
    "person",
    "number",
    "organisation",
    "decision",
    "recommendation",
    "conclusion",
    "event",
    "definition",
    "document",
    "contact",
    "topic",
    "other",
]


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to the day, the month or only the year, as documents give them."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, value: Any) -> PartialDate:
        if isinstance(value, PartialDate):
            return value
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return cls(value.year, value.month, value.day)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ValueError("a date must be YYYY-MM-DD, YYYY-MM or YYYY")
        match = _PARTIAL_DATE.match(value.strip())
        if not match:
            raise ValueError(f"'{value}' is not a date (use YYYY-MM-DD, YYYY-MM or YYYY)")
        year, month, day = (int(part) if part else None for part in match.groups())
        if month is not None and not 1 <= month <= 12:
            raise ValueError(f"'{value}': month must be 01 to 12")
        dt.date(year, month or 1, 1 if day is None else day)  # rejects year 0 and 31 April
        return cls(year, month, day)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    @property
    def last_day(self) -> dt.date:
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return dt.date(self.year, month, day)

    @property
    def iso(self) -> str:
        parts = [f"{self.year:04d}"]
        if self.month:
            parts.append(f"{self.month:02d}")
        if self.day:
            parts.append(f"{self.day:02d}")
        return "-".join(parts)

    def human(self) -> str:
        """'18 November 2002', 'February 2008' or '2007'."""
        if self.month is None:
            return str(self.year)
        month = calendar.month_name[self.month]
        return f"{self.day} {month} {self.year}" if self.day else f"{month} {self.year}"


def _partial_date(value: Any) -> PartialDate:
    return PartialDate.parse(value)


def _text(value: Any) -> Any:
    """Accept a bare number where text is expected (paragraph: 12)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Date = Annotated[PartialDate, BeforeValidator(_partial_date)]
Text = Annotated[str, BeforeValidator(_text), Field(min_length=1)]
Id = Annotated[str, Field(pattern=_ID, max_length=56)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Source(_Strict):
    """One source document, named by the seed file it was curated from."""

    id: Id
    file: Text
    title: Text
    symbol: Text | None = None
    date: Date | None = None
    kind: SourceKind


class Meeting(_Strict):
    """A meeting a document describes, or a dated event it announces."""

    id: Id
    kind: MeetingKind
    name: Text
    aliases: list[Text] = []
    start: Date | None = None
    end: Date | None = None
    place: Text | None = None
    organisers: list[Text] = []
    chairs: list[Text] = []
    source: Id
    summary: Text | None = None


class Fact(_Strict):
    """One answerable item: its phrasings, its answer and the verbatim evidence."""

    id: Id
    meeting: Id
    kind: FactKind
    questions: list[Text]
    answer: Text
    source: Id
    paragraph: Text
    quote: Text


class KnowledgeFile(_Strict):
    """Top level of the knowledge file; sections are validated item by item in `validation`."""

    version: int | None = None
    sources: list[Any]
    meetings: list[Any]
    facts: list[Any]
    synonyms: dict[Text, list[Text]] = {}
