"""Security properties that must never regress: the token stays secret, YAML loads safely."""

from __future__ import annotations

import logging
import re

import pytest

from bot.config import ConfigError, load_settings
from bot.logs import REDACTED, RedactSecret, setup_logging
from tests.conftest import ROOT

TOKEN = "987654:AAE-very-secret-token-value"
UNSAFE_YAML = re.compile(
    r"yaml\.load\(|yaml\.load_all\(|unsafe_load|FullLoader|UnsafeLoader|Loader=yaml\.Loader"
    r"|yaml\.Loader\b|full_load"
)


def python_sources() -> list:
    return sorted(p for folder in ("bot", "benchmarks") for p in (ROOT / folder).rglob("*.py"))


def test_no_unsafe_yaml_loader_anywhere_in_the_code() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in python_sources()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if UNSAFE_YAML.search(line)
    ]
    assert python_sources() and not offenders


def test_the_token_is_not_in_the_repr_of_the_settings() -> None:
    settings = load_settings(environ={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())


def test_a_bad_setting_names_the_key_without_the_token() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_FLOOD_QUESTIONS_PER_MINUTE": "x"})
    assert "flood_questions_per_minute" in str(caught.value) and TOKEN not in str(caught.value)


def test_logs_never_show_the_token_even_in_tracebacks(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("DEBUG", TOKEN)
    log = logging.getLogger("tests.security")
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed")
    except RuntimeError:
        log.exception("call to %s failed", f"https://api.telegram.org/bot{TOKEN}/getMe")
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/x", TOKEN)
    err = capsys.readouterr().err
    assert TOKEN not in err and REDACTED in err and "RuntimeError" in err
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    logging.getLogger().handlers.clear()


def test_the_redacting_filter_leaves_other_records_alone() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "answered %s", ("egm",), None)
    assert RedactSecret(TOKEN).filter(record) and record.getMessage() == "answered egm"


def test_dependencies_are_pinned_and_used_by_make_venv() -> None:
    makefile = (ROOT / "Makefile").read_text()
    constraints = (ROOT / "constraints.txt").read_text()
    assert "-c constraints.txt" in makefile
    for package in ("python-telegram-bot", "rapidfuzz", "PyYAML", "pydantic"):
        assert re.search(rf"^{re.escape(package)}==\d", constraints, re.M | re.I), package
