"""`dropletbook-as rotate-key` and `rotate-kek`: the signing keys and their encryption."""

import argparse

from services.authorization_server.cli.context import CliError, server_context


def rotate_key(_: argparse.Namespace) -> None:
    with server_context() as context:
        record = context.keys.rotate()
    ttl = f"{context.settings.key_cache_ttl:g}"
    print(
        f"new key {record.kid} stored: running servers publish it within {ttl} s "
        f"(AS_KEY_CACHE_TTL); it signs from {record.active_from.isoformat()}"
    )


def rotate_kek(_: argparse.Namespace) -> None:
    with server_context() as context:
        kek_id = context.settings.key_encryption_key_id
        if kek_id is None:
            raise CliError("set AS_KEY_ENCRYPTION_KEYS (and AS_KEY_ENCRYPTION_KEY_ID) first")
        count = context.keys.reencrypt()
    print(f"{count} signing key(s) encrypted under key encryption key {kek_id}")
