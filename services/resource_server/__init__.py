"""The resource server: Droplet Cloud's API, protected by JWT access tokens (RFC 6750, RFC 9068)."""
