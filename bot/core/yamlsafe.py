"""Bounded, safe YAML loading that remembers where every value came from.

PyYAML's `safe_load` is safe against code execution but not against everything a hand-edited
or uploaded file can hold: it silently keeps the last of two duplicate keys, expands alias
bombs, recurses without limit on deep nesting and forgets line numbers. Admins need
`file:line:col` in every error, so we build the data ourselves from the parser's event stream,
with the checks a knowledge file needs, and never build a node tree.

Speed. PyYAML's pure-Python parser needs about 8 s for a 7 MB file; libyaml (PyYAML's
`CParser`, present when PyYAML was built with it) gives the same events in a quarter of a
second, and the whole load takes about half a second. libyaml's own composer (`CSafeLoader`)
is not used: it recurses in C once per nesting level (40,000 `[` crash the process) and
resolves every scalar through Python anyway.

One behaviour, whichever parser. libyaml and PyYAML do not accept exactly the same files:
libyaml takes tabs between tokens, `?` inside plain scalars in flow collections (`[Who
chaired?]`) and `[!!str, a]`, which PyYAML refuses or reads otherwise, and it places some
empty values (`{a: }`, a file ending without a line break) one token later. So the libyaml
result is used only when the file loads cleanly and none of these can be involved (see
`_LibyamlCheck`); anything else, including every refused file, is read again by PyYAML's
parser, whose result and wording (`mapping values are not allowed here`) are the reference.
Without libyaml, PyYAML's parser reads everything. Broken files cost that second read; valid
ones do not.

Problems are reported in the order the former two-pass loader (compose a node tree, then
convert it) reported them, as far as that can be done while streaming:

1. syntax errors, anchors and aliases, a second document and nesting deeper than `MAX_DEPTH`,
   whichever comes first in the file, and reading stops there. Deep nesting must stop the
   read at once: libyaml's scanner slows down quadratically with flow nesting depth (100,000
   `[` take 40 s) and a hostile file must not get that far;
2. otherwise the first bad value, merge key or non-scalar key in file order, found while
   building but reported only once the rest of the file has been read for (1).
"""

from __future__ import annotations

import gc
import re
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    StreamEndEvent,
)

try:
    from yaml.cyaml import CParser as _CParser
except ImportError:  # PyYAML built without libyaml: the pure-Python parser reads everything
    _CParser = None

Path_ = tuple[str | int, ...]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 40

_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")
_BLOCK_STYLES = ("|", ">")
# A tag PyYAML and libyaml scan alike: `!`, `!local` or `!!name`, then a space or line break.
_SIMPLE_TAG = re.compile("!(?:!?[0-9A-Za-z_-]+)?(?=[ \n\r\x85\u2028\u2029]|\\Z)")
# A block scalar's header line as PyYAML's scanner takes it (`|`, `>-`, `|2 # comment`...).
_BLOCK_HEADER = re.compile(
    "[|>](?:[+-][1-9]?|[1-9][+-]?)?"  # indicators
    "(?: +(?:#[^\n\r\x85\u2028\u2029]*)?)?"  # spaces, a comment
    "(?=[\n\r\x85\u2028\u2029]|\\Z)"  # then the end of the line
)


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


def _mark(yaml_mark: Any) -> Mark:
    return Mark(yaml_mark.line + 1, yaml_mark.column + 1)


def load_yaml_text(text: str) -> LoadedYaml:
    """Parse `text` as one YAML document into plain data with positions."""
    if not text.strip():
        raise YamlLoadError("file is empty", Mark(1, 1))
    with _cyclic_gc_paused():
        if _CParser is not None:
            try:
                # A leading BOM is left out: libyaml would not count it in its offsets.
                unmarked = text[1:] if text.startswith("\ufeff") else text
                check = _LibyamlCheck(unmarked)
                return _Builder(_CParser(unmarked), check).load()
            except (yaml.YAMLError, YamlLoadError, _ReadAgain, UnicodeEncodeError):
                # Refused, or a file where libyaml and PyYAML may disagree (or with a lone
                # surrogate libyaml cannot even be given): PyYAML's parser has the last word.
                pass
        try:
            return _Builder(_PyParser(text)).load()
        except yaml.MarkedYAMLError as err:
            mark = _mark(err.problem_mark) if err.problem_mark else None
            message = " ".join(part for part in (err.context, err.problem) if part)
            raise YamlLoadError(f"YAML syntax error: {message}", mark) from None
        except yaml.YAMLError as err:
            raise YamlLoadError(f"YAML error: {err}") from None


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is built.

    A large file becomes hundreds of thousands of dicts, lists, paths and marks that form no
    cycles, and the collector's repeated passes over them took a third of the load time (7 MB
    file: 0.64 s of CPU with, 0.45 s without). Reference counting still frees everything; the
    collector is switched back on only if it was on, so a caller's own choice is kept.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def load_yaml_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadedYaml:
    """Read and parse a YAML file with all the limits of this module."""
    return load_yaml_text(read_text(path, max_bytes))


class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's pure-Python event parser alone: the fallback without libyaml, and the
    reference for every file libyaml does not load cleanly."""

    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


class _ReadAgain(Exception):
    """libyaml's events for this file may differ from PyYAML's: read it with PyYAML."""


class _LibyamlCheck:
    """Spots, in libyaml's events, what PyYAML's parser would read differently.

    Each rule comes from a difference seen when both parsers read the same (fuzzed) files.
    Called only for the few nodes that can be concerned: scalars inside flow collections,
    empty, tagged or block scalars, tagged collections, and every scalar of a file that holds
    tabs; files holding a BOM or directives go to PyYAML straight away.
    """

    def __init__(self, text: str) -> None:
        if "\ufeff" in text:
            raise _ReadAgain  # PyYAML does not count a BOM in columns, libyaml does
        self.text = text
        self.unterminated = not text.endswith(_LINE_BREAKS)
        self.tabs: list[int] = []  # offsets of the tabs, each to be found inside a scalar
        at = text.find("\t")
        while at >= 0:
            self.tabs.append(at)
            at = text.find("\t", at + 1)
        self.tabs_inside = 0

    def scalar(self, event: Any, flow: bool) -> None:
        """Raise _ReadAgain if PyYAML might not give this scalar (key or value) as libyaml did."""
        start = event.start_mark.index
        end = event.end_mark.index
        style = event.style
        tagged = event.tag is not None
        if tagged:
            self.tag(event)
        if not style:  # plain; a tab in it or around it is never counted
            if start == end:
                # An empty node: PyYAML marks it at the end of the `:` before it, libyaml at
                # the token after it, which differs in flow collections and, at the end of a
                # file without a final line break, by one line.
                if flow or (self.unterminated and start >= len(self.text)):
                    raise _ReadAgain
            elif flow and "?" in event.value:
                raise _ReadAgain  # PyYAML ends a plain scalar at `?` in a flow collection
            return
        if style in _BLOCK_STYLES:
            header = None if tagged else _BLOCK_HEADER.match(self.text, start)
            if header is None:
                raise _ReadAgain  # e.g. `>#`, which PyYAML refuses, or a tag before the `|`
            start = header.end()
        if self.tabs and not tagged:
            # PyYAML takes tabs only inside quoted scalars, block scalars' text and comments:
            # those inside a quoted or block scalar are counted, and any other tab sends the
            # file to PyYAML (`finish`). A tagged scalar's tabs may be between tag and value.
            self.tabs_inside += bisect_left(self.tabs, end) - bisect_left(self.tabs, start)

    def tag(self, event: Any) -> None:
        """Raise _ReadAgain unless the node's tag is one both parsers scan alike (`!!str`)."""
        if not _SIMPLE_TAG.match(self.text, event.start_mark.index):
            raise _ReadAgain  # e.g. `[!!str, a]`: PyYAML's tag is `str,`

    def finish(self) -> None:
        """Raise _ReadAgain if a tab was found outside the quoted and block scalars."""
        if self.tabs_inside != len(self.tabs):
            raise _ReadAgain


class _Constructor(yaml.constructor.SafeConstructor):
    """SafeConstructor used only for non-string scalars: dates, ints, bools, nulls as YAML
    resolves them."""


class _Deferred(Exception):
    """A problem of kind (2) in the module docstring, with the number of collections open
    when it was found, so that the rest of the document can still be read for kind (1)."""

    def __init__(self, error: YamlLoadError, open_levels: int) -> None:
        super().__init__(error.message)
        self.error = error
        self.open_levels = open_levels


# Sentinels for what a collection being built waits for next.
_ITEM = object()  # a sequence: its next item
_KEY = object()  # a mapping: its next key
_SKIP = object()  # a mapping: the value of a duplicate key, which is read but not kept


class _Builder:
    """Builds plain data straight from a parser's events, recording positions and duplicate
    keys and refusing what a knowledge file must not hold.

    Event by event and with an explicit stack, so no depth of nesting can exhaust the Python
    or the C stack. The data and marks are exactly what composing SafeLoader nodes and
    converting them gave, which the tests compare on real files.

    With `libyaml` (a check of libyaml's events) any problem is raised at once, since the
    file will be read again by PyYAML anyway (module docstring); without, the builder reads
    PyYAML's events and reports problems in the order described there.
    """

    def __init__(self, parser: Any, libyaml: _LibyamlCheck | None = None) -> None:
        self.parser = parser
        self.get_event = parser.get_event
        self.libyaml = libyaml
        self.loaded = LoadedYaml(data=None)
        self.ctor = _Constructor()
        self.key_tags: dict[str, str] = {}
        # SafeLoader's implicit resolvers by first character, the wildcard ones appended, as
        # `Resolver.resolve` looks them up; read per load, so a registered resolver counts.
        table = yaml.SafeLoader.yaml_implicit_resolvers
        self.wildcard: tuple[tuple[str, Any], ...] = tuple(table.get(None, ()))
        self.resolvers: dict[str, tuple[tuple[str, Any], ...]] = {
            first: (*resolvers, *self.wildcard)
            for first, resolvers in table.items()
            if first is not None
        }

    def load(self) -> LoadedYaml:
        """Read the whole stream: one document, or a YamlLoadError."""
        try:
            get = self.get_event
            get()  # StreamStartEvent
            event = get()
            if isinstance(event, StreamEndEvent):
                raise YamlLoadError("file holds no YAML document", Mark(1, 1))
            if self.libyaml is not None and (event.version or event.tags):
                raise _ReadAgain  # %YAML and %TAG directives: left to PyYAML's reading
            try:
                self.loaded.data = self._build()
            except _Deferred as deferred:
                if self.libyaml is not None:
                    raise deferred.error from None
                self._skip(deferred.open_levels, 0)
                get()  # DocumentEndEvent
                self._single_document()
                raise deferred.error from None
            get()  # DocumentEndEvent
            self._single_document()
            if self.libyaml is not None:
                self.libyaml.finish()
            return self.loaded
        finally:
            self.parser.dispose()

    def _single_document(self) -> None:
        """After the first document only the end of the stream may come (ComposerError)."""
        event = self.get_event()
        if isinstance(event, DocumentStartEvent):
            raise YamlLoadError(
                "YAML syntax error: expected a single document in the stream "
                "but found another document",
                _mark(event.start_mark),
            )

    def _build(self) -> Any:
        """The document's root value. The hot loop: one pass per event, locals only."""
        get = self.get_event
        marks = self.loaded.marks
        plain_tag = self._plain_tag
        libyaml = self.libyaml
        tabs = libyaml is not None and bool(libyaml.tabs)
        # [collection, its path, _ITEM | _KEY | _SKIP | the key of the next value, flow style]
        frames: list[list[Any]] = []
        root: Any = None
        flow = False
        event = get()
        while True:
            kind = event.__class__
            depth = len(frames)
            if depth:
                frame = frames[-1]
                collection, path, key, flow = frame
                if kind is SequenceEndEvent or kind is MappingEndEvent:
                    frames.pop()
                    if depth == 1:
                        return root
                    event = get()
                    continue
                if key is _ITEM:
                    path = (*path, len(collection))
                elif key is _KEY:
                    frame[2] = self._key(event, frame, depth)
                    event = get()
                    continue
                elif key is _SKIP:
                    frame[2] = _KEY
                    self._skip_node(event, depth)
                    event = get()
                    continue
                else:
                    frame[2] = _KEY
                    path = (*path, key)
            else:
                path = ()
            if kind is ScalarEvent:
                value = event.value
                if libyaml is not None and (
                    flow
                    or not value
                    or tabs
                    or event.tag is not None
                    or event.style in _BLOCK_STYLES
                ):
                    libyaml.scalar(event, flow)
            if event.anchor is not None or depth > MAX_DEPTH:
                raise _refusal(event, depth)
            start = event.start_mark
            marks[path] = Mark(start.line + 1, start.column + 1)
            if kind is ScalarEvent:
                tag = event.tag
                if tag is None:
                    tag = plain_tag(value) if event.implicit[0] else _STR_TAG
                elif tag == "!":  # non-specific: resolved as plain (libyaml forgets it if empty)
                    tag = plain_tag(value)
                if tag != _STR_TAG:
                    value = self._construct(tag, event, depth)
            else:  # MappingStartEvent or SequenceStartEvent
                if libyaml is not None and event.tag is not None:
                    libyaml.tag(event)  # the tag is ignored, but must be read alike
                if kind is MappingStartEvent:
                    value = {}
                    frames.append([value, path, _KEY, event.flow_style])
                else:
                    value = []
                    frames.append([value, path, _ITEM, event.flow_style])
            if not depth:
                if kind is ScalarEvent:
                    return value
                root = value
            elif key is _ITEM:
                collection.append(value)
            else:
                collection[key] = value
            event = get()

    def _plain_tag(self, value: str) -> str:
        """The tag `Resolver.resolve` gives a plain (unquoted, untagged) scalar."""
        for tag, regexp in self.resolvers.get(value[:1], self.wildcard):
            if regexp.match(value):
                return tag
        return _STR_TAG

    def _key(self, event: Any, frame: list[Any], depth: int) -> Any:
        """What the mapping `frame` waits for after the key `event`: the key, or _SKIP."""
        mapping, path, _, flow = frame
        if event.__class__ is not ScalarEvent:
            if event.anchor is not None:
                raise _refusal(event, depth)
            error = YamlLoadError("mapping keys must be plain text", _mark(event.start_mark))
            raise _Deferred(error, depth + 1)  # the key's collection is open
        key = event.value
        libyaml = self.libyaml
        if libyaml is not None and (  # the test of `_build`, for the same reasons
            flow or not key or libyaml.tabs or event.tag is not None or event.style in _BLOCK_STYLES
        ):
            libyaml.scalar(event, flow)
        if event.anchor is not None:
            raise _refusal(event, depth)
        tag = event.tag
        if tag == "!" or (tag is None and event.implicit[0]):
            tag = self.key_tags.get(key)
            if tag is None:  # keys repeat (id, kind, questions...): resolve each one once
                tag = self.key_tags[key] = self._plain_tag(key)
        if tag == _MERGE_TAG:
            raise _Deferred(
                YamlLoadError("merge keys (<<) are not allowed", _mark(event.start_mark)), depth
            )
        if key not in mapping:
            return key
        if self.libyaml is not None:
            raise _ReadAgain  # the duplicate's value is skipped, which only PyYAML's read does
        first = self.loaded.marks[(*path, key)]
        self.loaded.duplicates.append(
            (
                _mark(event.start_mark),
                (*path, key),
                f"duplicate key '{key}' (first at line {first.line}); "
                "YAML would silently keep only the last one",
            )
        )
        return _SKIP

    def _construct(self, tag: str, event: Any, depth: int) -> Any:
        """A non-string scalar, built by SafeConstructor as `yaml.safe_load` would."""
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.ctor.construct_object(node, deep=True)
        except (yaml.constructor.ConstructorError, ValueError) as err:
            problem = getattr(err, "problem", None) or str(err)
        except (KeyError, IndexError, AttributeError, TypeError):
            # SafeConstructor's own crashes on explicit tags (`!!bool maybe`, `!!int ""`).
            problem = f"{event.value!r} is not a valid {tag}"
        if tag == _TIMESTAMP_TAG:
            return event.value  # an impossible date (2004-13-01): the schema reports it
        raise _Deferred(YamlLoadError(f"bad value: {problem}", _mark(event.start_mark)), depth)

    def _skip_node(self, event: Any, depth: int) -> None:
        """Read past the node that starts with `event` (at `depth`) without keeping it."""
        if event.anchor is not None or depth > MAX_DEPTH:
            raise _refusal(event, depth)
        if event.__class__ is not ScalarEvent:
            self._skip(depth + 1, depth)

    def _skip(self, open_levels: int, stop: int) -> None:
        """Read events until only `stop` collections are open, building nothing but still
        refusing anchors, aliases and deep nesting: they are problems of kind (1)."""
        get = self.get_event
        while open_levels > stop:
            event = get()
            kind = event.__class__
            if kind is SequenceEndEvent or kind is MappingEndEvent:
                open_levels -= 1
                continue
            if event.anchor is not None or open_levels > MAX_DEPTH:
                raise _refusal(event, open_levels)
            if kind is not ScalarEvent:
                open_levels += 1


def _refusal(event: Any, depth: int) -> YamlLoadError:
    """The error for an alias, an anchor or a node nested deeper than MAX_DEPTH, in the order
    the old composer and converter checked them."""
    if isinstance(event, AliasEvent):
        return YamlLoadError(
            f"aliases (*{event.anchor}) are not allowed in this file; write the value out",
            _mark(event.start_mark),
        )
    if event.anchor is not None:
        return YamlLoadError(
            f"anchors (&{event.anchor}) are not allowed in this file; write the value out",
            _mark(event.start_mark),
        )
    assert depth > MAX_DEPTH
    return YamlLoadError(
        f"nesting is too deep (more than {MAX_DEPTH} levels)", _mark(event.start_mark)
    )


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
