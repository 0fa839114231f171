"""Browser sessions: a random cookie names a database row that holds the tokens.

The cookie is HttpOnly and SameSite=Lax; the table stores only its SHA-256, so the cookie is
the one thing the browser ever holds.
"""

import time

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete

from services.demo_client.models import BrowserSession
from shared.cookies import CookieSettings, HostCookie, host_cookie
from shared.crypto import hash_token, new_token

COOKIE = "dropletbook_session"
"""The cookie's base name: `__Host-dropletbook_session` outside development."""


def session_cookie_for(settings: CookieSettings) -> HostCookie:
    return host_cookie(COOKIE, settings)


class SessionStore:
    def __init__(self, engine: Engine, *, ttl: int) -> None:
        self.engine = engine
        self.ttl = ttl

    def load(self, cookie: str) -> BrowserSession:
        """The row for this cookie, or a new (unsaved) one."""
        now = time.time()
        with Session(self.engine, expire_on_commit=False) as session:
            row = session.get(BrowserSession, hash_token(cookie))
            if row is not None and row.expires_at > now:
                return row
        return BrowserSession(
            id_hash=hash_token(cookie), csrf_token=new_token(), expires_at=now + self.ttl
        )

    def save(self, row: BrowserSession) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            session.merge(row)
            session.commit()

    def purge_expired(self) -> None:
        with Session(self.engine) as session:
            statement = delete(BrowserSession).where(col(BrowserSession.expires_at) <= time.time())
            session.exec(statement)
            session.commit()


def new_cookie() -> str:
    return new_token()
