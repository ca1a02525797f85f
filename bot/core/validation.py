"""Every check on a knowledge file, reported all at once with `file:line:col`.

An admin fixing a file wants the whole list in one go, so nothing here stops at the first
problem: each source, meeting and fact is validated on its own and the cross-checks run on
whatever survived. Errors make a file unusable; warnings (near-identical questions) do not.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from rapidfuzz import fuzz, process

from bot.core.schema import Fact, KnowledgeFile, Meeting, Source
from bot.core.text import fold, fold_for_quote
from bot.core.yamlsafe import (
    DEFAULT_MAX_BYTES,
    LoadedYaml,
    Mark,
    Path_,
    YamlLoadError,
    decode_text,
    load_yaml_text,
)

M = TypeVar("M", bound=BaseModel)

MIN_QUESTIONS = 3
MIN_ANSWER_CHARS = 20
MIN_QUOTE_PART_WORDS = 3  # per piece of a quote cut with '…'
NEAR_DUPLICATE_SCORE = 95.0
NEAR_DUPLICATE_MAX_QUESTIONS = 20_000
COMMON_WORD_SHARE = 0.2  # of facts using a word, above which it cannot stand for one name


@dataclass(frozen=True)
class Problem:
    """One finding, printable as `FILE:LINE:COL: path: message`."""

    severity: Literal["error", "warning"]
    path: str
    message: str
    line: int | None = None
    col: int | None = None

    def format(self, filename: str) -> str:
        where = f"{filename}:{self.line or 0}:{self.col or 0}"
        label = "" if self.severity == "error" else "warning: "
        return f"{where}: {self.path or '(file)'}: {label}{self.message}"


@dataclass
class Checked:
    """The outcome of validating one file: problems, plus the valid items for the engine."""

    problems: list[Problem] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    synonyms: dict[str, list[str]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        questions = sum(len(f.questions) for f in self.facts)
        return (
            f"{len(self.sources)} sources, {len(self.meetings)} meetings, {len(self.facts)} facts, "
            f"{questions} questions, {len(self.errors)} errors, {len(self.warnings)} warnings"
        )


def dotted(path: Path_) -> str:
    """('facts', 3, 'questions') -> 'facts[3].questions'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _Reporter:
    def __init__(self, loaded: LoadedYaml, checked: Checked) -> None:
        self.loaded = loaded
        self.checked = checked
        self._positions: dict[str, dict[str, int]] = {}

    def index_of(self, section: str, item_id: str) -> int:
        """Position of the first item with this id (for line numbers); one pass per section,
        so validation stays linear in the number of facts."""
        positions = self._positions.get(section)
        if positions is None:
            positions = self._positions[section] = {}
            for index, item in enumerate(self.loaded.data.get(section) or []):
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    positions.setdefault(item["id"], index)
        return positions.get(item_id, 0)

    def add(self, path: Path_, message: str, severity: Literal["error", "warning"] = "error"):
        mark = self.loaded.mark_for(path)
        self.checked.problems.append(
            Problem(
                severity,
                dotted(path),
                message,
                mark.line if mark else None,
                mark.col if mark else None,
            )
        )


def check_bytes(
    raw: bytes, sources_dir: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Checked:
    """Validate the bytes of a knowledge file (from disk or an upload)."""
    checked = Checked()
    try:
        loaded = load_yaml_text(decode_text(raw, max_bytes))
    except YamlLoadError as err:
        mark = err.mark or Mark(0, 0)
        checked.problems.append(Problem("error", "", err.message, mark.line, mark.col))
        return checked
    report = _Reporter(loaded, checked)
    for mark, path, message in loaded.duplicates:
        checked.problems.append(Problem("error", dotted(path), message, mark.line, mark.col))
    if not isinstance(loaded.data, dict):
        kind = type(loaded.data).__name__
        report.add((), f"the file must be a mapping with sources, meetings and facts, not a {kind}")
        return checked
    top = _validate_model(KnowledgeFile, loaded.data, (), report)
    if top is None:
        return checked
    checked.synonyms = {key: list(values) for key, values in top.synonyms.items()}
    checked.sources = _validate_items(Source, top.sources, "sources", report)
    checked.meetings = _validate_items(Meeting, top.meetings, "meetings", report)
    checked.facts = _validate_items(Fact, top.facts, "facts", report)
    _check_references(loaded, checked, report)
    _check_facts(loaded, checked, report)
    _warn_common_expansions(checked, report)
    if sources_dir is not None:
        _check_quotes(loaded, checked, report, sources_dir)
    return checked


def check_file(
    path: Path, sources_dir: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Checked:
    """Validate a knowledge file on disk, refusing oversized files before reading them."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            message = f"file is {size:,} bytes, over the {max_bytes:,}-byte limit"
            return Checked(problems=[Problem("error", "", message, 0, 0)])
        raw = path.read_bytes()
    except OSError as err:
        return Checked(problems=[Problem("error", "", f"cannot read file: {err.strerror}", 0, 0)])
    return check_bytes(raw, sources_dir, max_bytes)


def _validate_model(model: type[M], data: Any, path: Path_, report: _Reporter) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        for error in err.errors(include_url=False):
            loc = tuple(error["loc"])
            message = _pydantic_message(error)
            report.add((*path, *loc), message)
        return None


def _pydantic_message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see knowledge/README.md)"
    if kind == "string_pattern_mismatch":
        return "ids use lowercase letters, digits and dashes only"
    if kind in ("too_short", "string_too_short") and error.get("ctx", {}).get("min_length") == 1:
        return "must not be empty"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _validate_items(model: type[M], items: list[Any], section: str, report: _Reporter) -> list[M]:
    valid = []
    for index, item in enumerate(items):
        parsed = _validate_model(model, item, (section, index), report)
        if parsed is not None:
            valid.append(parsed)
    return valid


def _check_references(loaded: LoadedYaml, checked: Checked, report: _Reporter) -> None:
    present: dict[str, set[str]] = {}  # ids in the file, valid items or not: no cascade errors
    for section in ("sources", "meetings", "facts"):
        seen: dict[str, int] = {}
        for index, item in enumerate(loaded.data.get(section) or []):
            item_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(item_id, str):
                continue
            if item_id in seen:
                first = loaded.marks.get((section, seen[item_id], "id"))
                where = f" (first at line {first.line})" if first else ""
                report.add((section, index, "id"), f"duplicate id '{item_id}'{where}")
            else:
                seen[item_id] = index
        present[section] = set(seen)
    source_ids = present["sources"]
    meeting_ids = present["meetings"]
    for meeting in checked.meetings:
        index = report.index_of("meetings", meeting.id)
        if meeting.source not in source_ids:
            report.add(("meetings", index, "source"), f"unknown source '{meeting.source}'")
        if meeting.start is None:
            if meeting.kind == "meeting" or meeting.end is not None:
                report.add(("meetings", index), "a meeting needs its start date")
            continue
        if meeting.end is not None and meeting.end.last_day < meeting.start.first_day:
            report.add(
                ("meetings", index, "end"),
                f"end {meeting.end.iso} is before start {meeting.start.iso}",
            )
    for fact in checked.facts:
        index = report.index_of("facts", fact.id)
        if fact.meeting not in meeting_ids:
            report.add(("facts", index, "meeting"), f"unknown meeting '{fact.meeting}'")
        if fact.source not in source_ids:
            report.add(("facts", index, "source"), f"unknown source '{fact.source}'")
    if any(problem.severity == "error" for problem in checked.problems):
        return  # a fact refused above may well be the meeting's: no warning on top of it
    with_facts = {fact.meeting for fact in checked.facts}
    for meeting in checked.meetings:
        if meeting.id not in with_facts:
            report.add(
                ("meetings", report.index_of("meetings", meeting.id), "id"),
                f"meeting '{meeting.id}' has no facts: lists would show it with no quote as "
                "evidence, and nothing about it can be answered",
                "warning",
            )


def _check_facts(loaded: LoadedYaml, checked: Checked, report: _Reporter) -> None:
    owners: dict[str, list[tuple[str, int, int]]] = collections.defaultdict(list)
    for fact in checked.facts:
        index = report.index_of("facts", fact.id)
        if len(fact.questions) < MIN_QUESTIONS:
            report.add(
                ("facts", index, "questions"),
                f"fact '{fact.id}' has {len(fact.questions)} question(s); "
                f"write at least {MIN_QUESTIONS} differently worded ones",
            )
        if len(fact.answer) < MIN_ANSWER_CHARS:
            report.add(
                ("facts", index, "answer"),
                f"answer is too short ({len(fact.answer)} characters); "
                "write a sentence that stands alone",
            )
        for q_index, question in enumerate(fact.questions):
            owners[fold(question)].append((fact.id, index, q_index))
    for folded, places in owners.items():
        if not folded:
            for _fact_id, index, q_index in places:
                report.add(("facts", index, "questions", q_index), "question has no words")
            continue
        if len(places) > 1:
            for fact_id, index, q_index in places[1:]:
                first_id = places[0][0]
                where = "twice in this fact" if fact_id == first_id else f"also on '{first_id}'"
                report.add(
                    ("facts", index, "questions", q_index),
                    f"the same question appears {where}: each question must lead to one fact",
                )
    _warn_near_duplicates(owners, report)


def _warn_near_duplicates(owners: dict[str, list[tuple[str, int, int]]], report: _Reporter) -> None:
    """Warn when two facts carry near-identical questions: users will get a clarification."""
    folded = [text for text in owners if text]
    if len(folded) > NEAR_DUPLICATE_MAX_QUESTIONS:
        return
    matrix = process.cdist(
        folded, folded, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE_SCORE, dtype="uint8"
    )
    for i, j in zip(*matrix.nonzero(), strict=True):
        if i >= j:
            continue
        fact_a, _, _ = owners[folded[i]][0]
        fact_b, index_b, q_b = owners[folded[j]][0]
        if fact_a == fact_b:
            continue
        report.add(
            ("facts", index_b, "questions", q_b),
            f"near-identical to a question of '{fact_a}' (this is '{fact_b}'): "
            "users asking it will be asked which one they mean",
            "warning",
        )


def _warn_common_expansions(checked: Checked, report: _Reporter) -> None:
    """Warn of a synonym that expands to one word most facts use.

    `WPS: [women, peace and security]` is YAML for two expansions, "women" and "peace and
    security": every question that says "women" then also says "WPS", and matches facts on
    women, peace and security it has nothing to do with. A real expansion of one common word
    does the same harm, so the warning is about the word, whatever the cause.
    """
    if not checked.facts:
        return
    facts_using: collections.Counter[str] = collections.Counter()
    for fact in checked.facts:
        facts_using.update(set(fold(" ".join([*fact.questions, fact.answer])).split()))
    for short, expansions in checked.synonyms.items():
        for position, expansion in enumerate(expansions):
            words = fold(expansion).split()
            if len(words) != 1 or expansion.isupper():  # an acronym ("ECE") names one thing
                continue
            share = facts_using[words[0]] / len(checked.facts)
            if share > COMMON_WORD_SHARE:
                report.add(
                    ("synonyms", short, position),
                    f"'{expansion}' is a word {share:.0%} of the facts use: every question "
                    f"saying it would also mean '{short}'. If it is part of a name with a "
                    "comma, put the name in quotes so YAML reads one expansion",
                    "warning",
                )


def _check_quotes(
    loaded: LoadedYaml, checked: Checked, report: _Reporter, sources_dir: Path
) -> None:
    texts: dict[str, str | None] = {}
    for source in checked.sources:
        path = sources_dir / source.file
        index = report.index_of("sources", source.id)
        try:
            texts[source.id] = fold_for_quote(path.read_text(encoding="utf-8"))
        except OSError:
            texts[source.id] = None
            report.add(("sources", index, "file"), f"source file not found: {path}")
        except UnicodeDecodeError:
            texts[source.id] = None
            report.add(("sources", index, "file"), f"source file is not UTF-8 text: {path}")
    for fact in checked.facts:
        text = texts.get(fact.source)
        if text is None:
            continue
        parts = quote_parts(fact.quote)
        where = ("facts", report.index_of("facts", fact.id), "quote")
        short = any(len(part.split()) < MIN_QUOTE_PART_WORDS for part in parts)
        if not parts or (len(parts) > 1 and short):
            report.add(
                where,
                f"quote of '{fact.id}': each part of a quote cut with '…' needs at least "
                f"{MIN_QUOTE_PART_WORDS} words, so a cut cannot change what the document says",
            )
        elif not _in_order(parts, text):
            report.add(
                where,
                f"quote of '{fact.id}' is not in {fact.source} ({sources_dir.name}/"
                f"{next(s.file for s in checked.sources if s.id == fact.source)}) word for word",
            )


def quote_parts(quote: str) -> list[str]:
    """The verbatim extracts of a quote, which may leave out text between them with '…' (or
    '...'): an agenda whose items are headings pages apart is quoted as its headings."""
    return [part.strip() for part in fold_for_quote(quote).split("...") if part.strip()]


def _in_order(parts: list[str], text: str) -> bool:
    """Whether every part occurs in `text`, each after the one before it."""
    position = 0
    for part in parts:
        found = text.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True
