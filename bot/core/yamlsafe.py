"""Bounded, safe YAML loading that remembers where every value came from.

PyYAML's `safe_load` is safe against code execution but not against everything a hand-edited
or uploaded file can hold: it silently keeps the last of two duplicate keys, expands alias
bombs, recurses without limit on deep nesting and forgets line numbers. Admins need
`file:line:col` in every error, so we compose the node tree ourselves (SafeLoader only) and
convert it with the checks a knowledge file needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 40


@dataclass(frozen=True)
class Mark:
    """1-based position of a value in the file."""

    line: int
    col: int


@dataclass
class LoadedYaml:
    """Plain Python data plus the position of every mapping value and sequence item."""

    data: Any
    marks: dict[Path_, Mark] = field(default_factory=dict)
    duplicates: list[tuple[Mark, Path_, str]] = field(default_factory=list)

    def mark_for(self, path: Path_) -> Mark | None:
        """Position of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            mark = self.marks.get(tuple(path[:end]))
            if mark is not None:
                return mark
        return None


class YamlLoadError(Exception):
    """A file that cannot be loaded at all; `mark` is set where the position is known."""

    def __init__(self, message: str, mark: Mark | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases, the vehicle of "billion laughs" bombs.

    A knowledge file has no use for them, and refusing them outright is simpler to explain
    than an expansion budget.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise YamlLoadError(
                f"aliases (*{event.anchor}) are not allowed in this file; write the value out",
                _mark(event.start_mark),
            )
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise YamlLoadError(
                f"anchors (&{anchor}) are not allowed in this file; write the value out",
                _mark(event.start_mark),
            )
        return super().compose_node(parent, index)


def _mark(yaml_mark: Any) -> Mark:
    return Mark(yaml_mark.line + 1, yaml_mark.column + 1)


def read_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read a UTF-8 text file, refusing oversized or non-text files before parsing."""
    size = path.stat().st_size
    if size > max_bytes:
        raise YamlLoadError(
            f"file is {size:,} bytes, over the {max_bytes:,}-byte limit (max_knowledge_bytes)"
        )
    raw = path.read_bytes()
    return decode_text(raw, max_bytes)


def decode_text(raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Decode uploaded or read bytes as UTF-8 (a BOM is accepted), with a clear error."""
    if len(raw) > max_bytes:
        raise YamlLoadError(f"file is {len(raw):,} bytes, over the {max_bytes:,}-byte limit")
    if b"\x00" in raw:
        raise YamlLoadError("file contains NUL bytes: this is not a text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise YamlLoadError(
            f"file is not UTF-8 text (bad byte 0x{raw[err.start]:02x} at offset {err.start})",
            Mark(line, 1),
        ) from None


def load_yaml_text(text: str) -> LoadedYaml:
    """Parse `text` as one YAML document into plain data with positions."""
    if not text.strip():
        raise YamlLoadError("file is empty", Mark(1, 1))
    loader = _NoAliasLoader(text)
    try:
        node = loader.get_single_node()
    except YamlLoadError:
        raise
    except yaml.MarkedYAMLError as err:
        mark = _mark(err.problem_mark) if err.problem_mark else None
        message = " ".join(part for part in (err.context, err.problem) if part)
        raise YamlLoadError(f"YAML syntax error: {message}", mark) from None
    except yaml.YAMLError as err:
        raise YamlLoadError(f"YAML error: {err}") from None
    except RecursionError:
        raise YamlLoadError(f"nesting is too deep (more than {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()
    if node is None:
        raise YamlLoadError("file holds no YAML document", Mark(1, 1))
    loaded = LoadedYaml(data=None)
    loaded.data = _Converter(loaded).convert(node, (), 0)
    return loaded


def load_yaml_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadedYaml:
    """Read and parse a YAML file with all the limits of this module."""
    return load_yaml_text(read_text(path, max_bytes))


class _Constructor(yaml.constructor.SafeConstructor):
    """SafeConstructor used only for scalars: dates, ints, bools, nulls as YAML resolves them."""


class _Converter:
    """Walks the node tree into plain data, recording positions and duplicate keys."""

    def __init__(self, loaded: LoadedYaml) -> None:
        self.loaded = loaded
        self.ctor = _Constructor()

    def convert(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise YamlLoadError(
                f"nesting is too deep (more than {MAX_DEPTH} levels)", _mark(node.start_mark)
            )
        self.loaded.marks[path] = _mark(node.start_mark)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [
                self.convert(item, (*path, index), depth + 1)
                for index, item in enumerate(node.value)
            ]
        try:
            return self.ctor.construct_object(node, deep=True)
        except (yaml.constructor.ConstructorError, ValueError) as err:
            if node.tag == "tag:yaml.org,2002:timestamp":
                return str(node.value)  # an impossible date (2004-13-01): the schema reports it
            problem = getattr(err, "problem", None) or str(err)
            raise YamlLoadError(f"bad value: {problem}", _mark(node.start_mark)) from None

    def _mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlLoadError("mapping keys must be plain text", _mark(key_node.start_mark))
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlLoadError("merge keys (<<) are not allowed", _mark(key_node.start_mark))
            key = str(key_node.value)
            if key in result:
                first = self.loaded.marks[(*path, key)]
                self.loaded.duplicates.append(
                    (
                        _mark(key_node.start_mark),
                        (*path, key),
                        f"duplicate key '{key}' (first at line {first.line}); "
                        "YAML would silently keep only the last one",
                    )
                )
                continue
            result[key] = self.convert(value_node, (*path, key), depth + 1)
        return result
