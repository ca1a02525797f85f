"""Telegram handlers for users: questions, commands, buttons and inline queries.

Each handler is a thin adapter: read the update, call the core (`answer()` or `browse`), render,
send. Shared objects live in `bot_data` (see `app.Services`); nothing here knows how answers
are made.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import (
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ChatType, MessageEntityType, ParseMode
from telegram.ext import ContextTypes

from bot.adapters.telegram import formatting as fmt
from bot.adapters.telegram.callbacks import Action, decode
from bot.adapters.telegram.services import Services
from bot.core import browse
from bot.core.replies import Reply, Status

log = logging.getLogger(__name__)

HELP_EXAMPLES = (
    "When was the Expert Group Meeting in Glen Cove?",
    "Who chaired the UNECE Beijing+10 meeting?",
    "What did IANWGE recommend on gender statistics?",
    "What was planned for April 2007?",
    "Which meetings dealt with trafficking?",
)
INLINE_RESULTS = 3

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]
_outcome: contextvars.ContextVar[str] = contextvars.ContextVar("outcome", default="ok")


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


def logged(kind: str) -> Callable[[Handler], Handler]:
    """One log line per handled update: kind, chat type, status, latency. Never the text."""

    def wrap(handler: Handler) -> Handler:
        async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            started = time.perf_counter()
            _outcome.set("ok")
            try:
                await handler(update, context)
            finally:
                chat = update.effective_chat.type if update.effective_chat else "inline"
                status = _outcome.get()
                log.info("update kind=%s chat=%s status=%s latency_ms=%.1f", kind, chat,
                         status, (time.perf_counter() - started) * 1000)  # fmt: skip

        run.__name__ = handler.__name__
        run.__doc__ = handler.__doc__
        return run

    return wrap


def _status(status: str) -> None:
    """The outcome the update's log line reports (answered, ignored, flooded, stale...)."""
    _outcome.set(status)


def context_key(update: Update) -> str:
    """Whose conversation this is: the chat, or in groups the chat and the member.

    Hashed, so the state database holds no user or chat ids.
    """
    chat = update.effective_chat
    user = update.effective_user
    raw = f"{chat.id if chat else 0}"
    if chat is not None and chat.type != ChatType.PRIVATE:
        raw += f":{user.id if user else 0}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


async def send_rendered(
    message: Message, rendered: fmt.Rendered, *, in_group: bool
) -> Message | None:
    """Send every chunk, threaded to the asker's message in groups; buttons on the last."""
    sent = None
    for i, chunk in enumerate(rendered.chunks):
        last = i == len(rendered.chunks) - 1
        sent = await message.reply_text(
            chunk,
            parse_mode=ParseMode.HTML,
            reply_markup=rendered.keyboard if last else None,
            do_quote=in_group and i == 0,
            disable_web_page_preview=True,
        )
    return sent


async def flood_allowed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Per-user budget of questions; one polite notice when it runs out, then silence."""
    user = update.effective_user
    if user is None:
        return True
    svc = services(context)
    limiter = svc.limiters.get(user.id)
    if limiter is None:
        limiter = svc.limiters[user.id] = AsyncLimiter(svc.settings.flood_questions_per_minute, 60)
    if limiter.has_capacity():
        await limiter.acquire()
        svc.flood_noticed.discard(user.id)
        return True
    _status("flooded")
    if user.id not in svc.flood_noticed and update.effective_message is not None:
        svc.flood_noticed.add(user.id)
        await update.effective_message.reply_text(
            "You're asking faster than I can keep up with. Please wait a minute and ask again."
        )
    return False


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    question = text.strip()
    in_group = chat.type != ChatType.PRIVATE
    if not question:
        await message.reply_text(
            "Ask me a question after the command, e.g. /ask when was the Glen Cove meeting?",
            do_quote=in_group,
        )
        return
    if not await flood_allowed(update, context):
        return
    svc = services(context)
    key = context_key(update)
    reply = svc.live.engine.answer(question, svc.state.context(key))
    _status(reply.status.value)
    log.debug("question %r -> %s %s", question, reply.status.value, reply.fact)
    svc.state.record(reply, chat.type)
    svc.state.remember(key, reply)
    await send_rendered(message, fmt.render_reply(reply), in_group=in_group)


def bot_mention(message: Message, username: str) -> str | None:
    """The message text with the @mention of this bot removed, or None if not mentioned."""
    text = message.text or ""
    target = f"@{username}".lower()
    for entity in message.entities:
        if entity.type == MessageEntityType.MENTION:
            mention = message.parse_entity(entity)
            if mention.lower() == target:
                return (text.replace(mention, " ")).strip()
    if target in text.lower():
        return re.sub(re.escape(target), " ", text, flags=re.IGNORECASE).strip()
    return None


@logged("message")
async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a private chat any text is a question."""
    assert update.effective_message is not None
    await answer_question(update, context, update.effective_message.text or "")


@logged("group message")
async def on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only when addressed: an @mention or a reply to one of our messages."""
    message = update.effective_message
    assert message is not None
    question = bot_mention(message, context.bot.username)
    replied = message.reply_to_message
    author = replied.from_user if replied is not None else None
    if question is None and author is not None and author.id == context.bot.id:
        question = message.text or ""
    if question is None:
        _status("ignored")
        return
    await answer_question(update, context, question)


@logged("command")
async def on_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask QUESTION: works everywhere, and is how groups with privacy mode ask."""
    await answer_question(update, context, " ".join(context.args or []))


@logged("command")
async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Hello! I answer questions about five UN and OSCE meetings on gender equality and "
        "trafficking in women (2002-2008), always with the document and paragraph my answer "
        "comes from.\n\nJust type a question, or see /help for examples.",
    )


@logged("command")
async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    lines = [
        "<b>Ask me in plain words</b>, for example:",
        *(f"• {fmt.esc(q)}" for q in HELP_EXAMPLES),
        "",
        "After an answer you can follow up: <i>and who chaired it?</i>",
        "In groups, use /ask, mention me, or reply to my message.",
        "",
        "/meetings – the meetings and events I know",
        "/timeline [year] – dated events in order",
        "/recommendations [meeting] – what a meeting recommended",
        "/search words – facts containing those words",
        "/about – my sources and knowledge version",
    ]
    user = update.effective_user
    if user is not None and services(context).is_admin(user.id):
        lines += [
            "",
            "<b>Admin</b> (private chat only):",
            "/reload /rollback /export /unanswered [days] /kbstats /history",
            "Send a .yaml file to upload a new knowledge version.",
        ]
    await message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)


@logged("command")
async def on_meetings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    engine = services(context).live.engine
    keyboard = _meeting_buttons(engine, events=False)
    keyboard.append([fmt.button("Announced events…", Action.EVENTS)])
    await message.reply_text(
        "The meetings my documents describe. Pick one:",
        reply_markup=InlineKeyboardMarkup(keyboard),
        do_quote=update.effective_chat is not None
        and update.effective_chat.type != ChatType.PRIVATE,
    )


@logged("command")
async def on_timeline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    args = context.args or []
    year = int(args[0]) if args and args[0].isdigit() and len(args[0]) == 4 else None
    if args and year is None:
        await message.reply_text("Usage: /timeline or /timeline 2007")
        return
    lines = browse.timeline(services(context).live.engine, year)
    heading = f"<b>Timeline{f' of {year}' if year else ''}</b>"
    body = [fmt.esc(f"• {line}") for line in lines] or ["Nothing dated in that year."]
    await _send_lines(update, [heading, *body])


@logged("command")
async def on_recommendations(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    engine = services(context).live.engine
    words = " ".join(context.args or [])
    if words:
        named = engine.matcher.mentions.find(engine.matcher.normalise(words)).named
        if named:
            await _send_recommendations(update, context, named[0])
            return
    keyboard = [
        [fmt.button(m.name, Action.RECOMMENDATIONS, m.id)]
        for m in browse.meetings_with_recommendations(engine)
    ]
    prefix = "I don't know that meeting. " if words else ""
    await message.reply_text(
        f"{prefix}Recommendations of which meeting?", reply_markup=InlineKeyboardMarkup(keyboard)
    )


async def _send_recommendations(
    update: Update, context: ContextTypes.DEFAULT_TYPE, meeting_id: str
) -> None:
    engine = services(context).live.engine
    meeting = engine.knowledge.meetings.get(meeting_id)
    if meeting is None:
        return
    facts = browse.recommendations(engine, meeting_id)
    lines = [f"<b>Recommendations and conclusions: {fmt.esc(meeting.name)}</b>"]
    if not facts:
        lines.append("My documents record no recommendations for this meeting.")
    for fact in facts:
        source = engine.source_ref(fact)
        lines += ["", f"• {fmt.esc(fact.answer)}", f"  {fmt.source_line(source)}"]
    await _send_lines(update, lines)


@logged("command")
async def on_search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    words = " ".join(context.args or []).strip()
    if not words:
        await message.reply_text("Usage: /search words, e.g. /search victim protection")
        return
    facts = browse.search(services(context).live.engine, words)
    if not facts:
        await message.reply_text("Nothing in my documents matches those words.")
        return
    keyboard = [[fmt.button(f.questions[0], Action.FACT, f.id)] for f in facts]
    await message.reply_text(
        f"Facts matching “{words[:100]}”:", reply_markup=InlineKeyboardMarkup(keyboard)
    )


@logged("command")
async def on_about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    info = browse.about(services(context).live.engine)
    lines = [
        "<b>What I know</b>",
        f"{info['meetings']} meetings and {info['events']} announced events, "
        f"{info['facts']} facts, from {len(info['sources'])} documents:",  # type: ignore[arg-type]
    ]
    for source in info["sources"]:  # type: ignore[attr-defined]
        symbol = f" ({source.symbol})" if source.symbol else ""
        lines.append(f"• {fmt.esc(source.title)}{fmt.esc(symbol)}")
    lines += ["", f"Knowledge version <code>{fmt.esc(str(info['version']))}</code>"]
    await _send_lines(update, lines)


async def _send_lines(update: Update, lines: list[str]) -> None:
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    rendered = fmt.Rendered(fmt.split_lines(lines))
    await send_rendered(message, rendered, in_group=chat.type != ChatType.PRIVATE)


@logged("button")
async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every inline button. Answer the callback first, then act; stale buttons say so."""
    query = update.callback_query
    assert query is not None
    press = decode(query.data)
    engine = services(context).live.engine
    if press is None or press.action in (Action.APPLY, Action.DISCARD):
        if press is not None:
            from bot.adapters.telegram.admin import on_admin_button

            await on_admin_button(update, context, press)
            return
        _status("stale")
        await query.answer("This button is no longer valid.")
        return
    target = press.target
    facts = engine.knowledge.facts
    meetings = engine.knowledge.meetings
    if press.action in (Action.FACT, Action.QUOTE, Action.RELATED) and target not in facts:
        _status("stale")
        await query.answer("That fact is no longer in my knowledge. Please ask again.")
        return
    if press.action in (Action.MEETING, Action.RECOMMENDATIONS) and target not in meetings:
        _status("stale")
        await query.answer("That meeting is no longer in my knowledge.")
        return
    await query.answer()
    if query.message is None or not isinstance(query.message, Message):
        return
    await _BUTTONS[press.action](update, context, target)


async def _fact(update: Update, context: ContextTypes.DEFAULT_TYPE, fact_id: str | None) -> None:
    """A clarify choice or suggestion: answer it in place of the question."""
    svc = services(context)
    assert fact_id is not None and update.callback_query is not None
    reply = svc.live.engine.fact_reply(fact_id)
    svc.state.remember(context_key(update), reply)
    await _edit_or_send(update, fmt.render_reply(reply))


async def _quote(update: Update, context: ContextTypes.DEFAULT_TYPE, fact_id: str | None) -> None:
    assert fact_id is not None
    reply = services(context).live.engine.fact_reply(fact_id)
    await _edit_or_send(update, fmt.render_reply(reply, with_quote=True))


async def _related(update: Update, context: ContextTypes.DEFAULT_TYPE, fact_id: str | None) -> None:
    assert fact_id is not None
    facts = browse.related(services(context).live.engine, fact_id)
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    if not facts:
        await query.message.reply_text("I have nothing else on that meeting.")
        return
    keyboard = [[fmt.button(f.questions[0], Action.FACT, f.id)] for f in facts]
    await query.message.reply_text(
        "More about this meeting:", reply_markup=InlineKeyboardMarkup(keyboard)
    )


async def _meeting(
    update: Update, context: ContextTypes.DEFAULT_TYPE, meeting_id: str | None
) -> None:
    assert meeting_id is not None
    card = browse.meeting_card(services(context).live.engine, meeting_id)
    query = update.callback_query
    assert card is not None and query is not None and isinstance(query.message, Message)
    await send_rendered(query.message, fmt.render_card(card), in_group=False)


async def _events(update: Update, context: ContextTypes.DEFAULT_TYPE, _: str | None) -> None:
    engine = services(context).live.engine
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    await query.message.reply_text(
        "Events announced in the documents:",
        reply_markup=InlineKeyboardMarkup(_meeting_buttons(engine, events=True)),
    )


def _meeting_buttons(engine: Any, *, events: bool) -> list[list[Any]]:
    """A button per meeting (or per announced event) opening its card."""
    return [
        [fmt.button(f"{m.name} ({browse.date_range(m)})", Action.MEETING, m.id)]
        for m in browse.main_meetings(engine)
        if (m.kind != "meeting") == events
    ]


async def _recommendations_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, meeting_id: str | None
) -> None:
    assert meeting_id is not None
    await _send_recommendations(update, context, meeting_id)


async def _edit_or_send(update: Update, rendered: fmt.Rendered) -> None:
    """Replace the message the button was on; a long answer continues in new messages."""
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    first, *rest = rendered.chunks
    keyboard = rendered.keyboard if not rest else None
    await query.edit_message_text(
        first, parse_mode=ParseMode.HTML, reply_markup=keyboard, disable_web_page_preview=True
    )
    if rest:
        await send_rendered(query.message, fmt.Rendered(rest, rendered.keyboard), in_group=False)


_BUTTONS: dict[Action, Callable[[Update, Any, str | None], Awaitable[None]]] = {
    Action.FACT: _fact,
    Action.QUOTE: _quote,
    Action.RELATED: _related,
    Action.MEETING: _meeting,
    Action.EVENTS: _events,
    Action.RECOMMENDATIONS: _recommendations_button,
}


@logged("inline")
async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`@Bot question` anywhere: up to 3 sourced answers to drop into the chat."""
    query = update.inline_query
    assert query is not None
    engine = services(context).live.engine
    text = query.query.strip()
    if not text:
        results = [_meeting_article(engine, m.id) for m in browse.main_meetings(engine)[:20]]
        await query.answer([r for r in results if r is not None], cache_time=60)
        return
    if not await flood_allowed(update, context):
        await query.answer([], cache_time=5)
        return
    reply = engine.answer(text)
    _status(reply.status.value)
    if reply.status == Status.ANSWERED and reply.fact is not None:
        replies = [reply] + [engine.fact_reply(a.fact) for a in reply.alternatives]
    elif reply.status in (Status.CLARIFY, Status.NO_MATCH):
        replies = [engine.fact_reply(a.fact) for a in reply.alternatives]
    else:
        replies = []
    results = [_fact_article(r) for r in replies[:INLINE_RESULTS] if r.fact is not None]
    await query.answer(results, cache_time=60)


def _fact_article(reply: Reply) -> InlineQueryResultArticle:
    rendered = fmt.render_reply(reply)
    source = reply.sources[0]
    body = "\n".join([fmt.esc(reply.answer), "", fmt.source_line(source), fmt.quote_block(source)])
    text = body if len(body) <= fmt.SAFE_LIMIT else rendered.chunks[0]
    return InlineQueryResultArticle(
        id=reply.fact or "x",
        title=fmt.shorten(reply.question, 64),
        description=f"{fmt.shorten(reply.answer, 120)} — {source.short()}",
        input_message_content=InputTextMessageContent(text, parse_mode=ParseMode.HTML),
    )


def _meeting_article(engine: Any, meeting_id: str) -> InlineQueryResultArticle | None:
    card = browse.meeting_card(engine, meeting_id)
    if card is None:
        return None
    rendered = fmt.render_card(card)
    return InlineQueryResultArticle(
        id=f"m:{meeting_id}",
        title=card.meeting.name,
        description=f"{card.dates}{f', {card.meeting.place}' if card.meeting.place else ''}",
        input_message_content=InputTextMessageContent(
            rendered.chunks[0], parse_mode=ParseMode.HTML
        ),
    )


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log, tell the user something went wrong, and keep the bot running."""
    log.error("handler failed: %s", type(context.error).__name__, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(
                "Sorry, something went wrong on my side. Please try again in a moment."
            )
        except Exception:
            log.warning("could not tell the user about the error")
