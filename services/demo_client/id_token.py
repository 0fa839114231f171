"""ID Token validation by the relying party, as an ordered list of named checks
(OpenID Connect Core 1.0 §3.1.3.7 and, for `at_hash`, §3.1.3.8).

Each check says what it verified, so the flow inspector can show the list; the first that
fails stops the validation. The signature is checked with the provider's published key
(`shared.jwt` builds it; only the algorithms Dropletbook allows are accepted, never `none`
or a shared-secret one), before any claim is trusted.
"""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from shared.jwt import SUPPORTED_ALGORITHMS, VerificationKey, verification_key

LEEWAY = 30  # seconds of clock skew tolerated on exp and iat

_HASHES: dict[str, Callable[[bytes], Any]] = {"RS256": hashlib.sha256, "ES256": hashlib.sha256}


class Check(NamedTuple):
    name: str
    passed: bool
    detail: str


class IdTokenError(Exception):
    """The ID Token failed `failed`; `checks` lists the passed checks and then that one."""

    def __init__(self, checks: list[Check]) -> None:
        self.checks = checks
        self.failed = checks[-1]
        super().__init__(f"{self.failed.name}: {self.failed.detail}")


@dataclass(frozen=True)
class Expected:
    """What this ID Token must say: who issued it, for whom, for which request."""

    issuer: str
    client_id: str
    nonce: str
    access_token: str | None = None
    """The access token of the same response, which `at_hash` must match."""
    algorithms: tuple[str, ...] = SUPPORTED_ALGORITHMS
    leeway: int = LEEWAY
    now: Callable[[], float] = time.time


@dataclass(frozen=True)
class ValidIdToken:
    header: dict[str, Any]
    claims: dict[str, Any]
    checks: list[Check]


class _Failed(Exception):
    pass


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def left_half_hash(value: str, algorithm: str) -> str:
    """`at_hash`: the left half of the hash of the ASCII value, base64url (§3.1.3.6)."""
    digest = _HASHES[algorithm](value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


@dataclass
class _Validation:
    token: str
    jwks: Mapping[str, Any]
    expected: Expected
    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    key: VerificationKey | None = None

    def check_format(self) -> str:
        parts = self.token.split(".")
        if len(parts) != 3:
            raise _Failed("not a signed JWT (JWS compact serialization has three parts)")
        try:
            header, claims = (json.loads(_b64decode(part)) for part in parts[:2])
        except (ValueError, UnicodeDecodeError):
            raise _Failed("the header or the claims are not base64url JSON") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise _Failed("the header or the claims are not JSON objects")
        self.header, self.claims = header, claims
        return "a JWS in compact serialization: header, claims and signature"

    def check_algorithm(self) -> str:
        algorithm = self.header.get("alg")
        if algorithm not in self.expected.algorithms:
            allowed = ", ".join(self.expected.algorithms)
            raise _Failed(f"alg {algorithm!r} is not one Dropletbook accepts ({allowed})")
        return f"alg {algorithm}, one of the asymmetric algorithms Dropletbook accepts"

    def check_signature(self) -> str:
        kid, algorithm = self.header.get("kid"), str(self.header["alg"])
        documents = [k for k in self.jwks.get("keys") or () if isinstance(k, dict)]
        matching = [k for k in documents if k.get("kid") == kid and isinstance(kid, str)]
        if not matching:
            raise _Failed(f"no key with kid {kid!r} in the provider's JWKS")
        try:
            self.key = verification_key(matching[0], algorithms=(algorithm,))
        except ValueError as exc:
            raise _Failed(f"the published key {kid} cannot verify it: {exc}") from None
        signing_input, _, signature = self.token.rpartition(".")
        try:
            valid = bool(self.key.key.verify(signing_input.encode("ascii"), _b64decode(signature)))
        except (ValueError, TypeError):
            valid = False
        if not valid:
            raise _Failed(f"the signature does not verify with key {kid} from the JWKS")
        return f"verified with the provider's published key {kid} ({algorithm})"

    def check_issuer(self) -> str:
        issuer = self.claims.get("iss")
        if issuer != self.expected.issuer:
            raise _Failed(f"iss is {issuer!r}, not {self.expected.issuer!r}")
        return f"iss is {issuer}, the provider Dropletbook asked"

    def check_audience(self) -> str:
        client_id, audience = self.expected.client_id, self.claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if client_id not in audiences:
            raise _Failed(f"aud is {audience!r}, which does not name {client_id}")
        azp = self.claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != client_id:
            raise _Failed(f"azp is {azp!r}, not {client_id} (required with several audiences)")
        return f"aud names Dropletbook's client_id {client_id}"

    def check_expiry(self) -> str:
        exp, now = self.claims.get("exp"), self.expected.now()
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise _Failed("exp is missing or not a number")
        if now >= exp + self.expected.leeway:
            raise _Failed(f"the ID Token expired {int(now - exp)} s ago")
        return f"not expired (exp in {int(exp - now)} s)"

    def check_issued_at(self) -> str:
        iat, now = self.claims.get("iat"), self.expected.now()
        if not isinstance(iat, int | float) or isinstance(iat, bool):
            raise _Failed("iat is missing or not a number")
        if iat > now + self.expected.leeway:
            raise _Failed("iat is in the future")
        subject = self.claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise _Failed("sub is missing")
        return f"issued {int(now - iat)} s ago, about the user {subject}"

    def check_nonce(self) -> str:
        nonce = self.claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(
            nonce.encode(), self.expected.nonce.encode()
        ):
            raise _Failed("nonce is not the one Dropletbook sent with this sign-in (replay?)")
        return "nonce is the one Dropletbook stored for this browser's sign-in"

    def check_at_hash(self) -> str:
        at_hash, token = self.claims.get("at_hash"), self.expected.access_token
        if token is None:
            return "no access token in this response"
        if at_hash is None:
            return "no at_hash (optional in the code flow, §3.1.3.8)"
        expected = left_half_hash(token, str(self.header["alg"]))
        if not isinstance(at_hash, str) or not hmac.compare_digest(at_hash, expected):
            raise _Failed("at_hash does not match the access token of this response")
        return "at_hash matches the access token of this response"

    def run(self) -> list[Check]:
        checks: list[Check] = []
        for name, check in (
            ("format", self.check_format),
            ("alg", self.check_algorithm),
            ("signature", self.check_signature),
            ("iss", self.check_issuer),
            ("aud", self.check_audience),
            ("exp", self.check_expiry),
            ("iat, sub", self.check_issued_at),
            ("nonce", self.check_nonce),
            ("at_hash", self.check_at_hash),
        ):
            try:
                checks.append(Check(name, True, check()))
            except _Failed as exc:
                checks.append(Check(name, False, str(exc)))
                raise IdTokenError(checks) from None
        return checks


def validate_id_token(token: str, *, jwks: Mapping[str, Any], expected: Expected) -> ValidIdToken:
    """The ID Token's header and claims once every check passed; IdTokenError otherwise."""
    validation = _Validation(token, jwks, expected)
    checks = validation.run()
    return ValidIdToken(validation.header, validation.claims, checks)
