"""Dropletbook: the tutorial's third-party app, showing every step of each OAuth 2 flow."""
