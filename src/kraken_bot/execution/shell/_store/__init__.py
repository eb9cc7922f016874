"""The execution store's implementations, behind the port `kraken_bot.execution.store`.

Import from `kraken_bot.execution.store`; the modules here are private, and they
run SQL (their pure half, the tables, rows, record checks and older formats, is
`kraken_bot.execution.core._store`):

* ``schema``: bringing a file's tables up to this version;
* ``migration``: rows of older formats found and rewritten once, when a file is opened;
* ``connection``: the SQLite file, and its errors in words;
* ``sqlite`` and ``memory``: `SQLiteExecutionStore` and `InMemoryExecutionStore`.
"""
