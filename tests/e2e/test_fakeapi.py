"""Tests of the fake Bot API server itself, driven by the real python-telegram-bot client.

Every behaviour the bot's end-to-end tests rely on is proven here through PTB's own HTTP stack
(``telegram.Bot``, ``telegram.ext.Application``): if the fake stopped answering like Telegram,
PTB would raise a different exception, or none, and these tests would fail.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.e2e.fakeapi import FakeTelegram, Upload, button_texts

HTML = ParseMode.HTML


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[Bot]:
    """A plain PTB Bot pointed at the fake (initialising it already calls getMe)."""
    async with Bot(**telegram.bot_kwargs) as bot:
        yield bot


def raises(error: type[BaseException], text: str) -> pytest.RaisesExc:
    """``pytest.raises`` matching ``text`` literally and case-insensitively.

    PTB strips "Bad Request: " and capitalises the rest (``BUTTON_DATA_INVALID`` becomes
    ``Button_data_invalid``), so exact-case matching would test PTB rather than the fake.
    """
    return pytest.raises(error, match=re.compile(re.escape(text), re.IGNORECASE))


def keyboard(*data: str) -> InlineKeyboardMarkup:
    """One row of callback buttons whose text is their data."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


# ----------------------------------------------------------------------------------------------
# Identity, token, webhook
# ----------------------------------------------------------------------------------------------


async def test_get_me_describes_the_bot(bot: Bot, telegram: FakeTelegram) -> None:
    me = await bot.get_me()
    assert (me.username, me.is_bot, me.id) == ("MeetingsTestBot", True, telegram.bot_id)
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is True
    assert await bot.delete_webhook() is True
    assert await bot.close() is True


async def test_wrong_token_is_invalid_token(telegram: FakeTelegram) -> None:
    wrong = Bot("123456:WRONG", base_url=telegram.base_url, base_file_url=telegram.base_file_url)
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    await wrong.shutdown()
    assert telegram.calls("getMe")[-1].status == 401


async def test_webhook_blocks_get_updates_until_deleted(bot: Bot, telegram: FakeTelegram) -> None:
    with raises(BadRequest, "HTTPS URL"):
        await bot.set_webhook("http://insecure.example")
    await bot.set_webhook("https://bot.example/hook")
    assert (await bot.get_webhook_info()).url == "https://bot.example/hook"
    with raises(Conflict, "webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


# ----------------------------------------------------------------------------------------------
# getUpdates: long polling, offsets, limit, conflicts
# ----------------------------------------------------------------------------------------------


async def test_pending_long_poll_wakes_when_an_update_arrives(
    bot: Bot, telegram: FakeTelegram
) -> None:
    ann = telegram.user("Ann")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.3)
    assert not poll.done(), "getUpdates must wait while there is nothing to deliver"
    loop = asyncio.get_running_loop()
    sent_at = loop.time()
    telegram.send_text(ann, "hello")
    updates = await asyncio.wait_for(poll, 2)
    assert loop.time() - sent_at < 1.0
    assert [u.message.text for u in updates] == ["hello"]
    assert updates[0].message.chat.id == ann.id


async def test_long_poll_returns_empty_when_the_timeout_elapses(bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.4)) == ()
    assert 0.35 <= loop.time() - started < 2.0


async def test_offset_confirms_earlier_updates_and_limit_caps(
    bot: Bot, telegram: FakeTelegram
) -> None:
    ann = telegram.user("Ann")
    for text in ("one", "two", "three"):
        telegram.send_text(ann, text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["one", "two"]
    assert first[0].update_id < first[1].update_id
    assert [u.update_id for u in await bot.get_updates(limit=2)] == [u.update_id for u in first]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["three"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    assert await bot.get_updates() == (), "confirmed updates are gone for good"


async def test_a_second_poll_terminates_the_first_with_conflict(
    bot: Bot, telegram: FakeTelegram
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with Bot(**telegram.bot_kwargs) as second_instance:
        assert await second_instance.get_updates() == ()
    with raises(Conflict, "terminated by other getUpdates request"):
        await asyncio.wait_for(first, 2)


async def test_application_polls_replies_and_handles_button_presses(
    telegram: FakeTelegram,
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(
            "<b>Menu</b>", parse_mode=HTML, reply_markup=keyboard("more")
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("shown")
        await update.callback_query.edit_message_text(f"You chose {update.callback_query.data}")

    app = (
        ApplicationBuilder()
        .token(telegram.token)
        .base_url(telegram.base_url)
        .base_file_url(telegram.base_file_url)
        .defaults(None)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    ann = telegram.user("Ann")
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            await _drive_application(telegram, ann)
        finally:
            await app.updater.stop()
            await app.stop()


async def _drive_application(telegram: FakeTelegram, ann: object) -> None:
    telegram.send_text(ann, "/start")
    (menu,) = await telegram.wait_for_messages(ann)
    assert menu["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    query_id = telegram.press(ann, menu, "more")
    (edited,) = await telegram.wait_for_edits(ann)
    assert edited["text"] == "You chose more" and "reply_markup" not in edited
    assert (await telegram.wait_for_callback_answer(query_id))["text"] == "shown"
    telegram.send_text(ann, "just chatting")
    await telegram.expect_no_reply(ann, within=0.2)
    telegram.send_text(ann, "/start")
    with raises(AssertionError, "expected no reply"):
        await telegram.expect_no_reply(ann, within=0.3)


def test_application_type_is_ptb() -> None:
    """Guard: the polling test above really runs PTB's Application, not a stand-in."""
    assert Application.__module__.startswith("telegram.ext")


# ----------------------------------------------------------------------------------------------
# sendMessage
# ----------------------------------------------------------------------------------------------


async def test_send_message_returns_a_full_message(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    question = telegram.send_text(ann, "when was the egm?")
    sent = await bot.send_message(
        ann.id,
        "<b>In 2002</b>, see https://un.org",
        parse_mode=HTML,
        reply_parameters=ReplyParameters(question["message_id"]),
        disable_notification=True,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_markup=keyboard("source"),
    )
    assert sent.text == "In 2002, see https://un.org"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 7),
        ("url", 13, 14),
    ]
    assert sent.message_id == question["message_id"] + 1
    assert sent.reply_to_message.message_id == question["message_id"]
    assert sent.from_user.username == "MeetingsTestBot" and sent.chat.id == ann.id
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "source"
    params = telegram.calls("sendMessage")[0].params
    assert params["chat_id"] == ann.id and params["disable_notification"] is True
    assert params["reply_parameters"] == {"message_id": question["message_id"]}
    assert params["link_preview_options"] == {"is_disabled": True}
    assert [m["message_id"] for m in telegram.chat_log(ann)] == [1, 2]


async def test_topic_threads_are_echoed(bot: Bot, telegram: FakeTelegram) -> None:
    forum = telegram.group("Forum", forum=True)
    sent = await bot.send_message(forum.id, "in a topic", message_thread_id=7)
    assert sent.message_thread_id == 7 and sent.is_topic_message is True


async def test_malformed_html_is_rejected_with_telegrams_wording(
    bot: Bot, telegram: FakeTelegram
) -> None:
    ann = telegram.user("Ann")
    with raises(BadRequest, "can't parse entities: unsupported start tag"):
        await bot.send_message(ann.id, "Hello <br> world", parse_mode=HTML)
    with raises(BadRequest, "can't find end tag corresponding to start tag"):
        await bot.send_message(ann.id, "<b>open", parse_mode=HTML)
    described = [c.description for c in telegram.calls("sendMessage")]
    assert described[0] == (
        'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 6'
    )
    assert telegram.bot_messages(ann) == [], "a rejected message is not delivered"


async def test_empty_text_is_rejected(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    for text in ("   ", "<b> </b>"):
        with raises(BadRequest, "Message text is empty"):
            await bot.send_message(ann.id, text, parse_mode=HTML)


async def test_4096_limit_counts_utf16_units_after_parsing(
    bot: Bot, telegram: FakeTelegram
) -> None:
    ann = telegram.user("Ann")
    await bot.send_message(ann.id, "<b>" + "x" * 4096 + "</b>", parse_mode=HTML)
    await bot.send_message(ann.id, "😀" * 2048)  # 2 UTF-16 units each
    for text in ("x" * 4097, "😀" * 2049):
        with raises(BadRequest, "Message is too long"):
            await bot.send_message(ann.id, text)
    assert len(telegram.bot_messages(ann)) == 2


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    await bot.send_message(ann.id, "fits", reply_markup=keyboard("é" * 32))  # 64 bytes
    with raises(BadRequest, "BUTTON_DATA_INVALID"):
        await bot.send_message(ann.id, "too long", reply_markup=keyboard("é" * 32 + "x"))
    assert [m["text"] for m in telegram.bot_messages(ann)] == ["fits"]


async def test_unknown_chat_and_blocked_user(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    with raises(BadRequest, "Chat not found"):
        await bot.send_message(424242, "hello?")
    telegram.block(ann)
    with raises(Forbidden, "bot was blocked by the user"):
        await bot.send_message(ann.id, "hello?")
    telegram.unblock(ann)
    await bot.send_message(ann.id, "hello again")


async def test_json_body_query_string_and_legacy_reply(telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    asked = telegram.send_text(ann, "question")
    url = f"{telegram.base_url}{telegram.token}"
    async with aiohttp.ClientSession() as http:
        body = {"chat_id": ann.id, "text": "answer", "reply_to_message_id": asked["message_id"]}
        async with http.post(f"{url}/sendMessage", json=body) as response:
            sent = (await response.json())["result"]
        async with http.get(f"{url}/sendMessage", params={"chat_id": ann.id, "text": "q"}) as r:
            assert r.status == 200
        broken = {"chat_id": str(ann.id), "text": "x", "reply_markup": "{not json"}
        async with http.post(f"{url}/sendMessage", data=broken) as response:
            rejected = await response.json()
        async with http.post(f"{url}/noSuchMethod") as response:
            assert (response.status, (await response.json())["description"]) == (404, "Not Found")
    assert sent["reply_to_message"]["message_id"] == asked["message_id"]
    assert rejected == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: can't parse reply keyboard markup JSON object",
    }


async def test_wait_for_messages_explains_a_timeout(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    telegram.send_text(ann, "hi")
    with pytest.raises(BadRequest):
        await bot.send_message(ann.id, "<i>oops", parse_mode=HTML)
    with raises(AssertionError, "sendMessage -> 400 Bad Request: can't parse"):
        await telegram.wait_for_messages(ann, timeout=0.2)


# ----------------------------------------------------------------------------------------------
# Edits, deletions, callback queries
# ----------------------------------------------------------------------------------------------


async def test_edits_apply_and_identical_edits_are_rejected(
    bot: Bot, telegram: FakeTelegram
) -> None:
    ann = telegram.user("Ann")
    question = telegram.send_text(ann, "hi")
    sent = await bot.send_message(ann.id, "<b>v1</b>", parse_mode=HTML, reply_markup=keyboard("a"))
    with raises(BadRequest, "Message is not modified"):
        await sent.edit_text("<b>v1</b>", parse_mode=HTML, reply_markup=keyboard("a"))
    edited = await sent.edit_text("v2")
    assert edited.text == "v2" and edited.reply_markup is None, "no markup removes the keyboard"
    await bot.edit_message_reply_markup(ann.id, sent.message_id, reply_markup=keyboard("b"))
    with raises(BadRequest, "Message is not modified"):
        await bot.edit_message_reply_markup(ann.id, sent.message_id, reply_markup=keyboard("b"))
    with raises(BadRequest, "Message can't be edited"):
        await bot.edit_message_text("mine?", ann.id, question["message_id"])
    with raises(BadRequest, "Message to edit not found"):
        await bot.edit_message_text("where?", ann.id, 999)
    assert [button_texts(e) for e in telegram.new_edits(ann)] == [[], ["b"]]
    (current,) = telegram.bot_messages(ann)
    assert current["text"] == "v2" and button_texts(current) == ["b"] and "edit_date" in current


async def test_delete_message(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    sent = await bot.send_message(ann.id, "temporary")
    assert await sent.delete() is True
    with raises(BadRequest, "Message to delete not found"):
        await sent.delete()
    assert telegram.chat_log(ann) == []


async def test_button_press_and_single_answer(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    sent = await bot.send_message(ann.id, "pick", reply_markup=keyboard("left", "right"))
    with raises(LookupError, "no callback button"):
        telegram.press(ann, sent.to_dict(), "middle")
    query_id = telegram.press(ann, sent.to_dict(), "right")
    (update,) = await bot.get_updates()
    assert update.callback_query.id == query_id and update.callback_query.data == "right"
    assert update.callback_query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query_id, "Done", show_alert=True) is True
    assert telegram.callback_answer(query_id) == {"text": "Done", "show_alert": True}
    for invalid in (query_id, "12345"):
        with raises(BadRequest, "Query is too old"):
            await bot.answer_callback_query(invalid)


# ----------------------------------------------------------------------------------------------
# Inline mode
# ----------------------------------------------------------------------------------------------


def article(result_id: str, text: str, parse_mode: str | None = HTML) -> InlineQueryResultArticle:
    """An inline article whose message is ``text``."""
    content = InputTextMessageContent(text, parse_mode=parse_mode)
    return InlineQueryResultArticle(result_id, f"Result {result_id}", content)


async def test_answer_inline_query_is_validated_and_recorded(
    bot: Bot, telegram: FakeTelegram
) -> None:
    ann = telegram.user("Ann")
    query_id = telegram.inline_query(ann, "who chaired")
    (update,) = await bot.get_updates()
    assert (update.inline_query.id, update.inline_query.query) == (query_id, "who chaired")
    rejected = {
        "RESULTS_TOO_MUCH": [article(str(i), "x") for i in range(51)],
        "RESULT_ID_DUPLICATE": [article("1", "x"), article("1", "y")],
        "can't parse entities": [article("1", "<b>x")],
        "MESSAGE_TOO_LONG": [article("1", "x" * 4097)],
    }
    for error, results in rejected.items():
        with raises(BadRequest, error):
            await bot.answer_inline_query(query_id, results)
    await bot.answer_inline_query(query_id, [article("a", "<b>Ann</b> chaired")], cache_time=0)
    answer = telegram.inline_answer(query_id)
    assert [r["id"] for r in answer["results"]] == ["a"] and answer["cache_time"] == 0
    with raises(BadRequest, "Query is too old"):
        await bot.answer_inline_query(query_id, [])


async def test_chosen_inline_result_is_posted_via_the_bot(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    team = telegram.group("Team")
    query_id = telegram.inline_query(ann, "egm")
    await bot.answer_inline_query(query_id, [article("a", "<i>Glen Cove</i>")])
    posted = telegram.choose_inline_result(ann, query_id, "a", chat=team)
    assert posted["text"] == "Glen Cove" and posted["via_bot"]["id"] == telegram.bot_id
    assert telegram.was_delivered(posted), "messages via the bot reach it despite privacy mode"


# ----------------------------------------------------------------------------------------------
# Commands per scope
# ----------------------------------------------------------------------------------------------


async def test_commands_are_stored_per_scope_and_language(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    hans = telegram.user("Hans", language_code="de")
    team = telegram.group("Team")
    await bot.set_my_commands([BotCommand("help", "Help")])
    await bot.set_my_commands([BotCommand("hilfe", "Hilfe")], language_code="de")
    await bot.set_my_commands([BotCommand("ask", "Ask")], scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands([BotCommand("ask", "Ask")], scope=BotCommandScopeAllGroupChats())
    await bot.set_my_commands([BotCommand("admin", "Admin")], scope=BotCommandScopeChat(team.id))
    assert [c.command for c in await bot.get_my_commands()] == ["help"]
    assert telegram.commands("chat", chat=team) == [{"command": "admin", "description": "Admin"}]
    assert telegram.commands(language_code="de")[0]["command"] == "hilfe"
    assert telegram.commands({"type": "all_group_chats"})[0]["command"] == "ask"
    assert [c["command"] for c in telegram.visible_commands(ann, team)] == ["admin"]
    await bot.delete_my_commands(scope=BotCommandScopeChat(team.id))
    assert [c["command"] for c in telegram.visible_commands(ann, team)] == ["ask"]
    await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert [c["command"] for c in telegram.visible_commands(hans)] == ["hilfe"]
    with raises(BadRequest, "BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    with raises(BadRequest, "Chat not found"):
        await bot.set_my_commands([BotCommand("x", "x")], scope=BotCommandScopeChat(777))


# ----------------------------------------------------------------------------------------------
# Fault injection
# ----------------------------------------------------------------------------------------------


# PTB's own RetryAfter constructor reads its deprecated int ``retry_after``; not our warning.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_raises_retry_after_and_the_retry_is_delivered_once(
    bot: Bot, telegram: FakeTelegram
) -> None:
    ann = telegram.user("Ann")
    fault = telegram.fail("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(ann.id, "hello")
    assert "Retry in 3 seconds" in str(raised.value)  # .retry_after warns in PTB 22
    await bot.send_message(ann.id, "hello")
    assert fault.hits == 1
    attempts = telegram.calls("sendMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[0].response["parameters"] == {"retry_after": 3}
    assert [m["text"] for m in telegram.bot_messages(ann)] == ["hello"]


async def test_500_raises_network_error_and_does_nothing(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    telegram.fail("sendmessage", 500, times=2)
    for _ in range(2):
        with raises(NetworkError, "Internal Server Error"):
            await bot.send_message(ann.id, "hello")
    await bot.send_message(ann.id, "hello")
    assert len(telegram.bot_messages(ann)) == 1 and len(telegram.calls("sendMessage")) == 3


async def test_delay_past_the_read_timeout_raises_timed_out(
    bot: Bot, telegram: FakeTelegram
) -> None:
    ann = telegram.user("Ann")
    dropped = telegram.delay("sendMessage", 0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(ann.id, "lost", read_timeout=0.1)
    await telegram.wait_for(lambda: "dropped" in (telegram.calls("sendMessage")[0].fault or ""))
    assert dropped.hits == 1 and telegram.bot_messages(ann) == []
    telegram.delay("sendMessage", 0.5, deliver=True)
    with pytest.raises(TimedOut):
        await bot.send_message(ann.id, "late", read_timeout=0.1)
    delivered = await telegram.wait_for_messages(ann, timeout=2)
    assert [m["text"] for m in delivered] == ["late"], "the answer was lost, not the message"


async def test_disconnects_raise_network_error(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    telegram.disconnect("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(ann.id, "never arrives")
    telegram.disconnect("sendMessage", after_processing=True)
    with pytest.raises(NetworkError):
        await bot.send_message(ann.id, "arrives unacknowledged")
    assert [m["text"] for m in telegram.bot_messages(ann)] == ["arrives unacknowledged"]


async def test_network_down_fails_every_request_until_up(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    telegram.network_down()
    for attempt in (bot.get_me(), bot.send_message(ann.id, "hello")):
        with pytest.raises(NetworkError) as raised:
            await attempt
        assert not isinstance(raised.value, TimedOut)
    assert telegram.bot_messages(ann) == []
    telegram.network_up()
    await bot.send_message(ann.id, "hello")
    assert [c.fault for c in telegram.calls("sendMessage")] == ["network_down", None]


# ----------------------------------------------------------------------------------------------
# Files, chat actions
# ----------------------------------------------------------------------------------------------


async def test_document_upload_get_file_and_download(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    content = b"meetings:\n  - id: egm-2002\n"
    sent = await bot.send_document(
        ann.id, content, filename="meetings.yaml", caption="<b>Export</b>", parse_mode=HTML
    )
    assert (sent.document.file_name, sent.document.file_size) == ("meetings.yaml", len(content))
    assert sent.caption == "Export" and sent.caption_entities[0].type == "bold"
    upload = telegram.calls("sendDocument")[0].params["document"]
    assert isinstance(upload, Upload) and upload.filename == "meetings.yaml"
    assert upload.content == content
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == content
    again = await bot.send_document(ann.id, sent.document.file_id)
    assert again.document.file_id == sent.document.file_id
    with raises(BadRequest, "Invalid file_id"):
        await bot.get_file("nope")


async def test_user_document_is_served_to_the_bot(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    message = telegram.send_document(ann, filename="new.yaml", content=b"x: 1\n", caption="new")
    (update,) = await bot.get_updates()
    document = update.message.document
    assert (document.file_name, update.message.caption) == ("new.yaml", "new")
    file = await bot.get_file(document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"x: 1\n"
    assert telegram.file_content(message["document"]["file_id"]) == b"x: 1\n"


async def test_chat_actions(bot: Bot, telegram: FakeTelegram) -> None:
    ann = telegram.user("Ann")
    assert await bot.send_chat_action(ann.id, "typing") is True
    with raises(BadRequest, "Wrong parameter action"):
        await bot.send_chat_action(ann.id, "dancing")
    assert telegram.chat_actions(ann) == ["typing"]


# ----------------------------------------------------------------------------------------------
# Privacy mode
# ----------------------------------------------------------------------------------------------


async def test_privacy_mode_delivers_only_messages_addressed_to_the_bot(
    bot: Bot, telegram: FakeTelegram
) -> None:
    ann, bob = telegram.user("Ann"), telegram.user("Bob")
    team = telegram.group("Team")
    from_bot = (await bot.send_message(team.id, "I answer questions")).to_dict()
    expected = {
        "anyone know when the egm was?": False,
        "see /ask for that": False,
        "/ask@OtherBot when": False,
        "/ask when": True,
        "/ask@MeetingsTestBot when": True,
        "@MeetingsTestBot when was it": True,
        "hey @meetingstestbot, when": True,
    }
    sent = {text: telegram.send_text(ann, text, chat=team) for text in expected}
    reply = telegram.send_text(bob, "thanks", chat=team, reply_to=from_bot)
    assert {t: telegram.was_delivered(m) for t, m in sent.items()} == expected
    assert telegram.was_delivered(reply)
    fetched = [u.message.text for u in await bot.get_updates()]
    assert fetched == [t for t, wanted in expected.items() if wanted] + ["thanks"]
    assert len(telegram.chat_log(team)) == len(expected) + 2, "undelivered ones still happened"


async def test_without_privacy_mode_every_group_message_is_delivered(
    bot: Bot, telegram: FakeTelegram
) -> None:
    telegram.privacy_mode = False
    ann, team = telegram.user("Ann"), telegram.group("Team", supergroup=True)
    chatter = telegram.send_text(ann, "anyone know when the egm was?", chat=team)
    assert telegram.was_delivered(chatter)
    (update,) = await bot.get_updates()
    assert update.message.chat.type == "supergroup"
    assert (await bot.get_me()).can_read_all_group_messages is True
