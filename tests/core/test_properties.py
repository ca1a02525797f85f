"""Properties of `Engine.answer` that must hold for whatever a user types.

Hypothesis throws arbitrary Unicode at the engine built from the shipped knowledge: it must never
raise, must give the same reply to the same question, and every reply must have the shape its
status promises (an answer cites a non-empty quote, a clarification offers a real choice, ...).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.core.engine import Context, Engine
from bot.core.knowledge import Knowledge, load_knowledge
from bot.core.replies import Reply, Status
from bot.core.structure import WHICH_MEETING
from tests.conftest import KNOWLEDGE, ROOT

# The engine fixture is session-scoped, so reusing it across examples is safe.
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

STRUCTURES = {"listing", "recommendations", "topic"}

# Edge cases named in the requirements, tried on every run whatever Hypothesis draws.
SPECIAL_QUESTIONS = [
    "",
    " ",
    "\t\n\r \u00a0\u3000",
    "x" * 10_000,
    "who chaired the meeting " * 420,
    "😀🎉👩‍👩‍👧‍👦🇺🇳",
    "🏳️‍🌈 who chaired? 🤔",
    "من ترأس الاجتماع في جنيف؟",
    "מי ניהל את הפגישה בז'נבה?",
    "who chaired \u202ethe meeting\u202c in Geneva?",
    "\u200b\u200c\u200d\u2060\ufeff",
    "who\u200bchaired\u200dthe\u00admeeting?",
    "\x00\x01\x02\x1b[31m\x7f\x9f",
    "<b>x</b> & <a href='https://evil.example'>y</a> &amp; &lt;",
    "<script>alert(1)</script>",
    "*bold* _italic_ `code` [link](http://x) ~strike~ ||spoiler|| \\ # + - = | { } . !",
    "https://example.org/path?q=who+chaired&x=1#frag",
    "www.un.org",
    "2007",
    "42",
    "-0.5e-10",
    "NaN",
    "\U0010ffff\U000e0001",
    "@meetings_bot",
    "/start",
    'which meetings dealt with <b>x</b> & <a href="u">',
    "which meetings dealt with",
    "what meetings were held before 1900",
    "what meetings were held after December 2099",
    "what happened between 1999 and 2050",
    "what did it recommend?",
    "who chaired it?",
]

QUESTIONS = st.one_of(
    st.text(max_size=300),
    st.sampled_from(SPECIAL_QUESTIONS),
    # Right-to-left scripts: Hebrew and Arabic blocks.
    st.text(st.characters(min_codepoint=0x0590, max_codepoint=0x06FF), max_size=80),
    # Emoji and other astral characters (two UTF-16 units each).
    st.text(st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), max_size=80),
    # Control, format (zero-width, bidi) and separator characters only.
    st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=80),
    # HTML and Markdown special characters around a few letters.
    st.text("<>&\"'/=*_`[]()~#+-|{}.!\\ abx;", max_size=80),
    st.builds(
        "https://{}.org/{}".format,
        st.from_regex(r"[a-z]{1,12}", fullmatch=True),
        st.text(max_size=40),
    ),
    st.integers().map(str),
    st.floats().map(str),
)

# Words that steer questions into the deeper paths: structure, dates, meetings, follow-ups.
STEERING = [
    "which", "what", "meetings", "events", "dealt", "with", "recommend", "recommendations",
    "held", "before", "after", "between", "in", "April", "November", "2002", "2004", "2007",
    "2099", "it", "there", "who", "chaired", "where", "when", "Geneva", "New", "York", "OSCE",
    "CSW", "Beijing+10", "trafficking", "?", "&", "<b>", "😀",
]  # fmt: skip


def knowledge_words(knowledge: Knowledge) -> list[str]:
    words = {w for fact in knowledge.facts.values() for q in fact.questions for w in q.split()}
    words |= {w for m in knowledge.meetings.values() for w in [m.name, *m.aliases]}
    return sorted(words) + STEERING


def check_reply(reply: Reply, engine: Engine, question: str) -> None:
    """Everything a front end may rely on in a reply, whatever its status."""
    knowledge = engine.knowledge
    assert isinstance(reply, Reply)
    assert isinstance(reply.status, Status)
    assert reply.status in set(Status)
    assert reply.question == question.strip()
    assert isinstance(reply.answer, str) and reply.answer.strip()
    assert math.isfinite(reply.score) and 0.0 <= reply.score <= 1.0  # a confidence
    for alternative in reply.alternatives:
        assert alternative.fact in knowledge.facts
        assert alternative.question == knowledge.facts[alternative.fact].questions[0]
        assert math.isfinite(alternative.score) and 0.0 <= alternative.score <= 1.0
    assert len({a.fact for a in reply.alternatives}) == len(reply.alternatives)
    for source in reply.sources:
        assert source.document in knowledge.sources
        assert source.quote.strip() and source.paragraph.strip()
    if reply.meeting is not None and reply.status != Status.SMALLTALK:
        assert reply.meeting in knowledge.meetings
    json.dumps(reply.to_json())  # JSON-ready, as the CLI and the logs expect

    structure = reply.extra.get("structure")
    if reply.status == Status.ANSWERED and structure is None:
        fact = knowledge.facts[reply.fact]
        assert reply.answer == fact.answer
        assert reply.meeting == fact.meeting
        assert len(reply.sources) >= 1
        assert reply.sources[0].quote == fact.quote
        assert reply.fact not in {a.fact for a in reply.alternatives}
        assert all(a.score <= reply.score for a in reply.alternatives)
    elif reply.status == Status.ANSWERED:
        assert structure in STRUCTURES
        assert reply.fact is None
        assert reply.score == 1.0
        if "•" in reply.answer:  # a list of meetings or facts cites each one's evidence
            assert len(reply.sources) >= 1
    elif reply.status == Status.CLARIFY and structure == WHICH_MEETING:
        # "what were the recommendations?" naming no meeting: the choices are meetings
        assert reply.fact is None and not reply.sources and not reply.alternatives
        meetings = [meeting for meeting, _ in reply.extra["meetings"]]
        assert len(meetings) >= 2 and len(set(meetings)) == len(meetings)
        assert set(meetings) <= set(knowledge.meetings)
    elif reply.status == Status.CLARIFY:
        assert reply.fact is None and not reply.sources
        assert len(reply.alternatives) >= 2
        assert reply.score == reply.alternatives[0].score
        scores = [a.score for a in reply.alternatives]
        assert scores == sorted(scores, reverse=True)
        # only near-ties are offered: within the clarify margin, or the same kind of fact of
        # several meetings within the meeting-ambiguity (or neutral-ambiguity) margin
        t = engine.thresholds
        widest = max(t.clarify_margin, t.meeting_ambiguity, t.neutral_ambiguity)
        assert scores[0] - scores[-1] <= widest + 1e-4
    elif reply.status == Status.NO_MATCH:
        assert reply.fact is None and not reply.sources
        assert all(a.score >= engine.thresholds.suggest for a in reply.alternatives)
    else:
        assert reply.fact is None and not reply.sources and not reply.alternatives


@pytest.fixture(scope="module")
def other_engine() -> Engine:
    """A second engine over a separately loaded copy of the same knowledge file."""
    return Engine(load_knowledge(KNOWLEDGE))


# --- never raises, and every reply is well formed ----------------------------------------------


@SETTINGS
@given(question=QUESTIONS)
@example(question="")
@example(question="   \n\t ")
@example(question="y" * 10_000)
@example(question="what were the recommendations?")
@example(question="🙂" * 5_000)
@example(question="مرحبا، من ترأس الاجتماع؟ שלום")
@example(question="\u200b\u200e\u200f\u202a\u2066\x00\x08")
@example(question='<b>x</b> & <a href="https://x.example">y</a>')
@example(question="https://www.osce.org/")
@example(question="1234567890")
def test_answer_never_raises_and_is_well_formed(engine: Engine, question: str) -> None:
    reply = engine.answer(question)
    check_reply(reply, engine, question)


@SETTINGS
@given(data=st.data())
def test_questions_made_of_knowledge_words_are_well_formed(engine: Engine, data) -> None:
    words = knowledge_words(engine.knowledge)
    question = " ".join(data.draw(st.lists(st.sampled_from(words), min_size=1, max_size=12)))
    reply = engine.answer(question)
    check_reply(reply, engine, question)


def test_every_status_is_reached_by_the_shipped_questions(engine: Engine) -> None:
    """The shape checks above must not pass only because every reply is a refusal."""
    questions = [q for f in engine.knowledge.facts.values() for q in f.questions][::7]
    questions += [
        "hello",
        "who chaired the meeting?",
        "Which countries attended the UNECE Beijing+10 meeting?",
        "what meetings were held in 2004",
        "which meetings dealt with trafficking",
        "what is the capital of Peru?",
    ]
    seen = set()
    for question in questions:
        reply = engine.answer(question)
        check_reply(reply, engine, question)
        seen.add((reply.status, reply.extra.get("structure")))
    assert {status for status, _ in seen} == set(Status)
    assert {structure for _, structure in seen} >= {None, "listing", "topic"}


def test_every_fact_reply_is_a_sourced_answer(engine: Engine) -> None:
    for fact_id, fact in engine.knowledge.facts.items():
        reply = engine.fact_reply(fact_id)
        check_reply(reply, engine, fact.questions[0])
        assert reply.status == Status.ANSWERED and reply.fact == fact_id


# --- same question and knowledge, same reply ---------------------------------------------------


@SETTINGS
@given(question=QUESTIONS)
@example(question="Who chaired the Beijing+10 review in Geneva?")
@example(question="which meetings dealt with trafficking")
@example(question="Which countries attended the UNECE Beijing+10 meeting?")
def test_same_question_gives_the_same_reply(
    engine: Engine, other_engine: Engine, question: str
) -> None:
    first = engine.answer(question)
    again = engine.answer(question)
    elsewhere = other_engine.answer(question)
    assert first.to_json() == again.to_json() == elsewhere.to_json()
    assert first == again == elsewhere


_HASH_SEED_SCRIPT = """
import json, sys
from bot.core.engine import Engine
from bot.core.knowledge import load_knowledge
engine = Engine(load_knowledge(__import__("pathlib").Path(sys.argv[1])))
questions = json.loads(sys.stdin.read())
print(json.dumps([engine.answer(q).to_json() for q in questions]))
"""


def test_replies_do_not_depend_on_the_hash_seed(engine: Engine) -> None:
    """Set and dict order must not leak into replies: a restarted bot answers the same."""
    questions = [f.questions[-1] for f in list(engine.knowledge.facts.values())[::12]]
    questions += [
        "Which countries attended the UNECE Beijing+10 meeting?",
        "what meetings were held in 2004",
        "which meetings dealt with women and trafficking",
        "who chaired it?",
        "recommendations of the Geneva meeting",
        "osce 2004 vienna",
    ]
    expected = [engine.answer(q).to_json() for q in questions]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _HASH_SEED_SCRIPT, str(KNOWLEDGE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        for seed in ("1", "4242")
    ]
    for process in processes:
        out, _ = process.communicate(json.dumps(questions), timeout=120)
        assert process.returncode == 0
        assert json.loads(out) == expected


# --- conversation context ----------------------------------------------------------------------

FOLLOW_UPS = [
    "who chaired it?",
    "and where?",
    "when was it?",
    "what did it recommend?",
    "recommendations",
    "what meetings were held there",
    "who organised it",
    "",
    "thanks",
]


def test_context_of_every_meeting_never_raises(engine: Engine) -> None:
    for meeting_id in engine.knowledge.meetings:
        for fact_id in [None, engine.knowledge.facts_of(meeting_id)[0].id]:
            context = Context(meeting=meeting_id, fact=fact_id)
            for question in FOLLOW_UPS:
                check_reply(engine.answer(question, context), engine, question)


@SETTINGS
@given(question=QUESTIONS, data=st.data())
def test_any_question_with_any_meeting_context_is_well_formed(
    engine: Engine, question: str, data
) -> None:
    meeting_id = data.draw(st.sampled_from(sorted(engine.knowledge.meetings)))
    check_reply(engine.answer(question, Context(meeting=meeting_id)), engine, question)


@pytest.mark.parametrize("question", FOLLOW_UPS)
def test_stale_context_from_an_older_knowledge_never_raises(engine: Engine, question: str) -> None:
    """Contexts outlive reloads (they are stored in SQLite), so a context may name a meeting
    an admin has since renamed or removed; the engine must still answer."""
    reply = engine.answer(question, Context(meeting="meeting-removed-since", fact="gone-fact"))
    assert isinstance(reply.status, Status)
    assert reply.answer.strip()
