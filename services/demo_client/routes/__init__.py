"""Dropletbook's pages, one module per flow, and the answers they share in the docs."""

from typing import Any

from starlette.responses import Response

from shared.openapi import html_page, html_pages, json_errors, redirect

# A failed step is an error page saying why, with a way back (`FlowError`).
_FLOW_ERRORS = {
    400: "Error page: the step failed (a refusal or an unexpected answer), saying why",
    401: "Error page: the authorization server refused Dropletbook's credentials",
    403: "Error page: a form of another session (CSRF), or a refusal by the user or server",
    502: "Error page: the authorization server or the API could not be reached",
}


def page(description: str, *, redirects: str | None = None) -> dict[str, Any]:
    """Route arguments of a page of a flow."""
    return html_page(description, errors=_FLOW_ERRORS, redirects=redirects)


def step(redirects: str, *, form: bool = True) -> dict[str, Any]:
    """Route arguments of a step that ends in a 303 (a form's POST, or a hop to a server)."""
    responses = {**redirect(redirects), **html_pages(_FLOW_ERRORS)}
    if form:
        responses.update(json_errors({413: "invalid_request: the body is too large"}))
    return {"status_code": 303, "response_class": Response, "responses": responses}
