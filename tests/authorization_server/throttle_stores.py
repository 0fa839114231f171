"""The two `limits` stores the throttle runs on: process memory, and the real Redis
(127.0.0.1:6379, or `TEST_REDIS_URL`), each test under its own key prefix."""

import os
import uuid

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STORES = [pytest.param(None, id="memory"), pytest.param(REDIS_URL, id="redis")]


def unique_prefix() -> str:
    """A fresh namespace, so parallel runs and earlier tests never share counters."""
    return f"test-{uuid.uuid4().hex}"
