"""What the engine returns: a reply with a status, its sources and its alternatives.

Front ends render a `Reply`; they never decide what is true. Keeping the shape plain data
(frozen dataclasses, JSON-ready) is what lets the CLI and Telegram share one core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    ANSWERED = "answered"
    CLARIFY = "clarify"
    NO_MATCH = "no_match"
    SMALLTALK = "smalltalk"


@dataclass(frozen=True)
class SourceRef:
    """Where an answer comes from: the document, the paragraph and the verbatim quote."""

    document: str
    title: str
    symbol: str | None
    paragraph: str
    quote: str

    def short(self) -> str:
        """Compact source line: 'PC.DEL/462/04, para. 2' or the title when no symbol."""
        name = self.symbol or self.title
        return f"{name}, {paragraph_label(self.paragraph)}"


@dataclass(frozen=True)
class Alternative:
    """A candidate fact offered when the engine is not sure, or as a suggestion."""

    fact: str
    question: str
    score: float


@dataclass(frozen=True)
class Reply:
    """The engine's answer to one question."""

    question: str
    status: Status
    answer: str
    sources: tuple[SourceRef, ...] = ()
    score: float = 0.0
    fact: str | None = None
    meeting: str | None = None
    alternatives: tuple[Alternative, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "status": self.status.value,
            "answer": self.answer,
            "sources": [
                {
                    "document": s.document,
                    "title": s.title,
                    "symbol": s.symbol,
                    "paragraph": s.paragraph,
                    "quote": s.quote,
                }
                for s in self.sources
            ],
            "score": round(self.score, 4),
            "fact": self.fact,
            "alternatives": [
                {"fact": a.fact, "question": a.question, "score": round(a.score, 4)}
                for a in self.alternatives
            ],
        }


def paragraph_label(paragraph: str) -> str:
    """'12' -> 'para. 12'; headings stay as they are."""
    return f"para. {paragraph}" if paragraph.replace(".", "").isdigit() else paragraph
