"""The contract's import path of the order management system: `ExecutionService`.

The module is `kraken_bot.execution.shell.oms`; this path (from the contract's module
layout) re-exports its public names, the very same objects.
"""

from kraken_bot.execution.shell.oms import *  # noqa: F403 - the public path of the shell module
