"""Plain-text rendering of replies for the terminal."""

from __future__ import annotations

import textwrap

from bot.core.replies import Reply, Status, paragraph_label


def render(reply: Reply, numbered: bool = True) -> str:
    """A reply as a person reads it in a terminal: answer, source, quote, choices."""
    lines = [reply.answer]
    if reply.status == Status.ANSWERED:
        for source in reply.sources[:3]:
            name = source.symbol or source.title
            lines.append(f"Source: {name}, {paragraph_label(source.paragraph)}")
            lines.append(textwrap.indent(textwrap.fill(f'"{source.quote}"', 90), "  "))
        if len(reply.sources) > 3:
            lines.append(f"(and {len(reply.sources) - 3} more sources)")
    elif reply.alternatives:
        intro = "Maybe:" if reply.status == Status.NO_MATCH else "Choose one:"
        lines.append(intro)
        for number, alternative in enumerate(reply.alternatives, 1):
            prefix = f"{number}." if numbered else "-"
            lines.append(f"  {prefix} {alternative.question}")
    return "\n".join(lines)
