"""Telegram failing in the ways it does: every reply still arrives, exactly once."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.fakeapi import FakeTelegram
from tests.e2e.harness import running_bot

QUESTION = "when was the glen cove egm held"


@pytest.mark.parametrize(
    ("status", "retry_after"), [(429, 1), (500, None), (502, None)], ids=["429", "500", "502"]
)
async def test_send_failures_are_retried_and_delivered_once(
    telegram: FakeTelegram, tmp_path: Path, status: int, retry_after: int | None
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path):
        fault = telegram.fail("sendMessage", status, retry_after=retry_after or 1, times=2)
        telegram.send_text(ann, QUESTION)
        await telegram.wait_for_messages(ann, 1, timeout=15)
        await asyncio.sleep(1.0)
    assert fault.hits == 2
    assert len(telegram.bot_messages(ann)) == 1


async def test_a_reply_that_times_out_is_retried_and_delivered_once(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path):
        fault = telegram.delay("sendMessage", 3.0, times=1)
        telegram.send_text(ann, QUESTION)
        await telegram.wait_for_messages(ann, 1, timeout=20)
        await asyncio.sleep(1.0)
    assert fault.hits == 1 and len(telegram.bot_messages(ann)) == 1


async def test_polling_resumes_after_the_network_comes_back(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    ann = telegram.user("Ann")
    async with running_bot(telegram, tmp_path):
        telegram.network_down()
        telegram.send_text(ann, QUESTION)
        await asyncio.sleep(2.0)
        assert telegram.bot_messages(ann) == []
        telegram.network_up()
        replies = await telegram.wait_for_messages(ann, 1, timeout=30)
    assert "November 2002" in replies[0]["text"]


async def test_a_locked_state_database_degrades_with_one_warning(
    telegram: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ann = telegram.user("Ann")
    state_file = tmp_path / "state" / "bot.sqlite3"
    state_file.parent.mkdir(parents=True)
    state_file.write_bytes(b"this is not a database" * 100)
    caplog.set_level(logging.WARNING)
    async with running_bot(telegram, tmp_path):
        first = await ask_text(telegram, ann, QUESTION)
        second = await ask_text(telegram, ann, "who chaired it?")
    assert "November 2002" in first and second
    warnings = [r for r in caplog.records if "state database" in r.getMessage()]
    assert len(warnings) == 1


async def ask_text(fake: FakeTelegram, user: object, text: str) -> str:
    fake.send_text(user, text)
    return (await fake.wait_for_messages(user, 1))[0]["text"]


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, output.decode()


def cli_env(fake: FakeTelegram, tmp_path: Path, token: str) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.update(
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_URL=fake.root,
        BOT_STATE_DB=str(tmp_path / "state.sqlite3"),
        BOT_LOG_LEVEL="DEBUG",
    )
    return env


async def test_a_wrong_token_stops_start_up_with_one_clear_line(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    wrong = "999999:WRONG-secret-token-value"
    code, output = await run_cli("run", env=cli_env(telegram, tmp_path, wrong))
    assert code == 2
    assert "Telegram rejected the token" in output
    assert wrong not in output and "WRONG-secret" not in output


async def test_an_unreachable_api_is_reported_clearly(tmp_path: Path) -> None:
    import os

    env = dict(os.environ, TELEGRAM_BOT_TOKEN="123:abc", TELEGRAM_API_URL="http://127.0.0.1:9",
               BOT_STATE_DB=str(tmp_path / "s.sqlite3"))  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 2
    assert "Cannot reach the Telegram Bot API" in output.decode()
    assert "123:abc" not in output.decode()


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
async def test_the_bot_process_answers_then_stops_promptly_on_a_signal_without_leaking_the_token(
    telegram: FakeTelegram, tmp_path: Path, signal_name: str
) -> None:
    import signal
    import time

    ann = telegram.user("Ann")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=ROOT, env=cli_env(telegram, tmp_path, telegram.token),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        telegram.send_text(ann, QUESTION)
        replies = await telegram.wait_for_messages(ann, 1, timeout=60)
        started = time.monotonic()
        process.send_signal(getattr(signal, signal_name))
        output, _ = await asyncio.wait_for(process.communicate(), timeout=10)
        stopped_in = time.monotonic() - started
    finally:
        if process.returncode is None:
            process.kill()
    text = output.decode()
    assert "November 2002" in replies[0]["text"]
    assert process.returncode == 0 and stopped_in < 5, text
    secret = telegram.token.split(":", 1)[1]
    assert telegram.token not in text and secret not in text
    assert "update kind=message chat=private status=answered" in text


async def test_a_state_database_locked_by_another_process_does_not_stop_answers(
    telegram: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlite3

    from bot.state import State

    ann = telegram.user("Ann")
    state_file = tmp_path / "state" / "bot.sqlite3"
    State(state_file).close()
    holder = sqlite3.connect(state_file, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    caplog.set_level(logging.WARNING)
    try:
        async with running_bot(telegram, tmp_path):
            first = await ask_text(telegram, ann, QUESTION)
            second = await ask_text(telegram, ann, "who chaired the glen cove expert group meeting")
    finally:
        holder.close()
    assert "November 2002" in first and "Expert Group Meeting" in second
    warnings = [r for r in caplog.records if "state database" in r.getMessage()]
    assert len(warnings) == 1
