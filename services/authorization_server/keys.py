"""Signing keys: generated on first start, persisted, rotated with a publication delay.

A rotated-in key is published in the JWKS `key_activation_delay` seconds before it signs,
so resource servers have it cached before any token needs it. A process sees a key another
process stored (`dropletbook-as rotate-key`, a replica) at its next `reload`, every
`key_cache_ttl` seconds; the JWKS `max-age` is that TTL too, and the settings keep the
activation delay at least twice it (or 0: sign at once). A superseded key stays in
the JWKS until every token it signed has expired. Private keys are stored encrypted under
the key encryption key of the settings (key_encryption.py).

The store holds one chain of keys per algorithm: access tokens are signed with the first
(`AS_SIGNING_ALGORITHM`), ID tokens with the algorithm their client registered
(OpenID Connect Core §10.1); every chain is published, rotated and pruned alike.
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
        extra_algorithms: tuple[str, ...] = (),
    ) -> None:
        self._engine = engine
        self._encryption = encryption or KeyEncryption.disabled()
        self._algorithm = algorithm
        self.algorithms = (algorithm, *(a for a in extra_algorithms if a != algorithm))
        self._activation_delay = timedelta(seconds=activation_delay)
        self._retention = timedelta(seconds=token_ttl + 60)  # + leeway for clock skew
        self._chains: dict[str, list[_LoadedKey]] = {}  # per algorithm, oldest first

    def _records(self, session: Session) -> dict[str, list[SigningKeyRecord]]:
        """This store's records by algorithm, oldest first (other algorithms are not ours)."""
        rows = session.exec(
            select(SigningKeyRecord)
            .where(col(SigningKeyRecord.algorithm).in_(self.algorithms))
            .order_by(col(SigningKeyRecord.active_from))
        ).all()
        chains: dict[str, list[SigningKeyRecord]] = {name: [] for name in self.algorithms}
        for row in rows:
            chains[row.algorithm].append(row)
        return chains

    def ensure_key(self) -> None:
        """Create the first key of each algorithm on first start, active at once."""
        with Session(self._engine) as session:
            chains = self._records(session)
            missing = [name for name, records in chains.items() if not records]
            for name in missing:
                session.add(self._new_record(active_from=utcnow(), algorithm=name))
            if missing:
                session.commit()
        self.reload()

    def rotate(self, *, now: datetime | None = None) -> SigningKeyRecord:
        """Add a key per algorithm, published now and signing after the activation delay;
        returns the access-token algorithm's."""
        now = now or utcnow()
        records = [
            self._new_record(active_from=now + self._activation_delay, algorithm=name)
            for name in self.algorithms
        ]
        with Session(self._engine, expire_on_commit=False) as session:
            session.add_all(records)
            session.commit()
        self.prune(now=now)
        self.reload()
        return records[0]

    def prune(self, *, now: datetime | None = None) -> int:
        """Delete keys superseded longer ago than a token lives."""
        now = now or utcnow()
        with Session(self._engine) as session:
            stale: list[str] = []
            for records in self._records(session).values():
                starts = [r.active_from for r in records]
                stale += [
                    r.kid for i, r in enumerate(records) if not self._published(i, starts, now)
                ]
            if stale:
                session.exec(delete(SigningKeyRecord).where(col(SigningKeyRecord.kid).in_(stale)))
                session.commit()
        return len(stale)

    def reload(self) -> None:
        with Session(self._engine) as session:
            chains = self._records(session)
        current = {key.signing.kid: key for keys in self._chains.values() for key in keys}
        loaded = {
            name: [current.get(r.kid) or self._load(r) for r in records]
            for name, records in chains.items()
        }
        self._chains = loaded  # one atomic swap: readers see the old or the new chains

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

    def signing_key(
        self, *, now: datetime | None = None, algorithm: str | None = None
    ) -> SigningKey:
        """The newest key of `algorithm` (default: the access tokens') whose time has come."""
        now = now or utcnow()
        keys = self._chains.get(algorithm or self._algorithm, [])
        for key in reversed(keys):
            if key.active_from <= now:
                return key.signing
        if not keys:
            raise RuntimeError("no signing key loaded")
        return keys[0].signing  # clock moved back: the oldest key is the safest choice

    def jwks(self, *, now: datetime | None = None) -> dict[str, Any]:
        """Pending, current and recently superseded public keys (RFC 7517 JWK Set)."""
        now = now or utcnow()
        document: list[dict[str, str]] = []
        for keys in self._chains.values():
            starts = [k.active_from for k in keys]
            published = [k for i, k in enumerate(keys) if self._published(i, starts, now)]
            document += [public_jwk(k.signing) for k in reversed(published)]
        return {"keys": document}

    def verification_key(self, kid: str) -> VerificationKey | None:
        for key in (key for keys in self._chains.values() for key in keys):
            if key.signing.kid == kid:
                public = key.signing.key.public_key()
                return VerificationKey(kid=kid, algorithm=key.signing.algorithm, key=public)
        return None

    def _published(self, index: int, starts: list[datetime], now: datetime) -> bool:
        """A key is published until its successor has signed for as long as a token lives."""
        return index + 1 >= len(starts) or starts[index + 1] + self._retention > now

    def _new_record(self, *, active_from: datetime, algorithm: str) -> SigningKeyRecord:
        kid = secrets.token_urlsafe(12)
        pem = generate_private_pem(algorithm)
        sealed = self._encryption.seal(kid=kid, private_pem=pem)
        return SigningKeyRecord(
            kid=kid,
            algorithm=algorithm,
            private_key=sealed.private_key,
            kek_id=sealed.kek_id,
            active_from=active_from,
        )


def _sealed(record: SigningKeyRecord) -> SealedKey:
    return SealedKey(record.kek_id, record.private_key)
