"""Signing keys at rest (key_encryption.py, keys.py): AES-GCM under a KEK from the settings."""

import base64
import logging
import secrets

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import text
from sqlmodel import Session, select

from services.authorization_server.context import ServerContext
from services.authorization_server.db import create_tables, make_engine
from services.authorization_server.key_encryption import (
    KeyEncryption,
    KeyEncryptionError,
    SealedKey,
    decode_kek,
)
from services.authorization_server.keys import KeyStore
from services.authorization_server.models import SigningKeyRecord
from services.authorization_server.settings import Settings
from shared.jwt import generate_private_pem
from tests.factories import test_settings

PEM = generate_private_pem("ES256")


def new_kek() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def encryption(current: str | None, **keys: str) -> KeyEncryption:
    return KeyEncryption({kek_id: decode_kek(key) for kek_id, key in keys.items()}, current)


K1, K2 = new_kek(), new_kek()
CHAINS = 2  # the server keeps a key chain per algorithm: ES256 (access tokens) and RS256


# --- the cipher --------------------------------------------------------------------------


def test_round_trip() -> None:
    kek = encryption("k1", k1=K1)
    sealed = kek.seal(kid="kid-1", private_pem=PEM)
    assert sealed.kek_id == "k1"
    assert "PRIVATE KEY" not in sealed.private_key
    assert kek.open(kid="kid-1", sealed=sealed) == PEM


def test_each_seal_uses_a_fresh_nonce() -> None:
    kek = encryption("k1", k1=K1)
    assert kek.seal(kid="a", private_pem=PEM) != kek.seal(kid="a", private_pem=PEM)


def test_wrong_kek_does_not_decrypt() -> None:
    sealed = encryption("k1", k1=K1).seal(kid="kid-1", private_pem=PEM)
    with pytest.raises(KeyEncryptionError, match="does not decrypt under key encryption key 'k1'"):
        encryption("k1", k1=K2).open(kid="kid-1", sealed=sealed)


def test_unknown_kek_id_is_named() -> None:
    sealed = encryption("old", old=K1).seal(kid="kid-1", private_pem=PEM)
    with pytest.raises(KeyEncryptionError, match="'old', which AS_KEY_ENCRYPTION_KEYS"):
        encryption("new", new=K2).open(kid="kid-1", sealed=sealed)


@pytest.mark.parametrize("position", [0, 5, 20, -1])
def test_tampered_ciphertext_is_refused(position: int) -> None:
    kek = encryption("k1", k1=K1)
    sealed = kek.seal(kid="kid-1", private_pem=PEM)
    blob = bytearray(base64.b64decode(sealed.private_key))
    blob[position] ^= 0x01
    tampered = SealedKey("k1", base64.b64encode(bytes(blob)).decode())
    with pytest.raises(KeyEncryptionError):
        kek.open(kid="kid-1", sealed=tampered)


@pytest.mark.parametrize("garbage", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(KeyEncryptionError):
        encryption("k1", k1=K1).open(kid="kid-1", sealed=SealedKey("k1", garbage))


def test_ciphertext_is_bound_to_its_kid() -> None:
    """Copied onto another key's row, a ciphertext does not decrypt (AAD = the kid)."""
    kek = encryption("k1", k1=K1)
    sealed = kek.seal(kid="kid-1", private_pem=PEM)
    with pytest.raises(KeyEncryptionError):
        kek.open(kid="kid-2", sealed=sealed)


def test_without_a_kek_keys_stay_in_clear() -> None:
    clear = KeyEncryption.disabled().seal(kid="kid-1", private_pem=PEM)
    assert clear == SealedKey(None, PEM)
    assert encryption("k1", k1=K1).open(kid="kid-1", sealed=clear) == PEM  # old rows still load


# --- the settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "current", "message"),
    [
        pytest.param({"k1": "c2hvcnQ="}, None, "must be base64 of 32", id="short"),
        pytest.param({"k1": "not base64"}, None, "must be base64 of 32", id="not-base64"),
        pytest.param({"k1": K1, "k2": K2}, None, "AS_KEY_ENCRYPTION_KEY_ID must name", id="which"),
        pytest.param({"k1": K1}, "k2", "is not in AS_KEY_ENCRYPTION_KEYS", id="unknown-current"),
        pytest.param({}, "k1", "is not in AS_KEY_ENCRYPTION_KEYS", id="no-keys"),
    ],
)
def test_bad_kek_settings_are_refused(
    keys: dict[str, str], current: str | None, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        Settings(environment="development", key_encryption_keys=keys, key_encryption_key_id=current)
    for key in keys.values():
        assert key not in str(caught.value)


def test_a_single_kek_is_the_current_one() -> None:
    settings = Settings(environment="development", key_encryption_keys={"2026-01": K1})
    assert settings.key_encryption_key_id == "2026-01"


# --- the key store -----------------------------------------------------------------------


def stored_rows(context: ServerContext) -> list[tuple[str, str, str | None]]:
    """What the database holds, read with plain SQL."""
    with context.engine.connect() as connection:
        rows = connection.execute(text("SELECT kid, private_key, kek_id FROM signingkeyrecord"))
        return [(row[0], row[1], row[2]) for row in rows]


def build(database_url: str, current: str | None, **keys: str) -> ServerContext:
    settings = test_settings(
        database_url,
        key_encryption_keys={k: SecretStr(v) for k, v in keys.items()},
        key_encryption_key_id=current,
    )
    context = ServerContext.build(settings, make_engine(database_url))
    create_tables(context.engine)
    return context


def test_database_rows_hold_no_clear_private_key(database_url: str) -> None:
    context = build(database_url, "k1", k1=K1)
    try:
        context.keys.ensure_key()
        context.keys.rotate()
        rows = stored_rows(context)
        assert len(rows) == 2 * CHAINS
        for _, private_key, kek_id in rows:
            assert kek_id == "k1"
            assert "PRIVATE KEY" not in private_key
            assert "PRIVATE KEY" not in base64.b64decode(private_key).decode("latin-1")
        signing = context.keys.signing_key()
        assert context.keys.verification_key(signing.kid) is not None
    finally:
        context.engine.dispose()


def test_rotation_to_a_new_kek(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Clear rows (written without a KEK) and k1 rows all end up under k2; k1 can then go."""
    clear = build(database_url, None)
    try:
        clear.keys.ensure_key()
    finally:
        clear.engine.dispose()
    first = build(database_url, "k1", k1=K1)
    try:
        with caplog.at_level(logging.WARNING):
            first.keys.reload()  # a clear row still loads, with a warning to rotate
        assert "stored in clear: run `dropletbook-as rotate-kek`" in caplog.text
        first.keys.rotate()
        kek_ids = sorted(str(kek_id) for _, _, kek_id in stored_rows(first))
        assert kek_ids == ["None"] * CHAINS + ["k1"] * CHAINS
    finally:
        first.engine.dispose()

    both = build(database_url, "k2", k1=K1, k2=K2)
    try:
        kids = {kid for kid, _, _ in stored_rows(both)}
        assert both.keys.reencrypt() == 2 * CHAINS
        resealed = [(kid in kids, kek_id) for kid, _, kek_id in stored_rows(both)]
        assert resealed == [(True, "k2")] * 2 * CHAINS
    finally:
        both.engine.dispose()

    only_new = build(database_url, "k2", k2=K2)
    try:
        only_new.keys.reload()
        assert {key["kid"] for key in only_new.keys.jwks()["keys"]} == kids
    finally:
        only_new.engine.dispose()


def test_a_key_under_a_removed_kek_stops_the_start(database_url: str) -> None:
    old = build(database_url, "k1", k1=K1)
    try:
        old.keys.ensure_key()
    finally:
        old.engine.dispose()
    new = build(database_url, "k2", k2=K2)
    try:
        with pytest.raises(KeyEncryptionError, match="'k1'"):
            new.keys.reload()
    finally:
        new.engine.dispose()


def test_reencrypt_needs_a_kek(context: ServerContext) -> None:
    with pytest.raises(ValueError, match="AS_KEY_ENCRYPTION_KEYS"):
        KeyStore(context.engine, algorithm="ES256", activation_delay=0, token_ttl=60).reencrypt()


def test_a_row_moved_to_another_kid_does_not_load(database_url: str) -> None:
    """Swapping ciphertexts between rows (a database-level attacker) is caught by the AAD."""
    context = build(database_url, "k1", k1=K1)
    try:
        context.keys.ensure_key()
        context.keys.rotate()
        with Session(context.engine) as session:
            first, second = session.exec(
                select(SigningKeyRecord).where(SigningKeyRecord.algorithm == "ES256")
            ).all()
            first.private_key, second.private_key = second.private_key, first.private_key
            session.add_all([first, second])
            session.commit()
        fresh = KeyStore(
            context.engine,
            algorithm="ES256",
            activation_delay=0,
            token_ttl=60,
            encryption=encryption("k1", k1=K1),
        )
        with pytest.raises(KeyEncryptionError):
            fresh.reload()
    finally:
        context.engine.dispose()
