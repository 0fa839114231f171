"""What the grants keep in the browser session: each grant's tokens (`browser.grants`) and
each flow's recorded steps (`browser.flows`). The session is saved once per request, by the
`BrowserDep` dependency."""

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from services.demo_client.explanations.steps import FLOW_TITLES, Note
from services.demo_client.grants import CODE
from services.demo_client.inspector import Flow, Recorder
from services.demo_client.models import BrowserSession
from services.demo_client.oauth import TokenResult, Tokens
from shared.scopes import parse_scope


@contextmanager
def recording(
    browser: BrowserSession, key: str, *, fresh: bool = False, title: str = ""
) -> Iterator[Recorder]:
    """The flow's recorder (a new flow if `fresh`); its steps go back into the session however
    the block ends, so the inspector shows failed steps too."""
    stored = browser.flows.get(key)
    if fresh or not stored:
        rec = Recorder(Flow(key=key, title=title or FLOW_TITLES[key]))
    else:
        rec = Recorder(Flow.model_validate(stored))
    try:
        yield rec
    finally:
        # Reassign (not mutate) so that the change is seen when the session is saved.
        browser.flows = {**browser.flows, key: rec.flow.model_dump(mode="json")}


def store_grant(
    browser: BrowserSession, key: str, tokens: Tokens, *, previous: Mapping[str, Any] = {}
) -> None:
    """Keep the tokens; a response without a refresh token or `info` keeps the previous ones."""
    grant = {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token or previous.get("refresh_token"),
        "scope": tokens.scope,
        "expires_at": time.time() + tokens.expires_in if tokens.expires_in else None,
        "info": tokens.info or previous.get("info") or {},
    }
    browser.grants = {**browser.grants, key: grant}


def keep_tokens(
    browser: BrowserSession,
    rec: Recorder,
    key: str,
    result: TokenResult,
    step: Note,
    *,
    previous: Mapping[str, Any] = {},
) -> None:
    """A grant's token response: record it and the decoded access token, store the tokens and
    move the session to a new id (every grant does, against session fixation)."""
    rec.exchange(step.title, result.exchange, text=step.text, tutorial=step.tutorial)
    rec.jwt(result.tokens.access_token, tutorial=step.tutorial)
    store_grant(browser, key, result.tokens, previous=previous)
    browser.renew()


def drop_grant(browser: BrowserSession, key: str) -> None:
    browser.grants = {k: v for k, v in browser.grants.items() if k != key}


def granted_scopes(browser: BrowserSession, key: str = CODE) -> frozenset[str]:
    grant = browser.grants.get(key)
    return parse_scope(grant.get("scope")) if grant else frozenset()
