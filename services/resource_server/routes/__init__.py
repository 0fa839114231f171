"""HTTP routes of the resource server, and the answers they share in the docs."""

from shared.openapi import Responses, bearer_errors, json_errors

BEARER_ERRORS: Responses = {
    **json_errors(
        {
            400: "invalid_request: a parameter is malformed, or the token is sent twice or in"
            " the query"
        }
    ),
    **bearer_errors(),
}
NOT_FOUND = json_errors({404: "No such droplet in this account"})
WRITE_ERRORS: Responses = json_errors(
    {
        413: "invalid_request: the body is too large",
        422: "droplet_limit_exceeded: the account's droplet limit is reached",
    }
)
