"""The engine on the development question set (tests/questions.yaml), held to a floor.

The floors are today's measured levels minus a small margin, so a change that makes answers
worse fails here. They are below the product's targets (95% right, at most 2% wrong): see the
closing notes of the answer-engine issue for where the gap comes from.
"""

from __future__ import annotations

import pytest

from bot.core import Engine
from bot.core.evaluation import Report, evaluate, load_cases
from tests.conftest import ROOT

FLOORS = {
    "in_scope_accuracy": 0.52,
    "out_of_scope_refusal": 0.95,
    "clarify_accuracy": 0.60,
}
CEILING_WRONG = 0.03


@pytest.fixture(scope="module")
def report(engine: Engine) -> Report:
    return evaluate(engine, load_cases(ROOT / "tests" / "questions.yaml"))


def test_question_set_is_large_and_varied(report: Report) -> None:
    expects = [o.case.expect for o in report.outcomes]
    assert len(expects) >= 200
    assert expects.count("no_match") >= 50
    assert expects.count("clarify") >= 5


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_metric_holds_its_floor(report: Report, metric: str) -> None:
    assert getattr(report, metric) >= FLOORS[metric], report.format()


def test_wrong_answers_stay_rare(report: Report) -> None:
    assert report.wrong_answer_rate <= CEILING_WRONG, report.format()


def test_every_expected_fact_exists(report: Report, engine: Engine) -> None:
    special = {"no_match", "clarify", "structure"}
    unknown = {o.case.expect for o in report.outcomes} - special - set(engine.knowledge.facts)
    assert not unknown
