"""Resource indicators, RFC 8707: which protected resource an access token is for.

Two resources are known, each with its own audience (RFC 9068 §4, RFC 8725 §3.9):
the cloud API (`resource_audience`, the default when a request names none) and this
server's own app-management API (`apps_api_resource`, `/v1/apps/self`). The latter serves
only an app acting for itself, so only the client credentials grant may name it; user
tokens are for the cloud API alone. One `resource` per request: a token has one audience.
"""

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.errors import InvalidTargetError


def is_resource_uri(value: str) -> bool:
    """RFC 8707 §2: an absolute URI (here with an authority) and no fragment."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme and parts.netloc) and "#" not in value


@dataclass(frozen=True, slots=True)
class Resources:
    """The known resources, as precomputed lookups from identifier to audience."""

    default: str
    apps_api: str
    for_clients: Mapping[str, str]
    for_users: Mapping[str, str]

    @property
    def supported(self) -> tuple[str, str]:
        return self.default, self.apps_api

    def audience(self, resource: str | None, *, for_user: bool) -> str:
        """The `aud` for a request's `resource` (the default when absent), or
        `invalid_target`. A dictionary lookup: this runs on the token hot path."""
        if resource is None:
            return self.default
        audience = (self.for_users if for_user else self.for_clients).get(resource)
        if audience is None:
            raise self._refusal(resource, for_user=for_user)
        return audience

    def _refusal(self, resource: str, *, for_user: bool) -> InvalidTargetError:
        if not is_resource_uri(resource):
            return InvalidTargetError("resource must be an absolute URI without a fragment")
        if for_user and resource in self.for_clients:
            return InvalidTargetError(
                "this resource accepts only client-credentials tokens, not a user's"
            )
        return InvalidTargetError("unknown resource; see resources_supported in the metadata")


@functools.lru_cache(maxsize=8)
def known_resources(default: str, apps_api: str) -> Resources:
    """The lookups for a server's two identifiers; built once per configuration."""
    for_clients = {default: default, apps_api: apps_api}
    for_clients |= {f"{uri}/": aud for uri, aud in for_clients.items() if _bare(uri)}
    for_users = {uri: aud for uri, aud in for_clients.items() if aud == default}
    return Resources(default, apps_api, for_clients, for_users)


def _bare(uri: str) -> bool:
    """`https://host` and `https://host/` name the same resource (RFC 3986 §6.2.3)."""
    return urlsplit(uri).path == ""
