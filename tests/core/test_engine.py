"""The answer engine's behaviour on the shipped knowledge: what a user would check by hand."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from bot.core import Context, Engine, Status
from bot.core.engine import answer_score
from bot.core.knowledge import knowledge_from_bytes
from bot.core.matching import Candidate, Ranking
from bot.core.mentions import Mentions
from tests.conftest import ROOT


def test_a_question_naming_the_meeting_is_answered_with_its_source(engine: Engine) -> None:
    reply = engine.answer("who chaired the glen cove expert group meeting")
    assert reply.status == Status.ANSWERED
    assert reply.fact == "egm-2002-chairs"
    source = reply.sources[0]
    assert source.document == "egm-2002" and source.quote and source.paragraph


def test_typos_are_tolerated(engine: Engine) -> None:
    reply = engine.answer("who chiared the glen cove meting")
    understood = reply.fact or (reply.alternatives[0].fact if reply.alternatives else None)
    assert reply.status in (Status.ANSWERED, Status.CLARIFY)
    assert understood == "egm-2002-chairs"


def test_a_question_fitting_several_meetings_asks_which_one(engine: Engine) -> None:
    reply = engine.answer("who chaired the meeting?")
    assert reply.status == Status.CLARIFY
    meetings = {engine.knowledge.facts[a.fact].meeting for a in reply.alternatives}
    assert len(meetings) >= 2
    assert "which meeting" in reply.answer.lower()


def test_follow_up_refers_to_the_meeting_in_context(engine: Engine) -> None:
    first = engine.answer("when did the OSCE informal working group on anti-trafficking meet?")
    assert first.status == Status.ANSWERED and first.meeting is not None
    for question in ("and who chaired it?", "where was it held?"):
        follow = engine.answer(question, Context(meeting=first.meeting))
        offered = [follow.fact] if follow.fact else [a.fact for a in follow.alternatives]
        assert follow.status in (Status.ANSWERED, Status.CLARIFY) and offered
        assert {engine.knowledge.facts[f].meeting for f in offered} == {first.meeting}
    without_context = engine.answer("and who chaired it?")
    assert without_context.status != Status.ANSWERED


@pytest.mark.parametrize(
    ("question", "meeting", "expected"),
    [
        ("and when was it?", "ianwge-6-2007", "ianwge-dates"),
        ("who chaired it?", "beijing10-unece-2004", "unece-chairperson"),
        ("and who chaired it?", "osce-iwg-2004", "osce-cochairs"),
    ],
)
def test_it_in_a_follow_up_is_the_meeting_in_context(
    engine: Engine, question: str, meeting: str, expected: str
) -> None:
    """Not a fact of that meeting that merely says "when ... it" ("when did WomanStats start")."""
    reply = engine.answer(question, Context(meeting=meeting))
    assert (reply.status, reply.fact) == (Status.ANSWERED, expected)


def test_a_question_no_word_of_which_points_to_one_meeting_asks_which_one(engine: Engine) -> None:
    """Even when one meeting's fact has a phrasing close to it, as the 2002 expert group
    meeting's dates fact has here; naming the meeting settles it."""
    vague = engine.answer("what dates did the meeting run?")
    assert vague.status == Status.CLARIFY
    assert len({engine.knowledge.facts[a.fact].meeting for a in vague.alternatives}) >= 2
    named = engine.answer("what dates did the glen cove meeting run?")
    assert (named.status, named.fact) == (Status.ANSWERED, "egm-2002-dates")


@pytest.mark.parametrize(
    "question",
    [
        "what's the weather in Geneva tomorrow",
        "who are the members of NATO",
        "what did the G8 summit in 2005 decide about Africa",
        "recommend me a good pizza place in New York",
    ],
)
def test_out_of_scope_questions_are_refused(engine: Engine, question: str) -> None:
    reply = engine.answer(question)
    assert reply.status == Status.NO_MATCH
    assert reply.fact is None and not reply.sources


def test_small_talk_is_not_matched_against_facts(engine: Engine) -> None:
    assert engine.answer("hi there").status == Status.SMALLTALK
    assert engine.answer("thanks!").status == Status.SMALLTALK


def test_meetings_in_a_year_come_from_the_structure(engine: Engine) -> None:
    reply = engine.answer("what meetings were held in 2004")
    assert reply.status == Status.ANSWERED and reply.extra["structure"] == "listing"
    expected = [
        m.name for m in engine.knowledge.meetings.values() if m.start and m.start.year == 2004
    ]
    assert expected and all(name in reply.answer for name in expected)
    others = [
        m.name for m in engine.knowledge.meetings.values() if m.start and m.start.year != 2004
    ]
    assert not any(f": {name} (" in reply.answer or reply.answer.endswith(name) for name in others)


def test_recommendations_of_a_named_meeting_list_its_facts(engine: Engine) -> None:
    reply = engine.answer("recommendations of the IANWGE sixth session")
    assert reply.extra.get("structure") == "recommendations"
    recommended = [
        f for f in engine.knowledge.facts_of("ianwge-6-2007")
        if f.kind in ("recommendation", "conclusion", "decision")
    ]  # fmt: skip
    assert recommended
    assert all(f.answer.splitlines()[0][:40] in reply.answer for f in recommended[:5])


def test_topic_question_lists_meetings_that_dealt_with_it(engine: Engine) -> None:
    reply = engine.answer("which meetings dealt with trafficking?")
    assert reply.extra.get("structure") == "topic"
    assert reply.answer.count("•") >= 3
    assert "Expert Group Meeting" in reply.answer


def test_same_question_same_reply(engine: Engine, knowledge) -> None:
    again = Engine(knowledge)
    for question in ("who chaired the meeting?", "when was the egm", "where is geneva"):
        assert engine.answer(question).to_json() == again.answer(question).to_json()


def test_a_clarification_within_one_meeting_keeps_that_meeting_for_follow_ups(
    engine: Engine,
) -> None:
    reply = engine.answer("who chaired the glen cove meeting?")
    if reply.status == Status.CLARIFY:
        assert reply.meeting == "egm-2002"
    follow = engine.answer("and where was it?", Context(meeting=reply.meeting))
    assert follow.status == Status.ANSWERED and follow.meeting == "egm-2002"


def test_knowledge_too_large_for_the_model_uses_similarity_thresholds(
    knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.core import classifier
    from bot.core.engine import SIMILARITY_ONLY

    monkeypatch.setattr(classifier, "MAX_FACTS", 10)
    small = Engine(knowledge)
    assert small.matcher.classifier is None and small.thresholds == SIMILARITY_ONLY
    reply = small.answer("who chaired the glen cove expert group meeting")
    assert reply.fact == "egm-2002-chairs"


def _ranking(known_share: float, *candidates: Candidate) -> Ranking:
    query = "who chaired it"  # every word found in the chair fact: coverage plays no part
    return Ranking(query, list(candidates), Mentions(strengths={"egm-2002": 1.0}), known_share)


def test_close_siblings_are_answered_when_the_model_clearly_prefers_one(engine: Engine) -> None:
    engine = copy.copy(engine)
    engine.thresholds = replace(engine.thresholds, model_margin=0.6)
    decided = Candidate("egm-2002-chairs", "q", 1.0, model=0.9)
    sibling = Candidate("egm-2002-dates", "q", 0.9, model=0.1)
    reply = engine._decide("q", _ranking(0.8, decided, sibling), None)
    assert reply.status == Status.ANSWERED and reply.fact == "egm-2002-chairs"
    undecided = Candidate("egm-2002-chairs", "q", 1.0, model=0.5)
    reply = engine._decide("q", _ranking(0.8, undecided, sibling), None)
    assert reply.status == Status.CLARIFY
    assert [a.fact for a in reply.alternatives] == ["egm-2002-chairs", "egm-2002-dates"]


def test_unknown_words_raise_the_bar_to_answer(engine: Engine) -> None:
    engine = copy.copy(engine)
    t = replace(engine.thresholds, known_weight=0.5, unknown_words=0.0)
    engine.thresholds = t
    score = t.answer + 0.05
    alone = Candidate("egm-2002-chairs", "q", score)
    assert answer_score(score, 0.5, t) == score
    assert engine._decide("q", _ranking(0.9, alone), None).status == Status.ANSWERED
    assert engine._decide("q", _ranking(0.1, alone), None).status == Status.NO_MATCH


def test_a_year_no_fact_is_about_turns_a_near_miss_into_a_refusal(engine: Engine) -> None:
    assert engine.answer("who was the OSCE chairman in 2010").status == Status.NO_MATCH
    reply = engine.answer("who co-chaired the OSCE informal working group in 2004")
    assert reply.status == Status.ANSWERED and reply.fact == "osce-cochairs"


@pytest.mark.parametrize(
    ("question", "named_by"),
    [
        ("what is the capital of Azerbaijan", "unece-omarova"),
        ("what is the GDP of Turkey", "unece-acar"),
    ],
)
def test_a_question_about_what_its_best_fact_never_mentions_is_refused(
    engine: Engine, question: str, named_by: str
) -> None:
    """The country is named by one fact only, so the model is sure of that fact; but the fact
    says nothing of a capital or a GDP, and answering with it would be confidently wrong."""
    ranking = engine.matcher.rank(question)
    assert ranking.candidates[0].fact == named_by
    assert engine.matcher.coverage(ranking.query, named_by) == 0.5
    assert engine.answer(question).status == Status.NO_MATCH


def test_coverage_counts_the_meeting_s_names_and_ignores_small_words(engine: Engine) -> None:
    coverage = engine.matcher.coverage
    assert coverage("who chaired the glen cove meeting", "egm-2002-chairs") == 1.0
    assert coverage("what is the", "egm-2002-chairs") == 1.0
    assert coverage("zebra chair", "egm-2002-chairs") == 0.5


def test_the_chair_as_the_one_speaking_is_not_a_question_about_who_chaired(
    engine: Engine,
) -> None:
    reply = engine.answer("did the geneva chairperson want tougher punishments for traffickers")
    assert reply.status == Status.ANSWERED and reply.fact == "unece-cc-tr-prosecution"


@pytest.mark.parametrize(
    "question",
    ["how much did the Geneva Beijing+10 meeting cost", "what budget did the OSCE group have"],
)
def test_a_question_asking_for_what_no_fact_holds_is_refused(engine: Engine, question: str) -> None:
    assert engine.answer(question).status == Status.NO_MATCH


def test_the_chairperson_s_conclusions_are_a_document_not_a_question_about_a_chair(
    engine: Engine,
) -> None:
    reply = engine.answer("what do the unece 2004 chairperson's conclusions say about hiv/aids")
    assert reply.status == Status.ANSWERED and reply.fact == "unece-cc-health-hiv-srhr"


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("how many people came to the 10 may 2004 osce informal working group meeting", None),
        ("what was the turnout at the WIDF congress in caracas", None),
        ("how many people attended the sixth IANWGE session", "ianwge-participants-count"),
        ("how many participants attended the unece beijing+10 meeting", "unece-participants-total"),
    ],
)
def test_how_many_came_is_answered_only_by_a_fact_about_who_came(
    engine: Engine, question: str, fact: str | None
) -> None:
    """The OSCE agenda fact counts agenda items and the WIDF fact counts days: both have "how
    many" among their phrasings, and neither says who came."""
    reply = engine.answer(question)
    assert (reply.status, reply.fact) == (
        (Status.ANSWERED, fact) if fact else (Status.NO_MATCH, None)
    )


def test_a_named_month_of_another_year_is_another_event(engine: Engine) -> None:
    reported = "what was said at the Security Council open debate on resolution 1325 in October"
    assert engine.answer(f"{reported} 2006").fact == "ianwge-scr1325-open-debate"
    assert engine.answer(f"{reported} 2009").status == Status.NO_MATCH


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("what did the Commission on the Status of Women adopt at its 49th session in March 2005",
         None),
        ("what was decided at the ECLAC women's conference in Quito in August 2007", None),
        ("when is the ECLAC women's conference in Quito", "ianwge-eclac-quito-conference"),
        ("what did the sixth IANWGE session decide about the dates of the next session",
         "ianwge-next-session"),
    ],
)  # fmt: skip
def test_what_a_meeting_announced_in_advance_decided_is_not_known(
    engine: Engine, question: str, fact: str | None
) -> None:
    """The documents were written before CSW 49 and the Quito conference: they give the dates,
    not the outcomes. The sixth IANWGE session's own decision about the next one is known."""
    reply = engine.answer(question)
    assert (reply.status, reply.fact) == (
        (Status.ANSWERED, fact) if fact else (Status.NO_MATCH, None)
    )
    assert engine.matcher.announces(engine.knowledge.facts["unece-csw49-dates"])
    assert not engine.matcher.announces(engine.knowledge.facts["unece-dates"])


def test_recommendations_of_no_named_meeting_ask_which_meeting(engine: Engine) -> None:
    """One meeting's list, or one recommendation, would be a guess: the reply offers the
    documents' own meetings that have some, oldest first."""
    reply = engine.answer("what were the main recommendations?")
    assert reply.status == Status.CLARIFY and reply.fact is None
    offered = [meeting for meeting, _ in reply.extra["meetings"]]
    assert offered == [
        "egm-2002",
        "osce-iwg-2004",
        "beijing10-unece-2004",
        "ianwge-6-2007",
        "trafficking-conf-2007",
    ]
    assert "Glen Cove" in reply.answer
    in_context = engine.answer("what were the main recommendations?", Context(meeting="egm-2002"))
    assert in_context.status == Status.ANSWERED and in_context.extra["structure"] == (
        "recommendations"
    )
    topical = engine.answer("what were the recommendations on victims of trafficking?")
    assert "meetings" not in topical.extra


def test_recommendations_asked_of_knowledge_without_any_are_not_a_choice_of_nothing() -> None:
    raw = (ROOT / "tests" / "fixtures" / "knowledge" / "valid.yaml").read_bytes()
    without = Engine(knowledge_from_bytes(raw.replace(b"kind: decision", b"kind: other")))
    with_one = Engine(knowledge_from_bytes(raw))
    assert with_one.answer("what were the recommendations?").status == Status.CLARIFY
    assert without.answer("what were the recommendations?").status != Status.CLARIFY
