"""Admins updating the knowledge from Telegram and from disk, with nothing lost."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.conftest import KNOWLEDGE
from tests.e2e.fakeapi import FakeTelegram
from tests.e2e.harness import ADMIN_ID, RunningBot, running_bot
from tests.e2e.test_bot import ask, buttons

EGM_ANSWER_START = "The aide-memoire for the Expert Group Meeting"
CHAIRS_QUESTION = "who chaired the glen cove expert group meeting"


def edited_knowledge(old: str, new: str) -> bytes:
    text = KNOWLEDGE.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1).encode()


def with_new_answer() -> bytes:
    """The shipped file with one fact's answer reworded (a 'changed' fact)."""
    return edited_knowledge(EGM_ANSWER_START, "UPDATED: " + EGM_ANSWER_START)


async def wait_for_version(bot: RunningBot, version: str, timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.1)):
        if bot.services.live.version == version:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"version {version} never went live ({bot.services.live.version})")


async def test_valid_upload_shows_the_change_and_apply_makes_it_live(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    admin = telegram.user("Admin", user_id=ADMIN_ID)
    async with running_bot(telegram, tmp_path) as bot:
        old_version = bot.services.live.version
        telegram.send_document(admin, filename="meetings.yaml", content=with_new_answer())
        summary = (await telegram.wait_for_messages(admin, 1))[0]
        assert "1 changed" in summary["text"] and "egm-2002-chairs" in summary["text"]
        assert buttons(summary) == ["Apply", "Discard"]
        assert bot.services.live.version == old_version
        telegram.press(admin, summary, "Apply")
        confirmed = (await telegram.wait_for_edits(admin, 1))[0]
        new_version = bot.services.live.version
        answer = await ask(telegram, admin, CHAIRS_QUESTION)
        backups = list((bot.knowledge_path.parent / "backups").glob("*.yaml"))
        history = await ask(telegram, admin, "/history")
    assert new_version != old_version and new_version in confirmed["text"]
    assert answer["text"].startswith("UPDATED:")
    assert bot.knowledge_path.read_bytes() == with_new_answer()
    assert len(backups) == 1 and old_version in backups[0].name
    assert "upload" in history["text"] and new_version in history["text"]


async def test_invalid_upload_is_refused_with_line_numbers_and_nothing_changes(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    admin = telegram.user("Admin", user_id=ADMIN_ID)
    broken = edited_knowledge("    kind: date\n", "    kind: date\n    kind: place\n")
    async with running_bot(telegram, tmp_path) as bot:
        version = bot.services.live.version
        telegram.send_document(admin, filename="meetings.yaml", content=broken)
        refusal = (await telegram.wait_for_messages(admin, 1))[0]
        answer = await ask(telegram, admin, CHAIRS_QUESTION)
        assert bot.services.live.version == version
    assert "invalid" in refusal["text"] and "meetings.yaml:" in refusal["text"]
    assert "duplicate" in refusal["text"].lower()
    assert "Expert Group Meeting" in answer["text"]
    assert bot.knowledge_path.read_bytes() == KNOWLEDGE.read_bytes()


async def test_discard_and_a_second_stale_apply_change_nothing(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    admin = telegram.user("Admin", user_id=ADMIN_ID)
    async with running_bot(telegram, tmp_path) as bot:
        version = bot.services.live.version
        telegram.send_document(admin, filename="meetings.yaml", content=with_new_answer())
        summary = (await telegram.wait_for_messages(admin, 1))[0]
        telegram.press(admin, summary, "Discard")
        discarded = (await telegram.wait_for_edits(admin, 1))[0]
        assert "Discarded" in discarded["text"] and bot.services.live.version == version
        telegram.send_document(admin, filename="meetings.yaml", content=with_new_answer())
        pending = (await telegram.wait_for_messages(admin, 1))[0]
        bot.knowledge_path.write_bytes(
            edited_knowledge(EGM_ANSWER_START, "DISK: " + EGM_ANSWER_START)
        )
        await telegram.wait_for(lambda: bot.services.live.version != version, timeout=10)
        telegram.press(admin, pending, "Apply")
        refused = (await telegram.wait_for_edits(admin, 1))[0]
    assert "Not applied" in refused["text"] and "changed" in refused["text"]
    assert bot.knowledge_path.read_bytes().count(b"DISK: ") == 1


async def test_rollback_and_export(telegram: FakeTelegram, tmp_path: Path) -> None:
    admin = telegram.user("Admin", user_id=ADMIN_ID)
    async with running_bot(telegram, tmp_path) as bot:
        original = bot.services.live.version
        telegram.send_document(admin, filename="meetings.yaml", content=with_new_answer())
        summary = (await telegram.wait_for_messages(admin, 1))[0]
        telegram.press(admin, summary, "Apply")
        await telegram.wait_for_edits(admin, 1)
        rolled = await ask(telegram, admin, "/rollback")
        restored = bot.services.live.version
        telegram.send_text(admin, "/export")
        exported = (await telegram.wait_for_messages(admin, 1))[0]
    assert restored == original and original in rolled["text"]
    assert bot.knowledge_path.read_bytes() == KNOWLEDGE.read_bytes()
    content = telegram.file_content(exported["document"]["file_id"])
    assert content == KNOWLEDGE.read_bytes()


async def test_disk_edit_is_picked_up_and_a_broken_file_is_reported_once(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    admin = telegram.user("Admin", user_id=ADMIN_ID)
    async with running_bot(telegram, tmp_path) as bot:
        bot.knowledge_path.write_bytes(with_new_answer())
        await wait_for_version(bot, _version(with_new_answer()))
        good = bot.services.live.version
        bot.knowledge_path.write_bytes(b"facts: [\n  - oops: : :\n")
        notice = (await telegram.wait_for_messages(admin, 1, timeout=10))[0]
        await asyncio.sleep(1.0)
        answer = await ask(telegram, admin, CHAIRS_QUESTION)
        bot.knowledge_path.unlink()
        await asyncio.sleep(1.0)
        after_delete = await ask(telegram, admin, CHAIRS_QUESTION)
    assert "invalid" in notice["text"] and good in notice["text"]
    assert "meetings.yaml:" in notice["text"]
    assert answer["text"].startswith("UPDATED:") and after_delete["text"].startswith("UPDATED:")
    notices = [m for m in telegram.bot_messages(admin) if "invalid" in m["text"]]
    assert len(notices) == 2  # one for the garbage, one for the deletion


def _version(raw: bytes) -> str:
    from bot.core.knowledge import version_of

    return version_of(raw)


async def test_non_admins_cannot_use_admin_commands_or_buttons(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    admin = telegram.user("Admin", user_id=ADMIN_ID)
    mallory = telegram.user("Mallory")
    async with running_bot(telegram, tmp_path) as bot:
        version = bot.services.live.version
        refusals = []
        for command in ("/reload", "/rollback", "/export", "/unanswered", "/kbstats", "/history"):
            refusals.append(await ask(telegram, mallory, command))
        telegram.send_document(mallory, filename="meetings.yaml", content=with_new_answer())
        upload = (await telegram.wait_for_messages(mallory, 1))[0]
        telegram.send_document(admin, filename="meetings.yaml", content=with_new_answer())
        summary = (await telegram.wait_for_messages(admin, 1))[0]
        forged = telegram.press(mallory, summary, "Apply")
        refused: Any = await telegram.wait_for_callback_answer(forged)
        assert bot.services.live.version == version
    assert all("admins" in r["text"] for r in refusals)
    assert "can't use files" in upload["text"]
    assert "Only admins" in refused["text"]


async def test_unanswered_groups_questions_by_normalised_form(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    admin = telegram.user("Admin", user_id=ADMIN_ID)
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path):
        for text in ("What is the capital of Peru?", "what is the capital of peru", "who won?"):
            await ask(telegram, ann, text)
        report = await ask(telegram, admin, "/unanswered 1")
        stats = await ask(telegram, admin, "/kbstats")
    lines = report["text"].splitlines()
    peru = next(i for i, line in enumerate(lines) if "capital of peru" in line.lower())
    won = next(i for i, line in enumerate(lines) if "who won" in line.lower())
    assert peru < won and lines[peru].split()[0] == "2"
    assert "facts" in stats["text"] and "no_match" in stats["text"]
