"""Delivering service events to strategy code: callbacks and iterators (shell).

`EventBus.publish` numbers events (one sequence for the life of the service) and
hands each subscriber its own copy through its own queue: publishing never
waits for a subscriber. A callback subscriber is served by a thread of its own,
so a slow callback delays only itself, and one that raises is logged and
counted, never propagated; an iterator subscriber (`EventBus.stream`) reads its
queue at its own pace. Nothing is dropped: delivery is at least once, in
publication order (so in order per order), and the sequence number lets a
consumer skip an event it has seen.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from kraken_bot._closing import Closing
from kraken_bot.execution.core.events import HealthEvent, OrderUpdate, ServiceEvent

log = logging.getLogger("kraken_bot.execution.core.events")

Callback = Callable[[ServiceEvent], object]
_DONE = object()


class EventStream(Closing):
    """An iterator over the events published after it was opened (until closed)."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()

    def put(self, event: ServiceEvent) -> None:
        self._queue.put(event)

    def get(self, timeout: float | None = None) -> ServiceEvent | None:
        """The next event, or None when closed (or nothing came within ``timeout``)."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is _DONE:
            self._queue.put(_DONE)  # stay closed for later readers
            return None
        assert isinstance(item, OrderUpdate | HealthEvent)
        return item

    def __iter__(self) -> Iterator[ServiceEvent]:
        while True:
            event = self.get()
            if event is None:
                return
            yield event

    def close(self) -> None:
        """Stop receiving; iteration ends after the events already queued."""
        self._bus.unsubscribe(self)
        self._queue.put(_DONE)


class Subscription:
    """A callback served by a thread of its own (see the module docstring)."""

    def __init__(self, bus: EventBus, callback: Callback, name: str) -> None:
        self._bus = bus
        self._callback = callback
        self._stream = EventStream(bus)
        self._idle = threading.Condition()
        self._pending = 0
        self.failures = 0
        """How many times the callback raised."""
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def put(self, event: ServiceEvent) -> None:
        with self._idle:
            self._pending += 1
        self._stream.put(event)

    def _serve(self) -> None:
        for event in self._stream:
            try:
                self._callback(event)
            except Exception:
                self.failures += 1
                log.exception(
                    "an event subscriber raised on event %d; it keeps receiving", event.seq
                )
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every event published so far was handed to the callback."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        """Stop after the events already queued (from the callback itself too: its
        thread then ends once the callback returns)."""
        self._bus.unsubscribe(self)
        self._stream.close()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=10)


class EventBus:
    """Numbers and fans out service events; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self._receivers: list[EventStream | Subscription] = []

    @property
    def last_seq(self) -> int:
        """The sequence number of the last event published (0: none yet)."""
        with self._lock:
            return self._seq

    def publish(self, events: Iterable[ServiceEvent]) -> None:
        """Number the events and queue them for every subscriber (never waits)."""
        with self._lock:
            for event in events:
                self._seq += 1
                numbered = replace(event, seq=self._seq)
                for receiver in self._receivers:
                    receiver.put(numbered)

    def subscribe(self, callback: Callback, *, name: str = "event-subscriber") -> Subscription:
        """Call ``callback`` with every event published from now on (in its own thread)."""
        subscription = Subscription(self, callback, name)
        with self._lock:
            self._receivers.append(subscription)
        return subscription

    def stream(self) -> EventStream:
        """An iterator over every event published from now on."""
        stream = EventStream(self)
        with self._lock:
            self._receivers.append(stream)
        return stream

    def unsubscribe(self, receiver: EventStream | Subscription) -> None:
        """Stop queueing events for ``receiver``."""
        with self._lock:
            if receiver in self._receivers:
                self._receivers.remove(receiver)

    def close(self) -> None:
        """End every stream and subscription (after what is queued)."""
        with self._lock:
            receivers = list(self._receivers)
        for receiver in receivers:
            receiver.close()
