"""Pure: the contract's import path of the records: plans' orders, results, intents, statuses.

The module is `kraken_bot.execution.core.models`; this path (from the contract's module
layout) re-exports its public names, the very same objects.
"""

from kraken_bot.execution.core.models import *  # noqa: F403 - the public path of the core module
