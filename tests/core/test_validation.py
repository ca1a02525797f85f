"""Every check on a knowledge file: message, path, line and column, errors versus warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.validation import Checked, Problem, check_bytes, check_file, dotted

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KNOWLEDGE = FIXTURES / "knowledge"
VALID = KNOWLEDGE / "valid.yaml"
BROKEN = KNOWLEDGE / "broken"
BAD = FIXTURES / "bad_knowledge"
SEEDS = FIXTURES / "seeds"

# A minimal valid file (one source, meeting and fact) that the inline tests vary.
MINIMAL = """\
sources:
- id: doc-a
  file: doc_a.txt
  title: Aide-memoire
  kind: aide-memoire
meetings:
- id: egm-2002
  kind: meeting
  name: Expert Group Meeting
  start: 2002-11-18
  end: 2002-11-22
  source: doc-a
facts:
- id: egm-dates
  meeting: egm-2002
  kind: date
  questions:
  - When was the Expert Group Meeting held?
  - what dates did the glen cove meeting run
  - In which month of 2002 did the experts meet?
  answer: The meeting was held from 18 to 22 November 2002.
  source: doc-a
  paragraph: 1
  quote: from 18 to 22 November 2002
"""


def variant(old: str, new: str, text: str = MINIMAL) -> bytes:
    """`text` with exactly one `old` replaced, so a stale test fails loudly."""
    assert text.count(old) == 1, old
    return text.replace(old, new).encode()


def found(checked: Checked) -> list[tuple[str, str, int | None, int | None]]:
    return [(p.severity, p.path, p.line, p.col) for p in checked.problems]


def only(checked: Checked) -> Problem:
    assert len(checked.problems) == 1, checked.problems
    return checked.problems[0]


# --- the valid file ------------------------------------------------------------------------


def test_valid_file_has_no_problems_even_against_its_documents() -> None:
    checked = check_file(VALID, sources_dir=SEEDS)
    assert checked.problems == []
    assert checked.ok is True
    assert [s.id for s in checked.sources] == ["doc-a", "doc-b"]
    assert [m.id for m in checked.meetings] == ["egm-2002", "vienna-forum-2008", "iwg-follow-up"]
    assert [f.id for f in checked.facts] == [
        "egm-dates",
        "egm-organiser",
        "egm-experts",
        "egm-findings",
        "forum-date",
        "follow-up-date",
    ]
    assert checked.synonyms == {
        "DAW": ["Division for the Advancement of Women"],
        "CSW": ["Commission on the Status of Women"],
        "EGM": ["Expert Group Meeting"],
    }
    assert checked.summary() == (
        "2 sources, 3 meetings, 6 facts, 18 questions, 0 errors, 0 warnings"
    )


def test_valid_file_keeps_partial_dates_and_undated_events() -> None:
    meetings = {m.id: m for m in check_file(VALID).meetings}
    assert meetings["vienna-forum-2008"].kind == "event"
    assert meetings["vienna-forum-2008"].start is not None
    assert meetings["vienna-forum-2008"].start.iso == "2008-02"
    assert meetings["iwg-follow-up"].start is None
    assert meetings["egm-2002"].end is not None
    assert meetings["egm-2002"].end.human() == "22 November 2002"


def test_quotes_match_across_quote_marks_dashes_and_line_breaks() -> None:
    """The valid quotes differ from the documents in exactly these ways; all must pass."""
    facts = {f.id: f for f in check_file(VALID).facts}
    doc_a = (SEEDS / "doc_a.txt").read_text(encoding="utf-8")
    for fact_id in ("egm-dates", "egm-experts", "egm-findings"):
        assert facts[fact_id].quote not in doc_a  # not a plain substring...
    assert "“push”" in doc_a
    assert "civil society –\nto consider" in doc_a
    assert "experts’" in doc_a
    assert "forty\u2011seventh" in doc_a
    assert check_file(VALID, sources_dir=SEEDS).problems == []  # ...yet found


def test_one_changed_word_in_a_quote_is_caught_at_the_quote() -> None:
    text = VALID.read_text(encoding="utf-8")
    raw = variant("  quote: 'twelve experts", "  quote: 'eleven experts", text)
    checked = check_bytes(raw, sources_dir=SEEDS)
    problem = only(checked)
    assert (problem.severity, problem.path) == ("error", "facts[2].quote")
    assert problem.line == 1 + text.splitlines().index(
        "  quote: 'twelve experts from all regions of the world - researchers, practitioners and"
    )
    assert (
        problem.message == "quote of 'egm-experts' is not in doc-a (seeds/doc_a.txt) word for word"
    )


def test_valid_file_needs_no_documents_without_sources_dir(tmp_path: Path) -> None:
    assert check_file(VALID).problems == []
    assert check_file(VALID, sources_dir=tmp_path).ok is False


# --- one fixture per check -----------------------------------------------------------------

# file -> [(severity, path, line, col, message fragment)], in the order they are reported.
EXPECTED: dict[str, list[tuple[str, str, int, int, str]]] = {
    "syntax_error.yaml": [
        ("error", "", 22, 16, "YAML syntax error: mapping values are not allowed here"),
    ],
    "wrong_type.yaml": [
        ("error", "meetings[0].start", 11, 10, "'yesterday' is not a date (use YYYY-MM-DD"),
        ("error", "facts[0].questions", 18, 14, "Input should be a valid list"),
    ],
    "missing_field.yaml": [
        ("error", "facts[0].answer", 15, 3, "required field is missing"),
    ],
    "unknown_field.yaml": [
        ("error", "facts[0].questions", 15, 3, "required field is missing"),
        ("error", "facts[0].questoins", 19, 3, "unknown field (check the spelling"),
    ],
    "duplicate_key.yaml": [
        ("error", "facts[0].answer", 23, 3, "duplicate key 'answer' (first at line 22)"),
    ],
    "duplicate_fact_id.yaml": [
        ("error", "facts[1].id", 26, 7, "duplicate id 'egm-dates' (first at line 15)"),
    ],
    "duplicate_meeting_id.yaml": [
        ("error", "meetings[1].id", 14, 7, "duplicate id 'egm-2002' (first at line 8)"),
    ],
    "unknown_meeting.yaml": [
        ("error", "facts[0].meeting", 16, 12, "unknown meeting 'egm-2003'"),
    ],
    "unknown_source.yaml": [
        ("error", "meetings[0].source", 13, 11, "unknown source 'doc-z'"),
        ("error", "facts[0].source", 23, 11, "unknown source 'doc-z'"),
    ],
    "invalid_date.yaml": [
        ("error", "meetings[0].start", 11, 10, "'2004-13-01': month must be 01 to 12"),
    ],
    "end_before_start.yaml": [
        ("error", "meetings[0].end", 12, 8, "end 2002-11-08 is before start 2002-11-18"),
    ],
    "empty_answer.yaml": [
        ("error", "facts[0].answer", 22, 11, "must not be empty"),
    ],
    "short_answer.yaml": [
        ("error", "facts[0].answer", 22, 11, "answer is too short (14 characters)"),
    ],
    "too_few_questions.yaml": [
        (
            "error",
            "facts[0].questions",
            19,
            3,
            "fact 'egm-dates' has 2 question(s); write at least 3",
        ),
    ],
    "same_question_two_facts.yaml": [
        ("error", "facts[1].questions[2]", 32, 5, "the same question appears also on 'egm-dates'"),
    ],
    "near_identical_questions.yaml": [
        (
            "warning",
            "facts[1].questions[1]",
            31,
            5,
            "near-identical to a question of 'egm-dates' (this is 'egm-organiser')",
        ),
    ],
    "quote_not_in_document.yaml": [
        (
            "error",
            "facts[0].quote",
            25,
            10,
            "quote of 'egm-dates' is not in doc-a (seeds/doc_a.txt) word for word",
        ),
    ],
    "top_level_list.yaml": [
        ("error", "", 2, 1, "must be a mapping with sources, meetings and facts, not a list"),
    ],
    "empty.yaml": [
        ("error", "", 1, 1, "file is empty"),
    ],
    "anchors_aliases.yaml": [
        ("error", "", 8, 3, "anchors (&egm) are not allowed in this file"),
    ],
    "three_errors.yaml": [
        ("error", "meetings[0].kind", 10, 9, "Input should be 'meeting' or 'event'"),
        ("error", "facts[0].paragraph", 16, 3, "required field is missing"),
        ("error", "facts[1].questions", 30, 3, "fact 'egm-organiser' has 2 question(s)"),
    ],
}


def test_every_broken_fixture_has_its_expectation() -> None:
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_fixture(name: str) -> None:
    checked = check_file(BROKEN / name, sources_dir=SEEDS)
    expected = EXPECTED[name]
    assert found(checked) == [(sev, path, line, col) for sev, path, line, col, _ in expected]
    for problem, (*_, fragment) in zip(checked.problems, expected, strict=True):
        assert fragment in problem.message
    has_errors = any(severity == "error" for severity, *_ in expected)
    assert checked.ok is not has_errors


def test_all_problems_are_reported_at_once() -> None:
    checked = check_file(BROKEN / "three_errors.yaml")
    assert len(checked.errors) == 3
    assert {p.path for p in checked.errors} == {
        "meetings[0].kind",
        "facts[0].paragraph",
        "facts[1].questions",
    }
    # The valid fact survives for the engine; the broken meeting and fact do not.
    assert [f.id for f in checked.facts] == ["egm-organiser"]
    assert checked.meetings == []


def test_near_identical_questions_are_a_warning_and_the_file_stays_usable() -> None:
    checked = check_file(BROKEN / "near_identical_questions.yaml", sources_dir=SEEDS)
    assert checked.ok is True
    assert checked.errors == []
    assert [p.path for p in checked.warnings] == ["facts[1].questions[1]"]
    assert len(checked.facts) == 2
    assert checked.summary().endswith("0 errors, 1 warnings")


def test_quote_is_checked_only_with_sources_dir() -> None:
    assert check_file(BROKEN / "quote_not_in_document.yaml").problems == []
    assert check_file(BROKEN / "quote_not_in_document.yaml", sources_dir=SEEDS).ok is False


def test_an_invalid_meeting_does_not_cascade_into_unknown_meeting_errors() -> None:
    # Regression: facts pointing at a meeting that exists but has a bad field used to get
    # "unknown meeting 'egm-2002'" on top of the real error.
    checked = check_file(BROKEN / "invalid_date.yaml")
    assert [p.message for p in checked.problems] == ["'2004-13-01': month must be 01 to 12"]
    assert [f.id for f in checked.facts] == ["egm-dates"]


# --- formatting ----------------------------------------------------------------------------


def test_problem_format_for_errors_and_warnings() -> None:
    error = Problem("error", "facts[1].questions", "too few", 12, 3)
    warning = Problem("warning", "facts[0].questions[2]", "close to another", 7, 5)
    file_level = Problem("error", "", "file is empty", None, None)
    assert error.format("k.yaml") == "k.yaml:12:3: facts[1].questions: too few"
    assert (
        warning.format("k.yaml") == "k.yaml:7:5: facts[0].questions[2]: warning: close to another"
    )
    assert file_level.format("k.yaml") == "k.yaml:0:0: (file): file is empty"


def test_format_of_a_real_problem() -> None:
    problem = only(check_file(BROKEN / "duplicate_meeting_id.yaml"))
    assert problem.format("knowledge.yaml") == (
        "knowledge.yaml:14:7: meetings[1].id: duplicate id 'egm-2002' (first at line 8)"
    )


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("facts",), "facts"),
        (("facts", 3, "questions"), "facts[3].questions"),
        (("facts", 3, "questions", 0), "facts[3].questions[0]"),
        (("synonyms", "UN ECE", 1), "synonyms.UN ECE[1]"),
    ],
)
def test_dotted(path: tuple[str | int, ...], text: str) -> None:
    assert dotted(path) == text


# --- further checks, inline ----------------------------------------------------------------


def test_a_meeting_needs_a_start_date() -> None:
    problem = only(check_bytes(variant("  start: 2002-11-18\n  end: 2002-11-22\n", "")))
    assert (problem.path, problem.line, problem.col) == ("meetings[0]", 7, 3)
    assert problem.message == "a meeting needs its start date"


def test_an_event_may_have_no_date_but_not_an_end_alone() -> None:
    undated = variant(
        "  kind: meeting\n  name: Expert Group Meeting\n  start: 2002-11-18\n  end: 2002-11-22\n",
        "  kind: event\n  name: Expert Group Meeting\n",
    )
    assert check_bytes(undated).problems == []
    end_only = variant(
        "  kind: meeting\n  name: Expert Group Meeting\n  start: 2002-11-18\n",
        "  kind: event\n  name: Expert Group Meeting\n",
    )
    problem = only(check_bytes(end_only))
    assert (problem.path, problem.message) == ("meetings[0]", "a meeting needs its start date")


def test_end_in_the_same_month_as_a_month_only_start_is_fine() -> None:
    raw = variant(
        "  start: 2002-11-18\n  end: 2002-11-22\n", "  start: 2002-11\n  end: 2002-11-01\n"
    )
    assert check_bytes(raw).problems == []


def test_an_id_with_capitals_is_refused() -> None:
    problem = only(check_bytes(variant("- id: egm-dates", "- id: EGM dates")))
    assert (problem.path, problem.line, problem.col) == ("facts[0].id", 14, 7)
    assert problem.message == "ids use lowercase letters, digits and dashes only"


def test_a_question_with_no_words() -> None:
    problem = only(
        check_bytes(variant("  - what dates did the glen cove meeting run", "  - '???'"))
    )
    assert (problem.path, problem.line, problem.col) == ("facts[0].questions[1]", 19, 5)
    assert problem.message == "question has no words"


def test_the_same_question_twice_in_one_fact() -> None:
    raw = variant(
        "  - what dates did the glen cove meeting run", "  - when was the EXPERT group meeting held"
    )
    problem = only(check_bytes(raw))
    assert (problem.path, problem.line) == ("facts[0].questions[1]", 19)
    assert problem.message.startswith("the same question appears twice in this fact")


def test_an_empty_question_in_the_list() -> None:
    problem = only(check_bytes(variant("  - what dates did the glen cove meeting run", "  - ''")))
    assert (problem.path, problem.line, problem.message) == (
        "facts[0].questions[1]",
        19,
        "must not be empty",
    )


def test_a_misspelt_top_level_section() -> None:
    checked = check_bytes(variant("facts:\n", "fatcs:\n"))
    assert found(checked) == [("error", "facts", 1, 1), ("error", "fatcs", 14, 1)]
    assert checked.problems[0].message == "required field is missing"
    assert checked.problems[1].message.startswith("unknown field")


def test_synonyms_must_map_text_to_lists() -> None:
    checked = check_bytes(
        (MINIMAL + "synonyms:\n  DAW: Division for the Advancement of Women\n").encode()
    )
    assert found(checked) == [("error", "synonyms.DAW", 26, 8)]
    assert checked.problems[0].message == "Input should be a valid list"


def test_a_duplicate_synonym_key() -> None:
    checked = check_bytes((MINIMAL + "synonyms:\n  DAW: [a]\n  CSW: [b]\n  DAW: [c]\n").encode())
    assert found(checked) == [("error", "synonyms.DAW", 28, 3)]
    assert "duplicate key 'DAW' (first at line 26)" in checked.problems[0].message
    assert checked.synonyms == {"DAW": ["a"], "CSW": ["b"]}  # the first one is kept


def test_an_unquoted_comma_in_a_synonym_warns_of_the_common_word_it_splits_off() -> None:
    unquoted = check_bytes((MINIMAL + "synonyms:\n  EGM: [meeting, expert group]\n").encode())
    assert found(unquoted) == [("warning", "synonyms.EGM[0]", 26, 9)]
    assert "'meeting' is a word 100% of the facts use" in unquoted.problems[0].message
    assert unquoted.ok is True
    quoted = check_bytes((MINIMAL + "synonyms:\n  EGM: ['meeting, expert group']\n").encode())
    assert quoted.problems == []


def test_an_acronym_expansion_is_not_a_common_word() -> None:
    acronym = MINIMAL.replace("Expert Group Meeting held", "EGM held")
    assert check_bytes((acronym + "synonyms:\n  UN EGM: [EGM]\n").encode()).problems == []


# --- source documents ----------------------------------------------------------------------


def test_a_missing_source_document(tmp_path: Path) -> None:
    problem = only(check_bytes(MINIMAL.encode(), sources_dir=tmp_path))
    assert (problem.path, problem.line, problem.col) == ("sources[0].file", 3, 9)
    assert problem.message == f"source file not found: {tmp_path / 'doc_a.txt'}"


def test_a_source_document_that_is_not_utf8(tmp_path: Path) -> None:
    # Regression: this used to crash the validator with UnicodeDecodeError.
    (tmp_path / "doc_a.txt").write_bytes(
        "from 18 to 22 November 2002 – Réf.".encode("latin-1", "replace")
    )
    problem = only(check_bytes(MINIMAL.encode(), sources_dir=tmp_path))
    assert (problem.path, problem.line) == ("sources[0].file", 3)
    assert problem.message == f"source file is not UTF-8 text: {tmp_path / 'doc_a.txt'}"


# --- robustness: the bad-input corpus ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "line", "fragment"),
    [
        ("alias_bomb.yaml", 2, "anchors (&a) are not allowed in this file"),
        ("binary_garbage.bin", 0, "file contains NUL bytes: this is not a text file"),
        ("latin1.yaml", 7, "file is not UTF-8 text (bad byte 0xe9 at offset "),
    ],
)
def test_bad_input_gives_one_clear_error(name: str, line: int, fragment: str) -> None:
    checked = check_file(BAD / name, sources_dir=SEEDS)
    problem = only(checked)
    assert (problem.severity, problem.path, problem.line) == ("error", "", line)
    assert fragment in problem.message
    assert checked.sources == checked.meetings == checked.facts == []


def test_a_utf8_bom_is_accepted() -> None:
    assert (BAD / "bom.yaml").read_bytes().startswith(b"\xef\xbb\xbf")
    checked = check_file(BAD / "bom.yaml", sources_dir=SEEDS)
    assert checked.problems == []
    assert checked.summary() == "1 sources, 1 meetings, 1 facts, 3 questions, 0 errors, 0 warnings"
    assert checked.sources[0].title == "Aide-mémoire"


def test_ten_thousand_levels_of_nesting_give_one_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 10_000 + "]" * 10_000, encoding="utf-8")
    problem = only(check_file(path))
    assert (problem.severity, problem.path) == ("error", "")
    assert problem.message == "nesting is too deep (more than 40 levels)"


def test_deep_nesting_inside_a_valid_file_is_refused_at_its_line() -> None:
    raw = (MINIMAL + "synonyms:\n  DAW: " + "[" * 60 + "]" * 60 + "\n").encode()
    problem = only(check_bytes(raw))
    assert (problem.path, problem.line) == ("", 26)
    assert problem.message == "nesting is too deep (more than 40 levels)"


def test_a_50_mb_file_is_refused_by_size_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.yaml"
    line = b"# padding padding padding padding padding padding padding padding padding\n"
    with path.open("wb") as handle:
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            handle.write(line)
    size = path.stat().st_size
    assert size > 50 * 1024 * 1024

    def no_reading(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    monkeypatch.setattr(Path, "read_text", no_reading)
    monkeypatch.setattr(Path, "open", no_reading)
    problem = only(check_file(path))
    assert (problem.severity, problem.path, problem.line) == ("error", "", 0)
    assert problem.message == f"file is {size:,} bytes, over the 5,242,880-byte limit"


def test_check_bytes_refuses_more_than_max_bytes() -> None:
    problem = only(check_bytes(MINIMAL.encode(), max_bytes=100))
    assert problem.message == f"file is {len(MINIMAL.encode()):,} bytes, over the 100-byte limit"


def test_check_file_on_a_missing_file(tmp_path: Path) -> None:
    problem = only(check_file(tmp_path / "nope.yaml"))
    assert (problem.severity, problem.path, problem.line) == ("error", "", 0)
    assert problem.message == "cannot read file: No such file or directory"


ELIDED = "  quote: 'will convene an Expert Group Meeting … twelve experts from all regions'\n"
MINIMAL_QUOTE = "  quote: from 18 to 22 November 2002\n"


def test_a_quote_may_leave_out_text_between_verbatim_parts() -> None:
    assert check_bytes(variant(MINIMAL_QUOTE, ELIDED), sources_dir=SEEDS).problems == []
    dots = ELIDED.replace("…", "...")
    assert check_bytes(variant(MINIMAL_QUOTE, dots), sources_dir=SEEDS).problems == []


@pytest.mark.parametrize(
    ("quote", "message"),
    [
        (
            "twelve experts from all regions … will convene an Expert Group Meeting",
            "is not in doc-a (seeds/doc_a.txt) word for word",
        ),
        (
            "will convene an Expert Group Meeting … eleven experts from all regions",
            "is not in doc-a (seeds/doc_a.txt) word for word",
        ),
        ("will convene an Expert Group Meeting … the push", "needs at least 3 words"),
        ("… …", "needs at least 3 words"),
    ],
)
def test_parts_of_a_cut_quote_must_be_in_order_verbatim_and_not_too_short(
    quote: str, message: str
) -> None:
    raw = variant(MINIMAL_QUOTE, f"  quote: '{quote}'\n")
    problem = only(check_bytes(raw, sources_dir=SEEDS))
    assert (problem.severity, problem.path) == ("error", "facts[0].quote")
    assert message in problem.message


def test_a_meeting_without_facts_is_a_warning() -> None:
    lonely = (
        "- id: csw-47-2003\n  kind: event\n  name: CSW 47\n  start: 2003-03\n"
        "  source: doc-a\nfacts:\n"
    )
    checked = check_bytes(variant("facts:\n", lonely))
    problem = only(checked)
    assert (problem.severity, problem.path) == ("warning", "meetings[1].id")
    assert "has no facts" in problem.message
