"""HTTP routes of the resource server, and the error responses they share in the docs."""

from typing import Any

from services.resource_server.schemas import ErrorResponse, NoCredentialsResponse

BEARER_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorResponse,
        "description": "invalid_request (token sent twice, in the query)",
    },
    401: {
        "model": ErrorResponse | NoCredentialsResponse,
        "description": "invalid_token, with a Bearer challenge; no token at all: `{}` and a bare"
        ' `Bearer realm="..."` challenge (RFC 6750 §3.1)',
    },
    403: {"model": ErrorResponse, "description": "insufficient_scope, with the scope needed"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such droplet in this account"},
}
