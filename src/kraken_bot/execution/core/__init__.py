"""Pure: the execution layer's decision core.

Every module here is pure (`tests/unit/test_purity.py` checks each one, and
`tests/unit/test_layout.py` that none imports `kraken_bot.execution.shell`): values
in, values out; ``now``, ids and seeds are arguments. What to send and how to spell
it (`planner`, `router`, `routing`), what a Kraken answer does to an order
(`lifecycle`, the transition table), what to do after a failed send or cancel
(`policy`, `sends`, `cancels`, `amends`) and the send and amend loops
(`send_protocol`, `amend_protocol`), what reconciliation reads and concludes
(`reconcile_scope`, `reconciliation`), when the always-on service acts
(`supervision`, `housekeeping`, `streaming`), the records (`models`, `events`,
`reports`) and how they are written down (`codec`, `_fields`, and the store's pure
half in `_store`).
"""
