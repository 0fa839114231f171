"""Signing keys of an authorization server, for token verifiers (RFC 8414 §3, RFC 7517).

The JWKS is found through the server's metadata document, parsed once per key and kept
in memory. A token with an unknown `kid` triggers one refetch, and refetches are
rate-limited, so a flood of forged tokens cannot become a flood of requests to the
authorization server. When the server is down, the keys already cached keep working.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from shared.json_fetch import fetch_json_object
from shared.jwt import SUPPORTED_ALGORITHMS, VerificationKey, verification_key

logger = logging.getLogger(__name__)

METADATA_PATH = "/.well-known/oauth-authorization-server"


class JwksFetchError(Exception):
    """The metadata or the JWKS could not be fetched or did not make sense."""


class JwksCache:
    """Verification keys by `kid`, fetched from the issuer's `jwks_uri`.

    `internal_url` replaces the issuer's base URL for fetching, so a container can reach
    the server by its service name while tokens still carry the public issuer.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        issuer: str,
        internal_url: str | None = None,
        algorithms: tuple[str, ...] = SUPPORTED_ALGORITHMS,
        refetch_min_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self.issuer = issuer.rstrip("/")
        self._base = (internal_url or issuer).rstrip("/")
        self._algorithms = algorithms
        self._min_interval = refetch_min_interval
        self._clock = clock
        self._keys: dict[str, VerificationKey] = {}
        self._documents: dict[str, str] = {}  # kid -> canonical JWK, to reuse parsed keys
        self._lock = asyncio.Lock()
        self._last_fetch: float | None = None
        self.metadata: dict[str, Any] | None = None

    def get(self, kid: str) -> VerificationKey | None:
        """The cached key for `kid`, without any network call."""
        return self._keys.get(kid)

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    async def key_for(self, kid: str) -> VerificationKey | None:
        """The key for `kid`; an unknown `kid` refetches the JWKS at most once per interval."""
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:  # one fetch at a time; waiters reuse its result
            key = self._keys.get(kid)
            if key is not None or not self._refetch_allowed():
                return key
            logger.info("unknown kid %r: refetching the JWKS", kid)
            try:
                await self._refresh_locked()
            except JwksFetchError as exc:
                logger.warning("JWKS refetch for an unknown kid failed: %s", exc)
                return None
            return self._keys.get(kid)

    async def refresh(self) -> None:
        """Fetch the metadata (first time) and the JWKS now. Raises JwksFetchError."""
        async with self._lock:
            await self._refresh_locked()

    def endpoint(self, name: str, default_path: str) -> str:
        """A metadata endpoint (or the default path) rewritten to the internal base URL."""
        value = (self.metadata or {}).get(name)
        if isinstance(value, str) and value.startswith(self.issuer + "/"):
            return self._internal(value)
        return f"{self._base}{default_path}"

    def load(self, document: Mapping[str, Any]) -> None:
        """Replace the key set with the usable keys of a JWK Set document.

        Unchanged keys keep their parsed object, so callers may compare keys by identity.
        Symmetric, private, unlisted-algorithm and malformed keys are skipped.
        """
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise JwksFetchError("JWKS has no keys array")
        keys: dict[str, VerificationKey] = {}
        documents: dict[str, str] = {}
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            canonical = json.dumps(entry, sort_keys=True)
            kid = entry.get("kid")
            if isinstance(kid, str) and self._documents.get(kid) == canonical:
                keys[kid], documents[kid] = self._keys[kid], canonical
                continue
            try:
                key = verification_key(entry, algorithms=self._algorithms)
            except Exception as exc:  # python-jose raises several types for bad key material
                logger.warning("ignoring unusable JWK %r: %s", kid, exc)
                continue
            keys[key.kid], documents[key.kid] = key, canonical
        self._keys, self._documents = keys, documents  # swapped together for readers

    def _refetch_allowed(self) -> bool:
        return self._last_fetch is None or self._clock() - self._last_fetch >= self._min_interval

    async def _refresh_locked(self) -> None:
        self._last_fetch = self._clock()  # failed attempts count too: no retry storm
        if self.metadata is None:
            self.metadata = await self._discover()
        jwks_uri = self._internal(str(self.metadata["jwks_uri"]))
        self.load(await fetch_json_object(self._http, jwks_uri, error=JwksFetchError))
        logger.info("fetched JWKS from %s: kids %s", jwks_uri, sorted(self._keys))

    async def _discover(self) -> dict[str, Any]:
        metadata_url = f"{self._base}{METADATA_PATH}"
        metadata = await fetch_json_object(self._http, metadata_url, error=JwksFetchError)
        if metadata.get("issuer") != self.issuer:  # RFC 8414 §3.3
            raise JwksFetchError("metadata issuer does not match the configured issuer")
        if not isinstance(metadata.get("jwks_uri"), str):
            raise JwksFetchError("metadata has no jwks_uri")
        return metadata

    def _internal(self, url: str) -> str:
        if url.startswith(self.issuer + "/"):
            return self._base + url[len(self.issuer) :]
        return url
