"""The fast index builders and query paths against straightforward reference computations.

`vectors` and parts of `matching` and `mentions` build their tables with numpy and take
shortcuts (shared posting lists, bounds that skip fuzzy scoring). Each shortcut must give what
the plain computation gives: these tests compare them on small random inputs and on the
shipped knowledge.
"""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest
from rapidfuzz import fuzz, process

from bot.core.engine import Engine
from bot.core.knowledge import Knowledge
from bot.core.matching import Spelling, Synonyms, char_terms, stem, word_terms
from bot.core.mentions import MeetingMentions
from bot.core.text import fold
from bot.core.vectors import TfidfIndex, Tokens, WordTerms

WORDS = ["who", "chaired", "the", "meeting", "in", "geneva", "chair", "a", "unece", "of", "x"]


def _documents(rng: random.Random, count: int) -> list[str]:
    return [" ".join(rng.choices(WORDS, k=rng.randint(0, 8))) for _ in range(count)]


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word))
    return word[:i] + rng.choice("aeioustrn") + word[i + 1 :]


def _reference(analyzer: object, documents: list[str], query: str) -> tuple[np.ndarray, float]:
    """Cosine similarities by the definition: sublinear tf, smooth idf, L2 norms, and the
    query's unknown terms weighted with the highest idf and counted in its norm."""
    counts = [Counter(analyzer(d)) for d in documents]  # type: ignore[operator]
    vocabulary = sorted({t for c in counts for t in c})
    size = len(documents)
    frequency = {t: sum(t in c for c in counts) for t in vocabulary}
    idf = {t: math.log((size + 1) / (frequency[t] + 1)) + 1 for t in vocabulary}
    rows = np.array([[(1 + math.log(c[t])) * idf[t] if t in c else 0.0 for t in vocabulary]
                     for c in counts]).reshape(size, len(vocabulary))  # fmt: skip
    norms = np.linalg.norm(rows, axis=1)
    rows /= np.where(norms == 0, 1, norms)[:, None]
    asked = Counter(analyzer(query))  # type: ignore[operator]
    unknown_idf = math.log(size + 1) + 1
    vector = np.array([(1 + math.log(asked[t])) * idf[t] if t in asked else 0.0
                       for t in vocabulary])  # fmt: skip
    known = float(vector @ vector)
    unknown = sum(((1 + math.log(n)) * unknown_idf) ** 2 for t, n in asked.items()
                  if t not in idf)  # fmt: skip
    total = known + unknown
    return rows @ (vector / (math.sqrt(total) or 1.0)), (known / total if total else 0.0)


@pytest.mark.parametrize("analyzer", [word_terms, char_terms])
@pytest.mark.parametrize("seed", range(6))
def test_similarities_match_the_definition(analyzer: object, seed: int) -> None:
    rng = random.Random(seed)
    documents = _documents(rng, rng.randint(1, 30))
    index = TfidfIndex(analyzer, documents)  # type: ignore[arg-type]
    for query in [*_documents(rng, 10), "g20 summit in lima", ""]:
        expected, known_share = _reference(analyzer, documents, query)
        vector = index.query(query)
        assert vector.known_share == pytest.approx(known_share, abs=1e-6)  # float32 idf
        assert np.allclose(index.similarities(vector), expected, atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_numpy_builders_give_the_general_index(seed: int) -> None:
    """WordTerms and from_units (what Matcher uses) against TfidfIndex(analyzer, texts)."""
    rng = random.Random(seed)
    texts = _documents(rng, rng.randint(1, 40))
    owner = np.sort(rng.choices(range(max(1, len(texts) // 3)), k=len(texts)))
    facts = int(owner.max()) + 1 if len(texts) else 0
    joined = ["".join(" " + t for t, o in zip(texts, owner, strict=True) if o == f)
              for f in range(facts)]  # fmt: skip
    tokens = Tokens.split(texts)
    stems = [stem(w) for w in tokens.words]
    terms = WordTerms(tokens, stems, lambda a, b: f"{a}_{b}")
    merged = tokens.merged(owner, facts)
    built = {
        "words": (terms.index(word_terms, tokens), TfidfIndex(word_terms, texts)),
        "facts": (terms.index(word_terms, merged), TfidfIndex(word_terms, joined)),
        "chars": (
            TfidfIndex.from_units(char_terms, tokens, [char_terms(w) for w in tokens.words]),
            TfidfIndex(char_terms, texts),
        ),
    }
    for fast, plain in built.values():
        assert set(fast.vocabulary) == set(plain.vocabulary)
        for term, column in plain.vocabulary.items():
            assert fast.idf[fast.vocabulary[term]] == plain.idf[column]
        for query in [*_documents(rng, 8), "chair chair geneva unknown"]:
            a, b = fast.query(query), plain.query(query)
            assert a.known_share == b.known_share
            assert np.allclose(fast.similarities(a), plain.similarities(b), atol=1e-6)
    assert merged.term_sets(stems) == [{stem(w) for w in doc.split()} for doc in joined]


def test_tokens_split_like_str_split() -> None:
    texts = ["a b", "", "b  c ", " ", "a\x00b c", "d", ""]
    tokens = Tokens.split(texts)
    for document, text in enumerate(texts):
        found = [tokens.words[i] for i in tokens.ids[tokens.documents == document]]
        assert found == text.split()
    assert Tokens.split([]).size == 0


def test_suffixes_are_tokens_appended_to_their_documents() -> None:
    texts = ["a b", "", "c", "d e"]
    tokens = Tokens.split(texts).with_suffixes([0, 2, 3], ["x y", "a", "e z"])
    expected = Tokens.split(["a b x y", "", "c a", "d e e z"])
    words = [[tokens.words[i] for i in tokens.ids[tokens.documents == d]] for d in range(4)]
    assert words == [[expected.words[i] for i in expected.ids[expected.documents == d]]
                     for d in range(4)]  # fmt: skip


def test_an_abbreviation_that_is_a_common_word_is_expanded_one_way_only() -> None:
    synonyms = Synonyms(
        {"WHO": ["World Health Organization"], "THB": ["trafficking in human beings"]}
    )
    assert synonyms.expand("who chaired it") == "who chaired it"
    assert synonyms.expand("what did the world health organization say").endswith(" who")
    assert synonyms.expand("thb").endswith("trafficking in human beings")


def test_expand_all_is_expand_of_every_text(knowledge: Knowledge) -> None:
    synonyms = Synonyms({**knowledge.synonyms, "ab": ["a b"], "a b c": ["x"], "b c": ["y"]})
    phrases = list(synonyms.additions)
    rng = random.Random(3)
    texts = [fold(t) for fact in knowledge.facts.values() for t in (*fact.questions, fact.answer)]
    texts += ["a b c", "a b c d", "x a b", "b c a b", "a b a b c", "ab ab", "a b c b c", ""]
    for _ in range(2000):
        parts = [rng.choice(phrases) if rng.random() < 0.5 else rng.choice(WORDS)
                 for _ in range(rng.randint(0, 5))]  # fmt: skip
        texts.append(fold(" ".join(parts)))
    expanded, tokens = synonyms.expand_all(texts)
    assert expanded == [synonyms.expand(t) for t in texts]
    plain = Tokens.split(expanded)
    assert [tokens.words[i] for i in tokens.ids] == [plain.words[i] for i in plain.ids]
    assert np.array_equal(tokens.documents, plain.documents)


def test_spelling_corrects_like_extract_one(engine: Engine) -> None:
    vocabulary = engine.matcher.vocabulary
    spelling = Spelling(vocabulary, 84)
    rng = random.Random(5)
    words = [_typo(rng.choice(vocabulary), rng) for _ in range(1500)]
    words += ["".join(rng.choices("abcdefghij", k=rng.randint(5, 12))) for _ in range(300)]
    for word in words:
        best = process.extractOne(word, vocabulary, scorer=fuzz.ratio, score_cutoff=84)
        assert spelling.correct(word) == (best[0] if best else None), word


def test_bigram_filter_keeps_every_typo_match(knowledge: Knowledge) -> None:
    """Mentions found with the bigram bound equal those found scoring every long phrase."""
    mentions = MeetingMentions(knowledge)
    everything = MeetingMentions(knowledge)
    everything._typo_filter.candidates = lambda text: everything._long_phrases  # type: ignore[method-assign]
    rng = random.Random(7)
    phrases = list(mentions.phrases)
    texts = []
    for _ in range(1500):
        words = rng.choice(phrases).split()
        words = [_typo(w, rng) if len(w) > 2 and rng.random() < 0.3 else w for w in words]
        start = rng.randrange(len(words))
        texts.append(" ".join(rng.choices(WORDS, k=rng.randint(0, 4)) + words[start:]))
    for text in map(fold, texts):
        a, b = mentions.find(text), everything.find(text)
        assert list(a.strengths.items()) == list(b.strengths.items()), text
        assert (a.years, a.months) == (b.years, b.months)


def test_classifier_features_match_the_vectorizers(engine: Engine) -> None:
    model = engine.matcher.classifier
    if model is None:
        pytest.skip("knowledge without a linear model")
    for question in ["who chaired the geneva meeting", "unece beijing 10 review", "zzz qqq"]:
        text = engine.matcher.normalise(question)
        columns, weights = model._features(text)
        words = model.words.transform([text])
        chars = model.chars.transform([text])
        expected = np.concatenate([words.toarray()[0], chars.toarray()[0]])
        found = np.zeros_like(expected)
        found[columns] = weights
        assert np.allclose(found, expected, atol=1e-6)


def test_scipy_fallback_gives_the_same_similarities(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without scipy's private loops (`_sparsetools`) the public sparse product is used."""
    import bot.core.vectors as vectors

    matcher = engine.matcher
    texts = [matcher.normalise(q) for q in ("who chaired the geneva meeting", "unece 2004")]
    fast = [[i.similarities(i.query(t)) for t in texts]
            for i in (matcher.words, matcher.chars, matcher.fact_words)]  # fmt: skip
    monkeypatch.setattr(vectors, "_sparsetools", None)
    for found, index in zip(fast, (matcher.words, matcher.chars, matcher.fact_words), strict=True):
        for sims, text in zip(found, texts, strict=True):
            assert np.allclose(index.similarities(index.query(text)), sims, atol=1e-6)
