"""Alembic environment of the resource server: see `shared.migrations`."""

from services.resource_server.db import SCHEMA
from shared.migrations import run_environment

run_environment(SCHEMA)
