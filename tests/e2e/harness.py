"""Runs the real bot (its Application, handlers and PTB's HTTP stack) against the fake server.

`running_bot` starts the bot as `python -m bot run` would, minus the process: same
`build_application`, same post-init (commands, knowledge watcher), polling the fake server; the
knowledge file and state database are copies in a temporary folder, so tests may edit them.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.adapters.telegram.app import build_application, open_services
from bot.adapters.telegram.services import Services
from bot.config import Settings
from tests.conftest import KNOWLEDGE
from tests.e2e.fakeapi import FakeTelegram

ADMIN_ID = 4242


@dataclass
class RunningBot:
    application: Application
    settings: Settings
    knowledge_path: Path

    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]


@asynccontextmanager
async def running_bot(
    fake: FakeTelegram,
    folder: Path,
    *,
    knowledge: Path = KNOWLEDGE,
    admin_ids: tuple[int, ...] = (ADMIN_ID,),
    **overrides: Any,
) -> AsyncIterator[RunningBot]:
    path = folder / "knowledge" / "meetings.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(knowledge, path)
    values: dict[str, Any] = {
        "knowledge_path": path,
        "state_db": folder / "state" / "bot.sqlite3",
        "admin_ids": list(admin_ids),
        "reload_check_seconds": 0.3,
        "telegram_token": fake.token,
        "telegram_api_url": fake.root,
    }
    values.update(overrides)
    settings = Settings.model_validate(values)
    live, state = open_services(settings)
    application = build_application(settings, live, state, read_timeout=2.0, retry_backoff=0.05)
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield RunningBot(application, settings, path)
    finally:
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        state.close()
