"""The live knowledge: validated sources, meetings and facts, with a version hash.

A `Knowledge` is immutable once built, so a reload can build a new one beside the old and swap
a single reference: a question never sees a half-loaded knowledge base.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.schema import Fact, Meeting, Source
from bot.core.validation import Checked, Problem, check_bytes
from bot.core.yamlsafe import DEFAULT_MAX_BYTES


class KnowledgeError(Exception):
    """A knowledge file that failed validation; carries every problem found."""

    def __init__(self, filename: str, problems: list[Problem]) -> None:
        self.filename = filename
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        first = errors[0].format(filename) if errors else filename
        super().__init__(f"{len(errors)} error(s) in knowledge file; first: {first}")

    def lines(self, limit: int | None = None) -> list[str]:
        errors = [p for p in self.problems if p.severity == "error"]
        return [p.format(self.filename) for p in errors[:limit]]


@dataclass(frozen=True)
class Knowledge:
    """Everything the answer engine reads, indexed by id."""

    sources: dict[str, Source]
    meetings: dict[str, Meeting]
    facts: dict[str, Fact]
    synonyms: dict[str, list[str]]
    version: str
    loaded_at: dt.datetime
    warnings: tuple[Problem, ...] = field(default=())

    @classmethod
    def from_checked(cls, checked: Checked, raw: bytes) -> Knowledge:
        return cls(
            sources={s.id: s for s in checked.sources},
            meetings={m.id: m for m in checked.meetings},
            facts={f.id: f for f in checked.facts},
            synonyms=checked.synonyms,
            version=version_of(raw),
            loaded_at=dt.datetime.now(dt.UTC),
            warnings=tuple(checked.warnings),
        )

    def facts_of(self, meeting_id: str) -> list[Fact]:
        return [f for f in self.facts.values() if f.meeting == meeting_id]

    def source_of(self, fact: Fact) -> Source:
        return self.sources[fact.source]


def version_of(raw: bytes) -> str:
    """Short content hash: the knowledge version shown to admins and users."""
    return hashlib.sha256(raw).hexdigest()[:12]


def knowledge_from_bytes(
    raw: bytes, filename: str = "<upload>", max_bytes: int = DEFAULT_MAX_BYTES
) -> Knowledge:
    """Validate and build; raises KnowledgeError rather than returning a partial knowledge."""
    checked = check_bytes(raw, max_bytes=max_bytes)
    if not checked.ok:
        raise KnowledgeError(filename, checked.problems)
    return Knowledge.from_checked(checked, raw)


def load_knowledge(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Knowledge:
    """Load the knowledge file at `path`; raises KnowledgeError or OSError."""
    size = path.stat().st_size
    if size > max_bytes:
        problem = Problem("error", "", f"file is {size:,} bytes, over the {max_bytes:,} limit")
        raise KnowledgeError(str(path), [problem])
    return knowledge_from_bytes(path.read_bytes(), str(path), max_bytes)
