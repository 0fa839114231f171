"""Request dependencies: they look things up; the browser session is also saved, once, when
the route is done."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.demo_client.context import ClientContext
from services.demo_client.models import BrowserSession


@dataclass
class SessionCookie:
    """Put on `request.state` by the middleware: the id the browser presented, and the session
    the request used, whose (possibly new) id the middleware sends back."""

    presented: str | None
    browser: BrowserSession | None = None


def get_context(request: Request) -> ClientContext:
    context: ClientContext = request.app.state.context
    return context


def get_browser(request: Request) -> Iterator[BrowserSession]:
    """The session the cookie names if this server issued it, else a new one. Saved when the
    route returns or raises (a failed step is worth keeping for the inspector); `save` writes
    only what changed and stores a new session only when there is something to keep."""
    context: ClientContext = request.app.state.context
    cookie: SessionCookie = request.state.session_cookie
    cookie.browser = browser = context.store.load(cookie.presented)
    try:
        yield browser
    finally:
        context.store.save(browser)


ContextDep = Annotated[ClientContext, Depends(get_context)]
# "function" scope: saved before the response is sent, so the cookie can carry a new id.
BrowserDep = Annotated[BrowserSession, Depends(get_browser, scope="function")]
