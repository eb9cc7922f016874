"""Sending one order: write-ahead, retries, and lookup before any resend.

`submit` drives one pending order until Kraken has answered for it, the retry
policy gives up, or its fate must wait for reconciliation:

1. Dry run: the order becomes ``simulated``; nothing is sent.
2. Before each send, a `SendAttempted` event (attempt number, request without
   nonce or credentials, Kraken ``deadline``) is written to the database, so a
   crash at any later instant leaves a record that the order may exist.
3. Kraken's answer is folded in: acknowledged (txid) or validated (paper).
4. An error goes to the pure retry policy (`kraken_bot.execution.policy`):
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
from kraken_bot.execution import policy
from kraken_bot.execution._ledger import Ledger
from kraken_bot.execution.adapter import KrakenExecutionAdapter
from kraken_bot.execution.models import (
    Acknowledged,
    ExecutionMode,
    GaveUp,
    LocalOrder,
    Observed,
    Rejected,
    SendAttempted,
    SendFailed,
    SendUnconfirmed,
    Simulated,
    Validated,
)
from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.kraken.types import AddOrderAck, OrderInfo

log = logging.getLogger("kraken_bot.execution")


@dataclass
class SendStats:
    """Counters for reports and benchmarks (mutated by the shell only)."""

    sends: int = 0
    retries: int = 0
    lookups: int = 0
    adopted_after_lookup: int = 0
    ambiguous: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)

    def count_error(self, error: KrakenAPIError) -> None:
        """Tally an error by its type name."""
        name = type(error).__name__
        self.errors_by_kind[name] = self.errors_by_kind.get(name, 0) + 1


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
        """Drive ``order`` (pending) to its answer. Returns its latest state."""
        if self.config.mode is ExecutionMode.DRY_RUN:
            return self.ledger.transition(order, Simulated(at=self.clock.now()))
        sends = order.attempts
        while True:
            sends += 1
            with self._gate(order):
                order, outcome = self._send_once(order, sends)
            if outcome is None:
                return order
            if isinstance(outcome, policy.RetryAfter):
                self.stats.retries += 1
                self.clock.sleep(outcome.delay_seconds)
                continue
            order, resend = self._resolve_ambiguity(order, outcome, sends)
            if not resend:
                return order

    def _send_once(
        self, order: LocalOrder, attempt: int
    ) -> tuple[LocalOrder, policy.RetryAfter | policy.LookUpFirst | None]:
        """One AddOrder. Returns the order and what to do next (None: done)."""
        now = self.clock.now()
        deadline = now + timedelta(seconds=self.config.order_deadline_seconds)
        request = self.adapter.build_request(order, deadline=deadline)
        order = self.ledger.transition(
            order,
            SendAttempted(
                at=now, attempt=attempt, request=pmap(request.to_params()), deadline=deadline
            ),
        )
        self.stats.sends += 1
        try:
            ack = self.adapter.add_order(request)
        except KrakenAPIError as error:
            return self._handle_error(order, error, attempt, deadline)
        return self._acknowledge(order, ack), None

    def _acknowledge(self, order: LocalOrder, ack: AddOrderAck) -> LocalOrder:
        now = self.clock.now()
        if self.adapter.validating:
            return self.ledger.transition(order, Validated(at=now, response_json=ack.raw))
        if not ack.txids:
            # A live AddOrder must name its txid; without one, resolve it by identity.
            log.warning("order %s: AddOrder answered without a txid", order.local_id)
            return self.ledger.transition(
                order, SendUnconfirmed(at=now, message="AddOrder answered without a txid")
            )
        if len(ack.txids) > 1:
            log.warning("order %s: AddOrder returned several txids %s", order.local_id, ack.txids)
        return self.ledger.transition(
            order, Acknowledged(at=now, txid=ack.txids[0], response_json=ack.raw)
        )

    def _handle_error(
        self, order: LocalOrder, error: KrakenAPIError, attempt: int, deadline: datetime
    ) -> tuple[LocalOrder, policy.RetryAfter | policy.LookUpFirst | None]:
        self.stats.count_error(error)
        now = self.clock.now()
        decision = policy.decide_after_send_error(
            error,
            sends_so_far=attempt,
            config=self.config,
            now=now,
            deadline=deadline,
        )
        if self.adapter.validating and isinstance(decision, policy.LookUpFirst):
            # validate=true never places an order: a resend cannot duplicate anything.
            decision = policy.decide_after_lookup(
                found=False, sends_so_far=attempt, config=self.config, now=now
            )
        message = str(error)
        if isinstance(decision, policy.RejectOrder):
            return self.ledger.transition(
                order, Rejected(at=now, message=decision.message or message)
            ), None
        if isinstance(decision, policy.GiveUpOrder):
            return self.ledger.transition(order, GaveUp(at=now, message=decision.message)), None
        if isinstance(decision, policy.LookUpFirst):
            self.stats.ambiguous += 1
            unconfirmed = SendUnconfirmed(at=now, message=message, proven=decision.proven)
            return self.ledger.transition(order, unconfirmed), decision
        return self.ledger.transition(order, SendFailed(at=now, message=message)), decision

    def _resolve_ambiguity(
        self, order: LocalOrder, decision: policy.LookUpFirst, sends: int
    ) -> tuple[LocalOrder, bool]:
        """Wait out the deadline, look the order up. Returns (order, resend?)."""
        wait = (decision.not_before - self.clock.now()).total_seconds()
        if wait > 0:
            self.clock.sleep(wait)
        found, lookup_ok = self._look_up(order)
        if found is None and lookup_ok:
            # New orders can be briefly missing from OpenOrders: look once more.
            self.clock.sleep(max(self.config.lookup_margin_seconds, 1.0))
            found, lookup_ok = self._look_up(order)
        if found is not None:
            self.stats.adopted_after_lookup += 1
            return self.ledger.transition(order, Observed(at=self.clock.now(), info=found)), False
        if not lookup_ok or decision.proven or order.exists_on_exchange:
            # Unknown, or proven to exist but not listed yet: never resend, never give up.
            log.warning(
                "order %s: %s after an ambiguous send; it stays submitted until reconciliation",
                order.local_id,
                "not listed yet although Kraken holds it" if lookup_ok else "lookup failed",
            )
            return order, False
        next_step = policy.decide_after_lookup(
            found=False, sends_so_far=sends, config=self.config, now=self.clock.now()
        )
        if isinstance(next_step, policy.RetryAfter):
            self.stats.retries += 1
            self.clock.sleep(next_step.delay_seconds)
            return order, True
        message = getattr(next_step, "message", "not on the exchange")
        return self.ledger.transition(order, GaveUp(at=self.clock.now(), message=message)), False

    def _look_up(self, order: LocalOrder) -> tuple[OrderInfo | None, bool]:
        """Find the order by identity; (info or None, whether the lookup itself worked)."""
        self.stats.lookups += 1
        own = order.kraken_order_id

        def taken(txid: str) -> bool:
            return txid != own and self.ledger.owns_txid(txid)

        for retry in range(self.config.max_retries + 1):
            try:
                return self.adapter.find_order(order, taken=taken), True
            except KrakenAPIError as error:
                self.stats.count_error(error)
                if not error.transient or retry == self.config.max_retries:
                    log.warning("order %s: lookup failed: %s", order.local_id, error)
                    return None, False
                self.clock.sleep(policy.backoff_seconds(retry + 1, self.config))
        return None, False
