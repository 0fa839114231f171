"""Pages do their database work on the event loop (issue 9): on the async engine's session,
through `deps.run_sync`, never in a worker thread; only argon2 and mail leave the loop."""

import functools
import inspect
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import anyio.to_thread
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import event

from services.authorization_server.deps import get_session
from services.authorization_server.developer_pages import APPS_PATH, app_path
from services.authorization_server.main import create_app
from services.authorization_server.settings import Settings
from tests.databases import TestDatabases
from tests.factories import make_client, make_user
from tests.harness.authorization_server import (
    AuthorizationServer,
    in_process_authorization_server,
)

CALLBACK = "http://127.0.0.1:8080/callback"


def _uses_session(dependant: Dependant) -> bool:
    return dependant.call is get_session or any(map(_uses_session, dependant.dependencies))


def _threaded(dependant: Dependant) -> Iterator[str]:
    """The calls of the tree that reach the session but are sync: FastAPI runs those in a
    worker thread, and with them their database work."""
    call = dependant.call
    runs_on_loop = inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)
    if _uses_session(dependant) and not runs_on_loop:
        yield getattr(call, "__qualname__", repr(call))
    for sub in dependant.dependencies:
        yield from _threaded(sub)


def test_every_route_and_dependency_that_reaches_the_session_is_a_coroutine(
    settings: Settings,
) -> None:
    found = (context.original_route for context in iter_route_contexts(create_app(settings).routes))
    routes = [route for route in found if isinstance(route, APIRoute)]  # included routers too
    with_session = {route.path for route in routes if _uses_session(route.dependant)}
    assert {"/v1/oauth/authorize", "/v1/oauth/authorize/decision", "/login"} <= with_session
    assert len(with_session) >= 20  # every page, not a few
    threaded = [f"{route.path}: {name}" for route in routes for name in _threaded(route.dependant)]
    assert threaded == []


def _name(func: Callable[..., Any]) -> str:
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, "__qualname__", repr(func))


@pytest.fixture
def server(databases: TestDatabases) -> Iterator[AuthorizationServer]:
    """Its own server: no periodic key reload (sync engine, worker thread) during the test."""
    with in_process_authorization_server(databases, key_cache_ttl=3600) as server:
        yield server


def test_sign_up_log_in_consent_and_pages_keep_the_database_on_the_loop(
    server: AuthorizationServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = server.context
    user = make_user(context, email=f"loop-{uuid.uuid4().hex[:8]}@example.com")
    client, _ = make_client(context, owner=user, redirect_uris=(CALLBACK,))
    threaded: list[str] = []
    to_thread = anyio.to_thread.run_sync

    async def recording(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        threaded.append(_name(func))
        return await to_thread(func, *args, **kwargs)

    sync_engine: list[str] = []

    def on_sync_engine(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sync_engine.append(statement)

    monkeypatch.setattr(anyio.to_thread, "run_sync", recording)
    event.listen(context.engine, "before_cursor_execute", on_sync_engine)
    try:
        browser = server.browser()
        new_account = {"name": "Lou", "email": "lou@example.com", "password": "a long password"}
        assert browser.submit("/signup", "/signup", new_account).status_code == 303
        browser.sign_in(user.email)
        browser.approve_code(client.client_id, CALLBACK, "read")
        for page in (APPS_PATH, app_path(client.client_id), "/account/applications"):
            assert browser.get(page).status_code == 200, page
        assert browser.submit("/logout", "/logout").status_code == 303
    finally:
        event.remove(context.engine, "before_cursor_execute", on_sync_engine)
    assert sync_engine == []
    assert sorted(set(threaded)) == ["Mailer.send", "PasswordHasher.hash", "PasswordHasher.verify"]
