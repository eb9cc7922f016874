"""``python -m kraken_bot.cli``: the same as the ``krakked`` console script."""

from kraken_bot.cli.app import main

main()
