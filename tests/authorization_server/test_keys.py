"""Signing keys: first key, rotation with an activation delay, retention and pruning."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from services.authorization_server.context import ServerContext
from services.authorization_server.keys import KeyStore
from services.authorization_server.models import SigningKeyRecord
from shared.db import utcnow
from shared.jwt import public_jwk

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
DELAY = 600
TTL = 3600
RETENTION = timedelta(seconds=TTL + 60)  # the token lifetime plus clock-skew leeway


@pytest.fixture
def store(context: ServerContext) -> KeyStore:
    """A second store on the same database, with a real activation delay."""
    store = KeyStore(context.engine, algorithm="ES256", activation_delay=DELAY, token_ttl=TTL)
    store.reload()
    return store


def _kids(store: KeyStore, **kwargs: object) -> list[str]:
    return [key["kid"] for key in store.jwks(**kwargs)["keys"]]  # type: ignore[arg-type]


def _stored_kids(context: ServerContext, algorithm: str = "ES256") -> set[str]:
    """The stored keys of one algorithm's chain (the server keeps ES256 and RS256 chains)."""
    with Session(context.engine) as session:
        records = session.exec(
            select(SigningKeyRecord).where(SigningKeyRecord.algorithm == algorithm)
        )
        return {record.kid for record in records}


def test_first_key_is_created_once_and_signs_at_once(context: ServerContext) -> None:
    kids = _stored_kids(context)
    assert len(kids) == 1
    context.keys.ensure_key()
    assert _stored_kids(context) == kids
    assert context.keys.signing_key().kid in kids
    rsa = _stored_kids(context, "RS256")
    assert len(rsa) == 1
    assert context.keys.signing_key(algorithm="RS256").kid in rsa
    assert _kids(context.keys) == [*kids, *rsa]  # the access tokens' chain first


def test_jwks_is_public_only(context: ServerContext, store: KeyStore) -> None:
    store.rotate()
    document = store.jwks()
    assert len(document["keys"]) == 2
    for key in document["keys"]:
        assert not PRIVATE_MEMBERS & set(key)
        assert {"kty", "crv", "x", "y", "kid", "alg", "use"} <= set(key)
        assert (key["kty"], key["alg"], key["use"]) == ("EC", "ES256", "sig")


def test_rotated_key_is_published_at_once_but_signs_after_the_delay(store: KeyStore) -> None:
    now = utcnow()
    old = store.signing_key(now=now).kid
    new = store.rotate(now=now).kid
    assert _kids(store, now=now) == [new, old]
    assert store.signing_key(now=now).kid == old
    assert store.signing_key(now=now + timedelta(seconds=DELAY - 1)).kid == old
    assert store.signing_key(now=now + timedelta(seconds=DELAY)).kid == new


def test_retired_key_stays_published_while_its_tokens_live(
    context: ServerContext, store: KeyStore
) -> None:
    now = utcnow()
    old = store.signing_key(now=now).kid
    new = store.rotate(now=now).kid
    superseded = now + timedelta(seconds=DELAY)
    assert _kids(store, now=superseded + RETENTION - timedelta(seconds=1)) == [new, old]
    assert _kids(store, now=superseded + RETENTION) == [new]
    assert store.prune(now=superseded + RETENTION - timedelta(seconds=1)) == 0
    assert _stored_kids(context) == {old, new}
    assert store.prune(now=superseded + RETENTION) == 1
    assert _stored_kids(context) == {new}


def test_rotation_prunes_keys_retired_long_ago(context: ServerContext, store: KeyStore) -> None:
    now = utcnow()
    first = store.signing_key(now=now).kid
    second = store.rotate(now=now).kid
    later = now + timedelta(seconds=DELAY) + RETENTION + timedelta(seconds=1)
    third = store.rotate(now=later).kid
    assert first not in _stored_kids(context)
    assert _kids(store, now=later) == [third, second]


def test_other_processes_see_rotation_after_reload(context: ServerContext, store: KeyStore) -> None:
    new = store.rotate().kid
    assert new not in _kids(context.keys)
    context.keys.reload()
    assert new in _kids(context.keys)


def test_verification_key_for_published_keys(context: ServerContext) -> None:
    signing = context.keys.signing_key()
    verifier = context.keys.verification_key(signing.kid)
    assert verifier is not None
    assert verifier.kid == signing.kid
    assert verifier.key.to_dict() == signing.key.public_key().to_dict()
    assert "d" not in verifier.key.to_dict()
    assert context.keys.verification_key("unknown") is None
    assert public_jwk(signing)["kid"] == signing.kid


def test_rsa_keys(context: ServerContext) -> None:
    store = KeyStore(context.engine, algorithm="RS256", activation_delay=0, token_ttl=TTL)
    store.reload()
    now = utcnow()
    record = store.rotate(now=now)
    assert store.signing_key(now=now).kid == record.kid
    rsa = next(key for key in store.jwks(now=now)["keys"] if key["kid"] == record.kid)
    assert (rsa["kty"], rsa["alg"]) == ("RSA", "RS256")
    assert not PRIVATE_MEMBERS & set(rsa)
