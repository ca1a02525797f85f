"""Telegram text formatting as the Bot API server applies it, for the fake server.

``format_text`` turns what a bot sends (``text`` + ``parse_mode`` or explicit ``entities``)
into what Telegram stores: the plain text and its entities, with offsets and lengths in UTF-16
code units. Parse errors raise ``EntityParseError`` whose message follows tdlib's wording
("Unsupported start tag "x" at byte offset N", "Can't find end of Bold entity at byte
offset N", ...); the server prefixes it with "Bad Request: can't parse entities: ".

``detect_entities`` finds what Telegram highlights on its own in any message: bot commands,
@mentions, #hashtags and explicit http(s) links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Entity = dict[str, Any]


class EntityParseError(ValueError):
    """The formatted text cannot be parsed (Telegram answers 400 "can't parse entities")."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def entity_text(text: str, entity: Entity) -> str:
    """The part of ``text`` an entity covers (its offset and length are UTF-16 units)."""
    units = text.encode("utf-16-le")
    start, end = 2 * entity["offset"], 2 * (entity["offset"] + entity["length"])
    return units[start:end].decode("utf-16-le", errors="replace")


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


@dataclass
class _Builder:
    """Accumulates the plain text and the entities found while parsing."""

    parts: list[str] = field(default_factory=list)
    offset: int = 0
    entities: list[Entity] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.offset += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.offset > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.offset - start, **extra}
            )

    def result(self) -> tuple[str, list[Entity]]:
        return "".join(self.parts), sort_entities(self.entities)


def sort_entities(entities: list[Entity]) -> list[Entity]:
    """Telegram's order: by offset, longer (outer) entities first."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

_HTML_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY = re.compile(r"&(#[xX][0-9a-fA-F]{1,8}|#[0-9]{1,9}|[a-zA-Z]+)(;?)")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


@dataclass
class _OpenTag:
    tag: str
    argument: str
    offset: int
    language: str = ""


class _HtmlParser:
    """A port of tdlib's ``parse_html``: only Telegram's tags, strictly balanced."""

    def __init__(self, source: str, *, strict_ampersand: bool) -> None:
        self.source = source
        self.strict_ampersand = strict_ampersand
        self.out = _Builder()
        self.stack: list[_OpenTag] = []

    def error(self, message: str, index: int) -> EntityParseError:
        return EntityParseError(f"{message} at byte offset {_byte_offset(self.source, index)}")

    def parse(self) -> tuple[str, list[Entity]]:
        source, i = self.source, 0
        while i < len(source):
            char = source[i]
            if char == "<":
                i = self.close_tag(i) if source.startswith("</", i) else self.open_tag(i)
            elif char == "&":
                decoded, i = self.decode_entity(i)
                self.out.add(decoded)
            else:
                end = _next_special(source, i, "<&")
                self.out.add(source[i:end])
                i = end
        if self.stack:
            tag = self.stack[-1].tag
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{tag}"')
        return self.out.result()

    def decode_entity(self, i: int) -> tuple[str, int]:
        match = _HTML_ENTITY.match(self.source, i)
        value = _decode_html_entity(match.group(1)) if match else None
        if match and value is not None and (match.group(2) or not self.strict_ampersand):
            return value, match.end()
        if self.strict_ampersand:
            raise self.error(
                'Character "&" must be escaped as "&amp;" unless it starts one of the entities '
                "&lt; &gt; &amp; &quot; &#N; &#xN;",
                i,
            )
        return "&", i + 1

    def open_tag(self, begin: int) -> int:
        source = self.source
        end = begin + 1
        while end < len(source) and not source[end].isspace() and source[end] != ">":
            end += 1
        if end >= len(source):
            raise self.error("Unclosed start tag", begin)
        tag = source[begin + 1 : end].lower()
        if tag not in _HTML_TYPES:
            raise self.error(f'Unsupported start tag "{tag}"', begin)
        attributes, after = self.attributes(end, tag, begin)
        argument = self.tag_argument(tag, attributes, begin)
        self.stack.append(_OpenTag(tag, argument, self.out.offset))
        return after

    def attributes(self, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
        source, attributes = self.source, {}
        while True:
            i = _skip_spaces(source, i)
            if i >= len(source):
                raise self.error("Unclosed start tag", begin)
            if source[i] == ">":
                return attributes, i + 1
            name_start = i
            while i < len(source) and not source[i].isspace() and source[i] not in "=>":
                i += 1
            name = source[name_start:i].lower()
            if not name:
                raise self.error(f'Empty attribute name in the tag "{tag}"', begin)
            i = _skip_spaces(source, i)
            if i < len(source) and source[i] != "=":
                attributes[name] = ""  # a bare attribute such as <blockquote expandable>
                continue
            i = _skip_spaces(source, i + 1)
            if i >= len(source):
                raise self.error(f'Unclosed start tag "{tag}"', begin)
            attributes[name], i = self.attribute_value(i, begin)

    def attribute_value(self, i: int, begin: int) -> tuple[str, int]:
        source = self.source
        if source[i] not in "'\"":
            start = i
            while i < len(source) and (source[i].isalnum() or source[i] in ".-"):
                i += 1
            if i < len(source) and not source[i].isspace() and source[i] != ">":
                raise self.error("Unexpected end of name token", start)
            return source[start:i].lower(), i
        quote, i, value = source[i], i + 1, []
        while i < len(source) and source[i] != quote:
            if source[i] == "&":
                decoded, i = self.decode_entity(i)
                value.append(decoded)
            else:
                value.append(source[i])
                i += 1
        if i >= len(source):
            raise self.error("Unclosed start tag", begin)
        return "".join(value), i + 1

    def tag_argument(self, tag: str, attributes: dict[str, str], begin: int) -> str:
        if tag == "a":
            return attributes.get("href", "")
        if tag == "code":
            css = attributes.get("class", "")
            return css.removeprefix("language-") if css.startswith("language-") else ""
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise self.error('Tag "span" must have class "tg-spoiler"', begin)
        if tag == "tg-emoji":
            emoji_id = attributes.get("emoji-id", "")
            if not emoji_id.isdigit():
                raise self.error('Tag "tg-emoji" must have a numeric attribute "emoji-id"', begin)
            return emoji_id
        if tag == "blockquote" and "expandable" in attributes:
            return "expandable"
        return ""

    def close_tag(self, begin: int) -> int:
        source = self.source
        if not self.stack:
            raise self.error("Unexpected end tag", begin)
        end = begin + 2
        while end < len(source) and not source[end].isspace() and source[end] != ">":
            end += 1
        name = source[begin + 2 : end].lower()
        end = _skip_spaces(source, end)
        if end >= len(source) or source[end] != ">":
            raise self.error("Unclosed end tag", begin)
        opened = self.stack.pop()
        if name and name != opened.tag:
            raise self._unmatched(begin, opened.tag, name)
        self.emit(opened)
        return end + 1

    def _unmatched(self, begin: int, expected: str, found: str) -> EntityParseError:
        offset = _byte_offset(self.source, begin)
        return EntityParseError(
            f'Unmatched end tag at byte offset {offset}, expected "</{expected}>", '
            f'found "</{found}>"'
        )

    def emit(self, opened: _OpenTag) -> None:
        parent = self.stack[-1] if self.stack else None
        wrapped_by_pre = parent and (parent.tag, parent.offset) == ("pre", opened.offset)
        if opened.tag == "code" and parent and wrapped_by_pre:
            parent.language = opened.argument  # <pre><code class="language-x">
            return
        kind, extra = _HTML_TYPES[opened.tag], {}
        if kind == "text_link":
            if not opened.argument:
                return
            extra["url"] = opened.argument
        elif kind == "pre" and opened.language:
            extra["language"] = opened.language
        elif kind == "custom_emoji":
            extra["custom_emoji_id"] = opened.argument
        elif kind == "blockquote" and opened.argument:
            kind = "expandable_blockquote"
        self.out.entity(kind, opened.offset, **extra)


def _decode_html_entity(body: str) -> str | None:
    if body.startswith(("#x", "#X")):
        code = int(body[2:], 16)
    elif body.startswith("#"):
        code = int(body[1:])
    else:
        return _NAMED_ENTITIES.get(body)
    if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _skip_spaces(source: str, i: int) -> int:
    while i < len(source) and source[i].isspace():
        i += 1
    return i


def _next_special(source: str, i: int, specials: str) -> int:
    positions = [p for p in (source.find(c, i) for c in specials) if p != -1]
    return min(positions, default=len(source))


def parse_html(source: str, *, strict_ampersand: bool = True) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into plain text and entities.

    With ``strict_ampersand`` (the default) a bare "&" that does not start ``&lt;``, ``&gt;``,
    ``&amp;``, ``&quot;`` or a numeric reference is an error, as the Bot API documentation
    requires; real Telegram (tdlib) is lenient there and keeps such an "&" as text.
    """
    return _HtmlParser(source, strict_ampersand=strict_ampersand).parse()


# --------------------------------------------------------------------------------------------
# MarkdownV2
# --------------------------------------------------------------------------------------------

_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_MARKERS = {
    "```": "pre",
    "`": "code",
    "||": "spoiler",
    "__": "underline",
    "_": "italic",
    "*": "bold",
    "~": "strikethrough",
    "![": "custom_emoji",
    "[": "text_link",
}
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}
_CUSTOM_EMOJI_URL = re.compile(r"tg://emoji\?id=(\d+)$")


@dataclass
class _MdOpen:
    kind: str
    marker: str
    offset: int
    index: int
    language: str = ""


class _MarkdownV2Parser:
    """Telegram's MarkdownV2: every reserved character outside an entity must be escaped."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.out = _Builder()
        self.stack: list[_MdOpen] = []
        self.quote: _MdOpen | None = None

    def error(self, message: str, index: int) -> EntityParseError:
        return EntityParseError(f"{message} at byte offset {_byte_offset(self.source, index)}")

    def parse(self) -> tuple[str, list[Entity]]:
        source, i, line_start = self.source, 0, True
        while i < len(source):
            top = self.stack[-1] if self.stack else None
            char = source[i]
            if top and top.kind in ("code", "pre"):
                i = self.code_char(i, top)
            elif char == "\\":
                i = self.escaped(i)
            elif char == "\n":
                self.newline(i)
                i += 1
            elif line_start and char == ">":
                self.quote = self.quote or _MdOpen("blockquote", ">", self.out.offset, i)
                i += 1
            elif char in _MDV2_RESERVED:
                i = self.marker(i, top)
            else:
                end = _next_special(source, i, "".join(_MDV2_RESERVED) + "\\\n")
                self.out.add(source[i:end])
                i = end
            line_start = char == "\n"
        return self.finish()

    def finish(self) -> tuple[str, list[Entity]]:
        if self.quote:
            self.out.entity("blockquote", self.quote.offset)
        if self.stack:
            top = self.stack[-1]
            raise self.error(f"Can't find end of {_MDV2_NAMES[top.kind]} entity", top.index)
        return self.out.result()

    def escaped(self, i: int) -> int:
        following = self.source[i + 1 : i + 2]
        if following and 0 < ord(following) <= 126:
            self.out.add(following)
            return i + 2
        self.out.add("\\")
        return i + 1

    def newline(self, i: int) -> None:
        if self.quote and not self.source.startswith(">", i + 1):
            self.out.entity("blockquote", self.quote.offset)
            self.quote = None
        self.out.add("\n")

    def code_char(self, i: int, top: _MdOpen) -> int:
        source = self.source
        if source[i] == "\\" and i + 1 < len(source) and 0 < ord(source[i + 1]) <= 126:
            self.out.add(source[i + 1])
            return i + 2
        if source.startswith(top.marker, i):
            self.stack.pop()
            extra = {"language": top.language} if top.language else {}
            self.out.entity(top.kind, top.offset, **extra)
            return i + len(top.marker)
        self.out.add(source[i])
        return i + 1

    def marker(self, i: int, top: _MdOpen | None) -> int:
        char = self.source[i]
        if char == "]" and top and top.kind in ("text_link", "custom_emoji"):
            return self.close_link(i, top)
        marker = next((m for m in _MDV2_MARKERS if self.source.startswith(m, i)), None)
        if marker is None:
            raise self.error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'", i
            )
        if top and top.marker == marker and marker not in ("[", "!["):
            self.stack.pop()
            self.out.entity(top.kind, top.offset)
            return i + len(marker)
        opened = _MdOpen(_MDV2_MARKERS[marker], marker, self.out.offset, i)
        self.stack.append(opened)
        if marker == "```":
            return self.pre_language(i + 3, opened)
        return i + len(marker)

    def pre_language(self, i: int, opened: _MdOpen) -> int:
        newline, close = self.source.find("\n", i), self.source.find("```", i)
        if newline == -1 or (close != -1 and close < newline):
            return i
        first_line = self.source[i:newline]
        if first_line.strip() and len(first_line.split()) == 1:
            opened.language = first_line.strip()
            return newline + 1
        return newline + 1 if not first_line.strip() else i

    def close_link(self, i: int, top: _MdOpen) -> int:
        source = self.source
        if not source.startswith("(", i + 1):
            raise self.error(f"Can't find end of {_MDV2_NAMES[top.kind]} entity", top.index)
        url, j = [], i + 2
        while j < len(source) and source[j] != ")":
            if source[j] == "\\" and j + 1 < len(source):
                j += 1
            url.append(source[j])
            j += 1
        if j >= len(source):
            raise self.error("Can't find end of a URL", i + 1)
        self.stack.pop()
        target = "".join(url)
        if top.kind == "custom_emoji":
            match = _CUSTOM_EMOJI_URL.match(target)
            if not match:
                raise self.error("Custom emoji URL must have an emoji identifier", i + 1)
            self.out.entity("custom_emoji", top.offset, custom_emoji_id=match.group(1))
        elif target:
            self.out.entity("text_link", top.offset, url=target)
        return j + 1


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    """Parse Telegram MarkdownV2 into plain text and entities."""
    return _MarkdownV2Parser(source).parse()


# --------------------------------------------------------------------------------------------
# Legacy Markdown
# --------------------------------------------------------------------------------------------

_LEGACY_TYPES = {"```": "pre", "`": "code", "*": "bold", "_": "italic"}


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    """Parse legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out, i = _Builder(), 0
    while i < len(source):
        char = source[i]
        if char == "\\" and source[i + 1 : i + 2] in ("_", "*", "`", "["):
            out.add(source[i + 1])
            i += 2
        elif char == "[":
            i = _legacy_link(source, i, out)
        elif char in "_*`":
            i = _legacy_entity(source, i, out)
        else:
            end = _next_special(source, i, "_*`[\\")
            end = end if end > i else i + 1
            out.add(source[i:end])
            i = end
    return out.result()


def _legacy_unclosed(source: str, i: int) -> EntityParseError:
    offset = _byte_offset(source, i)
    return EntityParseError(f"Can't find end of the entity starting at byte offset {offset}")


def _legacy_entity(source: str, i: int, out: _Builder) -> int:
    marker = "```" if source.startswith("```", i) else source[i]
    end = source.find(marker, i + len(marker))
    if end == -1:
        raise _legacy_unclosed(source, i)
    content, extra = source[i + len(marker) : end], {}
    if marker == "```" and "\n" in content:
        first_line, rest = content.split("\n", 1)
        if first_line.strip() and len(first_line.split()) == 1:
            content, extra = rest, {"language": first_line.strip()}
    start = out.offset
    out.add(content)
    out.entity(_LEGACY_TYPES[marker], start, **extra)
    return end + len(marker)


def _legacy_link(source: str, i: int, out: _Builder) -> int:
    close = source.find("]", i + 1)
    if close == -1:
        raise _legacy_unclosed(source, i)
    start = out.offset
    out.add(source[i + 1 : close])
    if not source.startswith("(", close + 1):
        return close + 1
    end = source.find(")", close + 2)
    if end == -1:
        raise _legacy_unclosed(source, i)
    url = source[close + 2 : end]
    if url:
        out.entity("text_link", start, url=url)
    return end + 1


# --------------------------------------------------------------------------------------------
# Automatic entities, trimming and the public entry point
# --------------------------------------------------------------------------------------------

_AUTO_PATTERNS = (
    (
        "bot_command",
        re.compile(r"(?<![\w/<>@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])"),
    ),
    ("mention", re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{3,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#(?=\w*[^\W\d_])\w{1,256}")),
    ("url", re.compile(r"(?<![\w@/])(?:https?://|www\.)[^\s<>\"]+")),
)
_URL_TRAILING = ".,;:!?)]}'\""


def detect_entities(text: str) -> list[Entity]:
    """Entities Telegram adds by itself: bot_command, mention, hashtag and url."""
    found: list[tuple[int, int, str]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            end = match.end()
            if kind == "url":
                end = match.start() + len(match.group().rstrip(_URL_TRAILING))
            found.append((match.start(), end, kind))
    entities: list[Entity] = []
    last_end = -1
    for start, end, kind in sorted(found):
        if start >= last_end and end > start:
            offset = utf16_len(text[:start])
            entities.append({"type": kind, "offset": offset, "length": utf16_len(text[start:end])})
            last_end = end
    return entities


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip surrounding whitespace like Telegram does, moving and clipping the entities."""
    stripped = text.strip()
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    limit = utf16_len(stripped)
    kept: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


class UnsupportedParseModeError(ValueError):
    """``parse_mode`` is not one of HTML, MarkdownV2 or Markdown."""


def _overlaps(entity: Entity, others: list[Entity]) -> bool:
    start, end = entity["offset"], entity["offset"] + entity["length"]
    return any(o["offset"] < end and start < o["offset"] + o["length"] for o in others)


def _drop_nested_in_code(entities: list[Entity]) -> list[Entity]:
    """Telegram keeps no entity inside ``code`` or ``pre``: "<code>a<b>b</b></code>" is code."""
    code = [e for e in entities if e["type"] in ("code", "pre")]
    return [e for e in entities if not any(c is not e and _inside(e, c) for c in code)]


def _inside(entity: Entity, outer: Entity) -> bool:
    end, outer_end = entity["offset"] + entity["length"], outer["offset"] + outer["length"]
    return outer["offset"] <= entity["offset"] and end <= outer_end


def _explicit_entities(entities: Any) -> list[Entity]:
    if not isinstance(entities, list) or not all(
        isinstance(e, dict)
        and isinstance(e.get("type"), str)
        and isinstance(e.get("offset"), int)
        and isinstance(e.get("length"), int)
        for e in entities
    ):
        raise EntityParseError("entities must be a list of MessageEntity objects")
    return [dict(e) for e in entities]


def format_text(
    text: str,
    parse_mode: str | None = None,
    entities: Any = None,
    *,
    strict_ampersand: bool = True,
) -> tuple[str, list[Entity]]:
    """What Telegram stores for ``text``: the trimmed plain text and all of its entities.

    Explicit ``entities`` win over ``parse_mode``, as in the Bot API.
    """
    if entities is not None:
        plain, explicit = text, _explicit_entities(entities)
    elif parse_mode:
        mode = parse_mode.lower()
        if mode == "html":
            plain, explicit = parse_html(text, strict_ampersand=strict_ampersand)
        elif mode == "markdownv2":
            plain, explicit = parse_markdown_v2(text)
        elif mode == "markdown":
            plain, explicit = parse_markdown(text)
        else:
            raise UnsupportedParseModeError(parse_mode)
    else:
        plain, explicit = text, []
    plain, explicit = trim(plain, _drop_nested_in_code(explicit))
    automatic = [e for e in detect_entities(plain) if not _overlaps(e, explicit)]
    return plain, sort_entities(explicit + automatic)
