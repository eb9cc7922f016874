"""The import path of the execution store: the port and its SQLite and in-memory stores.

The module is `kraken_bot.execution.shell.store`; this path (from the contract's module
layout) re-exports its public names, the very same objects.
"""

from kraken_bot.execution.shell.store import *  # noqa: F403 - the public path of the shell module
