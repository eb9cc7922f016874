"""The contract's import path of the orchestration helpers: concurrency, the dead-man switch.

The module is `kraken_bot.execution.shell.scheduler`; this path (from the contract's module
layout) re-exports its public names, the very same objects.
"""

from kraken_bot.execution.shell.scheduler import *  # noqa: F403 - the public path of the shell module
