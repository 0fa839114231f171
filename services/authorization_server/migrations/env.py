"""Alembic environment of the authorization server: see `shared.migrations`."""

from services.authorization_server.db import SCHEMA
from shared.migrations import run_environment

run_environment(SCHEMA)
