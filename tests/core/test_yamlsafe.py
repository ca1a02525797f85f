"""Bounded, safe YAML loading: positions, duplicate keys, refused constructs and limits.

Every test runs twice: with libyaml (PyYAML's CParser) and with the pure-Python parser the
loader falls back to when PyYAML was built without it; both must behave identically.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core import yamlsafe
from bot.core.yamlsafe import (
    DEFAULT_MAX_BYTES,
    MAX_DEPTH,
    Mark,
    Path_,
    YamlLoadError,
    decode_text,
    load_yaml_file,
    load_yaml_text,
    read_text,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BAD = FIXTURES / "bad_knowledge"
ROOT = FIXTURES.parent.parent
WITH_LIBYAML = yamlsafe._CParser is not None


@pytest.fixture(autouse=True, params=["libyaml", "pure-python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with libyaml, then as if PyYAML had been built without it."""
    if request.param == "libyaml" and not WITH_LIBYAML:
        pytest.skip("PyYAML is built without libyaml here")
    if request.param == "pure-python":
        monkeypatch.setattr(yamlsafe, "_CParser", None)
    return str(request.param)


def load_error(text: str) -> YamlLoadError:
    with pytest.raises(YamlLoadError) as info:
        load_yaml_text(text)
    return info.value


# --- data and positions --------------------------------------------------------------------


def test_marks_are_one_based_positions_of_values_and_items() -> None:
    loaded = load_yaml_text("facts:\n- id: a\n  questions:\n  - one\n  - two\n")
    assert loaded.data == {"facts": [{"id": "a", "questions": ["one", "two"]}]}
    assert loaded.marks[()] == Mark(1, 1)
    assert loaded.marks[("facts", 0)] == Mark(2, 3)
    assert loaded.marks[("facts", 0, "id")] == Mark(2, 7)
    # A block sequence value is marked where it starts: its first item, not its key.
    assert loaded.marks[("facts", 0, "questions")] == Mark(4, 3)
    assert loaded.marks[("facts", 0, "questions", 1)] == Mark(5, 5)
    assert loaded.duplicates == []


def test_mark_for_falls_back_to_the_nearest_ancestor() -> None:
    loaded = load_yaml_text("facts:\n- id: a\n  kind: date\n")
    assert loaded.mark_for(("facts", 0, "answer")) == Mark(2, 3)
    assert loaded.mark_for(("facts", 7, "answer")) == Mark(2, 1)
    assert loaded.mark_for(("synonyms",)) == Mark(1, 1)


def test_scalars_resolve_as_yaml_does() -> None:
    loaded = load_yaml_text(
        "day: 2002-11-18\nmonth: 2008-02\nyear: 2007\nflag: true\nnothing: null\n"
        "quoted: '2002-11-18'\n"
    )
    assert loaded.data == {
        "day": dt.date(2002, 11, 18),
        "month": "2008-02",
        "year": 2007,
        "flag": True,
        "nothing": None,
        "quoted": "2002-11-18",
    }


def test_mapping_keys_are_kept_as_written() -> None:
    assert load_yaml_text("12: a\ntrue: b\n2002-11-18: c\n").data == {
        "12": "a",
        "true": "b",
        "2002-11-18": "c",
    }


def test_an_impossible_date_is_kept_as_text_for_the_schema_to_report() -> None:
    # Regression: this used to abort the whole load ("bad value: month must be in 1..12"),
    # hiding every other problem of the file and the path of the bad value.
    loaded = load_yaml_text("start: 2004-13-01\nend: 2004-02-30\n")
    assert loaded.data == {"start": "2004-13-01", "end": "2004-02-30"}
    assert loaded.marks[("start",)] == Mark(1, 8)


# --- duplicate keys ------------------------------------------------------------------------


def test_duplicate_key_is_collected_at_the_second_key_and_the_first_value_kept() -> None:
    loaded = load_yaml_text("a: 1\nb:\n  c: first\n  d: 2\n  c: second\n")
    assert loaded.data == {"a": 1, "b": {"c": "first", "d": 2}}
    assert len(loaded.duplicates) == 1
    mark, path, message = loaded.duplicates[0]
    assert mark == Mark(5, 3)
    assert path == ("b", "c")
    assert "duplicate key 'c' (first at line 3)" in message


def test_every_duplicate_key_is_collected() -> None:
    loaded = load_yaml_text("a: 1\na: 2\nb: 3\na: 4\nb: 5\n")
    assert [(m.line, p) for m, p, _ in loaded.duplicates] == [(2, ("a",)), (4, ("a",)), (5, ("b",))]
    assert loaded.data == {"a": 1, "b": 3}


# --- refused constructs --------------------------------------------------------------------


def test_anchor_is_refused_where_it_stands() -> None:
    err = load_error("a:\n  b: &x hello\n")
    assert err.message == "anchors (&x) are not allowed in this file; write the value out"
    assert err.mark == Mark(2, 6)


def test_alias_is_refused_where_it_stands() -> None:
    err = load_error("a: 1\nb: [2, *nowhere]\n")
    assert err.message == "aliases (*nowhere) are not allowed in this file; write the value out"
    assert err.mark == Mark(2, 8)


def test_alias_bomb_is_refused_at_its_first_anchor() -> None:
    err = load_error((BAD / "alias_bomb.yaml").read_text(encoding="utf-8"))
    assert "anchors (&a) are not allowed" in err.message
    assert err.mark == Mark(2, 4)


def test_merge_key_is_refused() -> None:
    err = load_error("a: 1\nb:\n  <<: {c: 2}\n")
    assert err.message == "merge keys (<<) are not allowed"
    assert err.mark == Mark(3, 3)


def test_non_scalar_key_is_refused() -> None:
    err = load_error("a: 1\n? [x, y]\n: z\n")
    assert err.message == "mapping keys must be plain text"
    assert err.mark == Mark(2, 3)


def test_syntax_error_has_its_line_and_column() -> None:
    err = load_error("a: [1, 2\nb: 3\n")
    assert err.message.startswith("YAML syntax error: ")
    assert "expected ',' or ']'" in err.message
    assert err.mark == Mark(2, 2)


def test_two_documents_are_refused() -> None:
    err = load_error("a: 1\n---\nb: 2\n")
    assert "expected a single document" in err.message
    assert err.mark == Mark(2, 1)


@pytest.mark.parametrize("text", ["", "   \n\t\n"])
def test_empty_text_is_refused(text: str) -> None:
    err = load_error(text)
    assert err.message == "file is empty"
    assert err.mark == Mark(1, 1)


def test_comments_only_is_refused() -> None:
    err = load_error("# nothing here\n# still nothing\n")
    assert err.message == "file holds no YAML document"
    assert err.mark == Mark(1, 1)


# --- nesting -------------------------------------------------------------------------------


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_nesting_within_the_limit_loads() -> None:
    data = load_yaml_text(nested(MAX_DEPTH)).data
    for _ in range(MAX_DEPTH - 1):
        assert isinstance(data, list)
        assert len(data) == 1
        data = data[0]
    assert data == []


def test_nesting_over_the_limit_is_refused_with_its_position() -> None:
    err = load_error("a:\n  b: " + nested(50) + "\n")
    assert err.message == f"nesting is too deep (more than {MAX_DEPTH} levels)"
    assert err.mark is not None
    assert err.mark.line == 2


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(nested(10_000), id="flow-lists"),
        pytest.param("{a: " * 10_000 + "}" * 10_000, id="flow-mappings"),
        pytest.param("- " * 10_000 + "x\n", id="block-lists"),
    ],
)
def test_ten_thousand_levels_are_refused_cleanly(text: str) -> None:
    err = load_error(text)
    assert err.message == f"nesting is too deep (more than {MAX_DEPTH} levels)"


# --- bytes and files -----------------------------------------------------------------------


def test_decode_accepts_a_bom_and_drops_it() -> None:
    assert decode_text("\ufeffa: é\n".encode()) == "a: é\n"


def test_decode_refuses_nul_bytes() -> None:
    with pytest.raises(YamlLoadError) as info:
        decode_text(b"a: 1\n\x00\n")
    assert info.value.message == "file contains NUL bytes: this is not a text file"
    assert info.value.mark is None


def test_decode_refuses_latin1_at_the_line_of_the_bad_byte() -> None:
    raw = "a: 1\nb: 2\nc: Réf\n".encode("latin-1")
    with pytest.raises(YamlLoadError) as info:
        decode_text(raw)
    assert info.value.message == "file is not UTF-8 text (bad byte 0xe9 at offset 14)"
    assert info.value.mark == Mark(3, 1)


def test_decode_refuses_more_than_max_bytes() -> None:
    with pytest.raises(YamlLoadError) as info:
        decode_text(b"a: 12345\n", max_bytes=8)
    assert info.value.message == "file is 9 bytes, over the 8-byte limit"


def test_read_text_refuses_an_oversized_file_before_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(DEFAULT_MAX_BYTES + 1)

    def no_reading(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    monkeypatch.setattr(Path, "read_text", no_reading)
    with pytest.raises(YamlLoadError) as info:
        read_text(path)
    assert info.value.message == (
        "file is 5,242,881 bytes, over the 5,242,880-byte limit (max_knowledge_bytes)"
    )


def test_load_yaml_file_reads_a_bom_file() -> None:
    loaded = load_yaml_file(BAD / "bom.yaml")
    assert sorted(loaded.data) == ["facts", "meetings", "sources"]
    # The BOM does not shift positions: `sources:` is on line 2, after a comment.
    assert loaded.marks[("sources", 0)] == Mark(3, 3)
    assert loaded.data["sources"][0]["title"] == "Aide-mémoire"


def test_control_characters_are_a_yaml_error_not_a_crash() -> None:
    # Regression: the old loader built PyYAML's reader outside its try and let ReaderError out.
    err = load_error("a: 1\nb: ring\x07\n")
    assert err.message.startswith("YAML error: unacceptable character #x0007")
    assert err.mark is None


# --- scalars as SafeConstructor builds them ------------------------------------------------

SCALARS = """\
int: 12
negative: -7
octal: 017
hex: 0x1F
sexagesimal: 190:20:30
float: 2.5
exponent: 1.0e+3
infinity: .inf
bools: [true, False, yes, NO, on, Off]
nulls: [null, ~, Null, ]
empty:
date: 2002-11-18
datetime: 2001-12-14t21:59:43.10-05:00
month: 2008-02
quoted: '2002-11-18'
double: "tab\\there"
tagged: !!str 12
tagged_int: !!int "3"
non_specific: ! 12
binary: !!binary aGVsbG8=
literal: |
  one
  two
folded: >-
  one
  two
"""


def typed(value: Any) -> Any:
    """`value` with the type of every leaf, since 1 == 1.0 == True."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def test_scalars_are_the_values_safe_load_gives() -> None:
    assert typed(load_yaml_text(SCALARS).data) == typed(yaml.safe_load(SCALARS))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!bool maybe\n", "bad value: 'maybe' is not a valid tag:yaml.org,2002:bool"),
        ("a: !!int ''\n", "bad value: '' is not a valid tag:yaml.org,2002:int"),
        ("a: !!float ''\n", "bad value: '' is not a valid tag:yaml.org,2002:float"),
        ("a: !!int twelve\n", "bad value: invalid literal for int() with base 10: 'twelve'"),
        ("a: !shout hi\n", "bad value: could not determine a constructor for the tag '!shout'"),
    ],
)
def test_a_value_its_tag_cannot_build_is_a_bad_value(text: str, message: str) -> None:
    # Regression for the first three: SafeConstructor's KeyError / IndexError escaped.
    err = load_error(text)
    assert err.message == message
    assert err.mark == Mark(1, 4)


def test_an_explicit_timestamp_that_is_no_date_is_kept_as_text() -> None:
    assert load_yaml_text("a: !!timestamp soon\n").data == {"a": "soon"}


def test_a_non_specific_tag_resolves_like_a_plain_scalar() -> None:
    # libyaml marks an empty `!` node as not plain; PyYAML resolves it to null.
    assert load_yaml_text("a: !\nb: ! 12\n").data == {"a": None, "b": 12}


# --- which problem is reported first -------------------------------------------------------


def test_a_later_syntax_error_wins_over_a_bad_value() -> None:
    err = load_error("a: !!int x\nb: [1,\n")
    assert err.message.startswith("YAML syntax error: ")


def test_a_later_anchor_wins_over_a_merge_key() -> None:
    err = load_error("<<: {a: 1}\nb: &x 2\n")
    assert err.message.startswith("anchors (&x)")
    assert err.mark == Mark(2, 4)


def test_too_deep_nesting_stops_the_read_even_in_a_duplicate_value() -> None:
    err = load_error("a: 1\na: " + nested(50) + "\nb: [\n")
    assert err.message == f"nesting is too deep (more than {MAX_DEPTH} levels)"
    assert err.mark == Mark(2, 4 + MAX_DEPTH)  # the 41st `[` of the duplicate's value


# --- limits, time and memory ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 1_000_000 + "]" * 1_000_000, id="flow-lists"),
        pytest.param("{a: " * 500_000, id="flow-mappings-unclosed"),
        pytest.param("- " * 1_000_000 + "x\n", id="block-lists"),
    ],
)
def test_a_million_levels_are_refused_quickly_at_the_first_level_too_deep(text: str) -> None:
    # libyaml's scanner is quadratic in flow depth (100,000 `[` take 40 s) and its own
    # composer recurses in C (40,000 crash the process): the read must stop at level 41.
    started = time.perf_counter()
    err = load_error(text)
    assert time.perf_counter() - started < 5
    assert err.message == f"nesting is too deep (more than {MAX_DEPTH} levels)"
    assert err.mark is not None and err.mark.line == 1


@pytest.mark.parametrize("name", ["alias_bomb.yaml", "deep_nesting.yaml"])
def test_hostile_fixtures_are_refused_with_little_memory(name: str) -> None:
    text = (BAD / name).read_text(encoding="utf-8")
    tracemalloc.start()
    try:
        with pytest.raises(YamlLoadError):
            load_yaml_text(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cyclic_collector_is_left_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        load_yaml_text("a: [1, 2]\n")
        assert gc.isenabled() is enabled
        load_error("a: [1, 2\n")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


# --- libyaml and PyYAML read the same ------------------------------------------------------


def loaded_or_error(text: str) -> Any:
    """Everything a load gives: typed data, marks and duplicates, or the error."""
    try:
        loaded = load_yaml_text(text)
    except YamlLoadError as err:
        return ("error", err.message, err.mark)
    return (typed(loaded.data), loaded.marks, loaded.duplicates)


def pure_python(text: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patch:
        patch.setattr(yamlsafe, "_CParser", None)
        return loaded_or_error(text)


@pytest.fixture
def no_second_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail if the pure-Python parser is asked to read anything: libyaml must do it alone."""

    def refuse(text: str) -> None:
        raise AssertionError("the file was read again by the pure-Python parser")

    with monkeypatch.context() as patch:
        patch.setattr(yamlsafe, "_PyParser", refuse)
        yield


def knowledge_files() -> list[Path]:
    return [
        ROOT / "knowledge" / "meetings.yaml",
        FIXTURES / "knowledge" / "valid.yaml",
        FIXTURES / "cases.yaml",
        BAD / "bom.yaml",
    ]


def node_tree_reading(text: str) -> tuple[Any, dict[Path_, Mark]]:
    """Data and marks as the former loader gave them: SafeLoader's node tree, converted."""
    constructor = yaml.constructor.SafeConstructor()
    marks: dict[Path_, Mark] = {}

    def convert(node: yaml.Node, path: Path_) -> Any:
        marks[path] = Mark(node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            data: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key not in data:
                    data[key] = convert(value_node, (*path, key))
            return data
        if isinstance(node, yaml.SequenceNode):
            return [convert(item, (*path, index)) for index, item in enumerate(node.value)]
        try:
            return constructor.construct_object(node, deep=True)
        except ValueError:
            return node.value  # an impossible date

    return typed(convert(yaml.compose(text, Loader=yaml.SafeLoader), ())), marks


@pytest.mark.parametrize("path", knowledge_files(), ids=lambda p: p.name)
def test_data_and_marks_are_those_of_safeloader_s_node_tree(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    loaded = load_yaml_text(text)
    assert (typed(loaded.data), loaded.marks) == node_tree_reading(text)


@pytest.mark.parametrize("path", knowledge_files(), ids=lambda p: p.name)
def test_libyaml_alone_reads_valid_files_exactly_as_the_pure_python_parser(
    path: Path, parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if parser != "libyaml":
        pytest.skip("compares libyaml with the pure-Python parser")
    text = path.read_text(encoding="utf-8-sig")
    expected = pure_python(text, monkeypatch)
    assert expected[0] != "error"
    with monkeypatch.context() as patch:
        patch.setattr(yamlsafe, "_PyParser", None)  # calling it would fail the test
        assert loaded_or_error(text) == expected


def test_tabs_inside_quoted_and_block_scalars_keep_libyaml(
    parser: str, no_second_read: None
) -> None:
    if parser != "libyaml":
        pytest.skip("about libyaml's fast path")
    text = "a: 'x\ty'\nb: \"\tz\"\nc: |\n  p\tq\n  \tr\nd: >-\n  s\tt\n"
    assert load_yaml_text(text).data == {"a": "x\ty", "b": "\tz", "c": "p\tq\n\tr\n", "d": "s\tt"}


# Files where libyaml's events differ from PyYAML's; PyYAML's reading must win.
DISAGREEMENTS = [
    pytest.param("q: [Who chaired?, When was it?]\n", id="question-mark-in-flow"),
    pytest.param("q: {a?b: c}\n", id="question-mark-in-flow-key"),
    pytest.param("a:\tb\n", id="tab-after-colon"),
    pytest.param("a: b\tc\n", id="tab-in-plain-scalar"),
    pytest.param("a: 1\t# note\n", id="tab-before-comment"),
    pytest.param("a: 1 # a\tnote\n", id="tab-in-comment"),
    pytest.param("a: |\t\n  x\n", id="tab-in-block-header"),
    pytest.param("a: >#c\n  x\n", id="comment-glued-to-block-header"),
    pytest.param("q: {a: , b: }\n", id="empty-values-in-flow"),
    pytest.param("q: [a: , b]\n", id="empty-pair-value-in-flow"),
    pytest.param("? a", id="empty-value-at-unterminated-end"),
    pytest.param("--- ", id="empty-document-unterminated"),
    pytest.param("\ufeffa: 1\nb: [x, '\t']\n", id="leading-bom"),
    pytest.param("a: 1\nmont\ufeffh: 2\n", id="bom-inside"),
    pytest.param("- - x\n\ufeff", id="bom-at-end"),
    pytest.param("a: !\n", id="empty-non-specific-tag"),
    pytest.param("[!!str, a]\n", id="tag-before-comma-in-flow"),
    pytest.param("!*a!map {a: 1}\n", id="tag-with-odd-handle"),
    pytest.param("a: !!str  \t'x'\n", id="tab-between-tag-and-value"),
    pytest.param("%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n", id="tag-directive"),
    pytest.param('a: "x\ud800"\n', id="lone-surrogate"),
]


@pytest.mark.parametrize("text", DISAGREEMENTS)
def test_where_libyaml_and_pyyaml_disagree_pyyaml_s_reading_is_given(
    text: str, parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if parser != "libyaml":
        pytest.skip("compares libyaml with the pure-Python parser")
    assert loaded_or_error(text) == pure_python(text, monkeypatch)


def test_a_question_mark_in_a_flow_list_is_refused_as_pyyaml_does() -> None:
    err = load_error("q: [Who chaired?, When was it?]\n")
    assert err.message == (
        "YAML syntax error: while parsing a flow sequence expected ',' or ']', but got '?'"
    )
    assert err.mark == Mark(1, 16)
