"""The static embeddings: read from the installed wheel, unit length, and about meaning."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from bot.core.embedding import DIMENSIONS, embedder
from bot.core.knowledge import Knowledge
from bot.core.text import fold


def _cosine(a: str, b: str) -> float:
    first, second = embedder().embed([a, b])
    return float(first @ second)


def test_vectors_are_unit_length_and_one_text_matches_many() -> None:
    texts = ["who chaired the meeting", "trafficking in human beings", "geneva"]
    vectors = embedder().embed(texts)
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for text, vector in zip(texts, vectors, strict=True):
        assert np.allclose(embedder().embed_one(text), vector, atol=1e-6)


def test_a_text_without_tokens_is_the_zero_vector() -> None:
    assert not embedder().embed_one("").any()
    assert not embedder().embed([""]).any()


def test_paraphrases_sharing_no_word_are_closer_than_unrelated_questions() -> None:
    question = "harsher jail terms for traffickers"
    assert _cosine(question, "punishment of people who sell women") > _cosine(
        question, "which city hosted the meeting"
    )
    assert _cosine("in what town did they gather", "where was the meeting held") > _cosine(
        "in what town did they gather", "who was elected rapporteur"
    )


def test_loading_leaves_logging_alone() -> None:
    """wordllama's own package sets the root logger to INFO on import, which would let httpx
    log request URLs with the bot token; the embedder must not import it."""
    code = (
        "import logging, sys\n"
        "from bot.core.embedding import embedder\n"
        "embedder().embed_one('who chaired it')\n"
        "assert 'wordllama' not in sys.modules, 'wordllama was imported'\n"
        "assert not logging.getLogger().handlers, logging.getLogger().handlers\n"
        "assert logging.getLogger().level == logging.WARNING\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_word_by_word_tokens_are_the_whole_text_s_tokens(knowledge: Knowledge) -> None:
    """The per-word cache is only a shortcut: on every folded text of the shipped knowledge
    it must give what the tokenizer gives for the whole text."""
    model = embedder()
    texts = [fold(text) for fact in knowledge.facts.values() for text in fact.questions]
    texts += ["", "beijing+10 unece 2004", "ianwge's 6th session"]
    for text in texts:
        assert model.ids(text) == model.tokenizer.encode(text, add_special_tokens=False).ids
