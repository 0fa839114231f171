"""Scope strings (RFC 6749 §3.3): space-delimited, case-sensitive, NQCHAR tokens."""

import re
from collections.abc import Iterable

_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")


class ScopeSyntaxError(ValueError):
    pass


def parse_scope(value: str | None) -> frozenset[str]:
    """Split a scope parameter; an empty or missing value is the empty set."""
    if not value:
        return frozenset()
    tokens = value.split(" ")
    if any(not _SCOPE_TOKEN.fullmatch(token) for token in tokens):
        raise ScopeSyntaxError("scope must be space-separated printable ASCII tokens")
    return frozenset(tokens)


def format_scope(scopes: Iterable[str]) -> str:
    """Canonical form: sorted and space-joined, so equal sets give equal strings."""
    return " ".join(sorted(set(scopes)))
