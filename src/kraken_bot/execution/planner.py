"""Pure: the import path of the planner: a plan to order intents, or skips with reasons.

The module is `kraken_bot.execution.core.planner`; this path (from the contract's module
layout) re-exports its public names, the very same objects.
"""

from kraken_bot.execution.core.planner import *  # noqa: F403 - the public path of the core module
