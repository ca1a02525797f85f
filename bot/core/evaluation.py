"""Scoring the engine on a question set, the way `rasa test nlu` scores an NLU model.

A case names the fact it expects, or `no_match` / `clarify`. In-scope accuracy counts only
exact answers; a clarification on an in-scope case is not wrong, just not right; an answer
with the wrong fact is the figure to keep near zero.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.engine import Context, Engine
from bot.core.replies import Reply, Status

OUT_OF_SCOPE = "no_match"
CLARIFY = "clarify"
STRUCTURE = "structure"


@dataclass(frozen=True)
class Case:
    question: str
    expect: str
    context: str | None = None


@dataclass
class Outcome:
    case: Case
    reply: Reply

    @property
    def got(self) -> str:
        if self.reply.status == Status.ANSWERED:
            if self.reply.fact is None:
                return STRUCTURE
            return self.reply.fact
        return self.reply.status.value

    @property
    def correct(self) -> bool:
        if self.case.expect == OUT_OF_SCOPE:
            return self.reply.status in (Status.NO_MATCH, Status.SMALLTALK)
        return self.got == self.case.expect


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def _in_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.expect not in (OUT_OF_SCOPE, CLARIFY)]

    @property
    def in_scope_accuracy(self) -> float:
        cases = self._in_scope()
        return sum(o.correct for o in cases) / len(cases) if cases else 1.0

    @property
    def wrong_answer_rate(self) -> float:
        """Share of in-scope and clarify cases answered with a fact that was not expected."""
        cases = [o for o in self.outcomes if o.case.expect != OUT_OF_SCOPE]
        wrong = [o for o in cases if o.reply.status == Status.ANSWERED and not o.correct]
        return len(wrong) / len(cases) if cases else 0.0

    @property
    def out_of_scope_refusal(self) -> float:
        cases = [o for o in self.outcomes if o.case.expect == OUT_OF_SCOPE]
        return sum(o.correct for o in cases) / len(cases) if cases else 1.0

    @property
    def clarification_rate(self) -> float:
        cases = self._in_scope()
        return sum(o.reply.status == Status.CLARIFY for o in cases) / len(cases) if cases else 0.0

    @property
    def clarified_with_right_choice(self) -> float:
        """In-scope cases that got a clarification offering the expected fact: one tap away."""
        cases = self._in_scope()
        offered = [
            o
            for o in cases
            if o.reply.status == Status.CLARIFY
            and o.case.expect in {a.fact for a in o.reply.alternatives}
        ]
        return len(offered) / len(cases) if cases else 0.0

    @property
    def clarify_accuracy(self) -> float:
        cases = [o for o in self.outcomes if o.case.expect == CLARIFY]
        return sum(o.correct for o in cases) / len(cases) if cases else 1.0

    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]

    def confused_pairs(self, limit: int = 10) -> list[tuple[tuple[str, str], int]]:
        pairs = collections.Counter(
            (o.case.expect, o.got)
            for o in self.outcomes
            if not o.correct and o.reply.status == Status.ANSWERED
        )
        return pairs.most_common(limit)

    def format(self) -> str:
        counts = collections.Counter(
            "out of scope" if o.case.expect == OUT_OF_SCOPE
            else "clarify" if o.case.expect == CLARIFY else "in scope"
            for o in self.outcomes
        )  # fmt: skip
        lines = [
            f"cases: {len(self.outcomes)} ({', '.join(f'{v} {k}' for k, v in counts.items())})",
            f"in-scope accuracy:      {self.in_scope_accuracy:7.1%}",
            f"wrong-answer rate:      {self.wrong_answer_rate:7.1%}",
            f"out-of-scope refusal:   {self.out_of_scope_refusal:7.1%}",
            f"clarification rate:     {self.clarification_rate:7.1%} (in-scope cases)",
            f"  offering the right fact:{self.clarified_with_right_choice:6.1%}",
            f"clarify cases right:    {self.clarify_accuracy:7.1%}",
        ]
        misses = self.misses()
        if misses:
            lines.append(f"\nmisses ({len(misses)}):")
            for o in misses:
                lines.append(
                    f"  {o.case.question!r}\n    expected {o.case.expect}, got {o.got}"
                    f" (score {o.reply.score:.2f})"
                )
        pairs = self.confused_pairs()
        if pairs:
            lines.append("\nmost confused (expected -> answered):")
            lines += [f"  {n} x {a} -> {b}" for (a, b), n in pairs]
        return "\n".join(lines)


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data.get("cases", []) if isinstance(data, dict) else data
    cases = []
    for number, item in enumerate(items or [], start=1):
        if not isinstance(item, dict) or "q" not in item or "expect" not in item:
            raise ValueError(f"case {number} needs `q` and `expect`: {item!r}")
        cases.append(Case(str(item["q"]), str(item["expect"]), item.get("context")))
    return cases


def evaluate(engine: Engine, cases: list[Case]) -> Report:
    report = Report()
    for case in cases:
        context = Context(meeting=case.context) if case.context else None
        report.outcomes.append(Outcome(case, engine.answer(case.question, context)))
    return report
