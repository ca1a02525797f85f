"""Ranking a question against every fact: the fuzzy intent matcher.

Signals, each covering what the others miss:
- word TF-IDF over light stems and bigrams: distinctive words weigh more than "meeting" or
  "when"; unknown words count against a match (see `vectors`);
- character n-gram TF-IDF: typos and word forms ("chiared", "organisers"/"organized");
- rapidfuzz: corrects misspelt words against the knowledge's own vocabulary before scoring,
  and rescores the best candidates with a token-set ratio;
- meeting awareness: a question that names a meeting (alias, acronym, place, year) prefers
  that meeting's facts (see `mentions`).
Everything is a pure function of the knowledge and the question, so replies are repeatable.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bot.core.classifier import classifier_for
from bot.core.knowledge import Knowledge
from bot.core.mentions import MeetingMentions, Mentions
from bot.core.text import FOLLOW_UP, fold
from bot.core.vectors import TfidfIndex

STOPWORDS = frozenset({
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "and", "or", "with", "about", "by",
    "from", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "what",
    "which", "who", "whom", "when", "where", "why", "how", "did", "do", "does", "any", "all",
    "their", "there",
})  # fmt: skip
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "s", "ly")
_BRITISH = (("ization", "isation"), ("izing", "ising"), ("ized", "ised"), ("izes", "ises"))


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A deliberately light stemmer: 'chaired'/'chairs' -> 'chair', 'organized' -> 'organis'."""
    if len(word) <= 4 or not word.isalpha():
        return word
    for american, british in _BRITISH:
        if word.endswith(american):
            word = word[: -len(american)] + british
            break
    if word.endswith("ize"):
        word = word[:-3] + "ise"
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            return base + "y" if suffix in ("ies", "ied") else base
    return word


def word_terms(text: str) -> list[str]:
    stems = [stem(w) for w in text.split()]
    return stems + [f"{a}_{b}" for a, b in itertools.pairwise(stems)]


def char_terms(text: str) -> list[str]:
    grams: list[str] = []
    for word in text.split():
        grams.extend(_word_grams(word))
    return grams


@functools.lru_cache(maxsize=200_000)
def _word_grams(word: str) -> tuple[str, ...]:
    """Character 3-5-grams of one padded word; cached because words repeat across phrasings."""
    padded = f" {word} "
    return tuple(
        padded[i : i + size] for size in (3, 4, 5) for i in range(max(1, len(padded) - size + 1))
    )


@dataclass(frozen=True)
class Weights:
    """How the signals combine; defaults tuned on tests/questions.yaml (see config)."""

    word: float = 0.5
    char: float = 0.3
    fuzzy: float = 0.2
    mention_boost: float = 0.12
    mention_penalty: float = 0.10
    context_boost: float = 0.06
    follow_up_boost: float = 0.4
    answer: float = 0.85
    fact_doc: float = 0.7
    classifier: float = 0.6
    classifier_extra: int = 5
    candidates: int = 40


@dataclass(frozen=True)
class Candidate:
    fact: str
    question: str
    score: float


@dataclass(frozen=True)
class Ranking:
    """Facts ranked for one question, best first, with what was understood of it."""

    query: str
    candidates: list[Candidate]
    mentions: Mentions
    known_share: float


class Synonyms:
    """Expands abbreviations both ways so 'THB' and 'trafficking in human beings' meet."""

    def __init__(self, synonyms: dict[str, list[str]]) -> None:
        self.additions: dict[str, list[str]] = {}
        for short, expansions in synonyms.items():
            short_folded = fold(short)
            for expansion in expansions:
                long_folded = fold(expansion)
                if not short_folded or not long_folded or short_folded == long_folded:
                    continue
                self.additions.setdefault(short_folded, []).append(long_folded)
                self.additions.setdefault(long_folded, []).append(short_folded)
        phrases = sorted(self.additions, key=len, reverse=True)
        alternation = "|".join(re.escape(p) for p in phrases)
        self.pattern = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)") if phrases else None

    def expand(self, folded: str) -> str:
        if self.pattern is None:
            return folded
        extra = [add for m in self.pattern.finditer(folded) for add in self.additions[m.group()]]
        return " ".join([folded, *dict.fromkeys(extra)]) if extra else folded


class Matcher:
    """Index of all fact phrasings; `rank` scores a question against it."""

    def __init__(self, knowledge: Knowledge, weights: Weights | None = None) -> None:
        self.weights = weights or Weights()
        self.knowledge = knowledge
        self.synonyms = Synonyms(knowledge.synonyms)
        self.mentions = MeetingMentions(knowledge)
        self.fact_ids: list[str] = []
        self.phrasings: list[str] = []
        folded: list[str] = []
        weights: list[float] = []
        for fact in knowledge.facts.values():
            texts = [(q, 1.0) for q in fact.questions]
            texts.append((fact.answer, self.weights.answer))
            for text, weight in texts:
                self.fact_ids.append(fact.id)
                self.phrasings.append(text if weight == 1.0 else fact.questions[0])
                folded.append(self.synonyms.expand(fold(text)))
                weights.append(weight)
        self.folded = folded
        self.row_weight = np.array(weights, dtype=np.float32)
        self.meeting_code = {m: i for i, m in enumerate(knowledge.meetings)}
        self.row_meeting = np.array(
            [self.meeting_code[knowledge.facts[f].meeting] for f in self.fact_ids], dtype=np.int32
        )
        self.fact_order = fact_order = list(knowledge.facts)
        position = {fact_id: i for i, fact_id in enumerate(fact_order)}
        self.row_fact = np.array([position[f] for f in self.fact_ids], dtype=np.int64)
        documents = [""] * len(fact_order)
        for fact_id, text in zip(self.fact_ids, folded, strict=True):
            documents[position[fact_id]] += " " + text
        self.fact_words = TfidfIndex(word_terms, documents)
        self.fact_stems = [{stem(w) for w in doc.split()} for doc in documents]
        self.words = TfidfIndex(word_terms, folded)
        self.chars = TfidfIndex(char_terms, folded)
        self.position = position
        questions = [i for i, weight in enumerate(weights) if weight == 1.0]
        self.classifier = classifier_for(
            [folded[i] for i in questions],
            [int(self.row_fact[i]) for i in questions],
            word_terms,
            char_terms,
        )
        self.first_row: dict[str, int] = {}
        for row, fact_id in enumerate(self.fact_ids):
            self.first_row.setdefault(fact_id, row)
        self.vocabulary = sorted({w for text in folded for w in text.split() if len(w) >= 4})
        self._vocabulary_set = set(self.vocabulary)

    def normalise(self, question: str) -> str:
        """Folded question with misspelt words corrected and abbreviations expanded."""
        words = []
        for word in fold(question).split():
            if len(word) >= 5 and word not in self._vocabulary_set and word.isalpha():
                best = process.extractOne(word, self.vocabulary, scorer=fuzz.ratio, score_cutoff=84)
                word = best[0] if best else word
            words.append(word)
        return self.synonyms.expand(" ".join(words))

    def rank(self, question: str, context_meeting: str | None = None) -> Ranking:
        w = self.weights
        text = self.normalise(question)
        word_vector = self.words.query(text)
        char_vector = self.chars.query(text)
        scores = w.word * self.words.similarities(word_vector) + w.char * self.chars.similarities(
            char_vector
        )
        scores *= self.row_weight
        fact_similarity = self.fact_words.similarities(self.fact_words.query(text))
        scores = scores + w.fact_doc * fact_similarity[self.row_fact]
        mentions = self.mentions.find(text)
        follow_up = bool(FOLLOW_UP.search(text))
        adjustment = self._meeting_adjustment(mentions, context_meeting, follow_up)
        scores = scores + adjustment
        top = _top_indices(scores, w.candidates)
        best: dict[str, Candidate] = {}
        for index in top:
            fuzzy = fuzz.token_set_ratio(text, self.folded[index]) / 100.0
            score = float(scores[index]) + w.fuzzy * fuzzy * float(self.row_weight[index])
            fact_id = self.fact_ids[index]
            if fact_id not in best or score > best[fact_id].score:
                best[fact_id] = Candidate(fact_id, self.phrasings[index], score)
        if self.classifier is not None:
            best = self._with_classifier(text, best, adjustment)
        ordered = sorted(best.values(), key=lambda c: (-c.score, c.fact))
        return Ranking(text, ordered, mentions, word_vector.known_share)

    def _with_classifier(
        self, text: str, best: dict[str, Candidate], adjustment: np.ndarray
    ) -> dict[str, Candidate]:
        """Add the linear model's view: its decision value for each candidate, and its own
        top facts when the similarity search missed them (with the same meeting adjustment,
        so a follow-up still prefers the meeting in context)."""
        assert self.classifier is not None
        w = self.weights
        decision = self.classifier.decision(text, len(self.fact_order))
        combined = {
            fact_id: Candidate(
                fact_id,
                c.question,
                c.score + w.classifier * float(decision[self.position[fact_id]]),
            )
            for fact_id, c in best.items()
        }
        for index in np.argsort(-decision, kind="stable")[: w.classifier_extra]:
            fact_id = self.fact_order[index]
            if fact_id not in combined:
                question = self.knowledge.facts[fact_id].questions[0]
                adjust = float(adjustment[self.first_row[fact_id]])
                score = w.classifier * float(decision[index]) + adjust
                combined[fact_id] = Candidate(fact_id, question, score)
        return combined

    def topic_scores(self, topic: str) -> dict[str, float]:
        """Share of the topic's words found in each fact's text (questions and answer).

        "Which meetings dealt with trafficking?" means "whose facts talk about trafficking",
        a coverage question; similarity would rank a common word like "trafficking" too low.
        """
        wanted = {stem(w) for w in self.normalise(topic).split() if w not in STOPWORDS}
        if not wanted:
            return {}
        scores = {}
        for fact_id, words in zip(self.fact_order, self.fact_stems, strict=True):
            share = len(wanted & words) / len(wanted)
            if share > 0:
                scores[fact_id] = share
        return scores

    def _meeting_adjustment(
        self, mentions: Mentions, context_meeting: str | None, follow_up: bool
    ) -> np.ndarray:
        """Per-row boost or penalty, computed per meeting and spread to rows in one step."""
        w = self.weights
        per_meeting = np.zeros(len(self.meeting_code), dtype=np.float32)
        if mentions.strengths:
            top = max(mentions.strengths.values())
            codes = [self.meeting_code[m] for m in mentions.strengths]
            for code, strength in zip(codes, mentions.strengths.values(), strict=True):
                per_meeting[code] += w.mention_boost * strength / top
            if top >= 1.0:
                others = np.ones(len(per_meeting), dtype=bool)
                others[codes] = False
                per_meeting[others] -= w.mention_penalty
        elif context_meeting in self.meeting_code:
            boost = w.follow_up_boost if follow_up else w.context_boost
            per_meeting[self.meeting_code[context_meeting]] += boost
        return per_meeting[self.row_meeting]


def _top_indices(scores: np.ndarray, count: int) -> np.ndarray:
    if len(scores) <= count:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, count)[:count]
    return part[np.argsort(-scores[part], kind="stable")]
