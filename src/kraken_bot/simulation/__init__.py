"""Replays against the fake exchange: runner, bundled strategy, invariants, summary (shell)."""
