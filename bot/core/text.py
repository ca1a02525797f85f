"""Text folding shared by matching, validation and quote checks.

Users type with typos, capitals, accents and stray punctuation; documents come from scans with
curly quotes and odd dashes. Every comparison in the project goes through these functions so
that "Schmögnerová", "schmognerova" and "SCHMOGNEROVA" are the same word everywhere.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = re.compile(r"[\u2018\u2019\u201a\u201b\u2032`´']")
_DOUBLE_QUOTES = re.compile(r"[\u201c\u201d\u201e\u201f\u2033«»]")
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u00ad-]+")
_POSSESSIVE = re.compile(r"(\w)'s\b")
_NON_WORD_OR_UNDERSCORE = re.compile(r"[\W_]+")
_SPACES = re.compile(r"\s+")
_ADDRESS = re.compile(r"^\s*(?:@\w+[\s,:]*)+")


def strip_accents(text: str) -> str:
    """Drop combining marks so accented letters match their plain forms."""
    if text.isascii():  # nothing to decompose; the common case, and fold's hot path
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lowercase, accent-free, punctuation-free form of `text` for matching.

    Apostrophes join ("women's" -> "women", "don't" -> "dont") so that a possessive or a
    contraction never splits into a stray one-letter token. A leading "@name" only addresses
    someone in a group chat and is dropped, so "@bot when was it?" matches "when was it?".
    """
    text = _ADDRESS.sub("", text)
    text = strip_accents(unicodedata.normalize("NFKC", text)).lower()
    text = _APOSTROPHES.sub("'", text)
    text = _POSSESSIVE.sub(r"\1", text)
    text = text.replace("'", "")
    return _NON_WORD_OR_UNDERSCORE.sub(" ", text).strip()


def tokens(text: str) -> list[str]:
    """Words of the folded text."""
    folded = fold(text)
    return folded.split() if folded else []


def fold_for_quote(text: str) -> str:
    """Form used to find a quote in its document.

    Insensitive to whitespace and line breaks, quote-mark and dash styles, and the `*`/`_`
    emphasis markers the converted documents carry; sensitive to every letter, so a quote with
    a changed word is still caught.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _APOSTROPHES.sub("'", text)
    text = _DOUBLE_QUOTES.sub('"', text)
    text = _DASHES.sub("-", text)
    text = text.replace("*", "").replace("_", "")
    text = re.sub(r"</?i>", "", text)
    return _SPACES.sub(" ", text).strip().lower()


# Words that point back at what was just discussed: "and who chaired it?", "when was the
# meeting held?". They make a question about one meeting, not a request for a list.
FOLLOW_UP = re.compile(
    r"^and\b|\b(?:it|its|there|they|them)\b"
    r"|\b(?:the|that|this|same) (?:meeting|event|session|conference)\b"
)
