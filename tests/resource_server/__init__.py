"""Resource server tests."""
