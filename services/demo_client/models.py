"""Dropletbook's own table: one row per browser session. Tokens live here, never in the browser."""

import time
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


def _json_dict() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class BrowserSession(SQLModel, table=True):
    """Keyed by the SHA-256 of the random session cookie, so a database leak reveals no cookie."""

    __tablename__ = "browser_session"

    id_hash: str = Field(primary_key=True)
    csrf_token: str
    created_at: float = Field(default_factory=time.time)
    expires_at: float
    pending: dict[str, Any] = _json_dict()
    """The authorization request in flight: flow, state, PKCE verifier, scope, reason."""
    grants: dict[str, Any] = _json_dict()
    """Tokens per flow (`code`, `implicit`, `password`, `service`): access, refresh, scope."""
    flows: dict[str, Any] = _json_dict()
    """Recorded inspector flows by key."""
    notice: str = ""
    """A one-time message for the next page."""
