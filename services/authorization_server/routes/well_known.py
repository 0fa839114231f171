"""Discovery (RFC 8414), the public signing keys (RFC 7517), and the metadata of this
server's own protected resource, the app-management API (RFC 9728)."""

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from services.authorization_server.deps import ContextDep
from services.authorization_server.grants import (
    GRANT_TYPES_SUPPORTED,
    RESPONSE_MODES,
    RESPONSE_TYPES,
)
from shared.openapi import json_errors

router = APIRouter(tags=["discovery"])

METADATA_PATH = "/.well-known/oauth-authorization-server"
JWKS_PATH = "/.well-known/jwks.json"
RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource"


@router.get(METADATA_PATH, summary="Authorization server metadata (RFC 8414)")
def metadata(context: ContextDep) -> dict[str, Any]:
    settings = context.settings
    base = settings.issuer
    auth_methods = ["client_secret_basic", "client_secret_post", "none"]
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/v1/oauth/authorize",
        "token_endpoint": f"{base}/v1/oauth/token",
        "jwks_uri": f"{base}{JWKS_PATH}",
        "registration_endpoint": f"{base}/v1/oauth/register",
        "revocation_endpoint": f"{base}/v1/oauth/revoke",
        "introspection_endpoint": f"{base}/v1/oauth/introspect",
        # Not RFC 8414 names: this server's own endpoints, advertised like the others.
        "revoked_tokens_endpoint": f"{base}/v1/oauth/revoked-tokens",
        "app_self_endpoint": f"{base}/v1/apps/self",
        # RFC 8707 `resource` values the token endpoint accepts (no RFC 8414 name exists):
        # the cloud API, the default, and this server's API, for client credentials only.
        "resources_supported": [settings.resource_audience, settings.apps_api_resource],
        "scopes_supported": list(settings.scopes),
        "response_types_supported": list(RESPONSE_TYPES),
        "response_modes_supported": RESPONSE_MODES,
        "grant_types_supported": GRANT_TYPES_SUPPORTED,
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods[:2],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": f"{base}/docs",
        "ui_locales_supported": ["en"],
    }


@router.get(
    RESOURCE_METADATA_PATH + "/{path:path}",
    summary="Protected resource metadata of the app-management API (RFC 9728)",
    responses=json_errors({404: "not_found: no protected resource at this path"}),
)
def resource_metadata(path: str, context: ContextDep) -> dict[str, Any]:
    """At the well-known URI derived from `AS_APPS_API_RESOURCE` (RFC 9728 §3.1)."""
    settings = context.settings
    resource = settings.apps_api_resource
    if f"/{path}" != urlsplit(resource).path:
        raise HTTPException(404, "no protected resource metadata here")
    return {
        "resource": resource,
        "authorization_servers": [settings.issuer],
        "scopes_supported": list(settings.scopes),
        "bearer_methods_supported": ["header"],
        "resource_documentation": f"{settings.issuer}/docs",
    }


@router.get(JWKS_PATH, summary="Public signing keys (RFC 7517 JWK Set)")
def jwks(request: Request, context: ContextDep) -> JSONResponse:
    # Cached no longer than this process caches the keys: a rotated key is visible to every
    # reader within 2 x AS_KEY_CACHE_TTL, well inside AS_KEY_ACTIVATION_DELAY (keys.py).
    cache_control = f"public, max-age={int(context.settings.key_cache_ttl)}"
    return JSONResponse(context.keys.jwks(), headers={"Cache-Control": cache_control})
