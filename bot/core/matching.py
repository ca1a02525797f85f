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

import dataclasses
import functools
import itertools
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bot.core.classifier import classifier_for
from bot.core.knowledge import Knowledge
from bot.core.mentions import MeetingMentions, Mentions, named_dates
from bot.core.schema import Fact, PartialDate
from bot.core.text import FOLLOW_UP, fold
from bot.core.vectors import TfidfIndex, Tokens, WordTerms

STOPWORDS = frozenset({
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "and", "or", "with", "about", "by",
    "from", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "what",
    "which", "who", "whom", "when", "where", "why", "how", "did", "do", "does", "any", "all",
    "their", "there",
})  # fmt: skip
# What a question can ask for that a fact about the same meeting may simply not hold. A near
# miss ("what was the budget of the Geneva meeting?") shares every other word with real facts.
ASPECTS = {
    # Not "the chairperson's conclusions" (a document), nor "did the chair want / say / urge..."
    # (the chair as the one speaking, about anything).
    "chair": re.compile(
        r"\b(?:chair\w*|presid\w*)\b(?! (?:conclusion|summary|text|statement))"
        r"(?! (?:want|say|said|call|urge|recommend|suggest|propose|stress|note|ask|think)\w*)"
    ),
    "count": re.compile(r"\b(?:how many|number of|headcount|attendance|turnout)\b"),
    # Who came, counted: a fact that counts days or agenda items does not answer it.
    "attendance": re.compile(
        r"\bhow many (?:\w+ ){0,3}?(?:attend\w*|came|come|took part|take part|participat\w*"
        r"|turned up|showed up|were there|present)\b"
        r"|\b(?:how many|number of) (?:people|persons|participants|delegates|attendees"
        r"|delegations|representatives|experts)\b|\b(?:attendance|turnout|headcount|attendees)\b"
    ),
    "money": re.compile(r"\b(?:budget\w*|fees?|costs?|price\w*|money|dollars?|euros?|paid)\b"),
    # What a meeting decided: a document written before the meeting cannot say (see
    # `Matcher.announces`).
    "outcome": re.compile(
        r"\b(?:was|were) (?:decided|adopted|agreed|concluded|achieved|resolved)\b"
        r"|\bdid (?:\w+ ){1,8}?(?:decide|adopt|agree|conclude|achieve|resolve)\b"
        r"|\b(?:came out of|outcomes? of|results? of)\b"
    ),
}
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
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
    """Light stems, then bigrams of neighbouring stems ("chair_of")."""
    stems = [stem(w) for w in text.split()]
    return stems + list(itertools.starmap(_bigram, itertools.pairwise(stems)))


def content_stems(text: str) -> set[str]:
    """Stems of the words that carry a folded text's content: no stopwords, no numbers."""
    return {stem(w) for w in text.split() if w not in STOPWORDS and not w.isdigit()}


def _bigram(first: str, second: str) -> str:
    return f"{first}_{second}"


def char_terms(text: str) -> list[str]:
    """Character 4- and 5-grams of each word but STOPWORDS, padded with a space on both sides.

    3-grams are left out: they gave the same replies on every development and held-out case,
    and as the most common grams, their long posting lists took a fifth of a question's time.
    So are the grams of "the", "of", "and"...: a misspelt stopword changes no answer, and theirs
    were the longest lists of all. Without them, replies were the same on all four question sets
    and the p99 time per question fell from 2.08 to 1.92 ms."""
    return list(itertools.chain.from_iterable(map(_content_grams, text.split())))


def _content_grams(word: str) -> tuple[str, ...]:
    return () if word in STOPWORDS else _word_grams(word)


def model_char_terms(text: str) -> list[str]:
    """Character 4-grams only, for the linear model: as accurate there as 3-5-grams on the
    development set, with under half the features, so training takes a third of the time."""
    return list(itertools.chain.from_iterable(map(_word_4grams, text.split())))


@functools.lru_cache(maxsize=200_000)
def _word_4grams(word: str) -> tuple[str, ...]:
    padded = f" {word} "
    return tuple(padded[i : i + 4] for i in range(max(1, len(padded) - 3)))


@functools.lru_cache(maxsize=200_000)
def _word_grams(word: str) -> tuple[str, ...]:
    """Character 4- and 5-grams of one padded word; cached because words repeat across
    phrasings."""
    padded = f" {word} "
    return tuple(
        padded[i : i + size] for size in (4, 5) for i in range(max(1, len(padded) - size + 1))
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
    classifier: float = 1.0
    classifier_extra: int = 5
    candidates: int = 40
    year_penalty: float = 0.6
    month_penalty: float = 2.0
    aspect_penalty: float = 4.0  # above any fact's score: such a fact is never the answer


@dataclass(frozen=True)
class Candidate:
    """A fact's best phrasing and combined score; `model` is the linear model's decision
    value alone (0.0 without a model), the signal that best tells sibling facts apart."""

    fact: str
    question: str
    score: float
    model: float = 0.0


@dataclass(frozen=True)
class Ranking:
    """Facts ranked for one question, best first, with what was understood of it."""

    query: str
    candidates: list[Candidate]
    mentions: Mentions
    known_share: float
    distinctive: bool = True


class Synonyms:
    """Expands abbreviations both ways so 'THB' and 'trafficking in human beings' meet.

    An abbreviation that folds to a common word ("WHO") is only expanded from its long form:
    expanded the other way, every "who chaired...?" question, the knowledge's and the user's,
    gained "world health organization" and drifted towards facts that name the WHO.
    """

    def __init__(self, synonyms: dict[str, list[str]]) -> None:
        self.additions: dict[str, list[str]] = {}
        for short, expansions in synonyms.items():
            short_folded = fold(short)
            for expansion in expansions:
                long_folded = fold(expansion)
                if not short_folded or not long_folded or short_folded == long_folded:
                    continue
                if short_folded not in STOPWORDS:
                    self.additions.setdefault(short_folded, []).append(long_folded)
                self.additions.setdefault(long_folded, []).append(short_folded)
        self.phrases = sorted(self.additions, key=len, reverse=True)
        alternation = "|".join(re.escape(p) for p in self.phrases)
        self.pattern = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)") if self.phrases else None

    def expand(self, folded: str) -> str:
        if self.pattern is None:
            return folded
        extra = [add for m in self.pattern.finditer(folded) for add in self.additions[m.group()]]
        return " ".join([folded, *dict.fromkeys(extra)]) if extra else folded

    def expand_all(self, folded: list[str]) -> tuple[list[str], Tokens]:
        """`expand` of every folded text, and the tokens of the results.

        The regex scan cost a tenth of a second per 60,000 phrasings, so phrases are found
        among the texts' word ids with numpy instead. In folded text (runs of word characters
        between single spaces) a phrase matches exactly where its words are consecutive tokens
        of one text; the regex takes the leftmost match, the longest phrase at that start, and
        goes on after it, and so does this.
        """
        tokens = Tokens.split(folded)
        matches = self._matches(tokens)
        if matches is None:
            return list(folded), tokens
        starts, ranks = matches
        documents = tokens.documents[starts]
        bounds = [0, *(np.flatnonzero(np.diff(documents)) + 1).tolist(), len(documents)]
        documents, ranks = documents.tolist(), ranks.tolist()
        texts = list(folded)
        changed: list[int] = []
        suffixes: list[str] = []
        suffix_of: dict[tuple[int, ...], str] = {}
        for first, last in itertools.pairwise(bounds):
            found = (ranks[first],) if last - first == 1 else tuple(ranks[first:last])
            suffix = suffix_of.get(found)  # the same phrases in the same order: same suffix
            if suffix is None:
                extra = [add for rank in found for add in self.additions[self.phrases[rank]]]
                suffix = suffix_of[found] = " ".join(dict.fromkeys(extra))
            document = documents[first]
            texts[document] += " " + suffix
            changed.append(document)
            suffixes.append(suffix)
        return texts, tokens.with_suffixes(changed, suffixes)

    def _matches(self, tokens: Tokens) -> tuple[np.ndarray, np.ndarray] | None:
        """Token positions where the regex would match, and which phrase (index in
        `self.phrases`) it would match there; None when no phrase can occur."""
        numbering = {word: i for i, word in enumerate(tokens.words)}
        by_first: dict[int, list[tuple[int, list[int]]]] = {}
        for rank, phrase in enumerate(self.phrases):
            ids = [numbering.get(word) for word in phrase.split()]
            if None not in ids:
                by_first.setdefault(ids[0], []).append((rank, ids))
        if not by_first:
            return None
        ids, documents, count = tokens.ids, tokens.documents, len(tokens.ids)
        firsts = np.array(list(by_first), dtype=np.int64)
        candidates = np.flatnonzero(np.isin(ids, firsts))
        candidates = candidates[np.argsort(ids[candidates], kind="stable")]
        low = np.searchsorted(ids[candidates], firsts).tolist()
        high = np.searchsorted(ids[candidates], firsts, side="right").tolist()
        starts, ends, ranks = [], [], []
        for first, a, b in zip(firsts.tolist(), low, high, strict=True):
            for rank, phrase in by_first[first]:
                at = candidates[a:b]
                at = at[at + len(phrase) <= count]
                for offset in range(1, len(phrase)):
                    at = at[ids[at + offset] == phrase[offset]]
                at = at[documents[at + len(phrase) - 1] == documents[at]]
                starts.append(at)
                ends.append(at + len(phrase))
                ranks.append(np.full(len(at), rank))
        start, end, rank = np.concatenate(starts), np.concatenate(ends), np.concatenate(ranks)
        order = np.lexsort((rank, start))  # by position, then longest phrase first
        start, end, rank = start[order], end[order], rank[order]
        first_at = np.ones(len(start), dtype=bool)
        first_at[1:] = start[1:] != start[:-1]
        start, end, rank = start[first_at], end[first_at], rank[first_at]
        # A match starting inside the previous one in its text is skipped, as the scan would.
        inside = np.zeros(len(start), dtype=bool)
        inside[1:] = (documents[start[1:]] == documents[start[:-1]]) & (start[1:] < end[:-1])
        if inside.any():
            keep = np.ones(len(start), dtype=bool)
            reached: dict[int, int] = {}
            for i, (at, stop) in enumerate(zip(start.tolist(), end.tolist(), strict=True)):
                document = int(documents[at])
                if at < reached.get(document, 0):
                    keep[i] = False
                else:
                    reached[document] = stop
            start, rank = start[keep], rank[keep]
        if not len(start):
            return None
        return start, rank


_FEW_WORDS = 100  # candidates extractOne scores faster than numpy can rule them out


class Spelling:
    """Corrects a misspelt word to the knowledge's word with the best rapidfuzz ratio (at least
    `cutoff`; the first such word in `vocabulary` order on a tie), as extractOne over the whole
    vocabulary does, but scoring only the words that could reach the cut-off. extractOne over
    a few thousand words took a fifth of a millisecond per unknown word.

    ratio = 200 * LCS / (len_a + len_b), and the LCS is at most the shorter length (so lengths
    must be within 0.84/1.16 of each other for 84) and at most the characters the words share,
    counted with multiplicity. Words are kept sorted by length, so the length window is one
    slice; `_at_least[(ch, k)]` marks the words with k or more `ch`, so the shared count of a
    word with the candidates is one sum over its (character, k) rows.
    """

    def __init__(self, vocabulary: list[str], cutoff: float) -> None:
        self.vocabulary = vocabulary
        self.cutoff = cutoff
        self._order = sorted(range(len(vocabulary)), key=lambda i: len(vocabulary[i]))
        self._lengths = np.array([len(vocabulary[i]) for i in self._order], dtype=np.int64)
        rows: dict[tuple[str, int], np.ndarray] = {}
        for position, index in enumerate(self._order):
            for char, count in Counter(vocabulary[index]).items():
                for k in range(1, count + 1):
                    row = rows.get((char, k))
                    if row is None:
                        row = rows[(char, k)] = np.zeros(len(vocabulary), dtype=np.uint8)
                    row[position] = 1
        self._row = {key: i for i, key in enumerate(rows)}
        self._at_least = np.array(list(rows.values()), dtype=np.uint8).reshape(
            len(rows), len(vocabulary)
        )
        self._positions = np.array(self._order, dtype=np.int64)

    def correct(self, word: str) -> str | None:
        """The closest vocabulary word scoring at least the cut-off, or None."""
        ratio = self.cutoff / 100
        low = np.searchsorted(self._lengths, len(word) * ratio / (2 - ratio) - 1e-9)
        high = np.searchsorted(self._lengths, len(word) * (2 - ratio) / ratio + 1e-9, "right")
        rows = [
            self._row[(char, k)]
            for char, count in Counter(word).items()
            for k in range(1, count + 1)
            if (char, k) in self._row
        ]
        if low >= high or not rows:
            return None
        if high - low <= _FEW_WORDS:
            found = np.sort(self._positions[low:high]).tolist()
        else:
            shared = self._at_least[rows, low:high].sum(axis=0, dtype=np.int64)
            possible = 200 * shared >= self.cutoff * (len(word) + self._lengths[low:high]) - 1e-6
            found = np.sort(self._positions[low:high][possible]).tolist()
        choices = [self.vocabulary[i] for i in found]
        best = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=self.cutoff)
        return best[0] if best else None


class Matcher:
    """Index of all fact phrasings; `rank` scores a question against it."""

    def __init__(self, knowledge: Knowledge, weights: Weights | None = None) -> None:
        self.weights = weights or Weights()
        self.knowledge = knowledge
        self.synonyms = Synonyms(knowledge.synonyms)
        self.mentions = MeetingMentions(knowledge)
        self.fact_ids: list[str] = []
        self.phrasings: list[str] = []
        texts: list[str] = []
        weights: list[float] = []
        rows: list[int] = []  # rows per fact: its questions, then its answer
        for fact in knowledge.facts.values():
            rows.append(len(fact.questions) + 1)
            self.fact_ids.extend([fact.id] * rows[-1])
            answer_row = fact.answer if self.weights.answer == 1.0 else fact.questions[0]
            self.phrasings.extend([*fact.questions, answer_row])
            texts.extend([*fact.questions, fact.answer])
            weights.extend([1.0] * len(fact.questions) + [self.weights.answer])
        # Each text expanded, and split into words once for all the indexes (see `vectors`).
        folded, tokens = self.synonyms.expand_all(list(map(fold, texts)))
        self.folded = folded
        self.row_weight = np.array(weights, dtype=np.float32)
        self.meeting_code = {m: i for i, m in enumerate(knowledge.meetings)}
        meetings = [self.meeting_code[fact.meeting] for fact in knowledge.facts.values()]
        self.row_meeting = np.repeat(np.array(meetings, dtype=np.int32), rows)
        self.fact_order = fact_order = list(knowledge.facts)
        position = {fact_id: i for i, fact_id in enumerate(fact_order)}
        self.row_fact = np.repeat(np.arange(len(fact_order), dtype=np.int64), rows)
        # The indexes' terms are built from word ids, equal to what word_terms / char_terms
        # give for each text. A fact's document is its phrasings joined with spaces, rows being
        # grouped by fact in fact order.
        stems = [stem(w) for w in tokens.words]
        fact_tokens = tokens.merged(self.row_fact, len(fact_order))
        terms = WordTerms(tokens, stems, _bigram)
        self.fact_words = terms.index(word_terms, fact_tokens)
        self.fact_stems = fact_tokens.term_sets(stems)
        self.words = terms.index(word_terms, tokens)
        self.chars = TfidfIndex.from_units(
            char_terms, tokens, [_content_grams(w) for w in tokens.words]
        )
        self.position = position
        questions = np.flatnonzero(np.array(weights) == 1.0).tolist()
        self.classifier = classifier_for(
            [folded[i] for i in questions],
            self.row_fact[questions].tolist(),
            word_terms,
            model_char_terms,
        )
        firsts = np.searchsorted(self.row_fact, np.arange(len(fact_order))).tolist()
        self.first_row: dict[str, int] = dict(zip(fact_order, firsts, strict=True))
        self.vocabulary = sorted(w for w in tokens.words if len(w) >= 4)
        self._vocabulary_set = set(self.vocabulary)
        self._spelling = Spelling(self.vocabulary, 84)

    def normalise(self, question: str) -> str:
        """Folded question with misspelt words corrected and abbreviations expanded."""
        words = []
        for word in fold(question).split():
            if len(word) >= 5 and word not in self._vocabulary_set and word.isalpha():
                word = self._spelling.correct(word) or word
            words.append(word)
        return self.synonyms.expand(" ".join(words))

    def rank(self, question: str, context_meeting: str | None = None) -> Ranking:
        text = self.normalise(question)
        if context_meeting in self.meeting_code and FOLLOW_UP.search(text):
            named = self.mentions.find(text)
            if not named.strengths:
                # In "and who chaired it?" "it" is the meeting in context: ranked as if the
                # question named it, the meeting's own chair fact wins over any other fact that
                # merely says "who ... it".
                name = self.normalise(self.knowledge.meetings[context_meeting].name)
                ranking = self._rank(f"{text} {name}", context_meeting)
                return dataclasses.replace(ranking, mentions=named)
        return self._rank(text, context_meeting)

    def _rank(self, text: str, context_meeting: str | None) -> Ranking:
        w = self.weights
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
        # One rapidfuzz call for all the candidates, then each fact's best phrasing: the first
        # of its highest-scoring ones in `top` order (a stable sort keeps that order on ties).
        fuzzy = process.cdist(
            [text], [self.folded[i] for i in top], scorer=fuzz.token_set_ratio, dtype=np.float64
        )[0]
        weight = self.row_weight[top].astype(np.float64)
        rescored = scores[top].astype(np.float64) + w.fuzzy * (fuzzy / 100.0) * weight
        best: dict[str, Candidate] = {}
        for position in np.argsort(-rescored, kind="stable").tolist():
            index = int(top[position])
            fact_id = self.fact_ids[index]
            if fact_id not in best:
                best[fact_id] = Candidate(fact_id, self.phrasings[index], float(rescored[position]))
        if self.classifier is not None:
            best = self._with_classifier(text, best, adjustment)
        named_years = {*mentions.years, *(year for year, _ in mentions.months)}
        asked = {name for name, pattern in ASPECTS.items() if pattern.search(text)}
        if named_years or asked:
            named_months = set(mentions.months)
            best = {
                f: self._penalised(c, named_years, named_months, asked) for f, c in best.items()
            }
        ordered = sorted(best.values(), key=lambda c: (-c.score, c.fact))
        return Ranking(text, ordered, mentions, word_vector.known_share, self._distinctive(text))

    def _distinctive(self, text: str) -> bool:
        """Whether a word of the question occurs in the facts of one meeting only."""
        owners = self.stem_meetings
        return any(len(owners.get(word, ())) == 1 for word in content_stems(text))

    def coverage(self, text: str, fact_id: str) -> float:
        """Share of the question's content words found in the fact's texts or its meeting's
        names and place.

        "What is the capital of Azerbaijan?" matches the one fact that names Azerbaijan so
        well that the linear model is sure of it, yet that fact says nothing of a capital: a
        question whose words the answer does not use asks something else.
        """
        wanted = content_stems(text)
        if not wanted:
            return 1.0
        in_fact = self.fact_stems[self.position[fact_id]]
        in_names = self.meeting_stems[self.knowledge.facts[fact_id].meeting]
        return sum(w in in_fact or w in in_names for w in wanted) / len(wanted)

    @functools.cached_property
    def meeting_stems(self) -> dict[str, frozenset[str]]:
        """Per meeting, the stems of its name, aliases, place and organisers."""
        stems = {}
        for meeting in self.knowledge.meetings.values():
            names = [meeting.name, *meeting.aliases, meeting.place or "", *meeting.organisers]
            words = " ".join(self.synonyms.expand(fold(name)) for name in names).split()
            stems[meeting.id] = frozenset(map(stem, words))
        return stems

    @functools.cached_property
    def stem_meetings(self) -> dict[str, frozenset[str]]:
        """The meetings whose facts (questions and answer) use each word stem."""
        owners: dict[str, set[str]] = {}
        for fact_id, stems in zip(self.fact_order, self.fact_stems, strict=True):
            meeting = self.knowledge.facts[fact_id].meeting
            for word in stems:
                owners.setdefault(word, set()).add(meeting)
        return {word: frozenset(meetings) for word, meetings in owners.items()}

    def _penalised(
        self,
        candidate: Candidate,
        named_years: set[int],
        named_months: set[tuple[int, int]],
        asked: set[str],
    ) -> Candidate:
        """Lower a fact the question cannot be about.

        A fact that neither happened in nor mentions any year the question names loses
        `year_penalty` ("who was the OSCE chairman in 2010" is not about the 2004 co-chairs), and
        `month_penalty` more for a named month of a year ("the Security Council debate of October
        2008" is not the yearly debate of October 2006 a fact reports). One none of whose texts
        speaks of what the question asks for (a chair, a count, who came, money, what was
        decided) loses `aspect_penalty`, more than any fact scores, so it is never the answer:
        "who chaired the Quito conference?" is not answered by the fact that says when and where
        it was, however well the rest of the question matches it.
        """
        years, months, aspects = self.fact_clues[candidate.fact]
        penalty = 0.0
        if named_years and not named_years & years:
            penalty += self.weights.year_penalty
        if named_months and not named_months & months:
            penalty += self.weights.month_penalty
        if not asked <= aspects:
            penalty += self.weights.aspect_penalty
        if not penalty:
            return candidate
        return dataclasses.replace(candidate, score=candidate.score - penalty)

    @functools.cached_property
    def fact_clues(
        self,
    ) -> dict[str, tuple[frozenset[int], frozenset[tuple[int, int]], frozenset[str]]]:
        """Per fact, in one pass over its texts: the years and the (year, month)s it is about
        (its meeting's span and any its answer, quote or questions name) and the ASPECTS those
        texts speak of."""
        clues = {}
        for fact in self.knowledge.facts.values():
            texts = [fold(text) for text in (fact.answer, fact.quote, *fact.questions)]
            years = {int(year) for text in texts for year in _YEAR.findall(text)}
            months = {named for text in texts for named in named_dates(text.split())[1]}
            meeting = self.knowledge.meetings[fact.meeting]
            if meeting.start is not None:
                last = meeting.end or meeting.start
                years.update(range(meeting.start.year, last.year + 1))
                months.update(_months_between(meeting.start, last))
            aspects = {name for name, pattern in ASPECTS.items() if any(map(pattern.search, texts))}
            if not self.announces(fact):
                aspects.add("outcome")
            clues[fact.id] = (frozenset(years), frozenset(months), frozenset(aspects))
        return clues

    def announces(self, fact: Fact) -> bool:
        """Whether the fact's meeting began after the month its source was written in.

        Such a fact announces the meeting ("CSW 49 was scheduled for 28 February 2005"), and a
        question about what that meeting decided or adopted asks what no document here records.
        Undated sources and meetings, and sources dated by year only, are taken to report.
        """
        meeting = self.knowledge.meetings[fact.meeting]
        written = self.knowledge.sources[fact.source].date
        if meeting.start is None or written is None or written.month is None:
            return False
        return (meeting.start.year, meeting.start.month or 12) > (written.year, written.month)

    def _with_classifier(
        self, text: str, best: dict[str, Candidate], adjustment: np.ndarray
    ) -> dict[str, Candidate]:
        """Add the linear model's view: its decision value for each candidate, and its own
        top facts when the similarity search missed them (with the same meeting adjustment,
        so a follow-up still prefers the meeting in context)."""
        assert self.classifier is not None
        w = self.weights
        decision = self.classifier.decision(text, len(self.fact_order))
        combined = {}
        for fact_id, c in best.items():
            model = float(decision[self.position[fact_id]])
            combined[fact_id] = Candidate(
                fact_id, c.question, c.score + w.classifier * model, model
            )
        for index in np.argsort(-decision, kind="stable")[: w.classifier_extra]:
            fact_id = self.fact_order[index]
            if fact_id not in combined:
                question = self.knowledge.facts[fact_id].questions[0]
                adjust = float(adjustment[self.first_row[fact_id]])
                model = float(decision[index])
                combined[fact_id] = Candidate(
                    fact_id, question, w.classifier * model + adjust, model
                )
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


def _months_between(start: PartialDate, last: PartialDate) -> list[tuple[int, int]]:
    """Every (year, month) from `start` to `last`; all twelve of a year whose month is unknown."""
    first = (start.year, start.month or 1)
    final = (last.year, last.month or 12)
    return [
        (year, month)
        for year in range(first[0], final[0] + 1)
        for month in range(1, 13)
        if first <= (year, month) <= final
    ]


def _top_indices(scores: np.ndarray, count: int) -> np.ndarray:
    if len(scores) <= count:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, count)[:count]
    return part[np.argsort(-scores[part], kind="stable")]
