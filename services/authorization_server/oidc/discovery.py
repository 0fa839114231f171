"""The OpenID Connect members of the metadata (Discovery 1.0 §3, RP-Initiated Logout 1.0
§2.1). Both well-known documents serve the one metadata this joins (routes/well_known.py),
so they agree on every member by construction."""

from typing import Any

from services.authorization_server.oidc.claims import CLAIMS_SUPPORTED
from services.authorization_server.oidc.id_token import ID_TOKEN_ALGORITHMS
from services.authorization_server.oidc.request import PROMPT_VALUES

USERINFO_PATH = "/v1/oauth/userinfo"
END_SESSION_PATH = "/v1/oauth/logout"


def oidc_metadata(issuer: str) -> dict[str, Any]:
    """Only the code flow issues ID tokens: `id_token` and `code id_token` response types
    are not supported, so not advertised."""
    return {
        "userinfo_endpoint": f"{issuer}{USERINFO_PATH}",
        "end_session_endpoint": f"{issuer}{END_SESSION_PATH}",
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(ID_TOKEN_ALGORITHMS),
        "userinfo_signing_alg_values_supported": list(ID_TOKEN_ALGORITHMS),
        "claims_supported": CLAIMS_SUPPORTED,
        "prompt_values_supported": list(PROMPT_VALUES),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
