"""The execution store's implementations, behind the port `kraken_bot.execution.store`.

Import from `kraken_bot.execution.store`; the modules here are private:

* ``records`` (pure): the audit record, and the checks both stores apply to what they keep;
* ``tables`` (pure): the tables' columns and DDL, and what a file's tables lack;
* ``schema``: bringing a file's tables up to them;
* ``legacy`` (pure): rows of the older formats rebuilt, and the rows written back for them;
* ``migration``: those rows found and rewritten once, when a file is opened;
* ``rows`` (pure): the SQL statements, and records to and from their rows (current format only);
* ``connection``: the SQLite file, and its errors in words;
* ``sqlite`` and ``memory``: `SQLiteExecutionStore` and `InMemoryExecutionStore`.
"""
