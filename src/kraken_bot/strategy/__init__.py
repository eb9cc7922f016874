"""The strategy layer's output contract that execution consumes."""
