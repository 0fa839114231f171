"""Dropletbook's own table, one row per browser session, and the session as the routes see it.

Tokens live in the row, never in the browser; in the row they are encrypted (see `sessions`).
"""

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel


class SessionRow(SQLModel, table=True):
    """Keyed by the SHA-256 of the server-issued session id, so a database leak reveals no
    cookie; what could be used (tokens, PKCE verifier, state) is sealed with AES-GCM."""

    __tablename__ = "client_session"

    id_hash: str = Field(primary_key=True)
    created_at: float = Field(default_factory=time.time)
    expires_at: float = Field(index=True)
    sealed: str = Field(sa_column=Column(Text, nullable=False))
    """`pending` and `grants` of `BrowserSession`, encrypted."""
    flows: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """Recorded inspector flows by key; every secret in them is already masked."""
    notice: str = ""


@dataclass
class BrowserSession:
    """One browser's session: loaded and saved by `SessionStore`, changed by the flows."""

    session_id: str
    """Server-issued, random; the cookie's value. Never taken from the browser unchecked."""
    csrf_token: str
    expires_at: float
    created_at: float = field(default_factory=time.time)
    pending: dict[str, Any] = field(default_factory=dict)
    """The authorization request in flight: flow, state, PKCE verifier, scope."""
    grants: dict[str, Any] = field(default_factory=dict)
    """Tokens per grant (keys from `services.demo_client.grants`): access, refresh, scope."""
    flows: dict[str, Any] = field(default_factory=dict)
    """Recorded inspector flows by key."""
    notice: str = ""
    """A one-time message for the next page."""
    form_shown: bool = False
    """The page shows a CSRF-protected form: store even a new session, so that the form's
    token can be checked when it comes back."""
    stored: bool = False
    """A row exists under `session_id`."""
    renewing: bool = False
    """The next save issues a new id (see `renew`)."""
    saved: str = ""
    """What the row holds (see `SessionStore`), so that a save changing nothing writes nothing."""

    def renew(self) -> None:
        """Move to a new session id at the next save: after every grant and at disconnect,
        so an id known before (planted, or seen on a shared machine) is worth nothing."""
        self.renewing = True
