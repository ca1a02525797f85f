"""The linear model: which fact a question belongs to, even in words no phrasing uses."""

from __future__ import annotations

import numpy as np

from bot.core.classifier import FactClassifier
from bot.core.matching import model_char_terms, word_terms

FACTS = [
    [
        "how were traffickers punished",
        "penalties for trafficking offenders",
        "prosecution of traffickers",
        "sanctions against people who traffic women",
    ],
    [
        "where was the meeting held",
        "venue of the session",
        "which city hosted it",
        "location of the conference",
    ],
    [
        "who chaired the meeting",
        "name of the chairperson",
        "who presided over the session",
        "who led the proceedings",
    ],
]


def _model() -> FactClassifier:
    texts = [question for fact in FACTS for question in fact]
    labels = [label for label, fact in enumerate(FACTS) for _ in fact]
    return FactClassifier(texts, labels, word_terms, model_char_terms)


def test_a_known_phrasing_scores_its_own_fact_highest() -> None:
    model = _model()
    for label, fact in enumerate(FACTS):
        for question in fact:
            assert int(np.argmax(model.decision(question, len(FACTS)))) == label, question


def test_paraphrases_sharing_no_word_with_any_phrasing_reach_their_fact() -> None:
    """Only the embedding block knows that a town is a place and jail terms are penalties."""
    model = _model()
    assert int(np.argmax(model.decision("in what town did they gather", len(FACTS)))) == 1
    assert int(np.argmax(model.decision("did judges give tougher jail terms", len(FACTS)))) == 0


def test_facts_the_model_never_saw_score_minus_one() -> None:
    decision = _model().decision("who chaired the meeting", len(FACTS) + 2)
    assert decision.shape == (len(FACTS) + 2,)
    assert (decision[len(FACTS) :] == -1.0).all()
