"""shared.http: urlencoded bodies (RFC 6749 §3.1, Appendix B) and Basic credentials (§2.3.1)."""

import base64
import random
from urllib.parse import parse_qsl

import pytest

from shared.errors import InvalidClientError, InvalidRequestError, PayloadTooLargeError
from shared.http import is_form_content_type, parse_basic_credentials, parse_form

MAX = 1024


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b"", {}, id="empty-body"),
        pytest.param(b"a=1&b=2", {"a": "1", "b": "2"}, id="two"),
        pytest.param(b"a=x+y%2Bz%20w", {"a": "x y+z w"}, id="plus-and-percent"),
        pytest.param(b"name=caf%C3%A9", {"name": "caf\u00e9"}, id="utf8-percent"),
        pytest.param("name=caf\u00e9".encode(), {"name": "caf\u00e9"}, id="utf8-raw"),
        pytest.param(b"a=&b=2", {"b": "2"}, id="empty-value-is-omitted"),
        pytest.param(b"a&b=2", {"b": "2"}, id="no-equals-is-omitted"),
        pytest.param(b"a=1&&b=2", {"a": "1", "b": "2"}, id="empty-pair"),
        pytest.param(b"a==1", {"a": "=1"}, id="equals-in-value"),
        pytest.param(b"=1&a=2", {"a": "2"}, id="empty-name-is-ignored"),
        pytest.param(b"=1&=2", {}, id="repeated-empty-name-is-ignored"),
    ],
)
def test_parse_form(body: bytes, expected: dict[str, str]) -> None:
    assert parse_form(body, max_bytes=MAX) == expected


@pytest.mark.parametrize(
    ("body", "description"),
    [
        pytest.param(b"a=1&a=2", "parameter 'a' repeated", id="repeated"),
        pytest.param(b"a=1&a=1", "parameter 'a' repeated", id="repeated-same-value"),
        pytest.param(b"a=&a=2", "parameter 'a' repeated", id="repeated-once-empty"),
        pytest.param(b"a=%FF", "request body is not valid UTF-8 form data", id="bad-percent-utf8"),
        pytest.param(b"a=\xff\xfe", "request body is not valid UTF-8 form data", id="raw-latin1"),
        pytest.param(b"%FF=1", "request body is not valid UTF-8 form data", id="bad-name"),
        pytest.param(b"a=x%00y", "parameters must not contain NUL characters", id="nul-value"),
        pytest.param(b"a%00=1", "parameters must not contain NUL characters", id="nul-name"),
    ],
)
def test_parse_form_refuses(body: bytes, description: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_form(body, max_bytes=MAX)
    assert (caught.value.error, caught.value.status_code) == ("invalid_request", 400)
    assert caught.value.description == description


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b"a=1&x=2", {"a": "1"}, id="unknown"),
        pytest.param(b"x=1&a=1&x=2", {"a": "1"}, id="repeated-unknown"),
        pytest.param(b"=1&a=1&=2", {"a": "1"}, id="repeated-empty-name"),
        pytest.param(b"x=%00&a=1", {"a": "1"}, id="unknown-with-nul"),
    ],
)
def test_parse_form_ignores_unrecognized_parameters(body: bytes, expected: dict[str, str]) -> None:
    """RFC 6749 §3.1: the server MUST ignore unrecognized request parameters."""
    assert parse_form(body, max_bytes=MAX, known={"a", "b"}) == expected


def test_parse_form_refuses_a_repeated_known_parameter() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_form(b"x=1&a=1&a=2", max_bytes=MAX, known={"a"})
    assert caught.value.description == "parameter 'a' repeated"


def test_parse_form_refuses_oversized_body() -> None:
    assert parse_form(b"a=" + b"x" * (MAX - 2), max_bytes=MAX) == {"a": "x" * (MAX - 2)}
    with pytest.raises(PayloadTooLargeError) as caught:
        parse_form(b"a=" + b"x" * (MAX - 1), max_bytes=MAX)
    assert (caught.value.error, caught.value.status_code) == ("invalid_request", 413)


def _parse_qsl_reference(body: bytes) -> dict[str, str] | None:
    """What the standard library makes of a body under the same rules; None: refused."""
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return None
    pairs = [(name, value) for name, value in pairs if name]  # an empty name is ignored
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names) or any("\x00" in n + v for n, v in pairs):
        return None
    return {name: value for name, value in pairs if value}


def test_parse_form_agrees_with_parse_qsl_on_random_bodies() -> None:
    """The hand-written split accepts exactly what `parse_qsl` would, with the same values."""
    alphabet = ["a", "b", "=", "&", "+", "%", "2", "B", "F", "0", "e", "\u00e9", ";", " "]
    rng = random.Random(20261128)  # noqa: S311 (test inputs, reproducible by seed)
    for _ in range(20_000):
        body = "".join(rng.choices(alphabet, k=rng.randint(0, 12))).encode()
        expected = _parse_qsl_reference(body)
        if expected is None:
            with pytest.raises(InvalidRequestError):
                parse_form(body, max_bytes=MAX)
        else:
            assert parse_form(body, max_bytes=MAX) == expected, body


def _basic(raw: str) -> str:
    return "Basic " + base64.b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(_basic("client:secret"), ("client", "secret"), id="plain"),
        pytest.param(_basic("client:se:cret"), ("client", "se:cret"), id="colon-in-secret"),
        pytest.param(_basic("cli%3Aent:s%25"), ("cli:ent", "s%"), id="percent-encoded"),
        pytest.param(_basic("my+app:a+b"), ("my app", "a b"), id="plus-is-space"),
        pytest.param(_basic("client:"), ("client", ""), id="empty-secret"),
        pytest.param("basic " + _basic("c:s")[6:], ("c", "s"), id="scheme-case-insensitive"),
        pytest.param(_basic("c\u00e9:s"), ("c\u00e9", "s"), id="utf8"),
    ],
)
def test_parse_basic_credentials(header: str, expected: tuple[str, str]) -> None:
    assert parse_basic_credentials(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer abc", id="other-scheme"),
        pytest.param("Basic", id="no-credentials"),
        pytest.param("Basic    ", id="blank-credentials"),
        pytest.param("Basic !!!!", id="not-base64"),
        pytest.param(_basic("no-colon"), id="no-colon"),
        pytest.param("Basic " + base64.b64encode(b"\xff:\xfe").decode(), id="not-utf8"),
        pytest.param(_basic("client%00:secret"), id="nul"),
    ],
)
def test_parse_basic_credentials_refuses(header: str) -> None:
    with pytest.raises(InvalidClientError) as caught:
        parse_basic_credentials(header)
    assert caught.value.status_code == 401
    assert "WWW-Authenticate" in caught.value.headers()


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/x-www-form-urlencoded", True),
        ("application/x-www-form-urlencoded; charset=UTF-8", True),
        ("Application/X-WWW-Form-Urlencoded", True),
        ("application/json", False),
        ("multipart/form-data; boundary=x", False),
        ("text/plain", False),
        ("", False),
        (None, False),
    ],
)
def test_is_form_content_type(content_type: str | None, expected: bool) -> None:
    assert is_form_content_type(content_type) is expected
