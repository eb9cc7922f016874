"""The matching engine: accounts, balances and holds, order placement, fills, expiries.

Rules:

* Every order ever accepted is kept (``Engine.orders``); records are frozen and replaced on
  each change, so a record handed out never changes under the caller.
* Holds: a live buy holds ``remaining * limit * (1 + taker fee)`` of the quote asset, a live
  sell holds ``remaining`` of the base asset. Available = balance - holds; an order that
  needs more than is available is refused with ``EOrder:Insufficient funds``.
* Takers (market orders, marketable limits, at placement) fill at once against the levels of
  :meth:`kraken_sim.market.PricePath.levels`, best first, up to the limit price, and pay the
  taker fee. Fees are charged in the quote currency (``fcib`` is accepted and echoed only).
* Resting limit orders fill as makers, at their own limit price, in two ways at each step:

  - *Through*: where the mid has reached the limit (buy: mid <= limit; sell: mid >= limit).
    Each pair side has ``liquidity_per_min * step / 60`` base units per step, shared by its
    orders in price-time priority, so large orders fill partially over several steps.
  - *At the touch*: a buy at or above the best bid (a sell at or below the best ask) meets the
    step's sellers (buyers) of `PricePath.flow`. An order that joins the touch has
    `PricePath.queue` base units ahead of it (none when it improves on the touch); the flow
    takes the queue first, then the orders in price-time priority. Re-pricing (or growing) an
    order by AmendOrder puts it at the back again; shrinking it keeps its place.
* Events are processed in time order by :meth:`Engine.settle`: activations of pending orders
  (``starttm``), matching steps, GTD expiries, then the dead-man switch of each account.
* Balance changes are rounded to the asset's decimals in the exchange's favour.
* Ids (``O...`` orders, ``T...`` trades) come from a generator seeded with the seed and, when
  given, an ``id_salt``: a replay (no salt) reissues the same ids for the same seed, byte for
  byte; ``serve`` passes a fresh salt at each start, so a restarted exchange never hands out a
  txid it (or an earlier run) already used, as Kraken never reuses one.
"""

from __future__ import annotations

import base64
import heapq
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Final, Literal

from kraken_sim.account import Account
from kraken_sim.addorder import OrderRequest
from kraken_sim.market import PairMeta, PricePath
from kraken_sim.orders import (
    REASON_AMENDED_BELOW_FILLED,
    REASON_DEADMAN,
    REASON_EXPIRED,
    REASON_FOK,
    REASON_IOC,
    REASON_POST_ONLY,
    ZERO,
    Order,
    OrderStatus,
    Trade,
)
from kraken_sim.quirks import Quirks
from kraken_sim.ratelimit import TierLimits
from kraken_sim.timeline import Timeline
from kraken_sim.wire import ApiError

__all__ = ["Engine", "OrderChange", "Watcher"]

OrderChange = Literal["pending_new", "new", "amended", "trade", "filled", "canceled", "expired"]
"""What happened to an order, in the words of Kraken's WebSocket ``exec_type``."""

Watcher = Callable[[OrderChange, Order, "Trade | None"], None]
"""Told of every order change, after it happened (the WebSocket side listens)."""

_ID_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_HUNDRED: Final = Decimal(100)


class Engine:
    """Orders, balances and matching for all accounts, driven by :meth:`settle`."""

    def __init__(
        self,
        *,
        markets: Mapping[str, PricePath],
        asset_decimals: Mapping[str, int],
        quirks: Quirks,
        limits: TierLimits | None,
        seed: int,
        origin: float,
        step: float,
        id_salt: str | None = None,
    ) -> None:
        self.markets = markets
        self.asset_decimals = asset_decimals
        self.quirks = quirks
        self.limits = limits
        self.origin = origin
        self.step = step
        self.now = origin
        self.paused = False
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, Order] = {}
        self.trades: dict[str, Trade] = {}
        self.account_trades: dict[str, Timeline] = {}
        ids_seed = f"kraken-sim:ids:{seed}" + ("" if id_salt is None else f":{id_salt}")
        self._ids = random.Random(ids_seed)
        self._credentials = random.Random(f"kraken-sim:credentials:{seed}")
        self._seq = 0
        self._trade_seq = 0
        self._tick = -1
        self._books: dict[str, dict[str, None]] = {pair: {} for pair in markets}
        self._ahead: dict[str, Decimal] = {}
        """Resting order txid -> base units ahead of it in its price level's queue."""
        self._starts: list[tuple[float, int, str]] = []
        self._expiries: list[tuple[float, int, str]] = []
        self.watchers: list[Watcher] = []
        """Called with every order change (empty in replays: nothing is spent then)."""

    def _tell(self, change: OrderChange, order: Order, trade: Trade | None = None) -> None:
        for watcher in self.watchers:
            watcher(change, order, trade)

    # ------------------------------------------------------------------ ids, balances
    def new_id(self, prefix: str) -> str:
        """A fresh 6-5-6 id (``OU22CG-KLAF2-FWUDD7``) from the seeded generator."""
        while True:
            chars = "".join(self._ids.choices(_ID_ALPHABET, k=16))
            txid = f"{prefix}{chars[:5]}-{chars[5:10]}-{chars[10:]}"
            if txid not in self.orders and txid not in self.trades:
                return txid

    def new_credentials(self) -> tuple[str, str]:
        """A fresh API key (56 characters) and base64 secret (64 bytes), from the seed."""
        while True:
            key = base64.b64encode(self._credentials.randbytes(42)).decode()
            secret = base64.b64encode(self._credentials.randbytes(64)).decode()
            if key not in self.accounts:
                return key, secret

    def credit(self, account: Account, asset: str, amount: Decimal) -> None:
        """Add ``amount`` (may be negative) to a balance."""
        account.balances[asset] = account.balances.get(asset, ZERO) + amount

    def holds(self, account: Account) -> dict[str, Decimal]:
        """Amounts reserved by the account's live orders, per asset."""
        held: dict[str, Decimal] = {}
        for txid in account.live:
            order = self.orders[txid]
            asset, amount = self.hold_of(order)
            held[asset] = held.get(asset, ZERO) + amount
        return held

    def hold_of(self, order: Order) -> tuple[str, Decimal]:
        """The asset ``order`` holds and how much of it (its remaining cost for a buy)."""
        meta = self.markets[order.pair].meta
        if order.side == "sell":
            return meta.base, order.remaining
        price = order.price if order.price is not None else ZERO
        return meta.quote, order.remaining * price * (1 + meta.taker_fee / _HUNDRED)

    def available(self, account: Account, asset: str) -> Decimal:
        """Balance minus holds."""
        return account.balances.get(asset, ZERO) - self.holds(account).get(asset, ZERO)

    # ------------------------------------------------------------------ placement
    def check_funds(self, account: Account, request: OrderRequest, now: float) -> None:
        """Raise ``EOrder:Insufficient funds`` if the account cannot pay for ``request``."""
        meta = request.meta
        if request.side == "sell":
            needed, asset = request.vol, meta.base
        elif request.price is not None:
            needed = request.vol * request.price * (1 + meta.taker_fee / _HUNDRED)
            asset = meta.quote
        else:
            fills = self._taker_fills(meta.pair_id, "buy", request.vol, None, now)
            cost = sum((price * qty for price, qty in fills), ZERO)
            needed, asset = cost * (1 + meta.taker_fee / _HUNDRED), meta.quote
        if needed > self.available(account, asset):
            raise ApiError("EOrder:Insufficient funds")

    def crosses(self, request: OrderRequest, now: float) -> bool:
        """Whether a limit order would take liquidity at once."""
        if request.price is None:
            return True
        path = self.markets[request.meta.pair_id]
        touch = path.touch(path.index_at(now))
        return request.price >= touch.ask if request.side == "buy" else request.price <= touch.bid

    def place(
        self, account: Account, request: OrderRequest, now: float, *, hidden_for: float = 0.0
    ) -> Order:
        """Accept a checked order: store it, then start it (or leave it pending)."""
        self._seq += 1
        order = Order(
            txid=self.new_id("O"),
            seq=self._seq,
            account=account.key,
            pair=request.meta.pair_id,
            side=request.side,
            ordertype=request.ordertype,
            price=request.price,
            vol=request.vol,
            status="pending",
            timeinforce=request.timeinforce,
            opentm=now,
            starttm=request.starttm,
            expiretm=request.expiretm,
            userref=request.userref,
            cl_ord_id=request.cl_ord_id,
            oflags=request.oflags,
            close=request.close,
            hidden_until=now + hidden_for if hidden_for > 0 else 0.0,
        )
        self.orders[order.txid] = order
        account.live[order.txid] = None
        if self.watchers:
            self._tell("pending_new", order)
        if order.starttm > now:
            heapq.heappush(self._starts, (order.starttm, order.seq, order.txid))
            return order
        return self._activate(order, now)

    def _activate(self, order: Order, now: float) -> Order:
        order = self._store(replace(order, status="open"))
        if self.watchers:
            self._tell("new", order)
        if order.post_only and self.crosses_order(order, now):
            return self.close(order, now, "canceled", REASON_POST_ONLY)
        if order.timeinforce == "FOK" and not self._fok_fillable(order, now):
            return self.close(order, now, "expired", REASON_FOK)
        for price, qty in self._taker_fills(order.pair, order.side, order.vol, order.price, now):
            order = self._fill(order, price, qty, now, maker=False)
        if order.remaining <= 0:
            return self.close(order, now, "closed", None)
        if order.ordertype == "market" or order.timeinforce in {"IOC", "FOK"}:
            status: OrderStatus = self.quirks.ioc_remainder_status
            if status == "closed" and order.vol_exec == 0:
                status = "expired"
            return self.close(order, now, status, REASON_IOC)
        self._books[order.pair][order.txid] = None
        self._ahead[order.txid] = self._queue_ahead(order, now)
        if order.expiretm:
            heapq.heappush(self._expiries, (order.expiretm, order.seq, order.txid))
        return order

    def _queue_ahead(self, order: Order, now: float) -> Decimal:
        """What is ahead of ``order`` as it (re)joins the book: the touch's queue, or nothing
        when its price improves on the touch."""
        path = self.markets[order.pair]
        touch = path.touch(path.index_at(now))
        assert order.price is not None
        better = order.price > touch.bid if order.side == "buy" else order.price < touch.ask
        return ZERO if better else path.queue

    def crosses_order(self, order: Order, now: float) -> bool:
        """Whether a stored limit order is marketable at ``now``."""
        path = self.markets[order.pair]
        touch = path.touch(path.index_at(now))
        assert order.price is not None
        return order.price >= touch.ask if order.side == "buy" else order.price <= touch.bid

    def _fok_fillable(self, order: Order, now: float) -> bool:
        fills = self._taker_fills(order.pair, order.side, order.vol, order.price, now)
        return sum((qty for _, qty in fills), ZERO) >= order.vol

    def _taker_fills(
        self, pair: str, side: str, volume: Decimal, limit: Decimal | None, now: float
    ) -> list[tuple[Decimal, Decimal]]:
        path = self.markets[pair]
        fills: list[tuple[Decimal, Decimal]] = []
        remaining = volume
        for price, size in path.levels(path.index_at(now), side):
            if limit is not None and (price > limit if side == "buy" else price < limit):
                break
            qty = remaining if size <= 0 else min(remaining, size)
            fills.append((price, qty))
            remaining -= qty
            if remaining <= 0:
                break
        return fills

    def _fill(
        self, order: Order, price: Decimal, qty: Decimal, now: float, *, maker: bool
    ) -> Order:
        path = self.markets[order.pair]
        meta = path.meta
        account = self.accounts[order.account]
        cost = price * qty
        rate = meta.maker_fee if maker else meta.taker_fee
        fee = (cost * rate / _HUNDRED).quantize(
            Decimal(1).scaleb(-meta.cost_decimals), ROUND_HALF_UP
        )
        if order.side == "buy":
            self.credit(account, meta.quote, -self._round(meta.quote, cost + fee, ROUND_CEILING))
            self.credit(account, meta.base, qty)
        else:
            self.credit(account, meta.base, -qty)
            self.credit(account, meta.quote, self._round(meta.quote, cost - fee, ROUND_FLOOR))
        self._trade_seq += 1
        trade = Trade(
            trade_txid=self.new_id("T"),
            postxid=self.new_id("T"),
            trade_id=self._trade_seq,
            ordertxid=order.txid,
            account=order.account,
            pair=order.pair,
            side=order.side,
            ordertype=order.ordertype,
            price=price,
            vol=qty,
            cost=cost,
            fee=fee,
            time=now,
            maker=maker,
        )
        self.trades[trade.trade_txid] = trade
        self.account_trades.setdefault(order.account, Timeline()).append(trade.trade_txid, now)
        order = self._store(
            replace(
                order,
                vol_exec=order.vol_exec + qty,
                cost=order.cost + cost,
                fee=order.fee + fee,
                trades=(*order.trades, trade.trade_txid),
            )
        )
        if self.watchers:
            self._tell("trade", order, trade)
        return order

    def _round(self, asset: str, amount: Decimal, rounding: str) -> Decimal:
        places = self.asset_decimals.get(asset, 10)
        return amount.quantize(Decimal(1).scaleb(-places), rounding=rounding)

    def _store(self, order: Order) -> Order:
        self.orders[order.txid] = order
        return order

    def close(self, order: Order, now: float, status: OrderStatus, reason: str | None) -> Order:
        """Take a live order out of play with a final status."""
        account = self.accounts[order.account]
        account.live.pop(order.txid, None)
        account.closed.append(order.txid, now)
        if order.cl_ord_id is not None:
            account.closed_cl_ord_ids.add(order.cl_ord_id)
        self._books[order.pair].pop(order.txid, None)
        self._ahead.pop(order.txid, None)
        order = self._store(replace(order, status=status, closetm=now, reason=reason))
        if self.watchers:
            change: OrderChange = (
                "filled" if status == "closed" else "expired" if status == "expired" else "canceled"
            )
            self._tell(change, order)
        if status == "closed" and order.close is not None:
            self._place_close(order, now)
        return order

    def _place_close(self, parent: Order, now: float) -> None:
        assert parent.close is not None
        ordertype, price, _ = parent.close
        account = self.accounts[parent.account]
        meta = self.markets[parent.pair].meta
        side: Literal["buy", "sell"] = "sell" if parent.side == "buy" else "buy"
        request = OrderRequest(
            meta=meta,
            side=side,
            ordertype="limit" if ordertype == "limit" else "market",
            vol=parent.vol_exec,
            price=Decimal(price) if price else None,
            oflags=("fciq",),
            timeinforce="GTC",
            starttm=0.0,
            expiretm=0.0,
            userref=parent.userref,
            cl_ord_id=None,
            close=None,
            validate=False,
        )
        try:
            self.check_funds(account, request, now)
        except ApiError:
            return
        self.place(account, request, now)

    # ------------------------------------------------------------------ amending
    def amend(self, order: Order, *, price: Decimal | None, vol: Decimal, now: float) -> Order:
        """Change a live limit order in place (checked by the caller), keeping its txid.

        A new price or a larger quantity sends it to the back of the queue; a smaller one
        keeps its place. A quantity at or below what has filled cancels the rest. A new price
        that is marketable takes what the book offers at once, as a new order would.
        """
        if vol <= order.vol_exec:
            order = self._store(replace(order, amendtm=now))
            return self.close(order, now, "canceled", REASON_AMENDED_BELOW_FILLED)
        repriced = price != order.price
        requeue = repriced or vol > order.vol
        seq = order.seq
        if requeue:
            self._seq += 1
            seq = self._seq
        order = self._store(replace(order, price=price, vol=vol, seq=seq, amendtm=now))
        if self.watchers:
            self._tell("amended", order)
        if order.status != "open":
            return order
        book = self._books[order.pair]
        if requeue and order.txid in book:
            del book[order.txid]
            book[order.txid] = None
            self._ahead[order.txid] = self._queue_ahead(order, now)
        if not repriced or not self.crosses_order(order, now):
            return order  # resting orders fill as makers (see `_match_pair`)
        for fill_price, qty in self._taker_fills(
            order.pair, order.side, order.remaining, order.price, now
        ):
            order = self._fill(order, fill_price, qty, now, maker=False)
        if order.remaining <= 0:
            return self.close(order, now, "closed", None)
        return order

    def hold_after(self, order: Order, *, price: Decimal | None, vol: Decimal) -> Decimal:
        """What ``order`` would hold (in the asset of `hold_of`) with this price and volume."""
        return self.hold_of(replace(order, price=price, vol=vol))[1]

    # ------------------------------------------------------------------ cancelling
    def cancel(self, order: Order, now: float, reason: str) -> Order:
        """Cancel a live order."""
        return self.close(order, now, "canceled", reason)

    def cancel_all(self, account: Account, now: float, reason: str) -> int:
        """Cancel every live order of ``account``; return how many."""
        txids = list(account.live)
        for txid in txids:
            self.cancel(self.orders[txid], now, reason)
        return len(txids)

    # ------------------------------------------------------------------ time
    def settle(self, now: float) -> None:
        """Process every event up to ``now``, in time order."""
        if self.paused:
            self._skip_ticks(now)
            self.now = max(self.now, now)
            return
        while True:
            event = self._next_event()
            if not any(self._books.values()):
                # Nothing rests: jump to the step before the next event (or to now).
                self._skip_ticks(min(now, event[0] - 1e-6))
            t_tick = self.origin + (self._tick + 1) * self.step
            if event[0] > now and t_tick > now:
                break
            if t_tick < event[0] or (t_tick == event[0] and event[1] > 0):
                self._tick += 1
                self._match_step(self._tick, t_tick)
            else:
                self._run_event(event)
        self.now = max(self.now, now)

    def _skip_ticks(self, until: float) -> None:
        target = int((until - self.origin) // self.step)
        self._tick = max(self._tick, target)

    def _next_event(self) -> tuple[float, int, str]:
        """(time, priority, what): priority 0 = start, 1 = expiry, 2 = dead-man switch."""
        best: tuple[float, int, str] = (float("inf"), 9, "")
        if self._starts:
            best = min(best, (self._starts[0][0], 0, "start"))
        if self._expiries:
            best = min(best, (self._expiries[0][0], 1, "expiry"))
        for account in self.accounts.values():
            if account.deadman_at is not None:
                best = min(best, (account.deadman_at, 2, account.key))
        return best

    def _run_event(self, event: tuple[float, int, str]) -> None:
        when, priority, what = event
        if priority == 0:
            _, _, txid = heapq.heappop(self._starts)
            order = self.orders[txid]
            if order.status == "pending":
                self._activate(order, when)
        elif priority == 1:
            _, _, txid = heapq.heappop(self._expiries)
            order = self.orders[txid]
            if order.is_live:
                self.close(order, when, "expired", REASON_EXPIRED)
        else:
            account = self.accounts[what]
            account.deadman_at = None
            self.cancel_all(account, when, REASON_DEADMAN)

    def _match_step(self, index: int, when: float) -> None:
        for pair, book in self._books.items():
            if book:
                self._match_pair(self.markets[pair], book, index, when)

    def _match_pair(self, path: PricePath, book: dict[str, None], index: int, when: float) -> None:
        touch = path.touch(index)
        orders = [self.orders[txid] for txid in book]
        buys = [
            o for o in orders if o.side == "buy" and o.price is not None and o.price >= touch.bid
        ]
        sells = [
            o for o in orders if o.side == "sell" and o.price is not None and o.price <= touch.ask
        ]
        if not buys and not sells:
            return
        buys.sort(key=lambda o: (-(o.price or ZERO), o.seq))
        sells.sort(key=lambda o: (o.price or ZERO, o.seq))
        budget = path.liquidity_per_min * Decimal(repr(self.step)) / 60
        sold, bought = path.flow(index)
        mid = touch.mid
        for order in buys:
            if order.price is not None and order.price > touch.bid:
                self._ahead[order.txid] = ZERO  # it is the best bid now: nobody is ahead
        for order in sells:
            if order.price is not None and order.price < touch.ask:
                self._ahead[order.txid] = ZERO
        self._fill_resting(path.meta, buys, (budget, sold), lambda p: mid <= p, when)
        self._fill_resting(path.meta, sells, (budget, bought), lambda p: mid >= p, when)

    def _fill_resting(
        self,
        meta: PairMeta,
        orders: Iterable[Order],
        pools: tuple[Decimal, Decimal],
        through: Callable[[Decimal], bool],
        when: float,
    ) -> None:
        """Fill one side's resting orders (best first): those the mid went through from the
        step's liquidity, those at the touch from the step's flow behind their queue."""
        quantum = Decimal(1).scaleb(-meta.lot_decimals)
        budget, flow = pools
        for order in orders:
            assert order.price is not None
            if through(order.price):
                qty = min(order.remaining, budget).quantize(quantum, rounding=ROUND_DOWN)
                budget -= max(qty, ZERO)
            else:
                ahead = self._ahead.get(order.txid, ZERO)
                if ahead > 0:
                    taken = min(ahead, flow)
                    self._ahead[order.txid] = ahead - taken
                    flow -= taken
                qty = min(order.remaining, flow).quantize(quantum, rounding=ROUND_DOWN)
                flow -= max(qty, ZERO)
            if qty <= 0:
                continue
            filled = self._fill(order, order.price, qty, when, maker=True)
            if filled.remaining <= 0:
                self.close(filled, when, "closed", None)
