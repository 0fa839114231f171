"""The two `limits` stores the throttle runs on: process memory, and the real Redis
(127.0.0.1:6379, or `TEST_REDIS_URL`), each test under its own key prefix."""

import math
import os
import time
import uuid

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STORES = [pytest.param(None, id="memory"), pytest.param(REDIS_URL, id="redis")]


def unique_prefix() -> str:
    """A fresh namespace, so parallel runs and earlier tests never share counters."""
    return f"test-{uuid.uuid4().hex}"


def assert_retry_after(header: str, *, limit: int, since: float) -> None:
    """`header` tells the true wait left of a `limit`-second lock or window that began after
    `since` (a `time.monotonic()` reading): at most `limit`, never "now", and no shorter than
    what can be left of it. The lower bound only loosens as time passes, so a busy machine
    cannot make this fail; 0.1 s covers the rounding between the clocks."""
    value = int(header)
    left = limit - (time.monotonic() - since) - 0.1
    assert max(1, math.ceil(left)) <= value <= limit, f"Retry-After {value}, limit {limit}"
