"""What a user has granted to applications: listed and revoked from the account page.

Revoking is RFC 7009 from the user's side: the consent is forgotten and every grant the
client holds for the user ends, pending authorization codes too.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.models import Client
from shared.db import utcnow
from shared.scopes import parse_scope


@dataclass
class AuthorizedApplication:
    client: Client
    scopes: set[str]
    since: datetime


def authorized_applications(session: Session, *, user_id: str) -> list[AuthorizedApplication]:
    """One entry per client with a consent or a live grant of the user (the password grant
    records no consent): the scopes approved or granted, since the latest."""
    found: dict[str, AuthorizedApplication] = {}

    def add(client: Client, scope: str, when: datetime) -> None:
        entry = found.setdefault(client.client_id, AuthorizedApplication(client, set(), when))
        entry.scopes |= parse_scope(scope)
        entry.since = max(entry.since, when)

    for consent, client in repository.list_consents(session=session, user_id=user_id):
        add(client, consent.scope, consent.updated_at)
    for family, client in repository.list_live_grants(
        session=session, user_id=user_id, now=utcnow()
    ):
        add(client, family.scope, family.created_at)
    return sorted(found.values(), key=lambda app: (app.client.name, app.client.client_id))


def revoke_application(session: Session, *, user_id: str, client_id: str) -> None:
    """Forget the consent and revoke every grant the user gave the client, pending codes too."""
    repository.withdraw_consent(session=session, user_id=user_id, client_id=client_id)
    repository.revoke_client_families(session=session, user_id=user_id, client_id=client_id)
    session.commit()
