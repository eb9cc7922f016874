"""Krakked: execution and order management for the Kraken spot exchange."""
