"""Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3).

Methods: `client_secret_basic`, `client_secret_post`, and `none` for public clients.
"""

import time
from collections.abc import Awaitable, Callable, Container, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from starlette.requests import Request

from services.authorization_server.models import Client
from services.authorization_server.request_body import read_form
from services.authorization_server.throttle import client_ip, ip_key
from shared.crypto import digest_matches
from shared.errors import InvalidClientError, InvalidRequestError
from shared.http import parse_basic_credentials

if TYPE_CHECKING:  # the context holds the client cache: imported for typing only
    from services.authorization_server.context import ServerContext


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    """What the back-channel endpoints need of a registration, as a plain immutable copy.

    The cache shares it between requests and threads, which suits an immutable value better
    than an ORM instance of a closed session; its attributes also read several times faster
    than an ORM instance's instrumented ones (the token hot path reads them on every request).
    """

    client_id: str
    client_secret_hash: str | None
    client_type: str
    grant_types: frozenset[str]
    scope: str
    trusted: bool
    id_token_signed_response_alg: str = "RS256"  # noqa: S105 (an algorithm)
    client_credentials_revoked_at: datetime | None = None

    @classmethod
    def of(cls, client: Client) -> "RegisteredClient":
        return cls(
            client_id=client.client_id,
            client_secret_hash=client.client_secret_hash,
            client_type=client.client_type,
            grant_types=frozenset(client.grant_types),
            scope=client.scope,
            trusted=client.trusted,
            id_token_signed_response_alg=client.id_token_signed_response_alg,
            client_credentials_revoked_at=client.client_credentials_revoked_at,
        )

    @property
    def is_public(self) -> bool:
        return self.client_type == "public"


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    client_id: str
    client_secret: str | None
    method: str


AUTHENTICATION_REQUIRED = (
    "client authentication required: send client_id and client_secret with HTTP Basic"
    " (client_secret_basic) or in the form body (client_secret_post)"
)


def read_credentials(form: Mapping[str, str], authorization: str | None) -> ClientCredentials:
    """Which client claims to be calling, and how; exactly one method may be used."""
    if authorization:
        client_id, secret = parse_basic_credentials(authorization)
        if "client_secret" in form:
            raise InvalidRequestError("more than one client authentication method used")
        if form.get("client_id", client_id) != client_id:
            raise InvalidClientError("client_id does not match the authenticated client")
        return ClientCredentials(client_id, secret, "client_secret_basic")
    posted_id = form.get("client_id")
    if posted_id is None:
        raise InvalidClientError(AUTHENTICATION_REQUIRED, basic_challenge=True)
    if "client_secret" in form:
        return ClientCredentials(posted_id, form["client_secret"], "client_secret_post")
    return ClientCredentials(posted_id, None, "none")


def authenticate(
    credentials: ClientCredentials, client: RegisteredClient | None
) -> RegisteredClient:
    """Check the credentials against the registration; one vague error for every failure."""
    basic = credentials.method == "client_secret_basic"
    if client is None:
        raise InvalidClientError(
            "client authentication failed", basic_challenge=basic, detail="unknown client_id"
        )
    if client.is_public:
        if credentials.method != "none":
            raise InvalidClientError("public clients do not authenticate", basic_challenge=basic)
        return client
    if credentials.method == "none":
        raise InvalidClientError(AUTHENTICATION_REQUIRED, basic_challenge=True)
    secret_hash = client.client_secret_hash
    if (
        credentials.client_secret is None
        or secret_hash is None
        or not digest_matches(credentials.client_secret, secret_hash)
    ):
        raise InvalidClientError(
            "client authentication failed", basic_challenge=basic, detail="wrong client secret"
        )
    return client


class ClientCache:
    """Registrations kept briefly in memory so the token hot path skips the database.

    Edits in this process invalidate at once; other replicas see them within `ttl` seconds.
    """

    def __init__(self, load: Callable[[str], Awaitable[Client | None]], *, ttl: float) -> None:
        self._load = load
        self._ttl = ttl
        self._entries: dict[str, tuple[float, RegisteredClient]] = {}

    def cached(self, client_id: str) -> RegisteredClient | None:
        entry = self._entries.get(client_id)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        return None

    async def load(self, client_id: str) -> RegisteredClient | None:
        """Reads the database (on the event loop), and caches what it found."""
        record = await self._load(client_id)
        if record is None:
            return None
        client = RegisteredClient.of(record)
        if self._ttl > 0:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[client_id] = (time.monotonic() + self._ttl, client)
        return client

    def invalidate(self, client_id: str) -> None:
        self._entries.pop(client_id, None)


async def authenticate_client(
    context: "ServerContext", form: dict[str, str], authorization: str | None, *, client_ip: str
) -> RegisteredClient:
    """The calling client, from the in-memory cache when it can (the token hot path).

    A correct secret always authenticates, from any address, whatever others sent: client
    secrets are 256-bit random values, which no number of guesses finds, so no counter is
    read before the check and a success touches no shared storage. Failures count per
    address and per client_id and address (429 once over), which stops a flood without
    letting a stranger lock the client out.
    """
    credentials = read_credentials(form, authorization)
    client = context.clients.cached(credentials.client_id)
    if client is None:
        client = await context.clients.load(credentials.client_id)
    try:
        return authenticate(credentials, client)
    except InvalidClientError:
        throttle = context.throttle
        address = ip_key("client", client_ip)
        await throttle.failed(
            (throttle.policy.client, f"{address}:{credentials.client_id[:200]}"),
            (throttle.policy.ip, address),
        )
        raise


async def authenticated_token_form(
    request: Request, context: "ServerContext", *, known: Container[str]
) -> tuple[str, RegisteredClient]:
    """The `token` of a revocation or introspection request (RFC 7009 §2.1, RFC 7662 §2.1)
    and the client that sent it, authenticated before the token is looked at."""
    form = await read_form(request, max_bytes=context.settings.max_body_bytes, known=known)
    client = await authenticate_client(
        context, form, request.headers.get("authorization"), client_ip=client_ip(request)
    )
    if "token" not in form:
        raise InvalidRequestError("missing parameter: token")
    return form["token"], client
