"""Deleted clients: their client-credentials tokens, recorded nowhere, still end with them."""

import asyncio
import dataclasses
import time
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from services.authorization_server import introspection, repository
from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, RevokedClient
from services.authorization_server.registration import (
    REVOKED_CLIENT_LEEWAY,
    delete_client,
    register_client,
)
from shared.db import utcnow
from tests.factories import make_client

SERVICE_GRANTS = ("client_credentials",)


def _service_app(context: ServerContext, client_id: str | None = None) -> Client:
    with Session(context.engine, expire_on_commit=False) as session:
        client, _ = register_client(
            session, name="Ops app", grant_types=SERVICE_GRANTS, client_id=client_id
        )
    return client


def _token(context: ServerContext, client: Client) -> str:
    form = {"grant_type": "client_credentials", "scope": "read"}
    body: dict[str, Any] = asyncio.run(context.grants["client_credentials"].exchange(form, client))
    return str(body["access_token"])


def _delete(context: ServerContext, client: Client) -> None:
    settings = context.settings
    with Session(context.engine, expire_on_commit=False) as session:
        delete_client(
            session,
            client,
            access_token_ttl=settings.access_token_ttl,
            client_cache_ttl=settings.client_cache_ttl,
        )


def _active(context: ServerContext, token: str) -> bool:
    """What a resource server listed in `introspection_clients` is told."""
    caller, _ = make_client(context, name="Resource server", grant_types=SERVICE_GRANTS)
    listed = context.settings.model_copy(update={"introspection_clients": [caller.client_id]})
    as_listed = dataclasses.replace(context, settings=listed)
    return bool(
        asyncio.run(introspection.introspect(as_listed, token=token, client=caller))["active"]
    )


def test_delete_records_the_client_until_its_last_token_expires(context: ServerContext) -> None:
    client = _service_app(context)
    before = utcnow()
    _delete(context, client)
    with Session(context.engine) as session:
        assert repository.get_client(session=session, client_id=client.client_id) is None
        row = session.get(RevokedClient, client.client_id)
    assert row is not None
    cache_ttl = timedelta(seconds=context.settings.client_cache_ttl)
    assert before + cache_ttl <= row.revoked_at <= utcnow() + cache_ttl
    ttl = timedelta(seconds=context.settings.access_token_ttl)
    assert row.expires_at == row.revoked_at + ttl + REVOKED_CLIENT_LEEWAY


def test_deleted_clients_access_token_is_inactive(context: ServerContext) -> None:
    client = _service_app(context)
    token = _token(context, client)
    assert _active(context, token)
    _delete(context, client)
    assert asyncio.run(introspection.introspect(context, token=token, client=client)) == {
        "active": False
    }
    assert not _active(context, token)


def test_a_client_id_registered_again_keeps_only_its_new_tokens(context: ServerContext) -> None:
    """Only seeding can reuse a client id; tokens issued after the deletion stay valid."""
    client = _service_app(context, client_id="seeded-ops-app")
    old = _token(context, client)
    _delete(context, client)
    time.sleep(1.05)  # `iat` has whole seconds: the next token is issued after `revoked_at`
    again = _service_app(context, client_id="seeded-ops-app")
    new = _token(context, again)
    assert not _active(context, old)
    assert _active(context, new)
    _delete(context, again)  # deleted twice: one row, with the later bounds
    assert not _active(context, new)
    with Session(context.engine) as session:
        rows = repository.list_revoked_clients(session=session, now=utcnow())
    assert [row.client_id for row in rows] == ["seeded-ops-app"]


def test_purge_drops_revoked_clients_whose_tokens_have_all_expired(
    context: ServerContext,
) -> None:
    now = utcnow()
    with Session(context.engine) as session:
        for client_id, expires_at in (
            ("gone", now - timedelta(seconds=1)),
            ("live", now + timedelta(hours=1)),
        ):
            repository.revoke_client(
                session=session,
                client_id=client_id,
                revoked_at=now - timedelta(hours=1),
                expires_at=expires_at,
            )
        session.commit()
        repository.purge_expired(session=session, now=now)
        assert session.get(RevokedClient, "gone") is None
        assert session.get(RevokedClient, "live") is not None
