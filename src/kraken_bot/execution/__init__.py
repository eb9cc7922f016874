"""Execution and order management: plans in, Kraken orders out, every step recorded."""
