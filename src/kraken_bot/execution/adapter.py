"""The contract's import path of `KrakenExecutionAdapter` (wraps `KrakenRESTClient`).

The module is `kraken_bot.execution.shell.adapter`; this path (from the contract's module
layout) re-exports its public names, the very same objects.
"""

from kraken_bot.execution.shell.adapter import *  # noqa: F403 - the public path of the shell module
