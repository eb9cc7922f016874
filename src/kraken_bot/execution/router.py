"""Pure: the contract's import path of order type selection and price/size rounding.

The module is `kraken_bot.execution.core.router`; this path (from the contract's module
layout) re-exports its public names, the very same objects.
"""

from kraken_bot.execution.core.router import *  # noqa: F403 - the public path of the core module
