"""Sparse TF-IDF vectors over words and character n-grams, with an inverted index.

Written here rather than taken from scikit-learn for one reason: a query's words that the
knowledge has never seen must still count in its norm. "Who chaired the G20 summit?" shares
"who chaired the" with real facts; if "g20" and "summit" silently vanish (as they do in a
fitted vectoriser), the question looks like a perfect match. Giving unknown terms the highest
idf makes them pull the similarity down, which is what lets the bot refuse near misses.

Built with numpy from word ids rather than term by term, because a 50,000-phrasing file has
some 15 million character n-gram occurrences and a Python loop over them took seconds:
- `Tokens` splits every text once and numbers its words; all indexes share that pass.
- `WordTerms` numbers stems and bigrams once for the phrasing index and the fact index.
- `TfidfIndex.from_units` counts a document's character n-grams as the sum of its words'
  n-grams, one sparse product over distinct words instead of expanding every occurrence.
- Columns whose posting lists are necessarily identical (an n-gram found in one word only, such
  as "chai" and "hair" of "chair", or in the same words the same number of times) share one
  list, stored once.
A query adds up its posting lists with scipy's own C loops, called directly (see
`TfidfIndex.similarities`). Every weight is the plain TF-IDF one (sublinear tf, smooth idf, L2
norm per document), up to float32 rounding; `tests/core/test_vectors.py` checks the index
against a dense reference computation and the numpy builders against the general one.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

try:  # the C loops behind scipy.sparse indexing and products; see `similarities`
    from scipy.sparse import _sparsetools
except ImportError:  # pragma: no cover - a scipy that moved them
    _sparsetools = None

Analyzer = Callable[[str], Sequence[str]]

_TF = [0.0, *(1.0 + math.log(n) for n in range(1, 64))]  # sublinear tf of small counts
_SEPARATOR = "\x00"  # not whitespace, so str.split keeps it as a token between texts


@functools.lru_cache(maxsize=16)
def term_counts(analyzer: Analyzer, text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The distinct terms of `text` in order of first occurrence, and how often each occurs.
    Kept for the last few texts: a ranking counts the same question's terms for two indexes
    and the classifier."""
    counts = Counter(analyzer(text))
    return tuple(counts), tuple(counts.values())


@dataclass
class QueryVector:
    """A query's known terms (column, weight) and the share of its mass that is known."""

    columns: np.ndarray
    weights: np.ndarray
    known_share: float


@dataclass(frozen=True)
class Tokens:
    """Whitespace tokens of many documents as word ids, in reading order.

    `words` are the distinct tokens, numbered in order of first occurrence (words a suffix adds
    come last); `ids[k]` is the word of the k-th token and `documents[k]` the document it
    belongs to (non-decreasing).
    """

    words: list[str]
    ids: np.ndarray
    documents: np.ndarray
    size: int

    @classmethod
    def split(cls, texts: Sequence[str]) -> Tokens:
        """Tokens of `texts`; one `str.split` over all of them joined, since a call per text
        and a list per text cost more than the splitting itself."""
        joined = f" {_SEPARATOR} ".join(texts)
        if joined.count(_SEPARATOR) != max(0, len(texts) - 1):  # a text holds the separator
            return cls._split_each(texts)
        tokens = joined.split()
        numbering = {word: i for i, word in enumerate(dict.fromkeys(tokens))}
        ids = np.fromiter(map(numbering.__getitem__, tokens), dtype=np.int64, count=len(tokens))
        separator = numbering.pop(_SEPARATOR, None)
        if separator is None:
            return cls(list(numbering), ids, np.zeros(len(ids), dtype=np.int64), len(texts))
        is_separator = ids == separator
        documents = np.cumsum(is_separator)[~is_separator]
        ids = ids[~is_separator]
        ids -= ids > separator  # close the gap the separator's id leaves
        return cls(list(numbering), ids, documents, len(texts))

    @classmethod
    def _split_each(cls, texts: Sequence[str]) -> Tokens:
        numbering: dict[str, int] = {}
        lookup = numbering.setdefault
        ids: list[int] = []
        lengths: list[int] = []
        for text in texts:
            words = text.split()
            ids.extend(lookup(word, len(numbering)) for word in words)
            lengths.append(len(words))
        documents = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        return cls(list(numbering), np.array(ids, dtype=np.int64), documents, len(texts))

    def with_suffixes(self, documents: list[int], suffixes: list[str]) -> Tokens:
        """These tokens with the words of suffixes[i] appended to document documents[i]
        (listed in increasing order): the tokens of the texts with the suffixes added."""
        numbering = {word: i for i, word in enumerate(self.words)}
        ids_of: dict[str, list[int]] = {}
        for suffix in dict.fromkeys(suffixes):
            ids_of[suffix] = [numbering.setdefault(w, len(numbering)) for w in suffix.split()]
        added = [ids_of[suffix] for suffix in suffixes]
        lengths = [len(ids) for ids in added]
        ends = np.searchsorted(self.documents, documents, side="right")
        where = np.repeat(ends, lengths)
        ids = np.insert(self.ids, where, list(itertools.chain.from_iterable(added)))
        owners = np.insert(self.documents, where, np.repeat(documents, lengths))
        return Tokens(list(numbering), ids, owners, self.size)

    def merged(self, owner: np.ndarray, size: int) -> Tokens:
        """The same tokens with document d renamed owner[d]: consecutive documents joined with
        a space, as when a fact's phrasings are concatenated. `owner` must not decrease."""
        return Tokens(self.words, self.ids, owner[self.documents], size)

    def term_sets(self, word_term: Sequence[str]) -> list[set[str]]:
        """Per document, the set of word_term[w] over its words (its stems, say)."""
        numbering = {term: i for i, term in enumerate(dict.fromkeys(word_term))}
        if not numbering:
            return [set() for _ in range(self.size)]
        names = list(numbering)
        codes = np.array([numbering[term] for term in word_term], dtype=np.int64)[self.ids]
        documents, codes = np.divmod(_distinct(self.documents * len(names) + codes), len(names))
        found = list(map(names.__getitem__, codes.tolist()))
        bounds = np.searchsorted(documents, np.arange(self.size + 1)).tolist()
        return [set(found[a:b]) for a, b in itertools.pairwise(bounds)]


class WordTerms:
    """Terms of a token stream: one per word (word_term[w], its stem say), then one per two
    neighbouring words (pair_term of their terms: bigrams).

    Numbered once for the stream and shared by the indexes that group the same tokens into
    different documents (phrasings; facts, whose phrasings run on into each other), since
    numbering the bigrams takes a sort of every pair of neighbours.
    """

    def __init__(
        self, tokens: Tokens, word_term: Sequence[str], pair_term: Callable[[str, str], str]
    ) -> None:
        numbering = {term: i for i, term in enumerate(dict.fromkeys(word_term))}
        self.names = list(numbering)
        self.ids = tokens.ids
        self.single = np.array([numbering[t] for t in word_term], dtype=np.int64)[tokens.ids]
        base = max(len(self.names), 1)
        keys, self.pair = _numbered(self.single[:-1] * base + self.single[1:], base * base)
        firsts, seconds = np.divmod(keys, base)
        self.pair_names = [
            pair_term(self.names[a], self.names[b])
            for a, b in zip(firsts.tolist(), seconds.tolist(), strict=True)
        ]
        if len({*self.names, *self.pair_names}) != len(self.names) + len(self.pair_names):
            raise ValueError("pair terms must differ from word terms and from each other")

    def index(self, analyzer: Analyzer, tokens: Tokens) -> TfidfIndex:
        """The index of `tokens` (this stream, possibly `merged`) with these terms; a bigram
        counts where both words are in the same document."""
        if tokens.ids is not self.ids:
            raise ValueError("tokens are not the stream these terms were numbered for")
        inside = np.flatnonzero(tokens.documents[1:] == tokens.documents[:-1])
        pair = self.pair[inside]
        present = np.zeros(len(self.pair_names), dtype=bool)
        present[pair] = True
        renumber = np.cumsum(present) - 1 + len(self.names)
        vocabulary = {name: i for i, name in enumerate(self.names)}
        found = np.flatnonzero(present).tolist()
        names = map(self.pair_names.__getitem__, found)
        vocabulary.update(zip(names, renumber[found].tolist(), strict=True))
        terms = np.concatenate([self.single, renumber[pair]])
        documents = np.concatenate([tokens.documents, tokens.documents[inside]])
        return TfidfIndex.from_terms(analyzer, vocabulary, terms, documents, tokens.size)


class TfidfIndex:
    """Rows are documents (phrasings); `similarities` is cosine via the inverted index."""

    def __init__(self, analyzer: Analyzer, documents: Iterable[str]) -> None:
        """Index `documents` by calling `analyzer` on each: the general path, for any
        analyzer. `Matcher` uses the numpy constructors below, which give the same index."""
        vocabulary: dict[str, int] = {}
        lookup = vocabulary.setdefault
        terms: list[int] = []
        lengths: list[int] = []
        for document in documents:
            found = analyzer(document)
            terms.extend(lookup(term, len(vocabulary)) for term in found)
            lengths.append(len(found))
        rows = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        self._fit(analyzer, vocabulary, np.array(terms, dtype=np.int64), rows, len(lengths))

    @classmethod
    def from_terms(
        cls,
        analyzer: Analyzer,
        vocabulary: dict[str, int],
        terms: np.ndarray,
        documents: np.ndarray,
        size: int,
    ) -> TfidfIndex:
        """Index from one (term column, document) pair per term occurrence; `analyzer` is
        what queries go through and must produce the same terms as the pairs encode."""
        index = cls.__new__(cls)
        index._fit(analyzer, vocabulary, terms, documents, size)
        return index

    @classmethod
    def from_units(
        cls, analyzer: Analyzer, tokens: Tokens, unit_terms: Sequence[Sequence[str]]
    ) -> TfidfIndex:
        """Index of documents whose terms are the concatenated terms of their words:
        `unit_terms[w]` are the terms word w stands for (its character n-grams, say)."""
        vocabulary: dict[str, int] = {}
        lookup = vocabulary.setdefault
        columns: list[int] = []
        for terms in unit_terms:
            columns.extend(lookup(term, len(vocabulary)) for term in terms)
        pointers = np.zeros(len(unit_terms) + 1, dtype=np.int64)
        np.cumsum([len(terms) for terms in unit_terms], out=pointers[1:])
        units = sparse.csr_matrix(
            (np.ones(len(columns), dtype=np.float32), np.array(columns, dtype=np.int64), pointers),
            shape=(len(unit_terms), len(vocabulary)),
        )
        units.sum_duplicates()  # a word's own repeated n-grams (" a " of every size)
        groups, representatives = _identical_columns(units.T.tocsr())
        in_documents = sparse.csr_matrix(
            (np.ones(len(tokens.ids), dtype=np.float32), (tokens.ids, tokens.documents)),
            shape=(len(unit_terms), tokens.size),
        )
        counts = (units[:, representatives].T.tocsr() @ in_documents).tocsr()
        index = cls.__new__(cls)
        index._finish(analyzer, vocabulary, groups, counts, tokens.size)
        return index

    def _fit(
        self,
        analyzer: Analyzer,
        vocabulary: dict[str, int],
        terms: np.ndarray,
        documents: np.ndarray,
        size: int,
    ) -> None:
        counts = sparse.csr_matrix(
            (np.ones(len(terms), dtype=np.float32), (terms, documents)),
            shape=(len(vocabulary), size),
        )
        counts.sum_duplicates()
        self._finish(analyzer, vocabulary, np.arange(len(vocabulary)), counts, size)

    def _finish(
        self,
        analyzer: Analyzer,
        vocabulary: dict[str, int],
        groups: np.ndarray,
        counts: sparse.csr_matrix,
        size: int,
    ) -> None:
        """Weights from `counts` (one row per posting list, one column per document, no
        duplicate entries); column t of the vocabulary uses posting list groups[t]."""
        self.analyzer = analyzer
        self.vocabulary = vocabulary
        self.size = size
        self._groups = groups
        self._grouped = len(groups) > counts.shape[0]
        frequency = np.diff(counts.indptr)
        group_idf = (np.log((size + 1) / (frequency + 1)) + 1.0).astype(np.float32)
        self.idf = group_idf[groups]
        self._idf = self.idf.tolist()  # Python floats: a query reads a few hundred of them
        self.unknown_idf = math.log(size + 1) + 1.0
        tf = np.log(counts.data, dtype=np.float32)
        tf += 1.0
        # Squared norm per document: (tf * idf)^2 summed over its terms, a posting list
        # counting once for each column that shares it.
        members = np.bincount(groups, minlength=counts.shape[0])
        per_list = np.square(group_idf, dtype=np.float64) * members
        squares = np.square(tf, dtype=np.float64)
        squared = sparse.csr_matrix((squares, counts.indices, counts.indptr), counts.shape)
        norms = np.sqrt(squared.T @ per_list)
        norms[norms == 0] = 1.0
        values = tf  # becomes tf * idf / norm, in place
        values *= np.repeat(group_idf, frequency)
        values *= (1.0 / norms).astype(np.float32)[counts.indices]
        # int32 like scipy's own indices, which it would otherwise widen to int64 (twice the
        # memory a query reads) on building the matrix below
        self._pointers = counts.indptr.astype(np.int32, copy=False)
        self._rows = counts.indices.astype(np.int32, copy=False)
        self._values = values
        self._matrix = sparse.csr_matrix(
            (self._values, self._rows, self._pointers), shape=counts.shape
        )

    def query(self, text: str) -> QueryVector:
        """The query's TF-IDF vector over the known terms; unknown terms count in its norm.

        Written with map/compress rather than a loop over the terms: a question expanded with
        its abbreviations has several hundred n-grams, and this runs for three indexes."""
        terms, numbers = term_counts(self.analyzer, text)
        found = list(map(self.vocabulary.get, terms))
        if max(numbers, default=0) < len(_TF):
            tfs = list(map(_TF.__getitem__, numbers))
        else:
            tfs = [1.0 + math.log(n) for n in numbers]
        known = list(map(operator.is_not, found, itertools.repeat(None)))
        columns = list(itertools.compress(found, known))
        known_tfs = itertools.compress(tfs, known)
        weights = list(map(operator.mul, known_tfs, map(self._idf.__getitem__, columns)))
        unknown_tfs = itertools.compress(tfs, map(operator.not_, known))
        unknown_weights = map(operator.mul, unknown_tfs, itertools.repeat(self.unknown_idf))
        unknown = float(sum(map(pow, unknown_weights, itertools.repeat(2))))
        known_mass = float(sum(map(operator.mul, weights, weights)))
        norm = math.sqrt(known_mass + unknown) or 1.0
        total = known_mass + unknown
        return QueryVector(
            columns=np.array(columns, dtype=np.int64),
            weights=np.array(weights, dtype=np.float32) / norm,
            known_share=known_mass / total if total else 0.0,
        )

    def similarities(self, vector: QueryVector) -> np.ndarray:
        """Cosine of the query with every row, touching only the query's posting lists."""
        sums = np.zeros(self.size, dtype=np.float32)
        if len(vector.columns) == 0:
            return sums
        lists = self._groups[vector.columns]
        weights = vector.weights
        if self._grouped:  # columns sharing a list: add their weights, walk the list once
            lists, position = np.unique(lists, return_inverse=True)
            weights = np.bincount(position, weights=weights)
        weights = weights.astype(np.float32)
        if _sparsetools is None:
            return self._matrix[lists].T @ weights
        # scipy's own two loops (copy the lists out, add them up), called directly:
        # `self._matrix[lists].T @ weights` runs the same two but spends most of its time on
        # checks and conversions, three times the loops' own time for a typical question.
        lists = lists.astype(np.int32)
        pointers = np.zeros(len(lists) + 1, dtype=np.int32)
        np.cumsum(self._pointers[lists + 1] - self._pointers[lists], out=pointers[1:])
        rows = np.empty(pointers[-1], dtype=np.int32)
        values = np.empty(pointers[-1], dtype=np.float32)
        _sparsetools.csr_row_index(
            len(lists), lists, self._pointers, self._rows, self._values, rows, values
        )
        _sparsetools.csc_matvec(self.size, len(lists), pointers, rows, values, weights, sums)
        return sums


def _identical_columns(by_term: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Group the rows of `by_term` (term x unit counts, canonical) that are equal: such terms
    occur in exactly the same documents the same number of times. Returns each term's group and
    one representative term per group."""
    lengths = np.diff(by_term.indptr)
    groups = np.empty(len(lengths), dtype=np.int64)
    # In one unit only: the group is (unit, count), found with numpy; most n-grams are so.
    single = np.flatnonzero(lengths == 1)
    starts = by_term.indptr[single]
    counts = by_term.data[starts].astype(np.int64)
    keys = by_term.indices[starts].astype(np.int64) * (int(counts.max(initial=0)) + 1) + counts
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    groups[single] = inverse
    representatives = single[first].tolist()
    # In several units: compared as bytes, one term at a time (few of them).
    seen: dict[tuple[bytes, bytes], int] = {}
    for term in np.flatnonzero(lengths != 1).tolist():
        start, end = by_term.indptr[term], by_term.indptr[term + 1]
        key = (by_term.indices[start:end].tobytes(), by_term.data[start:end].tobytes())
        group = seen.get(key)
        if group is None:
            group = seen[key] = len(representatives)
            representatives.append(term)
        groups[term] = group
    return groups, np.array(representatives, dtype=np.int64)


def _numbered(keys: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(keys, return_inverse=True) for integers in [0, bound): with a lookup table
    when `bound` is small enough, ten times faster than the sort np.unique does."""
    if bound > max(4 * len(keys), 1 << 20):
        return np.unique(keys, return_inverse=True)
    present = np.zeros(bound, dtype=bool)
    present[keys] = True
    number = np.cumsum(present, dtype=np.int64) - 1
    return np.flatnonzero(present), number[keys]


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values; np.unique's hash table is several times slower on ints."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]
