"""The dead-man switch's refresher (shell) against a recording fake of Kraken's
CancelAllOrdersAfter.

A stopped switch must stay disarmed: a refresh that began just before ``stop()`` and
arms it after the disarm would leave a countdown nobody refreshes, and Kraken would
cancel every open order of the account when it ran out, long after a clean shutdown
that meant to leave them resting.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.builders import NOW

from kraken_bot.execution.shell.scheduler import DeadManSwitch
from kraken_bot.kraken.types import DeadManSwitchAck
from kraken_sim.clock import VirtualClock


class RecordingSwitch:
    """Kraken's CancelAllOrdersAfter: records every call's timeout (0 disarms)."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.calls: list[int] = []

    def set_dead_man_switch(self, seconds: int) -> DeadManSwitchAck:
        self.calls.append(seconds)
        now = self.clock.now()
        trigger = now + timedelta(seconds=seconds) if seconds else None
        return DeadManSwitchAck(current_time=now, trigger_time=trigger, raw="{}")


class PausedAfterCheck(threading.Event):
    """The switch's "stopped" flag; the refresher's first look at it is answered, then the
    refresher is held until ``go`` is set: the instant a thread switch may fall on."""

    def __init__(self) -> None:
        super().__init__()
        self.refresher: threading.Thread | None = None
        self.looked = threading.Event()
        self.go = threading.Event()

    def is_set(self) -> bool:
        answer = super().is_set()
        if threading.current_thread() is self.refresher and not self.looked.is_set():
            self.looked.set()
            self.go.wait(5)
        return answer


def test_a_refresh_that_began_before_stop_never_arms_the_switch_after_the_disarm():
    clock = VirtualClock(NOW)
    port = RecordingSwitch(clock)
    switch = DeadManSwitch(
        port, timeout_seconds=60, refresh_seconds=15, clock=clock, background=False
    )
    switch.start()
    switch._stop = flag = PausedAfterCheck()  # the instant under test
    clock.advance(20)  # a refresh is due
    refresher = threading.Thread(target=switch.tick)
    flag.refresher = refresher
    refresher.start()
    assert flag.looked.wait(5)  # the refresher saw "not stopped" and is held there
    switch.stop()  # the service closes: the switch is disarmed
    assert port.calls[-1] == 0
    flag.go.set()  # the refresher goes on
    refresher.join(5)
    assert port.calls == [60, 0], port.calls  # armed at start, disarmed at stop: no more
    assert switch.armed_until is None
    assert switch.seconds_until_due() is None
