"""The bot as users meet it in Telegram, end to end through PTB and the fake Bot API server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from tests.e2e.fakeapi import FakeTelegram
from tests.e2e.harness import ADMIN_ID, running_bot


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def ask(fake: FakeTelegram, user: Any, text: str, **kwargs: Any) -> dict[str, Any]:
    fake.send_text(user, text, **kwargs)
    chat = kwargs.get("chat", user)
    return (await fake.wait_for_messages(chat, 1))[0]


async def ask_all(fake: FakeTelegram, user: Any, text: str) -> list[dict[str, Any]]:
    """Every message the bot sends for one question (long replies come in several)."""
    fake.send_text(user, text)
    return await all_sent(fake, user)


async def all_sent(fake: FakeTelegram, user: Any) -> list[dict[str, Any]]:
    """Every message the bot sends next, waiting a moment for the rest of a long reply."""
    await fake.wait_for_messages(user, 1)
    await asyncio.sleep(0.5)
    return fake.new_messages(user)


async def test_private_question_gets_a_sourced_answer_with_buttons(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path):
        reply = await ask(telegram, ann, "who chaired the glen cove expert group meeting")
    assert "Expert Group Meeting" in reply["text"]
    assert "📄" in reply["text"] and "aide-memoire" in reply["text"].lower()
    assert any(e["type"] == "italic" for e in reply.get("entities", []))
    assert buttons(reply) == ["Source", "Related"]


async def test_source_button_shows_the_verbatim_quote_in_place(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path) as bot:
        reply = await ask(telegram, ann, "who chaired the glen cove expert group meeting")
        query = telegram.press(ann, reply, "Source")
        edited = (await telegram.wait_for_edits(ann, 1))[0]
        quote = bot.services.live.engine.knowledge.facts["egm-2002-chairs"].quote
    order = [
        c.method for c in telegram.calls() if c.method in ("answerCallbackQuery", "editMessageText")
    ]
    assert order == ["answerCallbackQuery", "editMessageText"]
    assert telegram.callback_answer(query) == {}
    assert edited["message_id"] == reply["message_id"]
    assert " ".join(quote.split())[:60] in " ".join(edited["text"].split())
    assert any(e["type"] == "blockquote" for e in edited.get("entities", []))
    assert "Source" not in buttons(edited)


async def test_related_offers_other_facts_of_the_same_meeting(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path) as bot:
        reply = await ask(telegram, ann, "who chaired the glen cove expert group meeting")
        telegram.press(ann, reply, "Related")
        related = (await telegram.wait_for_messages(ann, 1))[0]
        facts = bot.services.live.engine.knowledge.facts
    offered = buttons(related)
    assert 2 <= len(offered) <= 3
    egm_questions = {f.questions[0][:50] for f in facts.values() if f.meeting == "egm-2002"}
    assert all(text.rstrip("…")[:50] in {q[: len(text.rstrip("…"))] for q in egm_questions}
               for text in offered)  # fmt: skip


async def test_clarify_offers_choices_and_a_choice_is_answered_in_place(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path):
        reply = await ask(telegram, ann, "who chaired the meeting?")
        choices = buttons(reply)
        assert "Which meeting" in reply["text"] and len(choices) >= 2
        telegram.press(ann, reply, choices[0])
        edited = (await telegram.wait_for_edits(ann, 1))[0]
    assert edited["message_id"] == reply["message_id"]
    assert "📄" in edited["text"]
    assert buttons(edited) == ["Source", "Related"]


async def test_unknown_question_is_refused_plainly_with_a_pointer_to_help(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path):
        reply = await ask(telegram, ann, "what's the weather in Geneva tomorrow")
    assert "don't know" in reply["text"] and "/help" in reply["text"]


async def test_follow_up_uses_the_meeting_in_context_even_after_a_restart(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path):
        first = await ask(telegram, ann, "when did the OSCE informal working group meet?")
        assert "10 May 2004" in first["text"]
    async with running_bot(telegram, tmp_path):
        follow = await ask(telegram, ann, "and where was it held?")
    assert "Hofburg" in follow["text"] or "Vienna" in follow["text"], follow["text"]


async def test_group_chatter_is_ignored_and_addressed_messages_answered_in_thread(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    telegram.privacy_mode = False
    ann, bob = telegram.user("Ann"), telegram.user("Bob")
    team = telegram.group("Team")
    async with running_bot(telegram, tmp_path):
        telegram.send_text(ann, "when was the egm? anyone know?", chat=team)
        await telegram.expect_no_reply(team)
        asked = telegram.send_text(
            bob, "/ask@MeetingsTestBot when was the glen cove egm held", chat=team
        )
        by_command = (await telegram.wait_for_messages(team, 1))[0]
        mention = telegram.send_text(ann, "@MeetingsTestBot where was the egm held?", chat=team)
        by_mention = (await telegram.wait_for_messages(team, 1))[0]
        reply_to_bot = telegram.send_text(bob, "who chaired it?", chat=team, reply_to=by_command)
        by_reply = (await telegram.wait_for_messages(team, 1))[0]
    assert "November 2002" in by_command["text"]
    assert by_command["reply_to_message"]["message_id"] == asked["message_id"]
    assert "Glen Cove" in by_mention["text"]
    assert by_mention["reply_to_message"]["message_id"] == mention["message_id"]
    assert by_reply["reply_to_message"]["message_id"] == reply_to_bot["message_id"]


async def test_inline_query_returns_up_to_three_sourced_answers(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path):
        answered = await telegram.wait_for_inline_answer(
            telegram.inline_query(ann, "who chaired the glen cove expert group meeting")
        )
        empty = await telegram.wait_for_inline_answer(telegram.inline_query(ann, ""))
    results = answered["results"]
    assert 1 <= len(results) <= 3
    assert results[0]["id"] == "egm-2002-chairs"
    assert "📄" in results[0]["input_message_content"]["message_text"]
    titles = [r["title"] for r in empty["results"]]
    assert any("Expert Group Meeting" in t for t in titles) and len(titles) >= 5


async def test_recommendations_of_no_named_meeting_offer_a_button_per_meeting(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path):
        menu = await ask(telegram, ann, "what were the main recommendations?")
        egm = next(b for b in buttons(menu) if "Glen Cove" in b or "Expert Group" in b)
        telegram.press(ann, menu, egm)
        listed = await all_sent(telegram, ann)
    assert menu["text"].startswith("Recommendations of which meeting?")
    assert len(buttons(menu)) == 5
    text = "\n".join(m["text"] for m in listed)
    assert "Recommendations and conclusions" in text and "Trafficking in women and girls" in text


async def test_meetings_command_opens_a_card(telegram: FakeTelegram, tmp_path: Path) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path):
        menu = await ask(telegram, ann, "/meetings")
        egm = next(b for b in buttons(menu) if b.startswith("Expert Group Meeting"))
        telegram.press(ann, menu, egm)
        card = (await telegram.wait_for_messages(ann, 1))[0]
    assert "18-22 November 2002" in card["text"] and "Glen Cove" in card["text"]
    assert any(e["type"] == "bold" for e in card.get("entities", []))


async def test_timeline_recommendations_search_about_and_help(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path) as bot:
        timeline = await ask(telegram, ann, "/timeline 2007")
        recs = (await ask_all(telegram, ann, "/recommendations ianwge sixth session"))[0]
        search = await ask(telegram, ann, "/search victim protection")
        about = await ask(telegram, ann, "/about")
        helped = await ask(telegram, ann, "/help")
        version = bot.services.live.version
    assert "2007" in timeline["text"] and "2004" not in timeline["text"].split("\n", 1)[1]
    assert "Recommendations" in recs["text"] and "📄" in recs["text"]
    assert 1 <= len(buttons(search)) <= 8
    assert version in about["text"]
    assert "/meetings" in helped["text"] and "/reload" not in helped["text"]


async def test_commands_are_registered_per_scope(telegram: FakeTelegram, tmp_path: Path) -> None:
    telegram.user("Admin", user_id=ADMIN_ID)
    async with running_bot(telegram, tmp_path):
        default = {c["command"] for c in telegram.commands("default")}
        groups = {c["command"] for c in telegram.commands("all_group_chats")}
        admin = {c["command"] for c in telegram.commands("chat", chat=ADMIN_ID)}
    assert {"start", "help", "ask", "meetings"} <= default and "reload" not in default
    assert "ask" in groups and "start" not in groups
    assert {"reload", "rollback", "export", "unanswered", "kbstats", "history"} <= admin


async def test_flood_control_sends_one_notice_then_stays_silent(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path, flood_questions_per_minute=3):
        for _ in range(6):
            telegram.send_text(ann, "when was the glen cove egm held")
        await telegram.wait_until_fetched()
        await telegram.wait_for_messages(ann, 4)
        await asyncio.sleep(1.0)
        sent = telegram.bot_messages(ann)
    notices = [m for m in sent if "faster" in m["text"]]
    assert len(sent) == 4 and len(notices) == 1


async def test_forged_and_stale_buttons_are_refused_without_crashing(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path) as bot:
        reply = await ask(telegram, ann, "who chaired the glen cove expert group meeting")
        forged = [("Gone", "f:no-such-fact"), ("Junk", "x" * 64), ("Apply", "apply:deadbeef")]
        keyboard = [[InlineKeyboardButton(text, callback_data=data)] for text, data in forged]
        await bot.application.bot.edit_message_reply_markup(
            ann.id, reply["message_id"], reply_markup=InlineKeyboardMarkup(keyboard)
        )
        answers = []
        for text, _ in forged:
            query = telegram.press(ann, reply, text)
            answers.append((await telegram.wait_for_callback_answer(query))["text"])
        still = await ask(telegram, ann, "when was the glen cove egm held")
    assert "no longer" in answers[0] and "no longer" in answers[1]
    assert "Only admins" in answers[2]
    assert "November 2002" in still["text"]
