"""Sending one order: write-ahead, retries, and lookup before any resend.

`submit` drives one pending order until Kraken has answered for it, the retry
policy gives up, or its fate must wait for reconciliation:

1. Before each send, a `SendAttempted` event (attempt number, request without
   nonce or credentials, Kraken ``deadline``) is written to the database, so a
   crash at any later instant leaves a record that the order may exist. The
   ledger accepts it only onto the order's current version and only as the
   next attempt: an order withdrawn, canceled or given up on meanwhile (by a
   cancel, ``cancel_all`` or another process's reconciliation) is not sent,
   and two senders can never send the same attempt.
2. Deadlines and send times are exchange time (the service's clock is
   Kraken's, as measured), so a host clock seconds off neither has orders
   refused as past their deadline nor misses its own order in a lookup.
3. Kraken's answer is folded in: acknowledged (txid) or validated (paper).
4. An error goes to the pure retry policy (`kraken_bot.execution.core.policy`):
   permanent -> ``rejected``; refused before execution -> wait the backoff and
   resend; ambiguous (timeout after sending, 5xx, lost reply) -> the order is
   ``submitted`` without a txid, the shell waits until the AddOrder deadline
   plus a margin has passed (after which Kraken will never execute it), then
   looks it up by client order id (or userref identity) in open and closed
   orders. Found: adopted. Provably absent: resent with the same identity if
   retries remain, else ``error``. If the lookup itself fails, the order stays
   ``submitted`` for reconciliation to settle; it is never marked ``error``
   while the exchange might have it.

In paper mode (``validate=true``) nothing can ever be placed, so an ambiguous
failure is simply retried.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pyrsistent import pmap

from kraken_bot.clock import Clock
from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core import policy
from kraken_bot.execution.core.cancels import in_doubt, withdrawal_after_refused_send
from kraken_bot.execution.core.models import (
    Acknowledged,
    LocalOrder,
    Observed,
    SendAttempted,
    SendUnconfirmed,
    Withdrawn,
)
from kraken_bot.execution.core.reports import SendStats
from kraken_bot.execution.core.sends import (
    StayUnresolved,
    acknowledgement,
    after_absent_lookup,
    after_send_error,
)
from kraken_bot.execution.shell._ledger import Ledger
from kraken_bot.execution.shell._retry import retry_transient
from kraken_bot.execution.shell.adapter import KrakenExecutionAdapter
from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.kraken.types import AddOrderAck, OrderInfo

log = logging.getLogger("kraken_bot.execution")


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
        while True:
            with self._gate(order):
                order, outcome = self._send_once(order)
            if outcome is None:
                return order
            if isinstance(outcome, policy.RetryAfter):
                self.stats.retries += 1
                self.clock.sleep(outcome.delay_seconds)
                order = self._current(order)
                continue
            order, resend = self._resolve_ambiguity(order, outcome)
            if not resend:
                return order

    def _current(self, order: LocalOrder) -> LocalOrder:
        return self.ledger.get(order.local_id) or order

    def _send_once(
        self, order: LocalOrder
    ) -> tuple[LocalOrder, policy.RetryAfter | policy.LookUpFirst | None]:
        """One AddOrder. Returns the order and what to do next (None: done)."""
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
            return self._not_sent(written.order, absent_after=attempt - 1), None
        order = written.order
        self.stats.sends += 1
        try:
            ack = self.adapter.add_order(request)
        except KrakenAPIError as error:
            return self._handle_error(order, error, attempt, deadline)
        return self._acknowledge(order, ack), None

    def _not_sent(self, order: LocalOrder, *, absent_after: int) -> LocalOrder:
        """The write-ahead was refused: nothing was sent. A cancel requested meanwhile wins.

        ``absent_after``: the send attempts this sender knows did not place the order
        (none, or its own earlier ones, refused or proven absent). The order is
        withdrawn only if no other attempt was recorded since.
        """
        log.info("order %s: not sent (%s)", order.local_id, order.status.value)
        event = withdrawal_after_refused_send(
            order, absent_after=absent_after, now=self.clock.now()
        )
        if event is None:
            return order
        return self.ledger.apply(order.local_id, event).order

    def _acknowledge(self, order: LocalOrder, ack: AddOrderAck) -> LocalOrder:
        event = acknowledgement(ack, validating=self.adapter.validating, now=self.clock.now())
        if isinstance(event, SendUnconfirmed):
            # A live AddOrder must name its txid; without one, resolve it by identity.
            log.warning("order %s: %s", order.local_id, event.message)
        elif isinstance(event, Acknowledged) and len(ack.txids) > 1:
            log.warning("order %s: AddOrder returned several txids %s", order.local_id, ack.txids)
        return self.ledger.transition(order, event)

    def _handle_error(
        self, order: LocalOrder, error: KrakenAPIError, attempt: int, deadline: datetime
    ) -> tuple[LocalOrder, policy.RetryAfter | policy.LookUpFirst | None]:
        self.stats.count_error(error)
        outcome = after_send_error(
            error,
            attempt=attempt,
            config=self.config,
            now=self.clock.now(),
            deadline=deadline,
            validating=self.adapter.validating,
        )
        if isinstance(outcome.next_step, policy.LookUpFirst):
            self.stats.ambiguous += 1
        return self.ledger.transition(order, outcome.event), outcome.next_step

    def _resolve_ambiguity(
        self, order: LocalOrder, decision: policy.LookUpFirst
    ) -> tuple[LocalOrder, bool]:
        """Wait out the deadline, look the order up. Returns (order, resend?)."""
        wait = (decision.not_before - self.clock.now()).total_seconds()
        if wait > 0:
            self.clock.sleep(wait)
        order = self._current(order)
        if not in_doubt(order):
            return order, False  # settled meanwhile (reconciliation found it, or a cancel)
        found, lookup_ok = self._look_up(order)
        if found is None and lookup_ok:
            # New orders can be briefly missing from OpenOrders: look once more.
            self.clock.sleep(max(self.config.lookup_margin_seconds, 1.0))
            found, lookup_ok = self._look_up(order)
        now = self.clock.now()
        if found is not None:
            self.stats.adopted_after_lookup += 1
            return self.ledger.transition(order, Observed(at=now, info=found)), False
        order = self._current(order)
        if not in_doubt(order):
            return order, False
        next_step = after_absent_lookup(
            order, decision, lookup_ok=lookup_ok, config=self.config, now=now
        )
        if isinstance(next_step, StayUnresolved):
            # Unknown, or proven to exist but not listed yet: never resend, never give up.
            log.warning(
                "order %s: %s after an ambiguous send; it stays submitted until reconciliation",
                order.local_id,
                next_step.reason,
            )
            return order, False
        if isinstance(next_step, policy.RetryAfter):
            self.stats.retries += 1
            self.clock.sleep(next_step.delay_seconds)
            return self._current(order), True
        if isinstance(next_step, Withdrawn):
            log.info("order %s: not sent (%s)", order.local_id, order.status.value)
        return self.ledger.transition(order, next_step), False

    def _look_up(self, order: LocalOrder) -> tuple[OrderInfo | None, bool]:
        """Find the order by identity; (info or None, whether the lookup itself worked)."""
        self.stats.lookups += 1
        own = order.kraken_order_id

        def taken(txid: str) -> bool:
            return txid != own and self.ledger.owns_txid(txid)

        def find() -> OrderInfo | None:
            try:
                return self.adapter.find_order(order, taken=taken)
            except KrakenAPIError as error:
                self.stats.count_error(error)
                raise

        try:
            what = f"order {order.local_id}: lookup"
            return retry_transient(find, clock=self.clock, config=self.config, what=what), True
        except KrakenAPIError as error:
            log.warning("order %s: lookup failed: %s", order.local_id, error)
            return None, False
