"""Bounded, safe YAML loading: positions, duplicate keys, refused constructs and limits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.core.yamlsafe import (
    DEFAULT_MAX_BYTES,
    MAX_DEPTH,
    Mark,
    YamlLoadError,
    decode_text,
    load_yaml_file,
    load_yaml_text,
    read_text,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BAD = FIXTURES / "bad_knowledge"


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
