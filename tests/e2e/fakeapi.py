"""An in-process fake of the Telegram Bot API server, for end-to-end tests of the real bot.

The bot under test runs the real python-telegram-bot stack (``HTTPXRequest``, ``Bot``,
``Application``, ``Updater``) against this aiohttp server, so PTB's request encoding, error
mapping, long polling and file downloads are exercised; nothing of PTB is mocked. Point PTB at it
with::

    Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
    ApplicationBuilder().token(fake.token).base_url(fake.base_url)
        .base_file_url(fake.base_file_url)

What the bot sees (routes ``/bot{token}/{method}`` and ``/file/bot{token}/{file_path}``)
-------------------------------------------------------------------------------------------
Parameters are read from a urlencoded form, a multipart form (uploads) or a JSON body; nested
values (``reply_markup``, ``reply_parameters``, ``results``, ``commands``, ``scope``...) may be
JSON-encoded strings, as PTB sends them. Answers are ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": N, "description": "..."}`` (+ ``parameters.retry_after`` on 429)
with Telegram's wording, so PTB raises its real exceptions (BadRequest, RetryAfter, ...).

Methods: getMe, getUpdates (long polling: ``offset`` confirms, ``timeout`` waits, ``limit``; a
second concurrent getUpdates ends the first with 409 Conflict), set/delete/getWebhook(Info),
close, logOut, set/get/deleteMyCommands (per scope and language), set/getMyDescription,
set/getMyShortDescription, setChatMenuButton, sendMessage, editMessageText,
editMessageReplyMarkup, deleteMessage, answerCallbackQuery, answerInlineQuery, sendChatAction,
sendDocument, getFile. Text is checked with :mod:`tgtext` (HTML/MarkdownV2/Markdown parsing,
4096 UTF-16 units after parsing, 1024 for captions), inline keyboards are checked
(callback_data 1-64 bytes), unknown chats are "chat not found". One deliberate difference: a bare
"&" in HTML text is rejected (Telegram keeps it as text); pass ``strict_ampersand=False`` to
behave exactly like Telegram.

Privacy mode (``fake.privacy_mode``, default True): in groups only messages addressed to the bot
become updates: a command at the start (``/cmd`` or ``/cmd@ThisBot``, not ``/cmd@OtherBot``), a
message mentioning @ThisBot, a reply to one of the bot's messages, or a message sent via the bot.
Private messages, button presses and inline queries are always delivered. With
``privacy_mode = False`` every group message is delivered.

What the test does (the user simulator)
---------------------------------------
``fake = FakeTelegram(token="123:ABC"); await fake.start()`` (or ``async with``; the ``telegram``
fixture in conftest.py does this). ``fake.root`` is ``"http://127.0.0.1:PORT"``.

People and chats (chat arguments accept a Chat, a User for their private chat, a chat id, or a
message dict)::

    user(first_name="Ann", *, user_id=None, username=None, last_name=None,
         language_code="en") -> User                  # with a private chat (user.id == chat id)
    group(title="Team", *, supergroup=False, forum=False, chat_id=None) -> Chat
    block(user) / unblock(user)                        # sends to them -> 403 Forbidden

Actions, each queueing the update the bot will fetch (returned dicts are Bot API JSON)::

    send_text(user, text, *, chat=None, reply_to=None, entities=None, thread_id=None) -> dict
    send_document(user, *, filename, content, chat=None, caption=None, mime_type=None) -> dict
    press(user, message, button) -> str                # callback query id; button = text or data
    inline_query(user, query, *, offset="", chat_type="sender") -> str      # inline query id
    choose_inline_result(user, query_id, result_id, *, chat=None) -> dict   # message via bot

Reading what the bot did ("new" = since the test's last action in that chat)::

    await wait_for_messages(chat, n=1, *, timeout=10) -> list[dict]   # bot messages, as sent
    await wait_for_edits(chat, n=1, *, timeout=10) -> list[dict]      # messages after each edit
    await expect_no_reply(chat, *, within=0.5)         # bot fetched the update, stayed silent
    await wait_for(condition, *, timeout=10, what=...) -> value       # generic; returns truthy
    await wait_until_fetched(*, timeout=10)            # bot has fetched every queued update
    new_messages(chat), new_edits(chat), bot_messages(chat), chat_log(chat) -> list[dict]
    was_delivered(message) -> bool                     # became an update (privacy mode)
    callback_answer(query_id) -> dict | None ; await wait_for_callback_answer(query_id)
    inline_answer(query_id) -> dict | None ; await wait_for_inline_answer(query_id)
    commands(scope="default", *, chat=None, user=None, language_code="") -> list[dict]
    visible_commands(user, chat=None) -> list[dict]    # what Telegram's menu would show
    chat_actions(chat) -> list[str] ; file_content(file_id) -> bytes
    calls(method=None, *, ok=None) -> list[Call]       # every request, failed ones too

Faults (each returns a :class:`Fault` whose ``hits`` counts the requests it spoiled; a spoiled
request is recorded in ``calls()`` but has no effect, so a retried send is delivered once)::

    fail(method, status=429, *, retry_after=1, times=1, description=None) -> Fault
    delay(method, seconds, *, times=1, deliver=False) -> Fault  # answer late; if the client gave
                                # up meanwhile the request is dropped unless deliver=True
    disconnect(method, *, times=1, after_processing=False) -> Fault   # drop the connection
    network_down() / network_up()            # every request fails at the connection level
``method`` is case-insensitive; ``"*"`` matches every method.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import mimetypes
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.web_request import FileField

from .tgtext import (
    EntityParseError,
    UnsupportedParseModeError,
    detect_entities,
    entity_text,
    format_text,
    utf16_len,
)

JSONDict = dict[str, Any]
T = TypeVar("T")

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
INLINE_RESULTS_LIMIT = 50
DOWNLOAD_LIMIT = 20 * 1024 * 1024
UPLOAD_LIMIT = 50 * 1024 * 1024

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "web_app",
    "login_url",
    "callback_game",
    "pay",
    "copy_text",
)

# How PTB sends values: every non-string value JSON-encoded into a form field. These tables say
# which fields to decode back (a JSON body already carries typed values).
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "entities",
        "caption_entities",
        "results",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "button",
        "menu_button",
        "media",
    }
)
INT_PARAMS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "message_thread_id",
        "reply_to_message_id",
        "cache_time",
        "user_id",
        "max_connections",
    }
)
FLOAT_PARAMS = frozenset({"timeout"})
BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "is_personal",
        "drop_pending_updates",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "disable_content_type_detection",
        "allow_paid_broadcast",
    }
)


# ----------------------------------------------------------------------------------------------
# Value objects
# ----------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status == ``error_code``, Telegram's description."""

    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        """The JSON Telegram answers with."""
        body: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    """A 400 answer; Telegram prefixes every one with "Bad Request: "."""
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class User:
    """A simulated Telegram user; their private chat with the bot has the same id."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"

    def to_api(self) -> JSONDict:
        """The Bot API ``User`` object."""
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass(frozen=True)
class Chat:
    """A simulated chat: ``private`` (id == user id), ``group`` or ``supergroup``."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    is_forum: bool = False

    def to_api(self) -> JSONDict:
        """The Bot API ``Chat`` object as embedded in messages."""
        data: JSONDict = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "username"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.is_forum:
            data["is_forum"] = True
        return data


ChatLike = Chat | User | int | Mapping[str, Any]


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    content: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {self.content_type!r}, {len(self.content)} bytes)"


@dataclass
class Call:
    """One request the bot made, as the server saw it (failed and faulted ones included)."""

    method: str
    params: JSONDict
    status: int | None = None  # None: no HTTP answer reached the client
    response: JSONDict | None = None
    fault: str | None = None  # which injected fault spoiled it, if any

    @property
    def ok(self) -> bool:
        """Whether the call succeeded (the bot got ``"ok": true``)."""
        return self.status == 200

    @property
    def result(self) -> Any:
        """The ``result`` of a successful call."""
        return (self.response or {}).get("result")

    @property
    def description(self) -> str | None:
        """The error description of a failed call."""
        return (self.response or {}).get("description")


@dataclass
class Fault:
    """An injected failure for the next ``times`` requests to ``method``."""

    method: str
    action: str  # "status" | "delay" | "disconnect"
    times: int = 1
    status: int = 0
    description: str = ""
    retry_after: int | None = None
    seconds: float = 0.0
    deliver: bool = False
    hits: int = 0

    def matches(self, method: str) -> bool:
        """Whether this fault still applies to a request for ``method``."""
        return self.hits < self.times and self.method in ("*", method.lower())


@dataclass
class StoredFile:
    """A file known to the server, uploaded by the bot or sent by a simulated user."""

    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str
    mime_type: str
    content: bytes = field(repr=False)

    def document(self) -> JSONDict:
        """The Bot API ``Document`` object."""
        return {
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
        }


@dataclass
class _Query:
    """A callback or inline query awaiting the bot's single answer."""

    user: User
    payload: JSONDict
    answer: JSONDict | None = None


@dataclass
class _Event:
    """Something that happened in a chat, in order; the basis of ``new_messages``."""

    kind: str  # "user" | "sent" | "edited" | "deleted"
    message: JSONDict


# ----------------------------------------------------------------------------------------------
# Parameter decoding and validation helpers
# ----------------------------------------------------------------------------------------------


def decode_param(name: str, value: Any) -> Any:
    """Turn a form value back into what the bot meant (PTB JSON-encodes non-strings)."""
    if isinstance(value, FileField):
        return Upload(value.filename, value.content_type, value.file.read())
    if not isinstance(value, str):
        return value
    if name in JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            what = "reply keyboard markup" if name == "reply_markup" else name
            raise bad_request(f"can't parse {what} JSON object") from None
    if name in INT_PARAMS and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    if name in FLOAT_PARAMS:
        try:
            return float(value)
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None
    if name in BOOL_PARAMS:
        return value.strip().lower() in ("true", "1")
    return value


def check_markup(markup: Any, *, inline_only: bool = False) -> JSONDict | None:
    """Validate ``reply_markup``; return the inline keyboard to store on the message, if any."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for button in (button for row in rows for button in row):
            check_button(button)
        return {"inline_keyboard": rows} if any(rows) else None
    if inline_only:
        raise bad_request("inline keyboard expected")
    if not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
        raise bad_request("can't parse reply keyboard markup JSON object")
    return None


def check_button(button: Any) -> None:
    """One inline keyboard button: a text and exactly one action; callback_data 1-64 bytes."""
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = [key for key in BUTTON_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not re.match(r"(https?|tg)://\S+$", str(button["url"])):
        raise bad_request("BUTTON_URL_INVALID")
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")


def inline_buttons(message: Mapping[str, Any]) -> list[JSONDict]:
    """All inline keyboard buttons of a message, row by row."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button for row in rows for button in row]


def button_texts(message: Mapping[str, Any]) -> list[str]:
    """The texts of a message's inline buttons, row by row (handy in assertions)."""
    return [button["text"] for button in inline_buttons(message)]


def format_or_reject(
    text: Any,
    parse_mode: Any,
    entities: Any,
    *,
    limit: int,
    too_long: str,
    strict_ampersand: bool,
) -> tuple[str, list[JSONDict]]:
    """What Telegram stores for a text, or the 400 it answers for it."""
    try:
        plain, found = format_text(
            str(text), parse_mode or None, entities, strict_ampersand=strict_ampersand
        )
    except UnsupportedParseModeError:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}") from None
    except EntityParseError as error:
        raise bad_request(f"can't parse entities: {error}") from None
    if utf16_len(plain) > limit:
        raise bad_request(too_long)
    return plain, found


def _without_reply(message: JSONDict) -> JSONDict:
    """A message as embedded in ``reply_to_message`` (Telegram does not nest replies deeper)."""
    return {
        key: value for key, value in copy.deepcopy(message).items() if key != "reply_to_message"
    }


def _scope_key(scope: Mapping[str, Any]) -> str:
    return json.dumps(dict(scope), sort_keys=True)


# ----------------------------------------------------------------------------------------------
# The fake server
# ----------------------------------------------------------------------------------------------


class FakeTelegram:
    """The fake Bot API server plus the user simulator; see the module docstring for the API."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        username: str = "MeetingsTestBot",
        first_name: str = "Meetings Test Bot",
        privacy_mode: bool = True,
        strict_ampersand: bool = True,
    ) -> None:
        self.token = token
        self.username = username
        self.first_name = first_name
        self.privacy_mode = privacy_mode
        self.strict_ampersand = strict_ampersand
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 1
        self.root = ""
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._changed = asyncio.Event()
        self._network_down = False
        self._faults: list[Fault] = []
        self._calls: list[Call] = []
        self._ids = itertools.count(1)
        self._users: dict[int, User] = {}
        self._chats: dict[int, Chat] = {}
        self._blocked: set[int] = set()
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._next_message_id: dict[int, itertools.count[int]] = {}
        self._events: dict[int, list[_Event]] = {}
        self._marks: dict[int, int] = {}
        self._delivered: set[tuple[int, int]] = set()
        self._update_ids = itertools.count(100_000_001)
        self._updates: list[JSONDict] = []
        self._last_update_id = 0
        self._fetched_up_to = 0
        self._poll_generation = 0
        self._webhook_url = ""
        self._callback_queries: dict[str, _Query] = {}
        self._inline_queries: dict[str, _Query] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._bot_texts: dict[tuple[str, str], str] = {}
        self._actions: dict[int, list[str]] = {}
        self._files: dict[str, StoredFile] = {}
        self._handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "close": lambda p: True,
            "logout": lambda p: True,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setmydescription": lambda p: self._set_bot_text("description", p),
            "getmydescription": lambda p: self._get_bot_text("description", p),
            "setmyshortdescription": lambda p: self._set_bot_text("short_description", p),
            "getmyshortdescription": lambda p: self._get_bot_text("short_description", p),
            "setchatmenubutton": lambda p: True,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "answerinlinequery": self._answer_inline_query,
            "sendchataction": self._send_chat_action,
            "senddocument": self._send_document,
            "getfile": self._get_file,
        }

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeTelegram:
        """Listen on ``host``; port 0 picks a free one. Sets :attr:`root`."""
        app = web.Application(client_max_size=UPLOAD_LIMIT)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.root = f"http://{bound_host}:{bound_port}"
        return self

    async def stop(self) -> None:
        """Wake pending long polls and delays, then shut the server down."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """PTB's ``base_url`` (PTB appends the token)."""
        return f"{self.root}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's ``base_file_url`` (PTB appends the token)."""
        return f"{self.root}/file/bot"

    @property
    def bot_kwargs(self) -> JSONDict:
        """Keyword arguments for ``telegram.Bot(**fake.bot_kwargs)``."""
        return {"token": self.token, "base_url": self.base_url, "base_file_url": self.base_file_url}

    @property
    def bot_user(self) -> JSONDict:
        """The bot as ``getMe`` describes it."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # -- fault injection --------------------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = 1,
        times: int = 1,
        description: str | None = None,
    ) -> Fault:
        """Answer the next ``times`` calls of ``method`` with an error, without performing them."""
        if status == 429:
            default = f"Too Many Requests: retry after {retry_after}"
        else:
            default = DEFAULT_DESCRIPTIONS.get(status, "Error")
        fault = Fault(
            method.lower(),
            "status",
            times,
            status=status,
            description=description or default,
            retry_after=retry_after if status == 429 else None,
        )
        self._faults.append(fault)
        return fault

    def delay(self, method: str, seconds: float, *, times: int = 1, deliver: bool = False) -> Fault:
        """Hold the next ``times`` calls of ``method`` for ``seconds`` before performing them.

        If the client hung up meanwhile (its read timeout fired) the request is dropped, as if
        it never reached Telegram; ``deliver=True`` performs it anyway (a lost answer).
        """
        fault = Fault(method.lower(), "delay", times, seconds=seconds, deliver=deliver)
        self._faults.append(fault)
        return fault

    def disconnect(self, method: str, *, times: int = 1, after_processing: bool = False) -> Fault:
        """Drop the connection of the next ``times`` calls: PTB raises NetworkError.

        ``after_processing=True`` performs the request first, so only the answer is lost.
        """
        fault = Fault(method.lower(), "disconnect", times, deliver=after_processing)
        self._faults.append(fault)
        return fault

    def network_down(self) -> None:
        """Make every request fail at the connection level until :meth:`network_up`."""
        self._network_down = True

    def network_up(self) -> None:
        """End :meth:`network_down`."""
        self._network_down = False

    # -- HTTP layer -------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if self._network_down:
            self._calls.append(Call(method, {}, fault="network_down"))
            return _drop_connection(request)
        call = Call(method, {})
        self._calls.append(call)
        if request.match_info["token"] != self.token:
            return self._answer(call, ApiError(401, "Unauthorized"))
        handler = self._handlers.get(method.lower())
        if handler is None:
            return self._answer(call, ApiError(404, "Not Found"))
        try:
            call.params = await _read_params(request)
        except ApiError as error:
            return self._answer(call, error)
        fault = next((f for f in self._faults if f.matches(method)), None)
        if fault is not None:
            fault.hits += 1
            return await self._apply_fault(fault, request, call, handler)
        return self._answer(call, await self._perform(handler, call.params))

    async def _perform(self, handler: Callable[[JSONDict], Any], params: JSONDict) -> Any:
        """Run a method; its result, or the ApiError it raised."""
        try:
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as error:
            return error
        return result

    def _answer(self, call: Call, outcome: Any) -> web.Response:
        """Record the outcome on the call and turn it into Telegram's JSON answer."""
        if isinstance(outcome, ApiError):
            call.status, call.response = outcome.code, outcome.body()
        else:
            call.status, call.response = 200, {"ok": True, "result": outcome}
        self._notify()
        return web.json_response(call.response, status=call.status)

    async def _apply_fault(
        self,
        fault: Fault,
        request: web.Request,
        call: Call,
        handler: Callable[[JSONDict], Any],
    ) -> web.StreamResponse:
        if fault.action == "status":
            call.fault = f"status {fault.status}"
            parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
            return self._answer(call, ApiError(fault.status, fault.description, parameters))
        if fault.action == "disconnect":
            call.fault = "disconnect"
            if fault.deliver:
                await self._perform(handler, call.params)
            self._notify()
            return _drop_connection(request)
        call.fault = f"delay {fault.seconds}s"
        await self._sleep(fault.seconds)
        if request.transport is None and not fault.deliver:
            call.fault += ", client gone: dropped"
            self._notify()
            return web.Response(status=499)
        return self._answer(call, await self._perform(handler, call.params))

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if self._network_down:
            return _drop_connection(request)
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        stored = next(
            (f for f in self._files.values() if f.file_path == request.match_info["path"]), None
        )
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        return web.Response(body=stored.content, content_type="application/octet-stream")

    # -- change notification and waiting ----------------------------------------------------

    def _notify(self) -> None:
        """Wake everything waiting for a change (long polls and test waits)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, timeout: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(timeout, 0))

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up early when the server stops."""
        deadline = asyncio.get_running_loop().time() + seconds
        while not self._closing and (left := deadline - asyncio.get_running_loop().time()) > 0:
            await self._wait_change(left)

    async def wait_for(
        self, condition: Callable[[], T], *, timeout: float = 10.0, what: str = "condition"
    ) -> T:
        """Wait until ``condition()`` is truthy and return its value.

        On timeout, raise AssertionError naming ``what`` plus the bot's failed calls, which is
        usually the reason (a 400 on sendMessage, a bot that never polled...).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = condition()
            if value:
                return value
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}\n{self.report()}"
                )
            await self._wait_change(min(left, 0.05))

    async def wait_until_fetched(self, *, timeout: float = 10.0) -> None:
        """Wait until the bot has fetched every update queued so far."""
        target = self._last_update_id
        await self.wait_for(
            lambda: self._fetched_up_to >= target,
            timeout=timeout,
            what=f"the bot to fetch update {target}",
        )

    async def wait_for_messages(
        self, chat: ChatLike, n: int = 1, *, timeout: float = 10.0
    ) -> list[JSONDict]:
        """At least ``n`` bot messages sent to ``chat`` since the test's last action there."""
        chat_id = self._chat(chat).id
        return await self.wait_for(
            lambda: (found := self.new_messages(chat_id)) and len(found) >= n and found,
            timeout=timeout,
            what=f"{n} bot message(s) in chat {chat_id}",
        )

    async def wait_for_edits(
        self, chat: ChatLike, n: int = 1, *, timeout: float = 10.0
    ) -> list[JSONDict]:
        """At least ``n`` edits of bot messages in ``chat`` since the test's last action there."""
        chat_id = self._chat(chat).id
        return await self.wait_for(
            lambda: (found := self.new_edits(chat_id)) and len(found) >= n and found,
            timeout=timeout,
            what=f"{n} edit(s) in chat {chat_id}",
        )

    async def expect_no_reply(self, chat: ChatLike, *, within: float = 0.5) -> None:
        """Assert the bot fetched the pending updates and sent nothing to ``chat`` for a while."""
        await self.wait_until_fetched()
        await asyncio.sleep(within)
        found = self.new_messages(chat)
        if found:
            texts = [m.get("text", m.get("caption")) for m in found]
            raise AssertionError(f"expected no reply in chat {self._chat(chat).id}, got {texts}")

    async def wait_for_callback_answer(self, query_id: str, *, timeout: float = 10.0) -> JSONDict:
        """The bot's answerCallbackQuery for ``query_id``, once it arrives."""
        return await self.wait_for(
            lambda: self.callback_answer(query_id),
            timeout=timeout,
            what=f"an answer to callback query {query_id}",
        )

    async def wait_for_inline_answer(self, query_id: str, *, timeout: float = 10.0) -> JSONDict:
        """The bot's answerInlineQuery for ``query_id``, once it arrives."""
        return await self.wait_for(
            lambda: self.inline_answer(query_id),
            timeout=timeout,
            what=f"an answer to inline query {query_id}",
        )

    def report(self, limit: int = 8) -> str:
        """What went wrong lately: failed calls and polling progress (for assertion messages)."""
        failed = [c for c in self._calls if not c.ok and c.method.lower() != "getupdates"]
        lines = [
            f"  {c.method} -> {c.status} {c.description or ''} {c.fault or ''}".rstrip()
            for c in failed[-limit:]
        ]
        polls = sum(c.method.lower() == "getupdates" for c in self._calls)
        lines.append(
            f"  getUpdates calls: {polls}; updates queued up to {self._last_update_id}, "
            f"fetched up to {self._fetched_up_to}"
        )
        return "recent failed calls and polling:\n" + "\n".join(lines)

    # -- reading what happened --------------------------------------------------------------

    def calls(self, method: str | None = None, *, ok: bool | None = None) -> list[Call]:
        """Requests received (case-insensitive ``method``; ``ok`` filters on success)."""
        return [
            c
            for c in self._calls
            if (method is None or c.method.lower() == method.lower()) and ok in (None, c.ok)
        ]

    def _new_events(self, chat: ChatLike, kind: str) -> list[JSONDict]:
        chat_id = self._chat(chat).id
        events = self._events.get(chat_id, [])[self._marks.get(chat_id, 0) :]
        return [copy.deepcopy(e.message) for e in events if e.kind == kind]

    def new_messages(self, chat: ChatLike) -> list[JSONDict]:
        """Bot messages sent to ``chat`` since the test's last action there, as sent."""
        return self._new_events(chat, "sent")

    def new_edits(self, chat: ChatLike) -> list[JSONDict]:
        """Bot edits in ``chat`` since the test's last action there: the message after each."""
        return self._new_events(chat, "edited")

    def chat_log(self, chat: ChatLike) -> list[JSONDict]:
        """Every message in ``chat`` (user and bot) in order, with edits applied."""
        chat_id = self._chat(chat).id
        keys = sorted(key for key in self._messages if key[0] == chat_id)
        return [copy.deepcopy(self._messages[key]) for key in keys]

    def bot_messages(self, chat: ChatLike) -> list[JSONDict]:
        """The bot's messages in ``chat`` in order, with edits applied."""
        return [m for m in self.chat_log(chat) if m["from"]["id"] == self.bot_id]

    def was_delivered(self, message: Mapping[str, Any]) -> bool:
        """Whether a simulated user message became an update (see privacy mode)."""
        return (message["chat"]["id"], message["message_id"]) in self._delivered

    def callback_answer(self, query_id: str) -> JSONDict | None:
        """The bot's answer to a button press: text, show_alert, url, cache_time."""
        return copy.deepcopy(self._callback_queries[query_id].answer)

    def inline_answer(self, query_id: str) -> JSONDict | None:
        """The bot's answer to an inline query: results, next_offset, cache_time, ..."""
        return copy.deepcopy(self._inline_queries[query_id].answer)

    def commands(
        self,
        scope: str | Mapping[str, Any] = "default",
        *,
        chat: ChatLike | None = None,
        user: User | None = None,
        language_code: str = "",
    ) -> list[JSONDict]:
        """The commands registered for exactly this scope and language (no fallback)."""
        if isinstance(scope, str):
            scope = {"type": scope}
            if chat is not None:
                scope["chat_id"] = self._chat(chat).id
            if user is not None:
                scope["user_id"] = user.id
        key = (_scope_key(scope), language_code)
        return copy.deepcopy(self._commands.get(key, []))

    def visible_commands(self, user: User, chat: ChatLike | None = None) -> list[JSONDict]:
        """The command menu ``user`` sees in ``chat`` (their private chat by default).

        Telegram's resolution order, each scope first with the user's language, then without;
        simulated users are never group administrators.
        """
        target = self._chat(user if chat is None else chat)
        if target.type == "private":
            scopes = [{"type": "chat", "chat_id": target.id}, {"type": "all_private_chats"}]
        else:
            scopes = [
                {"type": "chat_member", "chat_id": target.id, "user_id": user.id},
                {"type": "chat", "chat_id": target.id},
                {"type": "all_group_chats"},
            ]
        for scope in [*scopes, {"type": "default"}]:
            for language in dict.fromkeys([user.language_code or "", ""]):
                found = self._commands.get((_scope_key(scope), language))
                if found:
                    return copy.deepcopy(found)
        return []

    def chat_actions(self, chat: ChatLike) -> list[str]:
        """The sendChatAction actions the bot sent to ``chat``, in order."""
        return list(self._actions.get(self._chat(chat).id, []))

    def file_content(self, file_id: str) -> bytes:
        """The bytes behind a file id (an upload of the bot's or a simulated user's file)."""
        return self._files[file_id].content

    # -- the user simulator: people and chats ----------------------------------------------

    def user(
        self,
        first_name: str = "Ann",
        *,
        user_id: int | None = None,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> User:
        """A new user who has started a private chat with the bot."""
        user_id = user_id if user_id is not None else 100_000_000 + next(self._ids)
        user = User(user_id, first_name, username, last_name, language_code)
        self._users[user.id] = user
        self._chats[user.id] = Chat(user.id, "private", first_name=first_name, username=username)
        return user

    def group(
        self,
        title: str = "Team",
        *,
        supergroup: bool = False,
        forum: bool = False,
        chat_id: int | None = None,
    ) -> Chat:
        """A new group (or supergroup, or forum supergroup) the bot is a member of."""
        number = next(self._ids)
        if chat_id is None:
            chat_id = (
                -(1_000_000_000_000 + number) if supergroup or forum else -(4_000_000 + number)
            )
        kind = "supergroup" if supergroup or forum else "group"
        chat = Chat(chat_id, kind, title=title, is_forum=forum)
        self._chats[chat.id] = chat
        return chat

    def block(self, user: User) -> None:
        """The user blocks the bot: sending to them answers 403 Forbidden."""
        self._blocked.add(user.id)

    def unblock(self, user: User) -> None:
        """The user unblocks the bot."""
        self._blocked.discard(user.id)

    def _chat(self, chat: ChatLike) -> Chat:
        """Resolve a Chat, a User (their private chat), a chat id or a message/chat dict."""
        if isinstance(chat, Chat | User):
            chat_id = chat.id
        elif isinstance(chat, int):
            chat_id = chat
        elif "chat" in chat:
            chat_id = chat["chat"]["id"]
        else:
            chat_id = chat["id"]
        if chat_id not in self._chats:
            raise LookupError(f"no simulated chat {chat_id}; create it with user() or group()")
        return self._chats[chat_id]

    # -- the user simulator: actions --------------------------------------------------------

    def send_text(
        self,
        user: User,
        text: str,
        *,
        chat: ChatLike | None = None,
        reply_to: Mapping[str, Any] | None = None,
        entities: list[JSONDict] | None = None,
        thread_id: int | None = None,
    ) -> JSONDict:
        """``user`` writes ``text`` (privately unless ``chat`` is given); returns the message.

        Commands, mentions, hashtags and links get their entities as Telegram adds them.
        """
        message = self._user_message(user, chat, reply_to=reply_to, thread_id=thread_id)
        message["text"] = text
        found = detect_entities(text) if entities is None else entities
        if found:
            message["entities"] = found
        return self._post(message)

    def send_document(
        self,
        user: User,
        *,
        filename: str,
        content: bytes,
        chat: ChatLike | None = None,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> JSONDict:
        """``user`` sends a file; getFile and the download route serve it to the bot."""
        stored = self._store_file(content, filename, mime_type)
        message = self._user_message(user, chat)
        message["document"] = stored.document()
        if caption:
            message["caption"] = caption
            found = detect_entities(caption)
            if found:
                message["caption_entities"] = found
        return self._post(message)

    def press(self, user: User, message: Mapping[str, Any], button: str) -> str:
        """``user`` presses the inline button (by text or callback_data) on a bot message.

        Returns the callback query id the bot must answer.
        """
        current = self._stored(message)
        buttons = inline_buttons(current)
        chosen = next(
            (b for b in buttons if button in (b["text"], b.get("callback_data"))),
            None,
        )
        if chosen is None or "callback_data" not in chosen:
            shown = [(b["text"], b.get("callback_data")) for b in buttons]
            raise LookupError(f"no callback button {button!r} on that message; it has {shown}")
        query_id = str(9_000_000_000 + next(self._ids))
        payload = {
            "id": query_id,
            "from": user.to_api(),
            "message": copy.deepcopy(current),
            "chat_instance": str(abs(current["chat"]["id"]) * 7 + 13),
            "data": chosen["callback_data"],
        }
        self._callback_queries[query_id] = _Query(user, payload)
        self._mark(current["chat"]["id"])
        self._enqueue("callback_query", payload)
        return query_id

    def inline_query(
        self, user: User, query: str, *, offset: str = "", chat_type: str = "sender"
    ) -> str:
        """``user`` types ``@bot query`` somewhere; returns the inline query id."""
        query_id = str(8_000_000_000 + next(self._ids))
        payload = {
            "id": query_id,
            "from": user.to_api(),
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        self._inline_queries[query_id] = _Query(user, payload)
        self._enqueue("inline_query", payload)
        return query_id

    def choose_inline_result(
        self, user: User, query_id: str, result_id: str, *, chat: ChatLike | None = None
    ) -> JSONDict:
        """``user`` picks an article the bot offered: it is posted "via @bot" in ``chat``."""
        answer = self._inline_queries[query_id].answer
        if answer is None:
            raise LookupError(f"inline query {query_id} has no answer yet")
        result = next((r for r in answer["results"] if r["id"] == result_id), None)
        if result is None or "input_message_content" not in result:
            raise LookupError(f"no article {result_id!r} among the answers")
        content = result["input_message_content"]
        text, found = format_text(
            content["message_text"],
            content.get("parse_mode"),
            content.get("entities"),
            strict_ampersand=self.strict_ampersand,
        )
        message = self._user_message(user, chat)
        message.update(text=text, via_bot=self._bot_sender())
        if found:
            message["entities"] = found
        markup = check_markup(result.get("reply_markup"))
        if markup:
            message["reply_markup"] = markup
        return self._post(message)

    def _user_message(
        self,
        user: User,
        chat: ChatLike | None,
        *,
        reply_to: Mapping[str, Any] | None = None,
        thread_id: int | None = None,
    ) -> JSONDict:
        target = self._chat(user if chat is None else chat)
        message: JSONDict = {
            "message_id": self._allocate_message_id(target.id),
            "from": user.to_api(),
            "chat": target.to_api(),
            "date": int(time.time()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = target.is_forum or None
        if reply_to is not None:
            message["reply_to_message"] = _without_reply(self._stored(reply_to))
        return {key: value for key, value in message.items() if value is not None}

    def _post(self, message: JSONDict) -> JSONDict:
        """Store a user message, mark the chat, and queue the update if the bot would get it."""
        chat_id = message["chat"]["id"]
        self._messages[(chat_id, message["message_id"])] = message
        self._events.setdefault(chat_id, []).append(_Event("user", copy.deepcopy(message)))
        self._mark(chat_id)
        if self._addressed_to_bot(message):
            self._delivered.add((chat_id, message["message_id"]))
            self._enqueue("message", message)
        else:
            self._notify()
        return copy.deepcopy(message)

    def _mark(self, chat_id: int) -> None:
        """A test action in the chat: ``new_messages`` counts from here."""
        self._marks[chat_id] = len(self._events.setdefault(chat_id, []))

    def _enqueue(self, kind: str, payload: JSONDict) -> None:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, kind: copy.deepcopy(payload)})
        self._last_update_id = update_id
        self._notify()

    def _addressed_to_bot(self, message: JSONDict) -> bool:
        """Privacy mode: which group messages Telegram hands to the bot."""
        if message["chat"]["type"] == "private" or not self.privacy_mode:
            return True
        if message.get("via_bot", {}).get("id") == self.bot_id:
            return True
        if message.get("reply_to_message", {}).get("from", {}).get("id") == self.bot_id:
            return True
        text = message.get("text") or message.get("caption") or ""
        entities = message.get("entities") or message.get("caption_entities") or []
        return any(self._entity_addresses_bot(text, entity) for entity in entities)

    def _entity_addresses_bot(self, text: str, entity: JSONDict) -> bool:
        value = entity_text(text, entity)
        if entity["type"] == "bot_command" and entity["offset"] == 0:
            _, _, target = value.partition("@")
            return not target or target.lower() == self.username.lower()
        if entity["type"] == "mention":
            return value[1:].lower() == self.username.lower()
        if entity["type"] == "text_mention":
            return entity.get("user", {}).get("id") == self.bot_id
        return False

    # -- messages and files -----------------------------------------------------------------

    def _allocate_message_id(self, chat_id: int) -> int:
        return next(self._next_message_id.setdefault(chat_id, itertools.count(1)))

    def _stored(self, message: Mapping[str, Any]) -> JSONDict:
        key = (message["chat"]["id"], message["message_id"])
        if key not in self._messages:
            raise LookupError(f"no message {key[1]} in chat {key[0]}")
        return self._messages[key]

    def _store_file(self, content: bytes, filename: str, mime_type: str | None) -> StoredFile:
        number = next(self._ids)
        suffix = "".join(re.findall(r"\.[A-Za-z0-9]{1,8}$", filename))
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{number:06d}",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"documents/file_{number}{suffix}",
            file_name=filename,
            mime_type=mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream",
            content=content,
        )
        self._files[stored.file_id] = stored
        return stored

    def _bot_sender(self) -> JSONDict:
        return {key: self.bot_user[key] for key in ("id", "is_bot", "first_name", "username")}

    # -- Bot API methods --------------------------------------------------------------------

    def _get_me(self, p: JSONDict) -> JSONDict:
        return self.bot_user

    async def _get_updates(self, p: JSONDict) -> list[JSONDict]:
        if self._webhook_url:
            raise ApiError(409, CONFLICT_WEBHOOK)
        self._confirm(p.get("offset"))
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        timeout = max(float(p.get("timeout") or 0), 0.0)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll still waiting ends with 409 Conflict
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._updates and not self._closing and loop.time() < deadline:
            await self._wait_change(deadline - loop.time())
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT_POLL)
        batch = self._updates[:limit]
        if batch:
            self._fetched_up_to = max(self._fetched_up_to, batch[-1]["update_id"])
        return copy.deepcopy(batch)

    def _confirm(self, offset: Any) -> None:
        """``offset`` confirms every earlier update; a negative one keeps only the last -N."""
        if not isinstance(offset, int) or offset == 0:
            return
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _set_webhook(self, p: JSONDict) -> bool:
        url = str(p.get("url") or "")
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook_url = url
        return True

    def _delete_webhook(self, p: JSONDict) -> bool:
        self._webhook_url = ""
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, p: JSONDict) -> JSONDict:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _command_key(self, p: JSONDict) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        scope = dict(scope)
        if "chat_id" in scope:
            scope["chat_id"] = self._target_chat({"chat_id": scope["chat_id"]}).id
        elif scope["type"] in ("chat", "chat_administrators", "chat_member"):
            raise bad_request("chat_id is empty")
        language = str(p.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return _scope_key(scope), language

    def _set_my_commands(self, p: JSONDict) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            name = command.get("command") if isinstance(command, dict) else None
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            description = str(command.get("description") or "").strip()
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._command_key(p)
        cleaned = [{"command": c["command"], "description": c["description"]} for c in commands]
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    def _get_my_commands(self, p: JSONDict) -> list[JSONDict]:
        return copy.deepcopy(self._commands.get(self._command_key(p), []))

    def _delete_my_commands(self, p: JSONDict) -> bool:
        self._commands.pop(self._command_key(p), None)
        return True

    def _set_bot_text(self, kind: str, p: JSONDict) -> bool:
        self._bot_texts[(kind, str(p.get("language_code") or ""))] = str(p.get(kind) or "")
        return True

    def _get_bot_text(self, kind: str, p: JSONDict) -> JSONDict:
        return {kind: self._bot_texts.get((kind, str(p.get("language_code") or "")), "")}

    def _target_chat(self, p: Mapping[str, Any]) -> Chat:
        """The chat a method addresses; Telegram's errors for missing, unknown or blocked."""
        chat_id = p.get("chat_id")
        if chat_id in (None, ""):
            raise bad_request("chat_id is empty")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if chat.type == "private" and chat.id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _message_text(self, p: JSONDict) -> tuple[str, list[JSONDict]]:
        text = p.get("text")
        if text is None or not str(text).strip():
            raise bad_request("message text is empty")
        plain, found = format_or_reject(
            text,
            p.get("parse_mode"),
            p.get("entities"),
            limit=MESSAGE_LIMIT,
            too_long="message is too long",
            strict_ampersand=self.strict_ampersand,
        )
        if not plain:
            raise bad_request("message text is empty")
        return plain, found

    def _caption(self, p: JSONDict) -> tuple[str, list[JSONDict]]:
        if not p.get("caption"):
            return "", []
        return format_or_reject(
            p["caption"],
            p.get("parse_mode"),
            p.get("caption_entities"),
            limit=CAPTION_LIMIT,
            too_long="message caption is too long",
            strict_ampersand=self.strict_ampersand,
        )

    def _reply_target(self, chat: Chat, p: JSONDict) -> JSONDict | None:
        """The message replied to (reply_parameters or legacy reply_to_message_id)."""
        reply = p.get("reply_parameters")
        if reply is None and p.get("reply_to_message_id") is not None:
            reply = {
                "message_id": p["reply_to_message_id"],
                "allow_sending_without_reply": p.get("allow_sending_without_reply", False),
            }
        if reply is None:
            return None
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
            raise bad_request("can't parse reply parameters JSON object")
        chat_id = reply.get("chat_id", chat.id)
        target = self._messages.get((chat_id, reply["message_id"]))
        if target is None and not reply.get("allow_sending_without_reply"):
            raise bad_request("message to be replied not found")
        return target

    def _new_bot_message(self, chat: Chat, p: JSONDict, markup: JSONDict | None) -> JSONDict:
        """A bot message skeleton; call only after every validation has passed."""
        replied = self._reply_target(chat, p)
        message: JSONDict = {
            "message_id": self._allocate_message_id(chat.id),
            "from": self._bot_sender(),
            "chat": chat.to_api(),
            "date": int(time.time()),
        }
        if p.get("message_thread_id") is not None:
            message["message_thread_id"] = p["message_thread_id"]
            if chat.is_forum:
                message["is_topic_message"] = True
        if replied is not None:
            message["reply_to_message"] = _without_reply(replied)
        if p.get("protect_content"):
            message["has_protected_content"] = True
        if markup:
            message["reply_markup"] = markup
        return message

    def _deliver(self, message: JSONDict) -> JSONDict:
        """Store a bot message and log it as sent; the API answer is a copy."""
        chat_id = message["chat"]["id"]
        self._messages[(chat_id, message["message_id"])] = message
        self._events.setdefault(chat_id, []).append(_Event("sent", copy.deepcopy(message)))
        return copy.deepcopy(message)

    def _send_message(self, p: JSONDict) -> JSONDict:
        chat = self._target_chat(p)
        text, found = self._message_text(p)
        markup = check_markup(p.get("reply_markup"))
        message = self._new_bot_message(chat, p, markup)
        message["text"] = text
        if found:
            message["entities"] = found
        if isinstance(p.get("link_preview_options"), dict):
            message["link_preview_options"] = p["link_preview_options"]
        return self._deliver(message)

    def _editable(self, p: JSONDict) -> JSONDict:
        """The bot message an edit addresses."""
        if p.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._target_chat(p)
        if not isinstance(p.get("message_id"), int):
            raise bad_request("message identifier is not specified")
        message = self._messages.get((chat.id, p["message_id"]))
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        return message

    def _apply_edit(self, message: JSONDict, changes: JSONDict) -> JSONDict:
        """Apply changed fields (None removes one); identical content is Telegram's 400."""
        if all(message.get(key) == (value or None) for key, value in changes.items()):
            raise bad_request(NOT_MODIFIED)
        for key, value in changes.items():
            if value:
                message[key] = value
            else:
                message.pop(key, None)
        message["edit_date"] = int(time.time())
        chat_id = message["chat"]["id"]
        self._events.setdefault(chat_id, []).append(_Event("edited", copy.deepcopy(message)))
        return copy.deepcopy(message)

    def _edit_message_text(self, p: JSONDict) -> JSONDict:
        message = self._editable(p)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text, found = self._message_text(p)
        markup = check_markup(p.get("reply_markup"), inline_only=True)
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        return self._apply_edit(message, {"text": text, "entities": found, "reply_markup": markup})

    def _edit_message_reply_markup(self, p: JSONDict) -> JSONDict:
        message = self._editable(p)
        markup = check_markup(p.get("reply_markup"), inline_only=True)
        return self._apply_edit(message, {"reply_markup": markup})

    def _delete_message(self, p: JSONDict) -> bool:
        chat = self._target_chat(p)
        message = self._messages.get((chat.id, p.get("message_id")))
        if message is None:
            raise bad_request("message to delete not found")
        if message["from"]["id"] != self.bot_id and chat.type != "private":
            raise bad_request("message can't be deleted")
        del self._messages[(chat.id, message["message_id"])]
        self._events.setdefault(chat.id, []).append(_Event("deleted", copy.deepcopy(message)))
        return True

    def _answer_callback_query(self, p: JSONDict) -> bool:
        query = self._callback_queries.get(str(p.get("callback_query_id")))
        if query is None or query.answer is not None:
            raise bad_request(QUERY_TOO_OLD)
        if len(str(p.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        keys = ("text", "show_alert", "url", "cache_time")
        query.answer = {key: p[key] for key in keys if key in p}
        return True

    def _answer_inline_query(self, p: JSONDict) -> bool:
        query = self._inline_queries.get(str(p.get("inline_query_id")))
        if query is None or query.answer is not None:
            raise bad_request(QUERY_TOO_OLD)
        results = p.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse results JSON object")
        if len(results) > INLINE_RESULTS_LIMIT:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [self._check_inline_result(result) for result in results]
        if len(set(ids)) != len(ids):
            raise bad_request("RESULT_ID_DUPLICATE")
        if len(str(p.get("next_offset") or "").encode()) > 64:
            raise bad_request("NEXT_OFFSET_INVALID")
        keys = ("results", "cache_time", "is_personal", "next_offset", "button")
        query.answer = {key: p[key] for key in keys if key in p}
        return True

    def _check_inline_result(self, result: Any) -> str:
        """Validate one InlineQueryResult; return its id."""
        if not isinstance(result, dict) or not isinstance(result.get("type"), str):
            raise bad_request("can't parse InlineQueryResult JSON object")
        result_id = result.get("id")
        if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= 64:
            raise bad_request("RESULT_ID_INVALID")
        check_markup(result.get("reply_markup"), inline_only=True)
        content = result.get("input_message_content")
        if result["type"] == "article":
            if not str(result.get("title") or "").strip():
                raise bad_request("RESULT_TITLE_EMPTY")
            if not isinstance(content, dict):
                raise bad_request("input_message_content is empty")
        if isinstance(content, dict) and "message_text" in content:
            self._check_inline_text(content)
        return result_id

    def _check_inline_text(self, content: JSONDict) -> None:
        if not str(content["message_text"]).strip():
            raise bad_request("MESSAGE_EMPTY")
        plain, _ = format_or_reject(
            content["message_text"],
            content.get("parse_mode"),
            content.get("entities"),
            limit=MESSAGE_LIMIT,
            too_long="MESSAGE_TOO_LONG",
            strict_ampersand=self.strict_ampersand,
        )
        if not plain:
            raise bad_request("MESSAGE_EMPTY")

    def _send_chat_action(self, p: JSONDict) -> bool:
        chat = self._target_chat(p)
        if p.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._actions.setdefault(chat.id, []).append(p["action"])
        return True

    def _input_file(self, p: JSONDict, name: str) -> StoredFile:
        """An uploaded file, an attach:// reference to one, or a known file_id."""
        value = p.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = p.get(value.removeprefix("attach://"))
        if isinstance(value, Upload):
            if not value.content:
                raise bad_request("file must be non-empty")
            return self._store_file(value.content, value.filename, value.content_type)
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if value in (None, ""):
            raise bad_request(f"there is no {name} in the request")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _send_document(self, p: JSONDict) -> JSONDict:
        chat = self._target_chat(p)
        caption, caption_entities = self._caption(p)
        markup = check_markup(p.get("reply_markup"))
        self._reply_target(chat, p)  # before storing the upload: a failed send keeps nothing
        stored = self._input_file(p, "document")
        message = self._new_bot_message(chat, p, markup)
        message["document"] = stored.document()
        if caption:
            message["caption"] = caption
        if caption_entities:
            message["caption_entities"] = caption_entities
        return self._deliver(message)

    def _get_file(self, p: JSONDict) -> JSONDict:
        stored = self._files.get(str(p.get("file_id")))
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.content) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }


async def _read_params(request: web.Request) -> JSONDict:
    """Parameters from the query string plus a form, multipart or JSON body, decoded."""
    raw: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON body must be an object")
        raw.update(body)
    elif request.can_read_body:
        raw.update(await request.post())
    return {name: decode_param(name, value) for name, value in raw.items()}


def _drop_connection(request: web.Request) -> web.Response:
    """Fail at the connection level: the client sees the server hang up without answering."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=499)
