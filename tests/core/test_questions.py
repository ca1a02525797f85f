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


# Sets no threshold was tuned on (see each file's header), each held to today's level minus a
# margin: (floors, ceiling on wrong answers). Held-out: right and wrong answers meet the product's
# bars, near misses are refused less often than on the development set, a known gap. Blind:
# measured once before it informed one choice; 2 of its 95 cases are answered wrongly today.
# Second blind set: the same, written later by another curator, with more near misses.
OTHER_SETS = {
    "questions_holdout.yaml": (
        {"in_scope_accuracy": 0.95, "out_of_scope_refusal": 0.83},
        CEILING_WRONG,
    ),
    "questions_blind.yaml": (
        {"in_scope_accuracy": 0.93, "out_of_scope_refusal": 0.82, "clarify_accuracy": 0.6},
        0.03,
    ),
    "questions_blind2.yaml": (
        {"in_scope_accuracy": 0.90, "out_of_scope_refusal": 0.78},
        CEILING_WRONG,
    ),
}


@pytest.fixture(scope="module")
def reports(engine: Engine) -> dict[str, Report]:
    return {name: evaluate(engine, load_cases(ROOT / "tests" / name)) for name in OTHER_SETS}


@pytest.mark.parametrize("name", sorted(OTHER_SETS))
def test_other_sets_hold_their_floors_and_ceiling(reports: dict[str, Report], name: str) -> None:
    floors, ceiling = OTHER_SETS[name]
    report = reports[name]
    for metric, floor in floors.items():
        assert getattr(report, metric) >= floor, f"{metric}\n{report.format()}"
    assert report.wrong_answer_rate <= ceiling, report.format()
