"""Load: many users asking the running bot at once, end to end through PTB and a fake Bot API.

Prints a table, asserts nothing (this is a benchmark; tests/e2e/test_load.py is the test). The
real Application (handlers, AIORateLimiter, retrying requests, SQLite state) long-polls the
in-process fake Telegram server of tests/e2e/fakeapi.py; simulated users in private chats and in
groups (addressed with /ask@Bot or an @mention; privacy mode on) ask questions drawn with a
fixed seed from tests/questions.yaml, answerable and unanswerable (about 20% no_match). The
driver, the reply matching and the timing are in tests/e2e/load.py (read its docstring).

Questions are sent open-loop at a steady --rate per second (question i at i/rate s, whatever
the bot is doing); --rate 0 sends them all in one burst. The default, 25/s, sits under the 30
messages/s that the bot's AIORateLimiter allows (Telegram's limit), so the latencies show the
pipeline rather than the limiter's queue; a burst shows the limiter's queue instead.

    python benchmarks/load.py [--questions 1000] [--users 50] [--groups 5] [--seed 1]
                              [--rate 25] [--group-share 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _common import Progress, current_rss_mb, peak_rss_mb, table

from tests.e2e.fakeapi import FakeTelegram
from tests.e2e.load import LoadOptions, LoadResult, median, percentile, run_load


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rate", type=float, default=25.0, help="questions per second, steady; 0 = one burst"
    )
    parser.add_argument("--group-share", type=float, default=0.1)
    return parser.parse_args()


def ms(value: float) -> str:
    return f"{value:.1f}"


def report(result: LoadResult, wall: float) -> str:
    asked = result.asked
    options = result.options
    by_how = {how: sum(a.how == how for a in asked) for how in ("private", "ask", "mention")}
    latencies = result.latencies_ms()
    fetches = result.fetch_ms()
    kinds = result.reply_kinds()
    polls = result.polls
    failed = ", ".join(f"{k} ×{n}" for k, n in result.failed_calls.items()) or "none"
    answerable = sum(a.answerable for a in asked)
    rows = [
        (
            "questions sent",
            len(asked),
            f"private {by_how['private']}, groups {by_how['ask'] + by_how['mention']} "
            f"(/ask@ {by_how['ask']}, @mention {by_how['mention']})",
        ),
        ("  of which answerable / no_match", f"{answerable} / {len(asked) - answerable}", ""),
        ("answered (exactly one reply)", len(result.answered), ""),
        ("lost (no reply)", len(result.lost), ""),
        ("duplicated", len(result.duplicated), "2+ replies, or a message re-sent within one"),
        ("unthreaded / misordered replies", f"{result.unthreaded} / {result.misordered}", ""),
        ("bot messages in replies", result.messages, "long replies take several"),
        ("failed API calls (not getUpdates)", sum(result.failed_calls.values()), failed),
        (
            "throughput (questions/s)",
            f"{result.throughput:.1f}",
            f"first question queued -> last reply, {result.seconds:.1f} s",
        ),
        (
            "question -> reply, median / p99 (ms)",
            f"{ms(median(latencies))} / {ms(percentile(latencies, 99))}",
            f"max {ms(max(latencies, default=float('nan')))}",
        ),
        (
            "question -> fetched by getUpdates, median / p99 (ms)",
            f"{ms(median(fetches))} / {ms(percentile(fetches, 99))}",
            "long poll answered when an update arrives",
        ),
        (
            "getUpdates calls / with updates / max batch",
            f"{polls.calls} / {polls.nonempty} / {polls.max_batch}",
            f"409 conflicts {polls.conflicts}, other failures {polls.failed}, "
            f"{polls.updates} updates handed out",
        ),
        (
            "peak backlog (fetched, not yet answered)",
            result.peak_backlog(),
            "lost if the process died then",
        ),
        (
            "first replies by kind",
            "",
            ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()),
        ),
        ("wall time incl. bot start/stop (s)", f"{wall:.1f}", ""),
        (
            "peak memory, ru_maxrss (MB)",
            f"{peak_rss_mb():.0f}",
            f"whole process (bot + fake + driver); {result.peak_rss_started_mb:.0f} already "
            f"once the bot was up, now {current_rss_mb():.0f} resident",
        ),
    ]
    mode = f"steady {options.rate:g} questions/s" if options.rate > 0 else "one burst"
    head = [
        f"Load: {options.questions} questions, {options.users} users in private chats, "
        f"{options.groups} groups ({options.group_share:.0%} of questions), seed {options.seed}, "
        f"sent open-loop at {mode}.",
        f"flood_questions_per_minute is raised to {result.flood_limit:,} so the bot's per-user "
        "flood control drops nothing; PTB's AIORateLimiter stays as shipped (30 messages/s, "
        "20/min per group).",
        "",
    ]
    return "\n".join(head) + table(("measure", "value", "note"), rows)


async def main() -> None:
    args = parse_args()
    options = LoadOptions(
        questions=args.questions,
        users=args.users,
        groups=args.groups,
        seed=args.seed,
        rate=args.rate,
        group_share=args.group_share,
    )
    progress = Progress()
    progress(f"starting the fake server and the bot; {options.questions} questions to send")
    with tempfile.TemporaryDirectory() as folder:
        async with FakeTelegram() as fake:
            started = time.perf_counter()
            result = await run_load(fake, Path(folder), options)
            wall = time.perf_counter() - started
    progress("done")
    print(report(result, wall))


if __name__ == "__main__":
    asyncio.run(main())
