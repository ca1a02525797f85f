"""The Telegram application: wiring in one place, start-up checks, polling or webhook.

As in python-telegram-bot's examples, handlers are registered here and nowhere else. Telegram
failures are handled in layers: `AIORateLimiter` keeps under Telegram's limits and waits out
`RetryAfter`; `RetryingRequest` retries network errors, timeouts and 5xx answers so a reply is
not dropped; the error handler logs anything else and tells the user, and the bot keeps running.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeChat, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest, RequestData

from bot.adapters.telegram import admin, handlers
from bot.adapters.telegram.services import Services
from bot.config import Settings
from bot.core.knowledge import KnowledgeError
from bot.live import LiveKnowledge
from bot.logs import setup_logging
from bot.state import State

log = logging.getLogger(__name__)

USER_COMMANDS = [
    BotCommand("help", "What I can answer, with examples"),
    BotCommand("ask", "Ask a question: /ask when was the Glen Cove meeting?"),
    BotCommand("meetings", "The meetings and events I know"),
    BotCommand("timeline", "Dated events in order: /timeline 2007"),
    BotCommand("recommendations", "What a meeting recommended"),
    BotCommand("search", "Facts containing some words"),
    BotCommand("about", "My sources and knowledge version"),
]
PRIVATE_ONLY = [BotCommand("start", "Start talking to me")]
ADMIN_COMMANDS = [
    BotCommand("reload", "Admin: reload the knowledge file now"),
    BotCommand("rollback", "Admin: restore the previous knowledge version"),
    BotCommand("export", "Admin: send the live knowledge file"),
    BotCommand("unanswered", "Admin: questions I could not answer"),
    BotCommand("kbstats", "Admin: knowledge and usage figures"),
    BotCommand("history", "Admin: the last knowledge changes"),
]


class RetryingRequest(HTTPXRequest):
    """Retries a call that failed in transit (network error, timeout, 5xx), with backoff.

    `getUpdates` is left to PTB's own polling loop, which already retries forever.
    """

    def __init__(self, *args: Any, attempts: int = 4, backoff: float = 0.5, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attempts = attempts
        self.backoff = backoff

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **kwargs: Any
    ) -> tuple[int, bytes]:
        if url.endswith("/getUpdates"):
            return await super().do_request(url, method, request_data, **kwargs)
        for attempt in range(1, self.attempts + 1):
            try:
                code, payload = await super().do_request(url, method, request_data, **kwargs)
            except (TimedOut, NetworkError) as err:
                if attempt == self.attempts:
                    raise
                log.warning(
                    "Telegram call %s failed (%s); retrying", _method(url), type(err).__name__
                )
            else:
                if code < 500 or attempt == self.attempts:
                    return code, payload
                log.warning("Telegram call %s answered %s; retrying", _method(url), code)
            await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")


def _method(url: str) -> str:
    """The Bot API method of a URL, never the URL itself: it holds the token."""
    return url.rsplit("/", 1)[-1]


def build_application(
    settings: Settings,
    live: LiveKnowledge,
    state: State,
    *,
    read_timeout: float = 10.0,
    retry_backoff: float = 0.5,
) -> Application:
    """The configured Application, ready to initialise and poll (or serve a webhook)."""
    assert settings.telegram_token is not None
    api = settings.telegram_api_url.rstrip("/")
    request = RetryingRequest(read_timeout=read_timeout, backoff=retry_backoff)
    application = (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .request(request)
        .get_updates_request(HTTPXRequest(read_timeout=read_timeout + 30))
        .rate_limiter(AIORateLimiter(max_retries=5))
        .post_init(_post_init)
        .build()
    )
    application.bot_data["services"] = Services(settings, live, state)
    _add_handlers(application)
    return application


def _add_handlers(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    application.add_handler(CommandHandler("start", handlers.on_start))
    application.add_handler(CommandHandler("help", handlers.on_help))
    application.add_handler(CommandHandler("ask", handlers.on_ask))
    application.add_handler(CommandHandler("meetings", handlers.on_meetings))
    application.add_handler(CommandHandler("timeline", handlers.on_timeline))
    application.add_handler(CommandHandler("recommendations", handlers.on_recommendations))
    application.add_handler(CommandHandler("search", handlers.on_search))
    application.add_handler(CommandHandler("about", handlers.on_about))
    for name, callback in admin.COMMANDS.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(MessageHandler(filters.Document.ALL & private, admin.on_document))
    text = filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(text & private, handlers.on_private_text))
    application.add_handler(MessageHandler(text & groups, handlers.on_group_text))
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    application.add_handler(InlineQueryHandler(handlers.on_inline))
    application.add_error_handler(handlers.on_error)


async def _post_init(application: Application) -> None:
    """Register commands per scope and start watching the knowledge file."""
    services: Services = application.bot_data["services"]
    bot = application.bot
    await bot.set_my_commands(PRIVATE_ONLY + USER_COMMANDS)
    await bot.set_my_commands(USER_COMMANDS, scope=BotCommandScopeAllGroupChats())
    for admin_id in services.settings.admin_ids:
        try:
            await bot.set_my_commands(
                PRIVATE_ONLY + USER_COMMANDS + ADMIN_COMMANDS,
                scope=BotCommandScopeChat(admin_id),
            )
        except BadRequest as err:
            log.warning("could not set admin commands for admin %s: %s", admin_id, err.message)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            admin.watch_knowledge,
            interval=services.settings.reload_check_seconds,
            first=services.settings.reload_check_seconds,
            name="watch-knowledge",
        )
    log.info("bot @%s ready: knowledge %s", bot.username, services.live.version)


def open_services(settings: Settings) -> tuple[LiveKnowledge, State]:
    """Load the knowledge (raises KnowledgeError/OSError) and open the state database."""
    live = LiveKnowledge(
        settings.resolve(settings.knowledge_path),
        settings.thresholds.to_thresholds(),
        settings.max_knowledge_bytes,
        settings.backups_kept,
    )
    state = State(settings.resolve(settings.state_db), settings.context_ttl_minutes * 60)
    return live, state


def run(settings: Settings, args: argparse.Namespace) -> int:
    """`python -m bot run [--webhook URL ...]`: start, check the token, serve until stopped."""
    if settings.telegram_token is None:
        print("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather (see README.md).",
              file=sys.stderr)  # fmt: skip
        return 2
    setup_logging(settings.log_level, settings.telegram_token.get_secret_value())
    try:
        live, state = open_services(settings)
    except KnowledgeError as err:
        print("\n".join(["The knowledge file is invalid:", *err.lines(20)]), file=sys.stderr)
        return 2
    except OSError as err:
        print(f"Cannot read the knowledge file: {err}", file=sys.stderr)
        return 2
    application = build_application(settings, live, state)
    try:
        asyncio.run(_check_token(application))
    except InvalidToken:
        print("Telegram rejected the token: check TELEGRAM_BOT_TOKEN (from @BotFather).",
              file=sys.stderr)  # fmt: skip
        return 2
    except NetworkError as err:
        print(f"Cannot reach the Telegram Bot API at {settings.telegram_api_url}: "
              f"{type(err).__name__}.", file=sys.stderr)  # fmt: skip
        return 2
    try:
        if getattr(args, "webhook", None):
            application.run_webhook(
                listen=args.listen,
                port=args.port,
                url_path=args.path,
                webhook_url=args.webhook,
                secret_token=args.secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            application.run_polling(allowed_updates=Update.ALL_TYPES)
    finally:
        state.close()
    return 0


async def _check_token(application: Application) -> None:
    """getMe once, before anything else, so a wrong token fails with one clear line."""
    bot = application.bot
    await bot.initialize()
    await bot.shutdown()
