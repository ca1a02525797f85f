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
        term_lists = [analyzer(doc) for doc in documents]
        self.size = len(term_lists)
        document_frequency: Counter[str] = Counter()
        for terms in term_lists:
            document_frequency.update(set(terms))
        self.vocabulary = {term: col for col, term in enumerate(sorted(document_frequency))}
        n = self.size
        self.idf = np.array(
            [
                math.log((n + 1) / (document_frequency[t] + 1)) + 1.0
                for t in sorted(document_frequency)
            ],
            dtype=np.float32,
        )
        self.unknown_idf = math.log(n + 1) + 1.0
        self.matrix_t = self._build(term_lists)

    def _build(self, term_lists: list[list[str]]) -> sparse.csr_matrix:
        rows, cols, values = [], [], []
        for row, terms in enumerate(term_lists):
            counts = Counter(terms)
            weights = {
                self.vocabulary[t]: (1.0 + math.log(c)) * self.idf[self.vocabulary[t]]
                for t, c in counts.items()
            }
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for col, weight in weights.items():
                rows.append(row)
                cols.append(col)
                values.append(weight / norm)
        matrix = sparse.csr_matrix(
            (np.array(values, dtype=np.float32), (rows, cols)),
            shape=(self.size, len(self.vocabulary)),
        )
        return matrix.T.tocsr()

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
