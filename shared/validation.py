"""Request validation errors as one sentence a person can act on (the `invalid_request` text).

FastAPI reports pydantic's raw errors (`"1: JSON decode error"`, `"String should match
pattern '^[A-Za-z0-9]...'"`); this names the field and says what it must be. Validators
that raise `ValueError("must be ...")` supply their own wording.
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any

_WHERE = {"query": "query parameter", "path": "path parameter", "header": "header"}
_BODY_NOT_OBJECT = {"model_attributes_type", "model_type", "dict_type"}
_MAX_NAME = 40  # a field name may be request input: keep the echo short


def describe(errors: Sequence[Mapping[str, Any]]) -> str:
    """The first error, as `<what> <problem>`; later errors are counted, not described."""
    if not errors:
        return "invalid input"
    text = _describe_one(errors[0])
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return text


def _describe_one(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    where, *path = [str(part) for part in error.get("loc", ())] or [""]
    if where == "body" and kind == "json_invalid":
        return "request body is not valid JSON"
    if where == "body" and not path:
        if kind == "missing":
            return "request body is required"
        if kind in _BODY_NOT_OBJECT:
            return "request body must be a JSON object"
        return f"request body {_problem(kind, error)}"
    name = ".".join(path)[:_MAX_NAME]
    label = f"field {name}" if where == "body" else f"{_WHERE.get(where, where)} {name}"
    return f"{label.strip()} {_problem(kind, error)}".strip()


def _problem(kind: str, error: Mapping[str, Any]) -> str:
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not allowed"
    if kind == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    message = str(error.get("msg", "is invalid"))
    if kind.endswith("_parsing"):  # "..., unable to parse string as an integer" adds nothing
        message = message.split(", ", 1)[0]
    # pydantic's "Input should be ...", "String should have ..." read as "must be ...".
    return re.sub(r"^\w+ should ", "must ", message)
