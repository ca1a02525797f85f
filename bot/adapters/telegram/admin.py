"""Telegram handlers for admins: reload, upload with Apply/Discard, rollback, export, reports.

Admins are the numeric user ids in the config, and admin commands work only in their private
chat with the bot; everyone else gets a plain refusal. All file work happens in `bot.live`, off
the event loop, so answers keep flowing while a new version is validated and indexed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import secrets
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, NetworkError
from telegram.ext import ContextTypes

from bot.adapters.telegram import formatting as fmt
from bot.adapters.telegram.callbacks import Action, Press
from bot.adapters.telegram.handlers import logged, send_rendered
from bot.adapters.telegram.services import Services
from bot.core.knowledge import KnowledgeError
from bot.live import StaleVersion
from bot.state import format_unanswered

log = logging.getLogger(__name__)

MAX_PROBLEMS_SHOWN = 20
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def _services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


def admin_only(handler: Handler) -> Handler:
    """Refuse plainly unless the sender is a configured admin in a private chat."""

    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, chat, message = update.effective_user, update.effective_chat, update.effective_message
        if user is None or chat is None or message is None:
            return
        if not _services(context).is_admin(user.id):
            await message.reply_text("Sorry, that command is for the bot's admins.")
            return
        if chat.type != ChatType.PRIVATE:
            await message.reply_text("Admin commands work only in a private chat with me.")
            return
        await handler(update, context)

    guarded.__name__ = handler.__name__
    return guarded


async def _reply(update: Update, text: str, html: bool = False) -> None:
    message = update.effective_message
    assert message is not None
    lines = text.split("\n")
    for chunk in fmt.split_lines(lines if html else [fmt.esc(line) for line in lines]):
        await message.reply_text(chunk, parse_mode=ParseMode.HTML)


@logged("admin")
@admin_only
async def on_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = _services(context)
    before = (svc.live.version, len(svc.live.engine.knowledge.facts))
    outcome = await asyncio.to_thread(svc.live.check_disk, True)
    if outcome.problems:
        await _reply(update, _broken_text(outcome.problems, svc.live.version))
    elif outcome.reloaded:
        _log_change(svc, "reload", update, before)
        await _reply(update, f"Reloaded: knowledge version {svc.live.version}.")
    else:
        await _reply(update, f"No change on disk: knowledge version {svc.live.version}.")


@logged("admin")
@admin_only
async def on_rollback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = _services(context)
    before = (svc.live.version, len(svc.live.engine.knowledge.facts))
    try:
        await asyncio.to_thread(svc.live.rollback)
    except FileNotFoundError as err:
        await _reply(update, f"Cannot roll back: {err}.")
        return
    except KnowledgeError as err:
        await _reply(update, "\n".join(["The previous version is invalid:", *err.lines(5)]))
        return
    _log_change(svc, "rollback", update, before)
    await _reply(update, f"Rolled back: knowledge version {svc.live.version} is live.")


@logged("admin")
@admin_only
async def on_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = _services(context)
    raw = await asyncio.to_thread(svc.live.export)
    message = update.effective_message
    assert message is not None
    await message.reply_document(
        io.BytesIO(raw),
        filename=svc.live.path.name,
        caption=f"Knowledge version {svc.live.version}",
    )


@logged("admin")
@admin_only
async def on_unanswered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    try:
        days = float(args[0]) if args else 7.0
    except ValueError:
        await _reply(update, "Usage: /unanswered [DAYS], e.g. /unanswered 30")
        return
    groups = _services(context).state.unanswered(days)[:30]
    heading = f"Unanswered and clarified questions, last {days:g} days:"
    await _reply(update, f"{heading}\n{format_unanswered(groups)}")


@logged("admin")
@admin_only
async def on_kbstats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = _services(context)
    knowledge = svc.live.engine.knowledge
    stats = svc.state.stats()
    loaded = knowledge.loaded_at.strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Sources {len(knowledge.sources)}, meetings {len(knowledge.meetings)}, "
        f"facts {len(knowledge.facts)}",
        f"Knowledge version {knowledge.version}, loaded {loaded}",
        f"Questions today: {_counts(stats['today'])}",
        f"Questions this week: {_counts(stats['week'])}",
        "Most asked facts this week:",
        *(f"  {count} x {fact}" for fact, count in stats["top"]),
    ]
    await _reply(update, "\n".join(lines))


def _counts(by_status: dict[str, int]) -> str:
    if not by_status:
        return "none"
    return ", ".join(f"{status} {count}" for status, count in sorted(by_status.items()))


@logged("admin")
@admin_only
async def on_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    entries = _services(context).state.history(10)
    if not entries:
        await _reply(update, "No knowledge changes recorded yet.")
        return
    lines = ["Last knowledge changes:"]
    for e in entries:
        when = dt.datetime.fromtimestamp(e.at, dt.UTC).strftime("%Y-%m-%d %H:%M")
        who = f"admin {e.admin_id}" if e.admin_id else "disk"
        lines.append(f"{when} {e.action} by {who}: {e.hash_before} ({e.facts_before} facts) -> "
                     f"{e.hash_after} ({e.facts_after} facts)")  # fmt: skip
    await _reply(update, "\n".join(lines))


@logged("admin upload")
async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A .yaml document from an admin: validate it and offer Apply/Discard."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.document is not None
    svc = _services(context)
    if not svc.is_admin(user.id):
        await message.reply_text("I only answer questions; I can't use files you send me.")
        return
    document = message.document
    name = document.file_name or "upload.yaml"
    if not name.lower().endswith((".yaml", ".yml")):
        await message.reply_text("Send the knowledge file as a .yaml document.")
        return
    limit = svc.settings.max_knowledge_bytes
    if document.file_size is not None and document.file_size > limit:
        await message.reply_text(
            f"That file is {document.file_size:,} bytes; the limit is {limit:,}."
        )
        return
    file = await document.get_file()
    raw = bytes(await file.download_as_bytearray())
    if len(raw) > limit:
        await message.reply_text(f"That file is {len(raw):,} bytes; the limit is {limit:,}.")
        return
    try:
        staged = await asyncio.to_thread(svc.live.stage, raw, name)
    except KnowledgeError as err:
        lines = err.lines(MAX_PROBLEMS_SHOWN)
        await _reply(update, "\n".join([f"{name} is invalid; nothing changed:", *lines]))
        return
    token = secrets.token_hex(6)
    svc.staged.clear()
    svc.staged[token] = staged
    text = [
        f"{name} is valid (version {staged.version}, based on {staged.base_version}).",
        staged.diff.summary(),
        *_listed("added", staged.diff.added),
        *_listed("removed", staged.diff.removed),
        *_listed("changed", staged.diff.changed),
        f"warnings: {len(staged.knowledge.warnings)}",
        *(f"  {w.format(name)}" for w in staged.knowledge.warnings[:10]),
    ]
    keyboard = InlineKeyboardMarkup(
        [[fmt.button("Apply", Action.APPLY, token), fmt.button("Discard", Action.DISCARD, token)]]
    )
    chunks = fmt.split_lines([fmt.esc(line) for line in text])
    await send_rendered(message, fmt.Rendered(chunks, keyboard), in_group=False)


def _listed(label: str, ids: list[str], limit: int = 15) -> list[str]:
    if not ids:
        return []
    more = f" (+{len(ids) - limit} more)" if len(ids) > limit else ""
    return [f"{label}: {', '.join(ids[:limit])}{more}"]


async def on_admin_button(update: Update, context: ContextTypes.DEFAULT_TYPE, press: Press) -> None:
    """Apply/Discard. Checked again here: a forged button from a non-admin does nothing."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    svc = _services(context)
    if user is None or not svc.is_admin(user.id):
        await query.answer("Only admins can do that.", show_alert=True)
        return
    staged = svc.staged.get(press.target or "")
    if staged is None:
        await query.answer("That upload is no longer pending. Send the file again.")
        return
    await query.answer()
    if press.action == Action.DISCARD:
        svc.staged.pop(press.target or "", None)
        await query.edit_message_text("Discarded; nothing changed.")
        return
    before = (svc.live.version, len(svc.live.engine.knowledge.facts))
    try:
        await asyncio.to_thread(svc.live.apply, staged)
    except StaleVersion as err:
        svc.staged.pop(press.target or "", None)
        await query.edit_message_text(f"Not applied: {err}.")
        return
    svc.staged.pop(press.target or "", None)
    _log_change(svc, "upload", update, before)
    await query.edit_message_text(f"Applied: knowledge version {svc.live.version} is live.")


def _log_change(svc: Services, action: str, update: Update | None, before: tuple[str, int]) -> None:
    admin_id = update.effective_user.id if update and update.effective_user else None
    after = (svc.live.version, len(svc.live.engine.knowledge.facts))
    svc.state.log_change(action, admin_id, before, after)
    log.info("knowledge %s by %s: %s (%d facts) -> %s (%d facts)", action,
             admin_id or "disk", before[0], before[1], after[0], after[1])  # fmt: skip


def _broken_text(problems: tuple[str, ...], live_version: str) -> str:
    return "\n".join([
        f"The knowledge file on disk is invalid; still answering from version {live_version}.",
        *problems[:MAX_PROBLEMS_SHOWN],
    ])  # fmt: skip


async def watch_knowledge(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue task: reload on change; tell admins once about each broken version."""
    svc = _services(context)
    before = (svc.live.version, len(svc.live.engine.knowledge.facts))
    outcome = await asyncio.to_thread(svc.live.check_disk)
    if outcome.reloaded:
        _log_change(svc, "disk reload", None, before)
    elif outcome.problems:
        await send_to_admins(context, _broken_text(outcome.problems, svc.live.version))


async def send_to_admins(context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """A message to every admin's private chat; an admin who never started the bot is skipped."""
    for admin_id in _services(context).settings.admin_ids:
        for chunk in fmt.split_lines([fmt.esc(line) for line in text.split("\n")]):
            try:
                await context.bot.send_message(admin_id, chunk, parse_mode=ParseMode.HTML)
            except (BadRequest, NetworkError) as err:
                log.warning("could not notify admin %s: %s", admin_id, type(err).__name__)
                break


COMMANDS: dict[str, Handler] = {
    "reload": on_reload,
    "rollback": on_rollback,
    "export": on_export,
    "unanswered": on_unanswered,
    "kbstats": on_kbstats,
    "history": on_history,
}
