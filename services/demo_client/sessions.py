"""Browser sessions: a server-issued random id in an HttpOnly cookie names a database row.

Only ids this server issued and still stores are accepted; anything else a browser presents
gets a fresh id (no session fixation), and the id changes after every grant and at
disconnect. The row is keyed by the id's SHA-256 and seals what could be used (tokens, the
PKCE verifier, `state`) with AES-GCM, so neither a cookie nor a token can be read from the
database. A session is stored only once there is something to keep, and written only when
it changed.
"""

import json
import time
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, update

from services.demo_client.models import BrowserSession, SessionRow
from services.demo_client.sealing import SessionKeys
from shared.cookies import CookieSettings, HostCookie, host_cookie
from shared.crypto import hash_token, new_token

COOKIE = "dropletbook_session"
"""The cookie's base name: `__Host-dropletbook_session` outside development."""


def session_cookie_for(settings: CookieSettings) -> HostCookie:
    return host_cookie(COOKIE, settings)


def _contents(browser: BrowserSession) -> str:
    """What a row holds of the session that requests change, to tell whether a save would."""
    return json.dumps(
        [browser.pending, browser.grants, browser.flows, browser.notice], sort_keys=True
    )


class SessionStore:
    def __init__(self, engine: Engine, *, ttl: int, keys: SessionKeys) -> None:
        self.engine = engine
        self.ttl = ttl
        self.keys = keys

    def new(self) -> BrowserSession:
        """A session with a fresh server-issued id; stored only by `save`."""
        session_id = new_token()
        now = time.time()
        return BrowserSession(
            session_id=session_id,
            csrf_token=self.keys.csrf_token(session_id),
            created_at=now,
            expires_at=now + self.ttl,
        )

    def load(self, session_id: str | None) -> BrowserSession:
        """The live session this id names, or a new one: an id the server does not hold
        (unknown, expired, forged) is never adopted."""
        if session_id:
            with Session(self.engine) as db:
                row = db.get(SessionRow, hash_token(session_id))
            if row is not None and row.expires_at > time.time():
                secrets = self.keys.unseal(row.sealed, row_id=row.id_hash)
                if secrets is not None:  # else sealed under a previous key: start afresh
                    browser = BrowserSession(
                        session_id=session_id,
                        csrf_token=self.keys.csrf_token(session_id),
                        created_at=row.created_at,
                        expires_at=row.expires_at,
                        pending=secrets.get("pending") or {},
                        grants=secrets.get("grants") or {},
                        flows=row.flows,
                        notice=row.notice,
                        stored=True,
                    )
                    browser.saved = _contents(browser)
                    return browser
        return self.new()

    def save(self, browser: BrowserSession) -> None:
        """Write the session if it changed. A new one is stored only when there is something
        to keep: a request in flight, tokens, or a page with a CSRF-protected form."""
        if not browser.stored and not (browser.form_shown or browser.pending or browser.grants):
            return
        contents = _contents(browser)
        if browser.stored and not browser.renewing and contents == browser.saved:
            return
        with Session(self.engine) as db:
            if browser.renewing:
                if browser.stored:
                    old = hash_token(browser.session_id)
                    db.exec(delete(SessionRow).where(col(SessionRow.id_hash) == old))
                fresh = self.new()
                browser.session_id, browser.csrf_token = fresh.session_id, fresh.csrf_token
                browser.created_at, browser.expires_at = fresh.created_at, fresh.expires_at
                browser.stored = browser.renewing = False
            row_id = hash_token(browser.session_id)
            values: dict[str, Any] = {
                "expires_at": browser.expires_at,
                "sealed": self.keys.seal(
                    {"pending": browser.pending, "grants": browser.grants}, row_id=row_id
                ),
                "flows": browser.flows,
                "notice": browser.notice,
            }
            if browser.stored:  # never re-create a row that ended meanwhile (renewed, purged)
                db.exec(update(SessionRow).where(col(SessionRow.id_hash) == row_id).values(values))
            else:
                db.add(SessionRow(id_hash=row_id, created_at=browser.created_at, **values))
            db.commit()
        browser.stored = True
        browser.saved = contents

    def purge_expired(self) -> int:
        """Delete expired sessions (their inspector data with them); how many went."""
        with Session(self.engine) as db:
            statement = delete(SessionRow).where(col(SessionRow.expires_at) <= time.time())
            removed = db.exec(statement).rowcount
            db.commit()
        return int(removed or 0)
