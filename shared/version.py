"""The project's version, from its installed metadata (pyproject.toml is the one place)."""

from importlib.metadata import version

VERSION = version("dropletbook-oauth")
