"""The engine on the development question set (tests/questions.yaml), held to a floor.

The floors are today's measured levels minus a small margin, so a change that makes answers
worse fails here. Wrong answers and refusals meet the product's targets (at most 2% wrong, 95%
refused); in-scope accuracy is below its 95%: see the answer-engine issue's closing notes.
"""

from __future__ import annotations

import pytest

from bot.core import Engine
from bot.core.evaluation import Report, evaluate, load_cases
from tests.conftest import ROOT

FLOORS = {
    "in_scope_accuracy": 0.86,
    "out_of_scope_refusal": 0.95,
    "clarify_accuracy": 0.75,
}
CEILING_WRONG = 0.02


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


# The held-out set (see its header): right and wrong answers meet the product's bars there;
# near misses are refused far less often than on the development set, a known gap.
HOLDOUT_FLOORS = {"in_scope_accuracy": 0.95, "out_of_scope_refusal": 0.63}


@pytest.fixture(scope="module")
def holdout(engine: Engine) -> Report:
    return evaluate(engine, load_cases(ROOT / "tests" / "questions_holdout.yaml"))


@pytest.mark.parametrize("metric", sorted(HOLDOUT_FLOORS))
def test_held_out_metric_holds_its_floor(holdout: Report, metric: str) -> None:
    assert getattr(holdout, metric) >= HOLDOUT_FLOORS[metric], holdout.format()


def test_held_out_wrong_answers_stay_rare(holdout: Report) -> None:
    assert holdout.wrong_answer_rate <= CEILING_WRONG, holdout.format()


# The blind set (see its header), measured once before it informed one choice.
BLIND_FLOORS = {"in_scope_accuracy": 0.93, "out_of_scope_refusal": 0.75, "clarify_accuracy": 0.6}
BLIND_CEILING_WRONG = 0.03  # 2 of its 95 in-scope and clarify cases today (2.1%)


@pytest.fixture(scope="module")
def blind(engine: Engine) -> Report:
    return evaluate(engine, load_cases(ROOT / "tests" / "questions_blind.yaml"))


@pytest.mark.parametrize("metric", sorted(BLIND_FLOORS))
def test_blind_metric_holds_its_floor(blind: Report, metric: str) -> None:
    assert getattr(blind, metric) >= BLIND_FLOORS[metric], blind.format()


def test_blind_wrong_answers_stay_rare(blind: Report) -> None:
    assert blind.wrong_answer_rate <= BLIND_CEILING_WRONG, blind.format()
