"""Sending one amend: the interpreter of `kraken_bot.execution.core.amend_protocol`.

The pure protocol decides every step (write ahead, send, look up a lost answer, send
again, note a refusal); `AmendSender.send` only performs each intent (an audit row, a
warning, a sleep, an AmendOrder, a read back) and reports what came of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from kraken_bot.clock import Clock
from kraken_bot.config import ExecutionConfig
from kraken_bot.execution.core.amend_protocol import (
    Answered,
    Done,
    Failed,
    LookingUp,
    Note,
    Raise,
    ReadBack,
    ReadOrder,
    Send,
    Sleep,
    advance,
    begin,
)
from kraken_bot.execution.core.models import LocalOrder
from kraken_bot.execution.core.ports import ExecutionStore
from kraken_bot.execution.core.routing import AmendWire
from kraken_bot.execution.shell.adapter import KrakenExecutionAdapter
from kraken_bot.kraken.errors import KrakenAPIError

log = logging.getLogger("kraken_bot.execution")


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendSender:
    """What sending an amend needs: the exchange, the audit trail, the clock, a read back."""

    adapter: KrakenExecutionAdapter
    store: ExecutionStore
    clock: Clock
    config: ExecutionConfig
    read_back: Callable[[LocalOrder], LocalOrder]
    """The order as Kraken now reports it (recorded in the ledger)."""

    def send(self, order: LocalOrder, wire: AmendWire, *, post_only: bool) -> LocalOrder:
        """Amend ``order`` (checked: ``wire``) until the protocol is done; the order after.

        Raises what the protocol raises: Kraken's refusal, or an error with no retry left.
        """
        run, intent = begin(
            order, wire, post_only=post_only, config=self.config, now=self.clock.now()
        )
        while True:
            match intent:
                case Note():
                    self.store.note_event(intent.order, intent.event, intent.detail, at=intent.at)
                    intent = intent.then
                case LookingUp():
                    log.warning(
                        "order %s: amend not confirmed (%s): looking it up",
                        intent.order.local_id,
                        intent.error,
                    )
                    intent = intent.then
                case Sleep():
                    self.clock.sleep(intent.seconds)
                    intent = intent.then
                case Send():
                    run, intent = advance(run, self._amend(intent), now=self.clock.now())
                case ReadBack():
                    read = ReadOrder(order=self.read_back(intent.order))
                    run, intent = advance(run, read, now=self.clock.now())
                case Done():
                    return intent.order
                case Raise():
                    raise intent.error

    def _amend(self, send: Send) -> Answered | Failed:
        try:
            ack = self.adapter.amend_order(
                send.order,
                price_text=send.wire.price_text,
                size_text=send.wire.size_text,
                post_only=send.post_only,
                deadline=send.deadline,
            )
        except KrakenAPIError as error:
            return Failed(error=error)
        return Answered(amend_id=ack.amend_id)
