"""Shell: the service's consumer of Kraken's ``executions`` stream.

One worker thread takes, in order, what the stream and the service tell it:

* an executions frame: each report is merged into its order's trail
  (`kraken_bot.kraken.ws_reports.fold_report`), and the pure
  `kraken_bot.execution.core.streaming.decide_streamed` says what the trail means for the
  local order owning its txid: fold it through the ledger (the same `Observed` event
  and lifecycle as a REST reconciliation), or look the order up over REST;
* an order that just got its txid (its acknowledgement was recorded after the stream
  had already reported it): its trail, if any, is considered again;
* a resync (after each (re)connection's snapshot, or a sequence gap): a full REST
  reconciliation, since the stream does not replay what was missed.

Reports for txids no local order owns are kept (bounded) for a while: an order's
acknowledgement may be recorded after its fills were reported. Strangers are left to
reconciliation, which adopts what is ours. Nothing here raises into the stream's
thread: failures are logged and the REST backstop repairs them.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

from kraken_bot.clock import Clock
from kraken_bot.execution.core.models import LocalOrder, OrderEvent
from kraken_bot.execution.core.streaming import AskRest, FoldStreamed, decide_streamed, fold_frame
from kraken_bot.execution.exceptions import ExecutionError
from kraken_bot.execution.shell._ledger import Ledger
from kraken_bot.kraken.errors import AuthError, KrakenAPIError
from kraken_bot.kraken.ws import ExecutionsStream
from kraken_bot.kraken.ws_reports import ExecutionsFrame, OrderTrail

__all__ = ["ServiceStream", "StreamConsumer", "StreamCounts", "open_stream"]

log = logging.getLogger("kraken_bot.execution.stream")

_KEEP_TRAILS: Final = 20_000


@dataclass(slots=True)
class StreamCounts:
    """What the consumer did (metrics, tests, benchmarks)."""

    folded: int = 0
    asked_rest: int = 0
    resyncs: int = 0
    unmatched: int = 0


class StreamConsumer:
    """Folds the executions stream into the ledger (see the module docstring)."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        clock: Clock,
        reconcile: Callable[[str], None],
        refresh: Callable[[Sequence[LocalOrder]], None],
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._reconcile = reconcile
        self._refresh = refresh
        self._queue: queue.SimpleQueue[tuple[str, ExecutionsFrame | str | None]] = (
            queue.SimpleQueue()
        )
        self._trails: OrderedDict[str, OrderTrail] = OrderedDict()
        self._thread = threading.Thread(target=self._run, name="executions-consumer", daemon=True)
        self._idle = threading.Condition()
        self._pending = 0
        self._busy = threading.Lock()  # held while one item is handled
        self.counts = StreamCounts()
        self._thread.start()

    # ------------------------------------------------------------------ from other threads
    def frame(self, frame: ExecutionsFrame) -> None:
        """An executions frame from the stream."""
        self._put("frame", frame)

    def resync(self, reason: str) -> None:
        """The stream (re)connected or saw a gap: reconcile over REST."""
        self._put("resync", reason)

    def linked(self, txid: str) -> None:
        """A local order was just linked to ``txid``."""
        self._put("linked", txid)

    def close(self) -> None:
        """Stop the worker (what is queued is dropped: reconciliation covers it)."""
        self._put("stop", None)
        if self._thread is not threading.current_thread():
            self._thread.join(30)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far was handled (tests, benchmarks)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Nothing is folded from the stream during the block (what was already queued
        waits): for a check that reads the ledger twice and needs it to stand still."""
        with self._busy:
            yield

    def _put(self, kind: str, item: ExecutionsFrame | str | None) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put((kind, item))

    # ------------------------------------------------------------------ the worker
    def _run(self) -> None:
        while True:
            kind, item = self._queue.get()
            try:
                if kind == "stop":
                    return
                with self._busy:
                    self._handle(kind, item)
            except (ExecutionError, KrakenAPIError) as error:
                log.warning("executions stream: %s failed: %s", kind, error)
            except Exception:  # the worker outlives any one failure; REST repairs it
                log.exception("executions stream: %s failed", kind)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _handle(self, kind: str, item: ExecutionsFrame | str | None) -> None:
        if kind == "frame":
            assert isinstance(item, ExecutionsFrame)
            self._on_frame(item)
        elif kind == "linked":
            assert isinstance(item, str)
            trail = self._trails.get(item)
            if trail is not None:
                self._consider(trail)
        elif kind == "resync":
            self.counts.resyncs += 1
            log.info("executions stream: reconciling over REST (%s)", item)
            self._reconcile(str(item))

    def _on_frame(self, frame: ExecutionsFrame) -> None:
        touched, to_consider = fold_frame(self._trails, frame)
        for txid, trail in touched.items():
            self._trails[txid] = trail
            self._trails.move_to_end(txid)
        while len(self._trails) > _KEEP_TRAILS:
            self._trails.popitem(last=False)
        for trail in to_consider:
            self._consider(trail)

    def _consider(self, trail: OrderTrail) -> None:
        order = self._ledger.by_kraken_id(trail.order_id)
        if order is None:
            self.counts.unmatched += 1
            return
        now = self._clock.now()
        asked: list[AskRest] = []

        def decide(current: LocalOrder) -> OrderEvent | None:
            decision = decide_streamed(current, trail, now=now)
            if isinstance(decision, AskRest):
                asked.append(decision)
                return None
            return decision.event if isinstance(decision, FoldStreamed) else None

        applied = self._ledger.apply_decided(order.local_id, decide, "streamed")
        if asked:
            self.counts.asked_rest += 1
            log.info("order %s: asking REST (%s)", order.local_id, asked[-1].reason)
            self._refresh([applied.order])
        elif applied.order is not order and applied.order != order:
            self.counts.folded += 1


class ServiceStream:
    """The executions stream and its consumer, started and stopped together."""

    def __init__(self, stream: ExecutionsStream, consumer: StreamConsumer) -> None:
        self.stream = stream
        self.consumer = consumer

    @property
    def up(self) -> bool:
        """Subscribed right now (the supervisor then reconciles on the backstop schedule)."""
        return self.stream.subscribed

    def linked(self, txid: str) -> None:
        """A local order was just linked to ``txid``."""
        self.consumer.linked(txid)

    def start(self) -> None:
        """Connect and subscribe (in the stream's own thread)."""
        self.stream.start()

    def close(self) -> None:
        """Stop the socket, then the consumer."""
        self.stream.close()
        self.consumer.close()


def open_stream(
    url: str,
    *,
    get_token: Callable[[], str],
    ledger: Ledger,
    clock: Clock,
    reconcile: Callable[[str], None],
    refresh: Callable[[Sequence[LocalOrder]], None],
    on_down: Callable[[str], None],
) -> ServiceStream | str:
    """Build the stream (`ServiceStream.start` connects), or say why not (the key may
    not use the WebSocket API).

    The first token is fetched here, synchronously: a key without the WebSocket
    permission is refused now, once, and the service polls instead. A transient
    failure does not stop the stream: it retries in its own thread.
    """
    first: list[str] = []
    try:
        first.append(get_token())
    except AuthError as error:
        return f"the API key may not use the WebSocket API ({error}): polling"
    except KrakenAPIError as error:
        log.warning("no WebSocket token yet (%s); the stream keeps trying", error)

    def token() -> str:
        return first.pop() if first else get_token()

    consumer = StreamConsumer(ledger=ledger, clock=clock, reconcile=reconcile, refresh=refresh)
    stream = ExecutionsStream(
        url,
        get_token=token,
        on_frame=consumer.frame,
        on_resync=consumer.resync,
        on_down=on_down,
    )
    return ServiceStream(stream, consumer)
