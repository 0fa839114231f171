"""Dropletbook's pages, one module per flow."""
