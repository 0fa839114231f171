"""Access-token verification for the resource server (RFC 9068 §4, RFC 8725).

A token is verified in full once: signature with a key from the authorization server's
JWKS, `typ`, `iss`, `aud`, `exp`, `nbf`, `iat` and the RFC 9068 claims. Its claims are then
remembered under the exact token string, so a repeat request costs a dictionary lookup;
every hit still rechecks expiry, the revoked sets (token ids, deleted clients), and that
the signing key is still published. A tampered token is a different string, so it never hits.
With `max_revocation_age` set, a valid token is refused (503) while the revoked sets are
older than that: whether it was revoked cannot be told.
"""

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.resource_server.errors import RevocationListStaleError
from services.resource_server.revocation import RevokedTokens
from shared.errors import InvalidTokenError
from shared.jwks import JwksCache
from shared.jwt import VerificationKey, unverified_header, verify_jwt
from shared.scopes import ScopeSyntaxError, parse_scope

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccessTokenClaims:
    """The verified claims a route may rely on."""

    sub: str
    client_id: str
    scope: frozenset[str]
    jti: str
    exp: int
    iat: int
    email: str | None = None

    @property
    def is_client_token(self) -> bool:
        """A client-credentials token: the app acts for itself (RFC 9068 §2.2, `sub`)."""
        return self.sub == self.client_id


@dataclass(frozen=True, slots=True)
class _Verified:
    claims: AccessTokenClaims
    key: VerificationKey
    usable_until: float  # exp + leeway


class TokenVerifier:
    def __init__(
        self,
        *,
        keys: JwksCache,
        revoked: RevokedTokens,
        issuer: str,
        audience: str,
        algorithms: tuple[str, ...],
        leeway: int,
        cache_size: int,
        max_revocation_age: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._revoked = revoked
        self._issuer = issuer
        self._audience = audience
        self._algorithms = algorithms
        self._leeway = leeway
        self._cache_size = cache_size
        self._max_revocation_age = max_revocation_age
        self._clock = clock
        self._cache: dict[str, _Verified] = {}

    async def verify(self, token: str) -> AccessTokenClaims:
        """The claims of a valid, unrevoked token; InvalidTokenError otherwise."""
        now = self._clock()
        hit = self._cache.get(token)
        if hit is not None:
            if hit.usable_until < now:
                self._cache.pop(token, None)
                raise InvalidTokenError("token expired")
            if self._keys.get(hit.key.kid) is hit.key:  # the key is still published
                claims = hit.claims
                self._check_revocation(claims)
                return claims
            self._cache.pop(token, None)
        verified = await self._verify_fully(token, now)
        claims = verified.claims
        self._check_revocation(claims)
        self._remember(token, verified)
        return claims

    def _check_revocation(self, claims: AccessTokenClaims) -> None:
        if self._revoked.revokes(claims.jti, claims.client_id, claims.iat, sub=claims.sub):
            raise InvalidTokenError("token revoked")
        limit = self._max_revocation_age
        if limit is not None and self._revoked.age() > limit:
            raise RevocationListStaleError(
                "the revocation list is out of date; retry later", retry_after=math.ceil(limit)
            )

    def forget_all(self) -> None:
        self._cache.clear()

    @property
    def cached(self) -> int:
        return len(self._cache)

    async def _verify_fully(self, token: str, now: float) -> _Verified:
        header = unverified_header(token)
        kid, algorithm = header.get("kid"), header.get("alg")
        # Refuse before any key lookup: an alg we never accept must not cause a refetch.
        if algorithm not in self._algorithms:
            raise InvalidTokenError("token algorithm not accepted")
        if not isinstance(kid, str) or not kid:
            raise InvalidTokenError("token has no key id")
        key = await self._keys.key_for(kid)
        if key is None:
            raise InvalidTokenError("token signed with an unknown key")
        raw = verify_jwt(
            token, key=key, issuer=self._issuer, audience=self._audience, leeway=self._leeway
        )
        claims = _claims(raw)
        if claims.iat > now + self._leeway:  # also on this verifier's clock (python-jose skips it)
            raise InvalidTokenError("token issued in the future")
        return _Verified(claims=claims, key=key, usable_until=claims.exp + self._leeway)

    def _remember(self, token: str, verified: _Verified) -> None:
        if self._cache_size <= 0:
            return
        if len(self._cache) >= self._cache_size:
            self._cache.pop(next(iter(self._cache)))  # oldest first: dicts keep insertion order
        self._cache[token] = verified


def _claims(raw: dict[str, Any]) -> AccessTokenClaims:
    sub, client_id, jti = raw.get("sub"), raw.get("client_id"), raw.get("jti")
    exp, iat, email = raw.get("exp"), raw.get("iat"), raw.get("email")
    if not all(isinstance(v, str) and v for v in (sub, client_id, jti)):
        raise InvalidTokenError("token claims invalid")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (exp, iat)):
        raise InvalidTokenError("token claims invalid")
    scope = raw.get("scope", "")
    try:
        scopes = parse_scope(scope) if isinstance(scope, str) else None
    except ScopeSyntaxError:
        scopes = None
    if scopes is None:
        raise InvalidTokenError("token scope invalid")
    assert isinstance(sub, str) and isinstance(client_id, str) and isinstance(jti, str)
    assert isinstance(exp, int) and isinstance(iat, int)
    return AccessTokenClaims(
        sub=sub,
        client_id=client_id,
        scope=scopes,
        jti=jti,
        exp=exp,
        iat=iat,
        email=email if isinstance(email, str) else None,
    )
