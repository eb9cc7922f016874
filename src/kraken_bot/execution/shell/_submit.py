"""Sending one order: the interpreter of `kraken_bot.execution.core.send_protocol`.

The pure protocol decides every step (write ahead, send, fold the answer in, back off,
wait out an ambiguous send's deadline, look the order up, resend or give up);
`Submitter.submit` only performs each intent and reports what came of it. Two things
are the shell's own:

* one sender at a time per pair (the gate, see `Submitter._gate`): the AddOrder
  ``deadline`` is stamped, written ahead and sent inside it;
* deadlines and send times are exchange time (the service's clock is Kraken's, as
  measured), so a host clock seconds off neither has orders refused as past their
  deadline nor misses its own order in a lookup.

In paper mode (``validate=true``) nothing can ever be placed, so an ambiguous failure
is simply retried (`sends.after_send_error`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from pyrsistent import pmap

from kraken_bot.clock import Clock
from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.models import LocalOrder, SendAttempted
from kraken_bot.execution.core.reports import SendStats
from kraken_bot.execution.core.send_protocol import (
    Acked,
    Attempt,
    Count,
    Current,
    Done,
    Log,
    LookedUp,
    LookUp,
    NotWritten,
    Record,
    Refresh,
    SendError,
    Sleep,
    advance,
    begin,
)
from kraken_bot.execution.shell._ledger import Ledger
from kraken_bot.execution.shell._retry import retry_transient
from kraken_bot.execution.shell.adapter import KrakenExecutionAdapter
from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.kraken.types import OrderInfo

log = logging.getLogger("kraken_bot.execution")
_LEVELS = {"info": logging.INFO, "warning": logging.WARNING}


@dataclass
class Submitter:
    """What `submit` needs; one per service."""

    adapter: KrakenExecutionAdapter
    ledger: Ledger
    clock: Clock
    config: ExecutionConfig
    stats: SendStats = field(default_factory=SendStats)
    _gates: dict[str, threading.Lock] = field(default_factory=dict, init=False, repr=False)
    _gates_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _stats_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _gate(self, order: LocalOrder) -> threading.Lock:
        """One sender at a time per pair (Kraken's trading counter is per pair).

        The AddOrder ``deadline`` is stamped inside the gate, so the only wait between
        the stamp and the send is the client's rate-limit wait for this pair's next slot;
        without it, senders of one pair race for each slot and a loser can send a request
        whose deadline passed while it waited (``EService:Deadline elapsed``).
        """
        with self._gates_lock:
            return self._gates.setdefault(order.rest_pair or order.pair, threading.Lock())

    def submit(self, order: LocalOrder) -> LocalOrder:
        """Drive ``order`` (pending) to its answer. Returns its latest state.

        Nothing is sent unless the write-ahead (``SendAttempted``) is accepted onto
        the order's current version: an order withdrawn, canceled, given up on or
        sent by someone else meanwhile is left as it is.
        """
        run, intent = begin(order, config=self.config, validating=self.adapter.validating)
        while True:
            match intent:
                case Attempt():
                    run, intent = advance(run, self._attempt(intent.order), now=self.clock.now())
                case Record():
                    recorded = self.ledger.apply(intent.order.local_id, intent.event).order
                    run, intent = advance(run, Current(order=recorded), now=self.clock.now())
                case Refresh():
                    current = self.ledger.get(intent.order.local_id) or intent.order
                    run, intent = advance(run, Current(order=current), now=self.clock.now())
                case LookUp():
                    run, intent = advance(run, self._look_up(intent.order), now=self.clock.now())
                case Sleep():
                    self.clock.sleep(intent.seconds)
                    intent = intent.then
                case Log():
                    log.log(_LEVELS[intent.level], intent.text)
                    intent = intent.then
                case Count():
                    self._tally(intent.counter)
                    intent = intent.then
                case Done():
                    return intent.order

    def _attempt(self, order: LocalOrder) -> NotWritten | Acked | SendError:
        """One AddOrder, written ahead, in the pair's gate."""
        with self._gate(order):
            now = self.clock.now()
            deadline = now + timedelta(seconds=self.config.order_deadline_seconds)
            request = self.adapter.build_request(order, deadline=deadline)
            attempt = order.attempts + 1
            written = self.ledger.apply(
                order.local_id,
                SendAttempted(
                    at=now, attempt=attempt, request=pmap(request.to_params()), deadline=deadline
                ),
            )
            if not written.accepted:
                return NotWritten(order=written.order, attempt=attempt)
            self._tally("sends")
            try:
                ack = self.adapter.add_order(request)
            except KrakenAPIError as error:
                self._tally(error=error)
                return SendError(
                    order=written.order, error=error, attempt=attempt, deadline=deadline
                )
            return Acked(order=written.order, ack=ack)

    def _look_up(self, order: LocalOrder) -> LookedUp:
        """Find the order by identity (retrying transient errors); a failure is reported."""
        self._tally("lookups")
        own = order.kraken_order_id

        def taken(txid: str) -> bool:
            return txid != own and self.ledger.owns_txid(txid)

        def find() -> OrderInfo | None:
            try:
                return self.adapter.find_order(order, taken=taken)
            except KrakenAPIError as error:
                self._tally(error=error)
                raise

        try:
            what = f"order {order.local_id}: lookup"
            found = retry_transient(find, clock=self.clock, config=self.config, what=what)
        except KrakenAPIError as error:
            log.warning("order %s: lookup failed: %s", order.local_id, error)
            return LookedUp(found=None, ok=False)
        return LookedUp(found=found, ok=True)

    def _tally(self, counter: str | None = None, *, error: KrakenAPIError | None = None) -> None:
        """Count one ``counter`` (a `SendStats` field) or one ``error``: the senders are
        threads, and a read-add-write of a shared counter loses counts between threads."""
        with self._stats_lock:
            if counter is not None:
                setattr(self.stats, counter, getattr(self.stats, counter) + 1)
            if error is not None:
                self.stats.count_error(error)
