"""What each parameter of a request and each claim of an access token means, as the
inspector shows them next to the values."""

MEANINGS: dict[str, str] = {
    "response_type": "what the app asks for: code (authorization code) or token (implicit)",
    "client_id": "who is asking: the app's public identifier from its registration",
    "redirect_uri": "where the server sends the user back; must exactly match a registered URI",
    "scope": "the access asked for: read, or read and write; openid (an ID Token), profile "
    "(your name) and email for a sign-in",
    "nonce": "OpenID Connect: a random value the ID Token must echo, binding it to this "
    "browser's sign-in (no replayed ID Token passes)",
    "id_token": "OpenID Connect: the signed statement of who signed in",
    "id_token_hint": "the ID Token Dropletbook received: who is signing out, of which app",
    "post_logout_redirect_uri": "where Droplet Cloud sends the browser after signing out; "
    "must exactly match one registered for the app",
    "state": "a random value tied to this browser session; the app checks it comes back "
    "unchanged (CSRF protection)",
    "code_challenge": "PKCE: SHA-256 of a secret verifier that only the app knows",
    "code_challenge_method": "PKCE: how the challenge was made (S256)",
    "code": "the authorization code: single use, short-lived, useless without the app's "
    "credentials and PKCE verifier",
    "iss": "which authorization server answered (RFC 9207); must be the one the app asked",
    "error": "why the authorization did not happen",
    "error_description": "a human-readable explanation from the server",
    "grant_type": "which grant the app is using at the token endpoint",
    "code_verifier": "PKCE: the secret whose hash was sent as code_challenge",
    "refresh_token": "the long-lived credential that gets new access tokens",
    "username": "the user's email, typed into the app itself (password grant)",
    "password": "the user's password, typed into the app itself (password grant)",
    "token": "the token to revoke",
    "token_type_hint": "which kind of token it is, to speed up the server's lookup",
    "access_token": "the bearer token the API accepts",
    "token_type": "how to present the token: as a bearer token (RFC 6750)",
    "expires_in": "seconds until the access token expires",
}

CLAIM_MEANINGS: dict[str, str] = {
    "iss": "issuer: the authorization server that signed the token",
    "sub": "subject: the user (or, for client credentials, the client) the token is about",
    "aud": "audience: the API that must accept it (an ID Token: the app it is for)",
    "azp": "authorized party: the app the ID Token was issued to",
    "nonce": "the value Dropletbook sent in the authorization request, echoed",
    "at_hash": "half of the SHA-256 of the access token: binds the two tokens together",
    "auth_time": "when the user last logged in at Droplet Cloud (Unix time)",
    "sid": "the user's session at Droplet Cloud, for logout",
    "name": "the user's name (profile scope)",
    "email": "the user's email address (email scope)",
    "email_verified": "whether Droplet Cloud verified that address",
    "updated_at": "when the profile last changed (Unix time)",
    "client_id": "the app the token was issued to",
    "scope": "what the token allows",
    "iat": "issued at (Unix time)",
    "exp": "expires at (Unix time)",
    "nbf": "not valid before (Unix time)",
    "jti": "unique token id (used for revocation)",
    "typ": "the token's type: at+jwt for an access token (RFC 9068), JWT for an ID Token",
    "alg": "signature algorithm",
    "kid": "which published key signed it (see the server's JWKS)",
}
