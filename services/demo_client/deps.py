"""Request dependencies: they only look things up."""

from typing import Annotated

from fastapi import Depends, Request

from services.demo_client.context import ClientContext
from services.demo_client.models import BrowserSession


def get_context(request: Request) -> ClientContext:
    context: ClientContext = request.app.state.context
    return context


def get_browser(request: Request) -> BrowserSession:
    """The session row named by the cookie the middleware made sure of."""
    context: ClientContext = request.app.state.context
    return context.store.load(request.state.session_cookie)


ContextDep = Annotated[ClientContext, Depends(get_context)]
BrowserDep = Annotated[BrowserSession, Depends(get_browser)]
