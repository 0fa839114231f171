"""What Dropletbook does in each OAuth 2 grant, step by step, independent of the web pages
(`routes/` holds those): one module per grant, plus the front channel the code and implicit
grants share and the API calls every grant's token is used for.

The keys below name a grant's tokens and recorded steps in the browser session.
"""

CODE = "code"
IMPLICIT = "implicit"
PASSWORD = "password"  # noqa: S105 (a grant's name)
SIGN_IN = "signin"
"""Sign in with Droplet Cloud (OpenID Connect), with the code grant of the `CODE` client."""
CLIENT_CREDENTIALS = "service"
"""Stored in sessions and used as the inspector's page anchor (`#inspector-service`)."""
