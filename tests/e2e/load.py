"""A load driver for the real bot: many users asking at once through the fake Bot API server.

Shared by ``benchmarks/load.py`` (full size, prints a table) and ``tests/e2e/test_load.py``
(small size, asserts nothing is lost or duplicated).

How a run goes
--------------
* ``users`` simulated users, each with a private chat, and ``groups`` groups they all sit in (the
  fake's privacy mode is on, as on Telegram: the bot only sees group messages addressed to it).
* ``questions`` questions drawn with ``random.Random(seed)`` from ``tests/questions.yaml`` (its
  fact questions, ``structure``/``clarify`` ones and about 20% ``no_match`` ones the bot must
  refuse). Each goes to a random user's private chat, or with probability ``group_share`` to a
  random group from a random member, addressed as ``/ask@Bot question`` or with an @mention.
  A leading ``@bot`` in the question set stands for the bot and becomes ``@MeetingsTestBot``.
* Sending is open-loop at a steady ``rate`` questions per second (question i is queued at
  ``i / rate`` s, whether or not earlier ones were answered); ``rate=0`` queues them all at once
  (one burst).
* A monitor wakes on every request the fake answers and stamps the moment it first sees a
  successful ``getUpdates`` (per update delivered) or ``sendMessage`` (per message sent). The
  fake records no times itself, so these stamps are the timing source; they are taken in the
  same event loop as the server, within one scheduling step of the answer.

Matching replies to questions
-----------------------------
A long answer comes as several messages (only the first threaded, only the last with buttons),
so replies are counted, not messages. The bot handles one update at a time (PTB's default), so
the messages of one reply are consecutive in the fake's log of sendMessage requests; and the
planner never sends two questions to one chat within ``SPACING + 1`` consecutive questions. So
a *reply* is a run of consecutive sendMessage calls to one chat, cut also at every threaded
message.

* Groups: the bot threads each reply to its question (``reply_to_message``), so a reply belongs
  to the question its first message points at. A group reply pointing at nothing is
  ``unthreaded``.
* Private chats: the bot does not thread there, so a chat's replies are matched to the chat's
  questions in order; surplus replies count as duplicates of the chat's last question, a reply
  sent before its matched question was asked as ``misordered``.
* A question is *answered* with exactly one reply, *lost* with none, *duplicated* with two or
  more, or with one message sent twice in a row inside its reply (a re-sent chunk).

If the bot ever handled updates concurrently, replies to different chats could interleave and a
long reply would show up as a duplicate: a false alarm, never a hidden loss.

Timing: *latency* is question queued -> reply seen; *fetch* is question queued -> the bot's
``getUpdates`` returned it (how promptly the fake answers the long poll).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import random
import resource
import statistics
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.fakeapi import Call, Chat, FakeTelegram, User
from tests.e2e.harness import ADMIN_ID, running_bot

QUESTIONS = Path(__file__).resolve().parent.parent / "questions.yaml"
# The bot's own per-user flood control (20 questions a minute by default) would answer a busy
# user with one notice and then stay silent; a load test of the pipeline lifts it.
NO_FLOOD_LIMIT = 1_000_000

# No chat gets two of any SPACING + 1 consecutive questions, so that consecutive bot messages to
# one chat can be read as one reply (see "Matching replies to questions").
SPACING = 3

JSONDict = dict[str, Any]


@dataclass(frozen=True)
class LoadOptions:
    questions: int = 1000
    users: int = 50
    groups: int = 5
    seed: int = 1
    rate: float = 25.0  # questions queued per second, steadily; 0 = all at once
    group_share: float = 0.1  # share of questions asked in groups
    drain_timeout: float = 60.0  # after the last question, how long to wait for replies
    settle: float = 1.0  # then how long to keep watching for late duplicates


@dataclass
class Asked:
    """One question as the driver sent it, and what came back."""

    index: int
    text: str
    expect: str
    chat: Chat | User
    sender: User
    how: str  # "private" | "ask" | "mention"
    message_id: int = 0
    sent_at: float = 0.0
    fetched_at: float | None = None
    replies: list[list[JSONDict]] = field(default_factory=list)  # each reply: its messages
    reply_times: list[float] = field(default_factory=list)  # when each reply's first was sent

    @property
    def in_group(self) -> bool:
        return self.how != "private"

    @property
    def answerable(self) -> bool:
        return self.expect != "no_match"

    @property
    def repeated(self) -> bool:
        """A message sent twice in a row within one reply (a re-sent chunk)."""
        return any(
            a.get("text") == b.get("text")
            for run in self.replies
            for a, b in itertools.pairwise(run)
        )

    @property
    def duplicated(self) -> bool:
        return len(self.replies) > 1 or self.repeated

    @property
    def latency(self) -> float | None:
        """Seconds from queued to the first reply's first message (None: unknown)."""
        if not self.reply_times or math.isnan(self.reply_times[0]):
            return None
        return self.reply_times[0] - self.sent_at


@dataclass
class PollStats:
    """How the bot's long polling went, from the fake's record of getUpdates calls."""

    calls: int
    ok: int
    nonempty: int
    conflicts: int  # 409: two polls at once
    failed: int  # other failures
    updates: int  # updates handed out (re-deliveries included)
    max_batch: int


@dataclass
class LoadResult:
    options: LoadOptions
    asked: list[Asked]
    started: float
    finished: float  # last reply seen (or the end of the drain wait)
    unthreaded: int  # group bot messages replying to nothing
    misordered: int  # private replies matched to a question sent after them
    failed_calls: dict[str, int]  # non-getUpdates calls that failed, by "method status"
    polls: PollStats
    flood_limit: int = NO_FLOOD_LIMIT
    peak_rss_started_mb: float = 0.0  # ru_maxrss once the bot was up, before any question

    @property
    def answered(self) -> list[Asked]:
        """Questions with exactly one reply."""
        return [a for a in self.asked if a.replies and not a.duplicated]

    @property
    def lost(self) -> list[Asked]:
        return [a for a in self.asked if not a.replies]

    @property
    def duplicated(self) -> list[Asked]:
        return [a for a in self.asked if a.duplicated]

    @property
    def messages(self) -> int:
        """Bot messages sent in reply to questions (long replies take several)."""
        return sum(len(run) for a in self.asked for run in a.replies)

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def throughput(self) -> float:
        """Questions answered per second, first question queued -> last reply seen."""
        replied = [a for a in self.asked if a.replies]
        return len(replied) / self.seconds if self.seconds > 0 else 0.0

    def latencies_ms(self) -> list[float]:
        return [a.latency * 1000 for a in self.asked if a.latency is not None]

    def fetch_ms(self) -> list[float]:
        return [(a.fetched_at - a.sent_at) * 1000 for a in self.asked if a.fetched_at is not None]

    def peak_backlog(self) -> int:
        """Most questions at once that the bot had fetched but not yet answered.

        PTB confirms a batch of updates to Telegram (``offset``) on its next poll, before it has
        handled them; these are the questions a crash at the worst moment would lose.
        """
        events = []
        for a in self.asked:
            if a.fetched_at is not None:
                events.append((a.fetched_at, 1))
                if a.latency is not None:
                    events.append((a.sent_at + a.latency, -1))
        peak = current = 0
        for _, step in sorted(events):
            current += step
            peak = max(peak, current)
        return peak

    def reply_kinds(self) -> Counter[str]:
        """What the first reply to each question was: a sourced answer, a clarify, a refusal."""
        kinds: Counter[str] = Counter()
        for a in self.asked:
            if a.replies:
                kinds[reply_kind(a.replies[0][0])] += 1
        return kinds

    def problems(self, limit: int = 10) -> str:
        """Lost and duplicated questions, for an assertion message."""
        lines = [f"lost {len(self.lost)}, duplicated {len(self.duplicated)}"]
        for a in (self.lost + self.duplicated)[:limit]:
            texts = [[str(m.get("text", ""))[:40] for m in run] for run in a.replies]
            lines.append(f"  #{a.index} {a.how} in {a.chat.id}: {a.text!r} -> {texts}")
        lines += [f"  failed call: {k} x{n}" for k, n in self.failed_calls.items()]
        return "\n".join(lines)


def reply_kind(message: Mapping[str, Any]) -> str:
    text = str(message.get("text", ""))
    if "something went wrong" in text:
        return "error"
    if "faster than I can keep up" in text:
        return "flood notice"
    if "don't know" in text or "Type /help" in text:
        return "refused"
    if "📄" in text:
        return "sourced answer"
    if (message.get("reply_markup") or {}).get("inline_keyboard"):
        return "clarify"
    return "other"


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (as numpy's default); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def load_question_set(path: Path = QUESTIONS) -> list[JSONDict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [{"q": str(item["q"]), "expect": str(item["expect"])} for item in data]


def plan(fake: FakeTelegram, options: LoadOptions) -> list[Asked]:
    """People, groups and the questions they will ask, all from the seed."""
    rng = random.Random(options.seed)
    pool = load_question_set()
    users = [fake.user(f"User{i}", username=f"user{i}") for i in range(options.users)]
    groups = [fake.group(f"Group {i}") for i in range(options.groups)]
    bot = "@" + fake.username
    asked: list[Asked] = []
    for index in range(options.questions):
        item = rng.choice(pool)
        recent = {a.chat.id for a in asked[-SPACING:]}
        sender = rng.choice([u for u in users if u.id not in recent] or users)
        question = item["q"]
        bare = question.removeprefix("@bot").strip()
        if groups and rng.random() < options.group_share:
            chat: Chat | User = rng.choice([g for g in groups if g.id not in recent] or groups)
            how = rng.choice(("ask", "mention"))
            if how == "ask":
                text = f"/ask{bot} {bare}"
            elif question.startswith("@bot"):
                text = f"{bot} {bare}"
            else:
                text = rng.choice((f"{bot} {bare}", f"{bare} {bot}"))
        else:
            chat, how = sender, "private"
            text = question.replace("@bot", bot)
        asked.append(Asked(index, text, item["expect"], chat, sender, how))
    return asked


class Stamps:
    """First-seen times of the fake's successful sendMessage and getUpdates answers."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.seen = 0
        self.pending: list[Call] = []
        self.sent: dict[tuple[int, int], float] = {}  # (chat id, message id) -> time
        self.fetched: dict[tuple[int, int], float] = {}  # user message -> time fetched

    def poll(self) -> bool:
        """Stamp calls answered since the last poll; whether anything new was stamped."""
        calls = self.fake.calls()
        fresh = calls[self.seen :]
        self.seen = len(calls)
        now = time.perf_counter()
        waiting: list[Call] = []
        stamped = False
        for call in [*self.pending, *fresh]:
            method = call.method.lower()
            if method not in ("sendmessage", "getupdates"):
                continue
            if call.status is None and call.fault is None:
                waiting.append(call)  # still being answered (a long poll, usually)
                continue
            if not call.ok:
                continue
            stamped = True
            if method == "sendmessage":
                message = call.result
                self.sent.setdefault((message["chat"]["id"], message["message_id"]), now)
                continue
            for update in call.result or []:
                message = update.get("message")
                if message is not None:
                    self.fetched.setdefault((message["chat"]["id"], message["message_id"]), now)
        self.pending = waiting
        return stamped

    async def watch(self, stop: asyncio.Event) -> None:
        """Poll whenever the fake answers a request (its change notification), until stopped."""
        while not stop.is_set():
            with contextlib.suppress(AssertionError):  # wait_for's timeout: nothing happened
                await self.fake.wait_for(
                    lambda: self.poll() or stop.is_set(), timeout=1.0, what="activity"
                )
        self.poll()


async def send_all(fake: FakeTelegram, asked: list[Asked], rate: float) -> None:
    """Queue every question: steadily at ``rate`` per second, or all at once if ``rate`` is 0."""
    start = time.perf_counter()
    for a in asked:
        if rate > 0:
            delay = start + a.index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        message = fake.send_text(a.sender, a.text, chat=a.chat)
        a.sent_at = time.perf_counter()
        a.message_id = message["message_id"]
        if not fake.was_delivered(message):
            raise AssertionError(f"privacy mode kept question #{a.index} from the bot: {a.text}")


def reply_runs(fake: FakeTelegram, chats: list[int]) -> list[list[JSONDict]]:
    """The bot's messages cut into replies: runs of consecutive sends to one chat.

    The fake logs requests in arrival order. A new run also starts at every threaded message,
    since in groups each reply's first message is threaded to its question. A message the fake
    stored without the bot getting an answer (its connection dropped after Telegram acted) is
    in no successful call; it joins the run of the next message in its chat (the retry), or of
    the previous one.
    """
    runs: list[list[JSONDict]] = []
    for call in fake.calls("sendMessage", ok=True):
        message = call.result
        last = runs[-1][-1] if runs else None
        threaded = "reply_to_message" in message
        if last is None or last["chat"]["id"] != message["chat"]["id"] or threaded:
            runs.append([message])
        else:
            runs[-1].append(message)
    run_of = {_key(m): run for run in runs for m in run}
    for chat in chats:
        stored = fake.bot_messages(chat)
        for pos, message in enumerate(stored):
            if _key(message) in run_of:
                continue
            later = (run_of.get(_key(m)) for m in stored[pos + 1 :])
            earlier = (run_of.get(_key(m)) for m in reversed(stored[:pos]))
            run = next((r for r in later if r is not None), None) or next(
                (r for r in earlier if r is not None), None
            )
            if run is None:
                run = []
                runs.append(run)
            run.append(message)
            run_of[_key(message)] = run
    for run in runs:
        run.sort(key=lambda m: m["message_id"])
    return runs


def _key(message: Mapping[str, Any]) -> tuple[int, int]:
    return message["chat"]["id"], message["message_id"]


def match_replies(fake: FakeTelegram, asked: list[Asked], stamps: Stamps) -> tuple[int, int]:
    """Attach the bot's replies to the questions; (unthreaded, misordered) counts."""
    by_chat: dict[int, list[Asked]] = {}
    for a in asked:
        a.replies, a.reply_times = [], []
        a.fetched_at = stamps.fetched.get((a.chat.id, a.message_id))
        by_chat.setdefault(a.chat.id, []).append(a)
    runs_by_chat: dict[int, list[list[JSONDict]]] = {}
    for run in reply_runs(fake, list(by_chat)):
        runs_by_chat.setdefault(run[0]["chat"]["id"], []).append(run)
    unthreaded = misordered = 0
    for chat_id, runs in runs_by_chat.items():
        questions = by_chat.get(chat_id)
        if not questions:
            unthreaded += len(runs)  # a chat nobody asked in
            continue
        by_id = {a.message_id: a for a in questions}
        for i, run in enumerate(runs):
            first = run[0]
            if questions[0].in_group:
                target = by_id.get((first.get("reply_to_message") or {}).get("message_id", 0))
                if target is None:
                    unthreaded += 1
                    continue
            else:
                target = questions[min(i, len(questions) - 1)]  # surplus: duplicates of the last
                if first["message_id"] < target.message_id:
                    misordered += 1
            target.replies.append(run)
            seen = [stamps.sent[_key(m)] for m in run if _key(m) in stamps.sent]
            target.reply_times.append(min(seen, default=float("nan")))
    return unthreaded, misordered


def poll_stats(fake: FakeTelegram) -> PollStats:
    calls = fake.calls("getUpdates")
    ok = [c for c in calls if c.ok]
    sizes = [len(c.result or []) for c in ok]
    return PollStats(
        calls=len(calls),
        ok=len(ok),
        nonempty=sum(1 for n in sizes if n),
        conflicts=sum(1 for c in calls if c.status == 409),
        failed=sum(1 for c in calls if not c.ok and c.status not in (None, 409)),
        updates=sum(sizes),
        max_batch=max(sizes, default=0),
    )


async def run_load(
    fake: FakeTelegram, folder: Path, options: LoadOptions, **overrides: Any
) -> LoadResult:
    """Start the bot on ``fake``, ask every question, wait for the replies, match them."""
    fake.user("Admin", user_id=ADMIN_ID)  # the harness's admin: its command menu is set
    asked = plan(fake, options)
    settings = {"flood_questions_per_minute": NO_FLOOD_LIMIT, **overrides}
    stamps = Stamps(fake)
    stop = asyncio.Event()
    async with running_bot(fake, folder, **settings):
        rss_started = peak_rss_mb()
        watcher = asyncio.create_task(stamps.watch(stop))
        try:
            started = time.perf_counter()
            await send_all(fake, asked, options.rate)
            per_chat = Counter(a.chat.id for a in asked)

            def all_replied() -> bool:
                have = Counter(key[0] for key in stamps.sent)
                return all(have[chat] >= n for chat, n in per_chat.items())

            with contextlib.suppress(AssertionError):  # a loss: report it, don't raise
                await fake.wait_for(
                    all_replied, timeout=options.drain_timeout, what="a reply to every question"
                )
            finished = max(stamps.sent.values(), default=time.perf_counter())
            await asyncio.sleep(options.settle)  # late duplicates would land here
            polls = poll_stats(fake)  # before shutdown: stopping ends the last poll with 409
        finally:
            stop.set()
            await watcher
    unthreaded, misordered = match_replies(fake, asked, stamps)
    failed = Counter(
        f"{c.method} {c.status}" for c in fake.calls(ok=False) if c.method.lower() != "getupdates"
    )
    return LoadResult(
        options=options,
        asked=asked,
        started=started,
        finished=finished,
        unthreaded=unthreaded,
        misordered=misordered,
        failed_calls=dict(failed),
        polls=polls,
        flood_limit=settings["flood_questions_per_minute"],
        peak_rss_started_mb=rss_started,
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
