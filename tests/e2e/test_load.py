"""Many users asking at once: every question gets exactly one reply (see tests/e2e/load.py).

The full-size run with timings is ``benchmarks/load.py``.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.fakeapi import FakeTelegram
from tests.e2e.load import LoadOptions, run_load

SMALL = LoadOptions(questions=120, users=10, groups=2, seed=1, rate=40.0, group_share=0.15)


async def test_every_question_from_many_users_gets_exactly_one_reply(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    result = await run_load(telegram, tmp_path, SMALL)
    assert len(result.asked) == SMALL.questions
    assert {a.how for a in result.asked} == {"private", "ask", "mention"}
    assert any(not a.answerable for a in result.asked) and any(a.answerable for a in result.asked)
    assert not result.lost and not result.duplicated, result.problems()
    assert len(result.answered) == SMALL.questions
    assert result.unthreaded == 0 and result.misordered == 0
    assert result.failed_calls == {}, result.failed_calls
    assert result.polls.conflicts == 0 and result.polls.failed == 0
    assert all(a.fetched_at is not None for a in result.asked)
