"""Pure: the import path of error classification and the retry and backoff decisions.

The module is `kraken_bot.execution.core.policy`; this path (from the contract's module
layout) re-exports its public names, the very same objects.
"""

from kraken_bot.execution.core.policy import *  # noqa: F403 - the public path of the core module
