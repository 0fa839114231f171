"""shared.validation: pydantic's errors as one readable `invalid_request` sentence."""

from typing import Any

import pytest

from shared.validation import describe


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        pytest.param([], "invalid input", id="none"),
        pytest.param(
            [{"type": "json_invalid", "loc": ("body", 1), "msg": "JSON decode error"}],
            "request body is not valid JSON",
            id="json",
        ),
        pytest.param(
            [{"type": "missing", "loc": ("body", "a", 0, "b"), "msg": "Field required"}],
            "field a.0.b is required",
            id="nested",
        ),
        pytest.param(
            [
                {
                    "type": "string_too_long",
                    "loc": ("header", "x-id"),
                    "msg": "String should have at most 5 characters",
                }
            ],
            "header x-id must have at most 5 characters",
            id="header",
        ),
        pytest.param(
            [{"type": "value_error", "loc": (), "msg": "x", "ctx": {"error": ValueError("bad")}}],
            "bad",
            id="no-location",
        ),
        pytest.param(
            [{"type": "missing", "loc": ("body", "a"), "msg": "Field required"}] * 2,
            "field a is required (and 1 more problem)",
            id="two",
        ),
    ],
)
def test_describe(errors: list[dict[str, Any]], expected: str) -> None:
    assert describe(errors) == expected
