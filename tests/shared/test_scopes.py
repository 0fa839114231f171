"""shared.scopes: RFC 6749 §3.3 scope strings."""

import pytest

from shared.scopes import ScopeSyntaxError, format_scope, parse_scope


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, frozenset(), id="missing"),
        pytest.param("", frozenset(), id="empty"),
        pytest.param("read", frozenset({"read"}), id="one"),
        pytest.param("read write", frozenset({"read", "write"}), id="two"),
        pytest.param("write read read", frozenset({"read", "write"}), id="duplicates"),
        pytest.param("Read", frozenset({"Read"}), id="case-sensitive"),
        pytest.param("a:b/c!#~", frozenset({"a:b/c!#~"}), id="nqchar-punctuation"),
    ],
)
def test_parse_scope(value: str | None, expected: frozenset[str]) -> None:
    assert parse_scope(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("read  write", id="double-space"),
        pytest.param(" read", id="leading-space"),
        pytest.param("read ", id="trailing-space"),
        pytest.param("read\twrite", id="tab"),
        pytest.param('say"hi"', id="double-quote"),
        pytest.param("back\\slash", id="backslash"),
        pytest.param("caf\u00e9", id="non-ascii"),
        pytest.param("read\x00", id="nul"),
    ],
)
def test_parse_scope_refuses_bad_syntax(value: str) -> None:
    with pytest.raises(ScopeSyntaxError):
        parse_scope(value)


def test_format_scope_is_canonical() -> None:
    assert format_scope(["write", "read", "write"]) == "read write"
    assert format_scope([]) == ""
    assert format_scope(parse_scope("write read")) == format_scope(parse_scope("read write"))
