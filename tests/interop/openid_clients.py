"""A client registered for OpenID Connect, for the relying-party libraries under test."""

from sqlmodel import Session

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client
from tests.factories import make_client


def register_openid_client(
    context: ServerContext,
    *,
    redirect_uri: str,
    post_logout_redirect_uri: str,
    id_token_signed_response_alg: str = "RS256",
) -> tuple[str, str]:
    """A confidential code-flow client (the identity scopes need no registration) with its
    OpenID Connect registration metadata; its client_id and secret."""
    client, secret = make_client(
        context,
        name="Node relying party",
        redirect_uris=(redirect_uri,),
    )
    assert secret is not None
    with Session(context.engine) as session:
        row = session.get(Client, client.client_id)
        assert row is not None
        row.post_logout_redirect_uris = [post_logout_redirect_uri]
        row.id_token_signed_response_alg = id_token_signed_response_alg
        session.add(row)
        session.commit()
    return client.client_id, secret
