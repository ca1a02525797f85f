"""Sparse TF-IDF vectors over words and character n-grams, with an inverted index.

Written here rather than taken from scikit-learn for one reason: a query's words that the
knowledge has never seen must still count in its norm. "Who chaired the G20 summit?" shares
"who chaired the" with real facts; if "g20" and "summit" silently vanish (as they do in a
fitted vectoriser), the question looks like a perfect match. Giving unknown terms the highest
idf makes them pull the similarity down, which is what lets the bot refuse near misses.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

Analyzer = Callable[[str], list[str]]


@dataclass
class QueryVector:
    """A query's known terms (column, weight) and the share of its mass that is known."""

    columns: np.ndarray
    weights: np.ndarray
    known_share: float


class TfidfIndex:
    """Rows are documents (phrasings); `similarities` is cosine via the inverted index."""

    def __init__(self, analyzer: Analyzer, documents: Iterable[str]) -> None:
        self.analyzer = analyzer
        self.vocabulary: dict[str, int] = {}
        columns: list[int] = []
        row_lengths: list[int] = []
        lookup = self.vocabulary.setdefault
        for document in documents:
            terms = analyzer(document)
            columns.extend(lookup(term, len(self.vocabulary)) for term in terms)
            row_lengths.append(len(terms))
        self.size = len(row_lengths)
        rows = np.repeat(np.arange(self.size, dtype=np.int64), row_lengths)
        counts = sparse.csr_matrix(
            (np.ones(len(columns), dtype=np.float32), (rows, np.array(columns, dtype=np.int64))),
            shape=(self.size, len(self.vocabulary)),
        )
        counts.sum_duplicates()
        document_frequency = np.bincount(counts.indices, minlength=len(self.vocabulary))
        self.idf = (np.log((self.size + 1) / (document_frequency + 1)) + 1.0).astype(np.float32)
        self.unknown_idf = math.log(self.size + 1) + 1.0
        counts.data = (1.0 + np.log(counts.data)) * self.idf[counts.indices]
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        self.matrix_t = sparse.csr_matrix(sparse.diags(1.0 / norms) @ counts).T.tocsr()

    def query(self, text: str) -> QueryVector:
        counts = Counter(self.analyzer(text))
        columns, weights, unknown = [], [], 0.0
        for term, count in counts.items():
            col = self.vocabulary.get(term)
            tf = 1.0 + math.log(count)
            if col is None:
                unknown += (tf * self.unknown_idf) ** 2
            else:
                columns.append(col)
                weights.append(tf * float(self.idf[col]))
        known = float(sum(w * w for w in weights))
        norm = math.sqrt(known + unknown) or 1.0
        return QueryVector(
            columns=np.array(columns, dtype=np.int64),
            weights=np.array(weights, dtype=np.float32) / norm,
            known_share=known / (known + unknown) if known + unknown else 0.0,
        )

    def similarities(self, vector: QueryVector) -> np.ndarray:
        """Cosine of the query with every row, touching only the query's posting lists."""
        if len(vector.columns) == 0:
            return np.zeros(self.size, dtype=np.float32)
        postings = self.matrix_t[vector.columns]
        return np.asarray(postings.T @ vector.weights, dtype=np.float32).ravel()
