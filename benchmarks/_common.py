"""Helpers shared by the benchmark scripts: loading, timing, typos and tables.

Benchmarks must measure the bot as it runs, so every knowledge base here, generated or
converted, is written out as YAML bytes and goes through `knowledge_from_bytes`: the same
safe loader, validator and index build an admin's upload goes through.
"""

from __future__ import annotations

import random
import resource
import string
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python benchmarks/x.py` puts benchmarks/ first, not the repo
    sys.path.insert(0, str(REPO_ROOT))

from bot.core.knowledge import Knowledge, knowledge_from_bytes  # noqa: E402
from bot.core.yamlsafe import DEFAULT_MAX_BYTES  # noqa: E402

T = TypeVar("T")
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# Keys a neighbouring finger hits instead: the commonest typo after dropped and swapped letters.
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS = {
    ch: row[max(0, i - 1) : i] + row[i + 1 : i + 2]
    for row in _KEYBOARD_ROWS
    for i, ch in enumerate(row)
}


def knowledge_yaml(document: dict[str, Any]) -> bytes:
    """Serialise a knowledge dict the way an admin's file looks: plain block YAML."""
    text = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return text.encode("utf-8")


def load_knowledge_bytes(raw: bytes, filename: str) -> Knowledge:
    """The real loader and validator; the size limit is raised only as far as this file needs.

    The default limit (5 MB) is a guard against hostile uploads, not a property of the engine,
    so a large benchmark file lifts it rather than being trimmed to fit.
    """
    return knowledge_from_bytes(raw, filename, max_bytes=max(DEFAULT_MAX_BYTES, len(raw)))


def time_calls(
    call: Callable[[str], T], queries: Sequence[str], rounds: int = 3, warmup: int = 20
) -> tuple[np.ndarray, list[T]]:
    """Milliseconds per query (median over `rounds` passes, after `warmup` untimed calls),
    and the results of the last pass, so accuracy needs no second run.

    Taking each query's median over passes removes one-off scheduler hiccups but keeps queries
    that are slow every time, which is what a p99 should report.
    """
    for query in list(queries)[:warmup]:
        call(query)
    times = np.empty((rounds, len(queries)))
    results: list[T] = []
    clock = time.perf_counter
    for r in range(rounds):
        results = []
        for i, query in enumerate(queries):
            start = clock()
            result = call(query)
            times[r, i] = clock() - start
            results.append(result)
    return np.median(times, axis=0) * 1000.0, results


def median_p99(ms: np.ndarray) -> tuple[float, float]:
    return float(np.median(ms)), float(np.percentile(ms, 99))


def add_typos(text: str, rng: random.Random, count: int) -> str:
    """`count` keyboard typos (drop, swap, double, neighbour key) in words of 4+ letters."""
    words = text.split()
    for _ in range(count):
        eligible = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
        if not eligible:
            break
        i = rng.choice(eligible)
        words[i] = _typo(words[i], rng)
    return " ".join(words)


def _typo(word: str, rng: random.Random) -> str:
    pos = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "swap", "double", "neighbour"))
    if kind == "drop":
        return word[:pos] + word[pos + 1 :]
    if kind == "swap":
        return word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
    if kind == "double":
        return word[:pos] + word[pos] + word[pos:]
    neighbours = _NEIGHBOURS.get(word[pos].lower()) or string.ascii_lowercase
    return word[:pos] + rng.choice(neighbours) + word[pos + 1 :]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    """Resident memory now, from /proc (0.0 where /proc is absent)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * resource.getpagesize() / 2**20


class Progress:
    """Elapsed-time notes on stderr, so a slow phase is visible while the script runs."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.start:6.1f} s] {message}", file=sys.stderr, flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, so the output pastes straight into a report or README."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(_is_number(row[i]) for row in cells[1:]) and len(cells) > 1 for i in range(len(widths))
    ]

    def line(row: list[str]) -> str:
        padded = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(row, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if n else "-" * (w + 2) for w, n in
                          zip(widths, numeric, strict=True)) + "|"  # fmt: skip
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _is_number(cell: str) -> bool:
    text = cell.rstrip("%×x ").replace(",", "").replace("/", "").replace(" ", "")
    try:
        float(text)
    except ValueError:
        return cell in ("", "-", "n/a")
    return True
