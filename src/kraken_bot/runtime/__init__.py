"""Shell: the long-running process for one account (`krakked run`) and its signals.

* `kraken_bot.runtime.inbox`: which plan files are ready, in arrival order (pure).
* `kraken_bot.runtime.health`: the heartbeat record and the status verdict (pure).
* `kraken_bot.runtime.daemon`: the run loop: inbox, supervision, heartbeat, signals.
* `kraken_bot.runtime.alerts`: webhook alerts, off the execution path.
* `kraken_bot.runtime.metrics`: Prometheus metrics (the ``krakked[metrics]`` extra).
"""
