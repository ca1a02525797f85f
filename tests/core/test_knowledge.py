"""Building a Knowledge from bytes or a file, or refusing with every problem."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from bot.core.knowledge import Knowledge, KnowledgeError, knowledge_from_bytes, load_knowledge

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VALID = FIXTURES / "knowledge" / "valid.yaml"
BROKEN = FIXTURES / "knowledge" / "broken"


def test_valid_bytes_build_a_knowledge() -> None:
    raw = VALID.read_bytes()
    knowledge = knowledge_from_bytes(raw, "valid.yaml")
    assert isinstance(knowledge, Knowledge)
    assert (len(knowledge.sources), len(knowledge.meetings), len(knowledge.facts)) == (2, 3, 6)
    assert sum(len(f.questions) for f in knowledge.facts.values()) == 18
    assert sorted(knowledge.synonyms) == ["CSW", "DAW", "EGM"]
    assert knowledge.warnings == ()
    assert re.fullmatch(r"[0-9a-f]{12}", knowledge.version)
    assert knowledge.version == hashlib.sha256(raw).hexdigest()[:12]
    assert [f.id for f in knowledge.facts_of("egm-2002")] == [
        "egm-dates",
        "egm-organiser",
        "egm-experts",
        "egm-findings",
    ]
    assert knowledge.source_of(knowledge.facts["forum-date"]).file == "doc_b.txt"


def test_the_version_changes_with_the_content() -> None:
    raw = VALID.read_bytes()
    changed = raw.replace(b"took part.", b"took part in it.")
    assert changed != raw
    assert knowledge_from_bytes(changed).version != knowledge_from_bytes(raw).version


def test_load_knowledge_reads_the_same_knowledge() -> None:
    knowledge = load_knowledge(VALID)
    assert knowledge.version == knowledge_from_bytes(VALID.read_bytes()).version
    assert set(knowledge.meetings) == {"egm-2002", "vienna-forum-2008", "iwg-follow-up"}


def test_warnings_travel_with_the_knowledge() -> None:
    knowledge = knowledge_from_bytes((BROKEN / "near_identical_questions.yaml").read_bytes())
    assert len(knowledge.facts) == 2
    assert [w.path for w in knowledge.warnings] == ["facts[1].questions[1]"]


def test_a_broken_file_raises_with_every_problem() -> None:
    with pytest.raises(KnowledgeError) as info:
        knowledge_from_bytes((BROKEN / "three_errors.yaml").read_bytes(), "three.yaml")
    err = info.value
    assert err.filename == "three.yaml"
    assert len(err.problems) == 3
    assert str(err) == (
        "3 error(s) in knowledge file; first: three.yaml:10:9: meetings[0].kind: "
        "Input should be 'meeting' or 'event'"
    )
    assert err.lines(limit=2) == [
        "three.yaml:10:9: meetings[0].kind: Input should be 'meeting' or 'event'",
        "three.yaml:16:3: facts[0].paragraph: required field is missing",
    ]
    assert len(err.lines()) == 3


def test_a_file_that_does_not_load_raises_knowledge_error() -> None:
    with pytest.raises(KnowledgeError) as info:
        knowledge_from_bytes((BROKEN / "syntax_error.yaml").read_bytes())
    assert info.value.lines() == [
        "<upload>:22:16: (file): YAML syntax error: mapping values are not allowed here"
    ]


def test_quotes_are_not_checked_when_building_from_bytes() -> None:
    knowledge = knowledge_from_bytes((BROKEN / "quote_not_in_document.yaml").read_bytes())
    assert list(knowledge.facts) == ["egm-dates"]


def test_load_knowledge_refuses_an_oversized_file(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(VALID.read_bytes())
    size = path.stat().st_size
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(path, max_bytes=1000)
    assert [p.message for p in info.value.problems] == [
        f"file is {size:,} bytes, over the 1,000 limit"
    ]
