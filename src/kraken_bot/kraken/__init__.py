"""Kraken connection layer: REST client, signing, nonces, rate limits, typed errors."""
