"""The execution layer's imperative shell: clocks, threads, HTTP and SQLite.

It gathers facts, asks the pure core (`kraken_bot.execution.core`) what they mean,
and does what the answer says. `compose` builds everything (the one composition
root); `oms.ExecutionService` is the façade; `_ledger` owns order state; `_plan_run`,
`_submit`, `_reconcile`, `_supervisor`, `_stream` and `_route` run the core's
decisions; `adapter` speaks to `KrakenRESTClient`; `store` and `_store` keep the
records in SQLite (or in memory, for tests).
"""
