"""ExchangeClock: Kraken's time as the host measures it, robust to wall-clock steps."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from kraken_bot import clock as clock_module
from kraken_bot.clock import SystemClock
from kraken_bot.execution.shell._exchange_time import ExchangeClock

START = datetime(2026, 1, 1, tzinfo=UTC)


class SteppingClock:
    """A host clock whose wall time can jump while its monotonic clock runs on."""

    def __init__(self) -> None:
        self.mono = 0.0
        self.wall_offset = 0.0

    def now(self) -> datetime:
        return START + timedelta(seconds=self.mono + self.wall_offset)

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.mono += seconds


def kraken_unix(host: SteppingClock) -> int:
    """Kraken's ``Time``: the true time (the monotonic clock here), whole seconds."""
    return int((START + timedelta(seconds=host.mono)).timestamp())


def stepped(clock: ExchangeClock) -> bool:
    """Read the flag through a call, so mypy does not narrow it between reads."""
    return clock.stepped


def test_before_any_measurement_exchange_time_is_the_local_time() -> None:
    host = SteppingClock()
    host.wall_offset = 7.0
    clock = ExchangeClock(host)
    assert clock.now() == host.now()
    assert not stepped(clock)


def test_exchange_time_follows_the_monotonic_clock_through_a_wall_clock_step() -> None:
    host = SteppingClock()
    host.wall_offset = 30.0  # the host is 30 s ahead when measured
    clock = ExchangeClock(host)
    reading = clock.measure(lambda: kraken_unix(host))
    assert abs(reading.offset.total_seconds() + 30.0) <= 1.0
    host.sleep(100.0)
    truth = START + timedelta(seconds=host.mono)
    assert abs((clock.now() - truth).total_seconds()) <= 1.0
    assert not stepped(clock)

    host.wall_offset = -15.0  # an NTP step of -45 s
    host.sleep(5.0)
    truth = START + timedelta(seconds=host.mono)
    assert abs((clock.now() - truth).total_seconds()) <= 1.0  # unaffected by the step
    assert stepped(clock)

    clock.measure(lambda: kraken_unix(host))  # measured again: the step is absorbed
    assert not stepped(clock)
    assert abs(clock.offset.total_seconds() - 15.0) <= 1.0
    assert abs((clock.now() - truth).total_seconds()) <= 1.0


def test_slow_drift_below_two_seconds_is_not_a_step() -> None:
    host = SteppingClock()
    clock = ExchangeClock(host)
    clock.measure(lambda: kraken_unix(host))
    host.wall_offset = 1.5
    host.sleep(60.0)
    assert not stepped(clock)


# ---------------------------------------------------------------- the host's monotonic clock


def test_the_system_clock_counts_the_time_the_host_was_suspended(monkeypatch):
    """Exchange time is carried forward on `SystemClock.monotonic`: after a laptop or VM
    resumes it must have advanced by the suspension (CLOCK_BOOTTIME), which
    `time.monotonic` (CLOCK_MONOTONIC) does not."""
    monkeypatch.setattr(time, "CLOCK_BOOTTIME", 7, raising=False)
    monkeypatch.setattr(time, "clock_gettime", lambda clock_id: 5000.0 + clock_id)
    monkeypatch.setattr(time, "monotonic", lambda: 1.0)  # suspended time not counted
    assert clock_module._boot_clock()() == 5007.0
    monkeypatch.delattr(time, "CLOCK_BOOTTIME")
    assert clock_module._boot_clock()() == 1.0  # no boot clock: time.monotonic


def test_the_system_clock_reads_the_boot_clock_where_there_is_one():
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is None:
        return  # not Linux: time.monotonic is all there is
    before = time.clock_gettime(boottime)
    reading = SystemClock().monotonic()
    assert before <= reading <= time.clock_gettime(boottime)
