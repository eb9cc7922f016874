"""The ``krakked`` command line (typer; rich tables for people, ``--json`` for scripts)."""

from __future__ import annotations

from kraken_bot.cli.app import app, main

__all__ = ["app", "main"]
