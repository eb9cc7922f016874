"""Pure: the import path of the order lifecycle: the transition table and its fold.

The module is `kraken_bot.execution.core.lifecycle`; this path (from the contract's module
layout) re-exports its public names, the very same objects.
"""

from kraken_bot.execution.core.lifecycle import *  # noqa: F403 - the public path of the core module
