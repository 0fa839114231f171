"""Scope policy, RFC 6749 §3.3 and §6: what a client may ask for, and refresh narrowing."""

import pytest

from services.authorization_server.models import Client
from services.authorization_server.scopes import narrow_scope, resolve_scope
from shared.errors import InvalidScopeError

SUPPORTED = {"read": "Read", "write": "Write", "admin": "Admin"}


def _client(scope: str = "read write") -> Client:
    return Client(client_id="c", name="C", scope=scope)


@pytest.mark.parametrize(
    ("requested", "client_scope", "default", "expected"),
    [
        pytest.param("read", "read write", "read", "read", id="subset"),
        pytest.param("write read", "read write", "read", "read write", id="canonical-order"),
        pytest.param("read read", "read write", "read", "read", id="duplicate"),
        pytest.param(None, "read write", "read", "read", id="default"),
        pytest.param("", "read write", "read", "read", id="empty-is-default"),
        pytest.param(None, "read write", "read write", "read write", id="wide-default"),
        pytest.param(None, "write", "read write", "write", id="default-cut-to-client"),
    ],
)
def test_resolve_scope(
    requested: str | None, client_scope: str, default: str, expected: str
) -> None:
    client = _client(client_scope)
    assert resolve_scope(requested, client=client, supported=SUPPORTED, default=default) == expected


@pytest.mark.parametrize(
    ("requested", "client_scope", "default", "description"),
    [
        pytest.param("delete", "read write", "read", "unknown scope: delete", id="unknown"),
        pytest.param(
            "admin",
            "read write",
            "read",
            "scope not allowed for this client: admin",
            id="not-registered",
        ),
        pytest.param(
            "read write",
            "read",
            "read",
            "scope not allowed for this client: write",
            id="wider-than-client",
        ),
        pytest.param(
            "read  write",
            "read write",
            "read",
            "scope must be space-separated printable ASCII tokens",
            id="syntax",
        ),
        pytest.param(
            None, "write", "read", "no scope requested and no default applies", id="no-default"
        ),
    ],
)
def test_resolve_scope_refuses(
    requested: str | None, client_scope: str, default: str, description: str
) -> None:
    with pytest.raises(InvalidScopeError) as caught:
        resolve_scope(requested, client=_client(client_scope), supported=SUPPORTED, default=default)
    assert (caught.value.error, caught.value.status_code) == ("invalid_scope", 400)
    assert caught.value.description == description


@pytest.mark.parametrize(
    ("requested", "granted", "expected"),
    [
        pytest.param(None, "read write", "read write", id="omitted-keeps-grant"),
        pytest.param("read", "read write", "read", id="narrow"),
        pytest.param("write read", "read write", "read write", id="same"),
    ],
)
def test_narrow_scope(requested: str | None, granted: str, expected: str) -> None:
    assert narrow_scope(requested, granted=granted) == expected


@pytest.mark.parametrize(
    ("requested", "granted"),
    [
        pytest.param("read write", "read", id="widen"),
        pytest.param("admin", "read write", id="other"),
        pytest.param("read\twrite", "read write", id="syntax"),
    ],
)
def test_narrow_scope_refuses_widening(requested: str, granted: str) -> None:
    with pytest.raises(InvalidScopeError):
        narrow_scope(requested, granted=granted)
