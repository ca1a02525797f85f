"""What the Telegram handlers share: settings, live knowledge, state, per-user limiters.

Kept in `application.bot_data["services"]` so handlers stay plain functions, as in
python-telegram-bot's examples, and tests can reach the same objects the bot uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiolimiter import AsyncLimiter

from bot.config import Settings
from bot.live import LiveKnowledge
from bot.state import State

if TYPE_CHECKING:
    from bot.live import Staged


@dataclass
class Services:
    settings: Settings
    live: LiveKnowledge
    state: State
    limiters: dict[int, AsyncLimiter] = field(default_factory=dict)
    flood_noticed: set[int] = field(default_factory=set)
    staged: dict[str, Staged] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def is_admin(self, user_id: int) -> bool:
        """Admin rights come from numeric ids in the config, never from usernames."""
        return user_id in self.settings.admin_ids
