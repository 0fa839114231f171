"""What a user has granted to applications: listed and revoked from the account page.

Revoking is RFC 7009 from the user's side: the consent is forgotten and every grant the
client holds for the user ends, pending authorization codes too.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.models import Client
from shared.scopes import parse_scope


@dataclass
class AuthorizedApplication:
    client: Client
    scopes: set[str]
    since: datetime


def authorized_applications(session: Session, *, user_id: str) -> list[AuthorizedApplication]:
    """One entry per client: the scopes approved with any response type, since the latest."""
    found: dict[str, AuthorizedApplication] = {}
    for consent, client in repository.list_consents(session=session, user_id=user_id):
        entry = found.setdefault(
            client.client_id, AuthorizedApplication(client, set(), consent.updated_at)
        )
        entry.scopes |= parse_scope(consent.scope)
        entry.since = max(entry.since, consent.updated_at)
    return list(found.values())


def revoke_application(session: Session, *, user_id: str, client_id: str) -> None:
    """Forget the consent and revoke every grant the user gave the client, pending codes too."""
    repository.withdraw_consent(session=session, user_id=user_id, client_id=client_id)
    repository.revoke_client_families(session=session, user_id=user_id, client_id=client_id)
    session.commit()
