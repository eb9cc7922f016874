"""The in-process stack of `tests.harness`, plus two failures the fake exchange cannot make.

The fake injects at most one fault per request, so an AddOrder whose answer is
lost can never also be hidden from the order listings (``absent_from_open_orders``)
by the fake alone. `LossyTransport` loses answers on the client's side: the
exchange executes the request (and may apply its own fault, hiding included),
then the transport lets the client's read timeout pass on the virtual clock and
raises ``ReadTimeout``, exactly as the fake's own ``lost_response`` does.

`DiesOnAddOrder` stands for a process killed while sending: it raises `Crash`
(a BaseException nothing in the layer catches) before the exchange sees the
request, leaving the database as the write-ahead left it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from tests.harness import RecordingTransport, SimStack, sim_stack

from kraken_bot.execution.shell.oms import ExecutionService
from kraken_sim import Exchange, VirtualClock


@dataclass
class AnswerLoss:
    """Which answers the client loses: a probability per Kraken method, drawn from one seed.

    ``budget`` caps how many answers are lost in all (None: no cap).
    """

    seed: int = 0
    probability: dict[str, float] = field(default_factory=dict)
    budget: int | None = None
    lost: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(f"answer-loss:{self.seed}")

    def strikes(self, method: str) -> bool:
        """Whether this call's answer is lost (one draw per call of a listed method)."""
        chance = self.probability.get(method, 0.0)
        if self.budget is not None and self.lost >= self.budget:
            return False
        if chance <= 0 or self._random.random() >= chance:
            return False
        self.lost += 1
        return True


class Crash(BaseException):
    """The process dies: nothing catches this, as nothing survives a SIGKILL."""


class DiesOnAddOrder(RecordingTransport):
    """Dies when the client sends its ``at``-th AddOrder, before the exchange receives it."""

    def __init__(self, exchange: Exchange, at: int) -> None:
        super().__init__(exchange)
        self.at = at
        self.add_orders = 0

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if str(request.path_url).endswith("/AddOrder"):
            self.add_orders += 1
            if self.add_orders == self.at:
                raise Crash
        return super().send(request, *args, **kwargs)


class LossyTransport(RecordingTransport):
    """The recording in-process transport, losing the answers `AnswerLoss` picks."""

    def __init__(self, exchange: Exchange, clock: VirtualClock, loss: AnswerLoss) -> None:
        super().__init__(exchange)
        self.clock = clock
        self.loss = loss

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().send(request, *args, **kwargs)
        method = str(request.path_url).split("?")[0].rsplit("/", 1)[-1]
        if self.loss.strikes(method):
            timeout = kwargs.get("timeout")
            read = timeout[1] if isinstance(timeout, tuple) else timeout
            self.clock.sleep(float(read) if read is not None else self.default_timeout)
            raise requests.exceptions.ReadTimeout(
                f"answer lost by the test transport ({method})", request=request
            )
        return response


@dataclass
class LossyStack(SimStack):
    """`SimStack` whose services talk through a `LossyTransport` sharing one `AnswerLoss`."""

    loss: AnswerLoss = field(default_factory=AnswerLoss)
    doom_at: int | None = None

    def transport_for_next(self) -> RecordingTransport:
        if self.doom_at is not None:
            return DiesOnAddOrder(self.exchange, self.doom_at)
        return LossyTransport(self.exchange, self.clock, self.loss)

    def doomed_service(self, at: int) -> ExecutionService:
        """A service (one send at a time) whose process dies on its ``at``-th AddOrder."""
        self.doom_at = at
        try:
            return self.service(max_concurrent_orders=1)
        finally:
            self.doom_at = None


def lossy_stack(tmp_path: Path, *, seed: int = 7, **options: Any) -> LossyStack:
    """`tests.harness.sim_stack`, with answer loss on the client's side (none until asked)."""
    base = sim_stack(tmp_path, seed=seed, **options)
    return LossyStack(
        clock=base.clock,
        exchange=base.exchange,
        key=base.key,
        secret=base.secret,
        config=base.config,
        db_path=base.db_path,
        loss=AnswerLoss(seed=seed),
    )
