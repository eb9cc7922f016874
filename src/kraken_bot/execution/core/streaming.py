"""Pure: what an order's WebSocket trail means for its local order.

The stream is the fast path, REST reconciliation the backstop (one truth, two
transports): a trail folds into the local order as the same `Observed` event a
QueryOrders answer makes, through the same lifecycle table. `decide_streamed`
says, for one local order and the trail of its txid:

* `FoldStreamed`: fold this observation (it moves the order forward);
* `AskRest`: the trail cannot be trusted for it (a fill the stream did not show,
  so the fee is unknown; a status word this layer does not know): look the order
  up over REST now;
* None: nothing to do (the observation is already folded, is stale, or the
  order is finished).

Before that, `fold_frame` merges a frame's reports into the trails of their txids and
says which trails to consider: none of a snapshot, as the REST resync that follows each
snapshot reads everything.

>>> from datetime import UTC, datetime
>>> from decimal import Decimal
>>> from kraken_bot.execution.core.models import LocalOrder, OrderStatus, OrderType, Side
>>> from kraken_bot.kraken.ws_reports import OrderTrail
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> order = LocalOrder(local_id="L1", plan_id=None, strategy_id=None, pair="XBTUSD",
...     side=Side.BUY, order_type=OrderType.LIMIT, kraken_order_id="OA", userref=None,
...     client_order_id="L1", requested_base_size=Decimal(1), requested_price=Decimal(100),
...     status=OrderStatus.OPEN, created_at=t, updated_at=t)
>>> filled = OrderTrail(order_id="OA", status_word="filled", cum_qty=Decimal(1),
...     cum_cost=Decimal(100), avg_price=Decimal(100), fills_qty=Decimal(1), fee=Decimal("0.4"))
>>> type(decide_streamed(order, filled, now=t)).__name__
'FoldStreamed'
>>> from dataclasses import replace
>>> type(decide_streamed(order, replace(filled, fills_qty=Decimal("0.5")), now=t)).__name__
'AskRest'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from kraken_bot._enums import ExecutionMode, StreamMode
from kraken_bot.execution.core.lifecycle import TRANSITIONS, observed_kind, shows_amend
from kraken_bot.execution.core.models import LocalOrder, Observed, OrderStatus
from kraken_bot.kraken.ws_reports import ExecutionsFrame, OrderTrail, fold_report, trail_info

__all__ = [
    "AskRest",
    "FoldStreamed",
    "StreamDecision",
    "decide_streamed",
    "fold_frame",
    "stream_wanted",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class FoldStreamed:
    """Fold ``event`` into ``local_id`` (through the ledger, like a reconciliation fold)."""

    local_id: str
    event: Observed


@dataclass(frozen=True, slots=True, kw_only=True)
class AskRest:
    """Look ``local_id`` up over REST: the stream's account of it is not enough."""

    local_id: str
    reason: str


StreamDecision = FoldStreamed | AskRest | None


def fold_frame(
    trails: Mapping[str, OrderTrail], frame: ExecutionsFrame
) -> tuple[dict[str, OrderTrail], tuple[OrderTrail, ...]]:
    """``frame``'s reports merged, in order, into the ``trails`` of their txids.

    Returns the trails the frame touched, as they now stand, by txid in the order last
    touched (the order in which a bounded memory of recent trails keeps them), and the
    trails to consider now: each touched txid once, in the order first touched; none
    for a snapshot.

    >>> from kraken_bot.kraken.ws_reports import ExecReport
    >>> report = ExecReport(order_id="OA", exec_type="new", order_status="new", timestamp=None)
    >>> touched, now = fold_frame({}, ExecutionsFrame(snapshot=False, sequence=2,
    ...     reports=(report,)))
    >>> list(touched), [t.status_word for t in now]
    (['OA'], ['new'])
    """
    first_touched: dict[str, None] = {}
    touched: dict[str, OrderTrail] = {}
    for report in frame.reports:
        txid = report.order_id
        trail = fold_report(touched.pop(txid, None) or trails.get(txid), report)
        touched[txid] = trail
        first_touched.setdefault(txid, None)
    if frame.snapshot:
        return touched, ()
    return touched, tuple(touched[txid] for txid in first_touched)


def decide_streamed(order: LocalOrder, trail: OrderTrail, *, now: datetime) -> StreamDecision:
    """What ``trail`` (the stream's account of ``order``'s txid) means for ``order``."""
    if order.kraken_order_id != trail.order_id or order.is_terminal:
        return None
    info = trail_info(
        trail,
        volume=order.requested_base_size,
        pair=order.rest_pair or order.pair,
        limit_price=order.requested_price,
    )
    if info is None:
        return AskRest(local_id=order.local_id, reason=f"order status {trail.status_word!r}")
    moves = (
        trail.cum_qty > order.cumulative_base_filled or trail.terminal or shows_amend(order, info)
    )
    if not trail.complete:
        return (
            AskRest(local_id=order.local_id, reason="fills the stream did not show")
            if moves
            else None
        )
    target = TRANSITIONS.get((order.status, observed_kind(info)))
    # No edge: stale or out of order. The same status without a new fill: already known.
    if target is None or target is OrderStatus.UNKNOWN or (target == order.status and not moves):
        return None
    return FoldStreamed(local_id=order.local_id, event=Observed(at=now, info=info))


def stream_wanted(
    stream: StreamMode, *, mode: ExecutionMode, url: str | None, observer: bool
) -> tuple[bool, str | None]:
    """Whether a service streams executions, and the warning to give when it cannot.

    Only a live, trading service streams (paper and dry run have nothing at the exchange
    to hear of; an observer leaves it to the bot). ``auto`` without a known URL polls
    quietly; an explicit ``websocket`` without one polls with a warning.

    >>> stream_wanted(StreamMode.AUTO, mode=ExecutionMode.LIVE, url="wss://x", observer=False)
    (True, None)
    >>> stream_wanted(StreamMode.WEBSOCKET, mode=ExecutionMode.LIVE, url=None, observer=False)[1]
    'kraken.stream is websocket but no WebSocket URL is known (set kraken.ws_url): polling'
    """
    if stream is StreamMode.POLL or mode is not ExecutionMode.LIVE or observer:
        return False, None
    if url is None:
        if stream is StreamMode.WEBSOCKET:
            return False, (
                "kraken.stream is websocket but no WebSocket URL is known (set kraken.ws_url):"
                " polling"
            )
        return False, None
    return True, None
