"""Logging set-up shared by every front end: levels, format, and the token never printed.

httpx logs every request URL at INFO, and Bot API URLs contain the token, so its logger stays
at WARNING; a filter also replaces the token in any record (tracebacks included) as a second
line of defence.
"""

from __future__ import annotations

import logging

REDACTED = "[redacted-token]"


class RedactSecret(logging.Filter):
    """Replaces a secret in a record's message and traceback before any handler sees it."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secret:
            return True
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        if self.secret in message:
            message = message.replace(self.secret, REDACTED)
        record.msg, record.args = message, None
        return True


def setup_logging(level: str, secret: str = "") -> None:
    """Root logging at `level`, one line per record, with the secret redacted everywhere."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecret(secret))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
