"""Alembic environment of Dropletbook (the demo client): see `shared.migrations`."""

from services.demo_client.db import SCHEMA
from shared.migrations import run_environment

run_environment(SCHEMA)
