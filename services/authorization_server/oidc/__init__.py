"""OpenID Connect on top of the OAuth core: Core 1.0, Discovery 1.0, RP-Initiated Logout 1.0.

An `openid` authorization-code request gets an ID token beside its access token; the
UserInfo endpoint answers for any access token that carries `openid`. Without `openid` in
the scope nothing here takes part, so OAuth-only requests behave as before.
"""
