"""Telegram HTML rendering and callback data, checked with Telegram's own parsing rules.

Every message the bot can send is parsed as the Bot API server parses HTML (`tests.e2e.tgtext`):
it must use only Telegram's tags, balanced, with every `<`, `>` and `&` of the text escaped, so
that text from users or the knowledge file is shown literally and never read as markup. Every
chunk must fit one message, and every button's callback data must fit Telegram's 64 bytes and
decode back to what was encoded.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from telegram import InlineKeyboardMarkup

from bot.adapters.telegram import formatting
from bot.adapters.telegram.callbacks import MAX_BYTES, Action, Press, decode, encode
from bot.adapters.telegram.formatting import (
    BUTTON_TEXT_LIMIT,
    MESSAGE_LIMIT,
    Rendered,
    esc,
    render_card,
    render_reply,
    split_lines,
)
from bot.core.browse import MeetingCard, meeting_card
from bot.core.engine import Engine
from bot.core.replies import Alternative, Reply, SourceRef, Status
from bot.core.schema import Meeting, PartialDate
from bot.core.structure import date_range
from tests.e2e import tgtext

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# The only entities the renderers add themselves; anything else came from escaped text.
OUR_ENTITIES = {"bold", "italic", "blockquote"}
HOSTILE = '<b>x</b> & <a href="https://evil.example">y</a> &amp; &lt;i&gt; <tg-spoiler>'

# Text as users and knowledge editors may write it, weighted towards markup characters.
TEXT = st.one_of(
    st.text(max_size=200),
    st.text("<>&;\"'/=ab #x1\n*_`[]", max_size=200),
    st.sampled_from([HOSTILE, "&", "a < b > c", "&#0;", "&#x110000;", "</b>", "<br/>"]),
)
IDS = st.from_regex(r"[a-z0-9][a-z0-9-]{0,55}", fullmatch=True)


# --- helpers -----------------------------------------------------------------------------------


def parse(chunk: str) -> tuple[str, list[dict]]:
    """Plain text and our explicit entities of one chunk, as Telegram stores them.

    Raises `tgtext.EntityParseError` where Telegram would answer "can't parse entities".
    """
    plain, entities = tgtext.format_text(chunk, "HTML")
    _, explicit = tgtext.parse_html(chunk)
    assert {e["type"] for e in explicit} <= OUR_ENTITIES, chunk
    return plain, [e for e in entities if e["type"] in OUR_ENTITIES]


def entity_text(plain: str, entity: dict) -> str:
    units = plain.encode("utf-16-le")
    start, end = 2 * entity["offset"], 2 * (entity["offset"] + entity["length"])
    return units[start:end].decode("utf-16-le")


def check_rendered(rendered: Rendered) -> list[tuple[str, list[dict]]]:
    """Each chunk is a valid, non-empty Telegram message; each button is valid."""
    assert rendered.chunks
    parsed = []
    for chunk in rendered.chunks:
        plain, entities = parse(chunk)
        assert 1 <= tgtext.utf16_len(plain) <= MESSAGE_LIMIT
        parsed.append((plain, entities))
    if rendered.keyboard is not None:
        assert isinstance(rendered.keyboard, InlineKeyboardMarkup)
        for row in rendered.keyboard.inline_keyboard:
            for button in row:
                assert 1 <= len(button.text) <= BUTTON_TEXT_LIMIT
                assert len(button.callback_data.encode()) <= MAX_BYTES
                assert decode(button.callback_data) is not None
    return parsed


def visible(parsed: list[tuple[str, list[dict]]]) -> str:
    return "\n".join(plain for plain, _ in parsed)


def squeeze(text: str) -> str:
    return "".join(text.split())


def check_shows_literally(text: str, shown: str) -> None:
    """`text` appears in the message exactly as written (lines, not markup)."""
    for line in text.split("\n"):
        if line.strip() and len(line) <= formatting.SAFE_LIMIT:
            assert line.strip() in shown
    assert squeeze(text) in squeeze(shown)


def buttons(rendered: Rendered) -> list[Press]:
    if rendered.keyboard is None:
        return []
    return [decode(b.callback_data) for row in rendered.keyboard.inline_keyboard for b in row]


# --- replies from the engine -------------------------------------------------------------------


@SETTINGS
@given(question=TEXT)
@example(question="Who chaired the Beijing+10 review in Geneva?")
@example(question="which meetings dealt with trafficking")
@example(question="what meetings were held in 2007")
@example(question="Which countries attended the UNECE Beijing+10 meeting?")
@example(question=f"which meetings dealt with {HOSTILE}")
@example(question="hello")
@example(question="")
def test_engine_replies_render_as_valid_telegram_html(engine: Engine, question: str) -> None:
    reply = engine.answer(question)
    for with_quote in (False, True):
        parsed = check_rendered(render_reply(reply, with_quote=with_quote))
        check_shows_literally(reply.answer, visible(parsed))


def test_every_fact_renders_with_its_source_and_quote(engine: Engine) -> None:
    for fact_id, fact in engine.knowledge.facts.items():
        reply = engine.fact_reply(fact_id)
        short = render_reply(reply)
        parsed = check_rendered(short)
        shown = visible(parsed)
        check_shows_literally(fact.answer, shown)
        assert reply.sources[0].short() in shown
        assert all(e["type"] != "blockquote" for _, es in parsed for e in es)  # behind "Source"
        assert Press(Action.QUOTE, fact_id) in buttons(short)
        assert Press(Action.RELATED, fact_id) in buttons(short)

        full = render_reply(reply, with_quote=True)
        parsed = check_rendered(full)
        quotes = [
            entity_text(plain, e) for plain, entities in parsed for e in entities
            if e["type"] == "blockquote"
        ]  # fmt: skip
        assert quotes == [fact.quote]
        assert Press(Action.QUOTE, fact_id) not in buttons(full)


def test_every_meeting_card_renders(engine: Engine) -> None:
    for meeting_id, meeting in engine.knowledge.meetings.items():
        card = meeting_card(engine, meeting_id)
        assert card is not None
        rendered = render_card(card)
        parsed = check_rendered(rendered)
        shown = visible(parsed)
        plain, entities = parsed[0]
        assert entities[0]["type"] == "bold"
        assert entity_text(plain, entities[0]) == meeting.name
        for text in [card.dates, meeting.place, *meeting.chairs, *meeting.organisers]:
            if text:
                assert text in shown
        check_shows_literally(meeting.summary or "", shown)
        assert card.source_title in shown
        if card.fact_count:
            assert buttons(rendered) == [Press(Action.RECOMMENDATIONS, meeting_id)]


# --- arbitrary text in replies and cards is never markup ---------------------------------------

SOURCES = st.builds(
    SourceRef,
    document=IDS,
    title=TEXT.filter(str.strip),
    symbol=st.none() | TEXT.filter(str.strip),
    paragraph=TEXT.filter(str.strip),
    quote=TEXT.filter(str.strip),
)
ALTERNATIVES = st.builds(Alternative, fact=IDS, question=TEXT.filter(str.strip), score=st.floats())


@SETTINGS
@given(
    answer=TEXT.filter(str.strip),
    status=st.sampled_from(Status),
    source=SOURCES,
    fact=st.none() | IDS,
    alternatives=st.lists(ALTERNATIVES, max_size=4),
)
@example(
    answer=HOSTILE,
    status=Status.ANSWERED,
    source=SourceRef("doc", HOSTILE, HOSTILE, "3 <i>", HOSTILE),
    fact="some-fact",
    alternatives=[Alternative("other", HOSTILE, 0.5)],
)
def test_any_text_in_a_reply_is_shown_literally(
    answer: str,
    status: Status,
    source: SourceRef,
    fact: str | None,
    alternatives: list[Alternative],
) -> None:
    reply = Reply("q", status, answer, sources=(source,), fact=fact,
                  alternatives=tuple(alternatives))  # fmt: skip
    parsed = check_rendered(render_reply(reply, with_quote=True))
    shown = visible(parsed)
    check_shows_literally(answer, shown)
    if status == Status.ANSWERED:
        check_shows_literally(source.short(), shown)
    if status == Status.ANSWERED and fact is not None:
        quotes = [
            entity_text(plain, e) for plain, entities in parsed for e in entities
            if e["type"] == "blockquote"
        ]  # fmt: skip
        assert [q.strip() for q in quotes] == [source.quote.strip()]


def test_a_question_full_of_markup_is_never_rendered_as_markup(engine: Engine) -> None:
    """The renderer does not echo the raw question; the topic it does echo stays text."""
    reply = engine.answer(f"which meetings dealt with {HOSTILE}")
    parsed = check_rendered(render_reply(reply))
    assert all(not entities for _, entities in parsed)
    assert reply.answer in visible(parsed)
    echoed = Reply(HOSTILE, Status.NO_MATCH, f"You asked: {HOSTILE}")
    parsed = check_rendered(render_reply(echoed))
    assert f"You asked: {HOSTILE}" in visible(parsed)
    assert all(not entities for _, entities in parsed)


@SETTINGS
@given(
    name=TEXT.filter(str.strip),
    place=st.none() | TEXT.filter(str.strip),
    chairs=st.lists(TEXT.filter(str.strip), max_size=3),
    summary=st.none() | TEXT.filter(str.strip),
    title=TEXT.filter(str.strip),
)
@example(name=HOSTILE, place=HOSTILE, chairs=[HOSTILE], summary=HOSTILE, title=HOSTILE)
def test_any_text_in_a_meeting_card_is_shown_literally(
    name: str, place: str | None, chairs: list[str], summary: str | None, title: str
) -> None:
    meeting = Meeting(id="m-1", kind="meeting", name=name, place=place, chairs=chairs,
                      organisers=chairs, source="doc", summary=summary,
                      start=PartialDate(2004, 5), end=PartialDate(2004, 6, 2))  # fmt: skip
    card = MeetingCard(meeting, date_range(meeting), None, title, 2)
    parsed = check_rendered(render_card(card))
    plain, entities = parsed[0]
    assert entity_text(plain, entities[0]).strip() == meeting.name.strip()
    shown = visible(parsed)
    for text in [meeting.name, meeting.place or "", *meeting.chairs, meeting.summary or "", title]:
        check_shows_literally(text, shown)


# --- splitting ---------------------------------------------------------------------------------

_SHORT = st.text(max_size=60)
_LONG = st.builds(lambda text, n: (text * n)[:9000], st.text(min_size=1, max_size=8),
                  st.integers(500, 3000))  # fmt: skip
_MARKED = st.tuples(st.sampled_from(["b", "i", "blockquote"]),
                    st.text(max_size=300).filter(str.strip))  # fmt: skip
LINES = st.lists(
    st.one_of(_SHORT.map(lambda t: ("", t)), _LONG.map(lambda t: ("", t)), _MARKED),
    max_size=60,
)


def html_lines(lines: list[tuple[str, str]]) -> list[str]:
    return [f"<{tag}>{esc(text)}</{tag}>" if tag else esc(text) for tag, text in lines]


@SETTINGS
@given(lines=LINES)
@example(lines=[("b", "x" * 3000), ("i", "y & <z>" * 200), ("", "&" * 5000)])
@example(lines=[("", "word " * 2000)])
def test_split_never_cuts_a_tag_and_loses_no_text(lines: list[tuple[str, str]]) -> None:
    chunks = split_lines(html_lines(lines))
    parsed = [parse(chunk) for chunk in chunks]  # each chunk parses on its own
    shown = squeeze("".join(plain for plain, _ in parsed))
    assert shown == squeeze("".join(text for _, text in lines))
    kept_markup = sum(len(entities) for _, entities in parsed)
    short_marked = sum(1 for tag, text in lines if tag and len(esc(text)) + 25 <= 4000)
    assert kept_markup >= short_marked


@SETTINGS
@given(lines=LINES)
@example(lines=[("", "😀" * 300)] * 12)  # 3,611 characters but 7,211 UTF-16 units
@example(lines=[("", "𝐀" * 3990)])
def test_split_chunks_fit_in_one_telegram_message(lines: list[tuple[str, str]]) -> None:
    """Telegram's limit is 4096 UTF-16 code units of parsed text; emoji count twice."""
    for chunk in split_lines(html_lines(lines)):
        plain, _ = parse(chunk)
        assert tgtext.utf16_len(plain) <= MESSAGE_LIMIT


def test_a_long_reply_is_split_into_valid_messages() -> None:
    answer = "\n".join(f"• line {n} <with> & markup-like text " + "z" * 80 for n in range(200))
    source = SourceRef("doc", "Title", None, "1", "quote")
    rendered = render_reply(Reply("q", Status.ANSWERED, answer, sources=(source,), fact="f"))
    parsed = check_rendered(rendered)
    assert len(parsed) >= 5
    check_shows_literally(answer, visible(parsed))


# --- callback data -----------------------------------------------------------------------------


def test_callback_data_of_every_shipped_id_fits_and_round_trips(engine: Engine) -> None:
    ids = [*engine.knowledge.facts, *engine.knowledge.meetings, *engine.knowledge.sources]
    for action in Action:
        assert decode(encode(action)) == Press(action, None)
        for target in ids:
            data = encode(action, target)
            assert len(data.encode()) <= MAX_BYTES
            assert decode(data) == Press(action, target)


@SETTINGS
@given(action=st.sampled_from(Action), target=st.none() | IDS)
def test_callback_data_round_trips_for_any_valid_id(action: Action, target: str | None) -> None:
    data = encode(action, target)
    assert len(data.encode()) <= MAX_BYTES
    assert decode(data) == Press(action, target)


FORGED = st.one_of(
    st.text(max_size=80),
    st.text("fqmrecvaplydis:-0123456789\n\r\t \x00", max_size=70),
    st.text(st.characters(categories=["Cs", "Ll", "Nd", "Po"]), max_size=20),
    st.binary(max_size=80).map(lambda raw: raw.decode("utf-8", "surrogateescape")),
    st.builds("{}:{}".format, st.sampled_from(Action), st.text(max_size=70)),
)


@SETTINGS
@given(data=FORGED)
@example(data="")
@example(data="f:" + "a" * 62)
@example(data="rec:" + "a" * 61)
@example(data="f:Bad_Id")
@example(data="unknown:abc")
@example(data="f:abc\n")
@example(data="\ud800")
@example(data=b"f:\xff\xfe".decode("utf-8", "surrogateescape"))
def test_decoding_forged_data_never_raises(data: str) -> None:
    """Anything a client sends decodes to None or to a press that re-encodes to the same data."""
    press = decode(data)
    assert press is None or isinstance(press, Press)
    if press is not None:
        assert encode(press.action, press.target) == data


def test_decoding_nothing_is_none() -> None:
    assert decode(None) is None
    assert decode("") is None
