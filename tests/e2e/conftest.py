"""The fake Bot API server, started on 127.0.0.1 for each test and stopped after it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.fakeapi import FakeTelegram


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """A fresh fake per test (free port on 127.0.0.1), so no state leaks between tests."""
    async with FakeTelegram() as fake:
        yield fake
