"""Pure: the execution store's pure half: tables, rows, record checks, older formats.

* ``tables``: the tables' columns and DDL, and what a file's tables lack;
* ``rows``: the SQL statements, and records to and from their rows (current format only);
* ``records``: the audit record, and the checks both stores apply to what they keep;
* ``legacy``: rows of the older formats rebuilt, and the rows written back for them;
* ``model``: the in-memory store's records and rules, as a value (`StoreState`).

The half that runs SQL is `kraken_bot.execution.shell._store`.
"""
