"""The bot's own small state in SQLite: conversation context, question log, knowledge history.

State is a convenience, never a dependency of an answer: if the database is locked by another
process or corrupt, every method logs one warning, returns an empty result, and the bot keeps
answering. No user ids or names are stored with questions.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.core.engine import Context
from bot.core.replies import Reply, Status
from bot.core.text import fold

log = logging.getLogger(__name__)
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contexts (
    key TEXT PRIMARY KEY, meeting TEXT, fact TEXT, updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS asked (
    at REAL NOT NULL, chat_type TEXT NOT NULL, status TEXT NOT NULL, fact TEXT, score REAL
);
CREATE INDEX IF NOT EXISTS asked_at ON asked (at);
CREATE TABLE IF NOT EXISTS unanswered (
    at REAL NOT NULL, question TEXT NOT NULL, normalised TEXT NOT NULL, chat_type TEXT NOT NULL,
    status TEXT NOT NULL, best_fact TEXT, score REAL
);
CREATE INDEX IF NOT EXISTS unanswered_at ON unanswered (at);
CREATE TABLE IF NOT EXISTS history (
    at REAL NOT NULL, admin_id INTEGER, action TEXT NOT NULL, hash_before TEXT,
    hash_after TEXT, facts_before INTEGER, facts_after INTEGER
);
"""


@dataclass(frozen=True)
class UnansweredGroup:
    normalised: str
    example: str
    count: int
    best_fact: str | None
    best_score: float
    last_at: float


@dataclass(frozen=True)
class HistoryEntry:
    at: float
    admin_id: int | None
    action: str
    hash_before: str | None
    hash_after: str | None
    facts_before: int | None
    facts_after: int | None


class State:
    """Thread-safe access to the state database, degrading instead of failing."""

    def __init__(self, path: Path, context_ttl_seconds: float = 1800) -> None:
        self.path = path
        self.context_ttl = context_ttl_seconds
        self._lock = threading.Lock()
        self._warned = False
        self._conn: sqlite3.Connection | None = None
        self._open()

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=0.5, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            self._conn = conn
        except (sqlite3.Error, OSError) as err:
            self._degrade(err)

    def _degrade(self, err: Exception) -> None:
        if not self._warned:
            log.warning("state database %s unavailable (%s): context and logging are off until "
                        "it recovers; answers continue", self.path, err)  # fmt: skip
            self._warned = True

    @contextmanager
    def _cursor(self) -> Iterator[sqlite3.Connection]:
        if self._conn is None:
            self._open()
        if self._conn is None:
            raise sqlite3.OperationalError("state database is not open")
        with self._lock, self._conn:
            yield self._conn

    def _safe(self, action: Callable[[sqlite3.Connection], T], default: T) -> T:
        try:
            with self._cursor() as conn:
                return action(conn)
        except (sqlite3.Error, OSError) as err:
            self._degrade(err)
            return default

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def context(self, key: str, now: float | None = None) -> Context:
        now = time.time() if now is None else now

        def read(conn: sqlite3.Connection) -> Context:
            row = conn.execute(
                "SELECT meeting, fact, updated FROM contexts WHERE key = ?", (key,)
            ).fetchone()
            if row is None or now - row[2] > self.context_ttl:
                return Context()
            return Context(meeting=row[0], fact=row[1])

        return self._safe(read, Context())

    def remember(self, key: str, reply: Reply, now: float | None = None) -> None:
        """Keep the meeting a reply was about, for the next follow-up in this chat."""
        if reply.meeting is None:
            return
        now = time.time() if now is None else now
        self._safe(
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO contexts (key, meeting, fact, updated) VALUES (?,?,?,?)",
                (key, reply.meeting, reply.fact, now),
            ),
            None,
        )

    def record(self, reply: Reply, chat_type: str, now: float | None = None) -> None:
        """Log the outcome of a question; unanswered ones keep their text for admins."""
        now = time.time() if now is None else now
        best = reply.alternatives[0] if reply.alternatives else None

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO asked (at, chat_type, status, fact, score) VALUES (?,?,?,?,?)",
                (now, chat_type, reply.status.value, reply.fact, reply.score),
            )
            if reply.status in (Status.NO_MATCH, Status.CLARIFY):
                conn.execute(
                    "INSERT INTO unanswered (at, question, normalised, chat_type, status, "
                    "best_fact, score) VALUES (?,?,?,?,?,?,?)",
                    (now, reply.question[:500], fold(reply.question)[:500], chat_type,
                     reply.status.value, best.fact if best else None,
                     best.score if best else reply.score),
                )  # fmt: skip

        self._safe(write, None)

    def unanswered(self, days: float, now: float | None = None) -> list[UnansweredGroup]:
        since = (time.time() if now is None else now) - days * 86400

        def read(conn: sqlite3.Connection) -> list[UnansweredGroup]:
            rows = conn.execute(
                "SELECT normalised, MIN(question), COUNT(*), MAX(at) FROM unanswered "
                "WHERE at >= ? AND normalised != '' GROUP BY normalised "
                "ORDER BY COUNT(*) DESC, MAX(at) DESC, normalised",
                (since,),
            ).fetchall()
            groups = []
            for normalised, example, count, last_at in rows:
                best = conn.execute(
                    "SELECT best_fact, score FROM unanswered WHERE normalised = ? AND at >= ? "
                    "ORDER BY score DESC LIMIT 1",
                    (normalised, since),
                ).fetchone()
                groups.append(UnansweredGroup(normalised, example, count, best[0],
                                              best[1] or 0.0, last_at))  # fmt: skip
            return groups

        return self._safe(read, [])

    def stats(self, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        today = dt.datetime.fromtimestamp(now, dt.UTC).replace(hour=0, minute=0, second=0)
        day_start = today.timestamp()
        week_start = now - 7 * 86400

        def read(conn: sqlite3.Connection) -> dict[str, Any]:
            def by_status(since: float) -> dict[str, int]:
                rows = conn.execute(
                    "SELECT status, COUNT(*) FROM asked WHERE at >= ? GROUP BY status", (since,)
                ).fetchall()
                return dict(rows)

            top = conn.execute(
                "SELECT fact, COUNT(*) FROM asked WHERE fact IS NOT NULL AND at >= ? "
                "GROUP BY fact ORDER BY COUNT(*) DESC, fact LIMIT 5",
                (week_start,),
            ).fetchall()
            return {"today": by_status(day_start), "week": by_status(week_start), "top": top}

        return self._safe(read, {"today": {}, "week": {}, "top": []})

    def log_change(
        self,
        action: str,
        admin_id: int | None,
        before: tuple[str | None, int | None],
        after: tuple[str | None, int | None],
        now: float | None = None,
    ) -> None:
        now = time.time() if now is None else now
        self._safe(
            lambda conn: conn.execute(
                "INSERT INTO history VALUES (?,?,?,?,?,?,?)",
                (now, admin_id, action, before[0], after[0], before[1], after[1]),
            ),
            None,
        )

    def history(self, limit: int = 10) -> list[HistoryEntry]:
        def read(conn: sqlite3.Connection) -> list[HistoryEntry]:
            rows = conn.execute(
                "SELECT * FROM history ORDER BY at DESC, rowid DESC LIMIT ?", (limit,)
            ).fetchall()
            return [HistoryEntry(*row) for row in rows]

        return self._safe(read, [])


def format_unanswered(groups: list[UnansweredGroup], as_csv: bool = False) -> str:
    if as_csv:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["count", "question", "normalised", "closest_fact", "score"])
        for g in groups:
            writer.writerow([g.count, g.example, g.normalised, g.best_fact or "",
                             f"{g.best_score:.2f}"])  # fmt: skip
        return out.getvalue().rstrip("\n")
    if not groups:
        return "No unanswered questions in that period."
    lines = [f"{'count':>5}  question  (closest fact, score)"]
    for g in groups:
        closest = f"{g.best_fact}, {g.best_score:.2f}" if g.best_fact else "none"
        lines.append(f"{g.count:>5}  {g.example}  ({closest})")
    return "\n".join(lines)


def print_unanswered(settings: Any, days: float, as_csv: bool) -> int:
    """`python -m bot unanswered`: the same list admins get with /unanswered."""
    state = State(settings.resolve(settings.state_db))
    print(format_unanswered(state.unanswered(days), as_csv))
    state.close()
    return 0
