"""PartialDate: parsing the dates documents give, and writing them back for people."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.core.schema import PartialDate


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2002-11-18", PartialDate(2002, 11, 18)),
        ("2008-02", PartialDate(2008, 2)),
        ("2007", PartialDate(2007)),
        (" 2008-02 ", PartialDate(2008, 2)),
        (2007, PartialDate(2007)),
        (dt.date(2004, 12, 14), PartialDate(2004, 12, 14)),
        (dt.datetime(2004, 12, 14, 9, 30), PartialDate(2004, 12, 14)),
        ("2008-02-29", PartialDate(2008, 2, 29)),
    ],
)
def test_parse(value: object, expected: PartialDate) -> None:
    assert PartialDate.parse(value) == expected


def test_parse_passes_a_partial_date_through() -> None:
    date = PartialDate(2008, 2)
    assert PartialDate.parse(date) is date


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yesterday", "'yesterday' is not a date (use YYYY-MM-DD, YYYY-MM or YYYY)"),
        ("18 November 2002", "'18 November 2002' is not a date"),
        ("2002/11/18", "'2002/11/18' is not a date"),
        ("02-11-18", "'02-11-18' is not a date"),
        ("2004-1", "'2004-1' is not a date"),
        ("2004-13", "'2004-13': month must be 01 to 12"),
        ("2004-13-01", "'2004-13-01': month must be 01 to 12"),
        ("2004-00", "'2004-00': month must be 01 to 12"),
        ("2007-02-29", "day is out of range for month"),
        ("2004-04-31", "day is out of range for month"),
        ("2004-04-00", "day is out of range for month"),
        ("0000", "year 0 is out of range"),
        ("0000-05", "year 0 is out of range"),
        (True, "a date must be YYYY-MM-DD, YYYY-MM or YYYY"),
        (None, "a date must be YYYY-MM-DD, YYYY-MM or YYYY"),
        (2007.5, "a date must be YYYY-MM-DD, YYYY-MM or YYYY"),
        (["2007"], "a date must be YYYY-MM-DD, YYYY-MM or YYYY"),
    ],
)
def test_parse_refuses(value: object, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        PartialDate.parse(value)


@pytest.mark.parametrize(
    ("date", "human", "iso"),
    [
        (PartialDate(2002, 11, 18), "18 November 2002", "2002-11-18"),
        (PartialDate(2007, 3, 5), "5 March 2007", "2007-03-05"),
        (PartialDate(2008, 2), "February 2008", "2008-02"),
        (PartialDate(2007), "2007", "2007"),
    ],
)
def test_human_and_iso(date: PartialDate, human: str, iso: str) -> None:
    assert date.human() == human
    assert date.iso == iso


@pytest.mark.parametrize(
    ("date", "first", "last"),
    [
        (PartialDate(2002, 11, 18), dt.date(2002, 11, 18), dt.date(2002, 11, 18)),
        (PartialDate(2008, 2), dt.date(2008, 2, 1), dt.date(2008, 2, 29)),
        (PartialDate(2007, 2), dt.date(2007, 2, 1), dt.date(2007, 2, 28)),
        (PartialDate(2007), dt.date(2007, 1, 1), dt.date(2007, 12, 31)),
    ],
)
def test_first_and_last_day(date: PartialDate, first: dt.date, last: dt.date) -> None:
    assert date.first_day == first
    assert date.last_day == last


def test_every_parsed_date_has_a_first_and_last_day() -> None:
    # Regression: '0000' used to parse, then crash the validator's end-before-start check.
    for text in ("0001", "0001-01", "9999-12", "9999-12-31"):
        date = PartialDate.parse(text)
        assert date.first_day <= date.last_day
