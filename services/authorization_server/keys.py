"""Signing keys: generated on first start, persisted, rotated with a publication delay.

A rotated-in key is published in the JWKS `key_activation_delay` seconds before it signs,
so resource servers have it cached before any token needs it. A process sees a key another
process stored (`dropletbook-as rotate-key`, a replica) at its next `reload`, every
`key_cache_ttl` seconds; the JWKS `max-age` is that TTL too, and the settings keep the
activation delay at least twice it (or 0: sign at once). A superseded key stays in
the JWKS until every token it signed has expired. Private keys are stored encrypted under
the key encryption key of the settings (key_encryption.py).
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from services.authorization_server.key_encryption import KeyEncryption, SealedKey
from services.authorization_server.models import SigningKeyRecord
from shared.db import utcnow
from shared.jwt import (
    SigningKey,
    VerificationKey,
    generate_private_pem,
    load_signing_key,
    public_jwk,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _LoadedKey:
    active_from: datetime
    signing: SigningKey


class KeyStore:
    """Keys read from the database into memory; the token hot path never touches the database."""

    def __init__(
        self,
        engine: Engine,
        *,
        algorithm: str,
        activation_delay: int,
        token_ttl: int,
        encryption: KeyEncryption | None = None,
    ) -> None:
        self._engine = engine
        self._encryption = encryption or KeyEncryption.disabled()
        self._algorithm = algorithm
        self._activation_delay = timedelta(seconds=activation_delay)
        self._retention = timedelta(seconds=token_ttl + 60)  # + leeway for clock skew
        self._keys: list[_LoadedKey] = []  # oldest first

    def ensure_key(self) -> None:
        """Create the first key on first start, active at once."""
        with Session(self._engine) as session:
            if session.exec(select(SigningKeyRecord).limit(1)).first() is None:
                session.add(self._new_record(active_from=utcnow()))
                session.commit()
        self.reload()

    def rotate(self, *, now: datetime | None = None) -> SigningKeyRecord:
        """Add a key that is published now and signs after the activation delay."""
        now = now or utcnow()
        record = self._new_record(active_from=now + self._activation_delay)
        with Session(self._engine, expire_on_commit=False) as session:
            session.add(record)
            session.commit()
        self.prune(now=now)
        self.reload()
        return record

    def prune(self, *, now: datetime | None = None) -> int:
        """Delete keys superseded longer ago than a token lives."""
        now = now or utcnow()
        with Session(self._engine) as session:
            records = session.exec(
                select(SigningKeyRecord).order_by(col(SigningKeyRecord.active_from))
            ).all()
            starts = [r.active_from for r in records]
            stale = [r.kid for i, r in enumerate(records) if not self._published(i, starts, now)]
            if stale:
                session.exec(delete(SigningKeyRecord).where(col(SigningKeyRecord.kid).in_(stale)))
                session.commit()
        return len(stale)

    def reload(self) -> None:
        with Session(self._engine) as session:
            records = session.exec(
                select(SigningKeyRecord).order_by(col(SigningKeyRecord.active_from))
            ).all()
        current = {key.signing.kid: key for key in self._keys}
        loaded = [current.get(r.kid) or self._load(r) for r in records]
        self._keys = loaded  # one atomic swap: readers see the old or the new list

    def reencrypt(self) -> int:
        """Seal every private key under the current KEK (`dropletbook-as rotate-kek`)."""
        if self._encryption.current_id is None:
            raise ValueError("no key encryption key configured (AS_KEY_ENCRYPTION_KEYS)")
        with Session(self._engine) as session:
            records = session.exec(select(SigningKeyRecord).with_for_update()).all()
            for record in records:
                pem = self._encryption.open(kid=record.kid, sealed=_sealed(record))
                sealed = self._encryption.seal(kid=record.kid, private_pem=pem)
                record.kek_id, record.private_key = sealed.kek_id, sealed.private_key
                session.add(record)
            session.commit()
        return len(records)

    def _load(self, record: SigningKeyRecord) -> _LoadedKey:
        if record.kek_id is None and self._encryption.current_id is not None:
            logger.warning(
                "signing key %s is stored in clear: run `dropletbook-as rotate-kek`", record.kid
            )
        pem = self._encryption.open(kid=record.kid, sealed=_sealed(record))
        signing = load_signing_key(kid=record.kid, algorithm=record.algorithm, private_pem=pem)
        return _LoadedKey(record.active_from, signing)

    def signing_key(self, *, now: datetime | None = None) -> SigningKey:
        """The newest key whose activation time has come."""
        now = now or utcnow()
        keys = self._keys
        for key in reversed(keys):
            if key.active_from <= now:
                return key.signing
        if not keys:
            raise RuntimeError("no signing key loaded")
        return keys[0].signing  # clock moved back: the oldest key is the safest choice

    def jwks(self, *, now: datetime | None = None) -> dict[str, Any]:
        """Pending, current and recently superseded public keys (RFC 7517 JWK Set)."""
        now = now or utcnow()
        keys = self._keys
        starts = [k.active_from for k in keys]
        published = [k for i, k in enumerate(keys) if self._published(i, starts, now)]
        return {"keys": [public_jwk(k.signing) for k in reversed(published)]}

    def verification_key(self, kid: str) -> VerificationKey | None:
        for key in self._keys:
            if key.signing.kid == kid:
                public = key.signing.key.public_key()
                return VerificationKey(kid=kid, algorithm=key.signing.algorithm, key=public)
        return None

    def _published(self, index: int, starts: list[datetime], now: datetime) -> bool:
        """A key is published until its successor has signed for as long as a token lives."""
        return index + 1 >= len(starts) or starts[index + 1] + self._retention > now

    def _new_record(self, *, active_from: datetime) -> SigningKeyRecord:
        kid = secrets.token_urlsafe(12)
        pem = generate_private_pem(self._algorithm)
        sealed = self._encryption.seal(kid=kid, private_pem=pem)
        return SigningKeyRecord(
            kid=kid,
            algorithm=self._algorithm,
            private_key=sealed.private_key,
            kek_id=sealed.kek_id,
            active_from=active_from,
        )


def _sealed(record: SigningKeyRecord) -> SealedKey:
    return SealedKey(record.kek_id, record.private_key)
