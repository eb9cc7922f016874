"""The executions stream (Kraken WebSocket v2) against the fake's socket, through the real
clients: fills reach the ledger and the event stream without polling; what the socket loses
(a dropped message, a gap, a cut connection, a fill reported only over REST) is repaired by
REST reconciliation, and nothing is lost or duplicated."""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from functools import partial

import pytest

from kraken_bot._enums import OrderTransport, StreamMode
from kraken_bot.cli.wiring import open_service
from kraken_bot.execution import (
    ActionType,
    ExecutionPlan,
    ExecutionService,
    OrderStatus,
    RiskAdjustedAction,
)
from kraken_bot.execution.core.events import HealthEvent, HealthKind, OrderUpdate, OrderUpdateKind
from kraken_bot.execution.shell._stream import ServiceStream
from kraken_bot.kraken.errors import KrakenAPIError
from kraken_bot.kraken.orders import AddOrderRequest
from kraken_bot.kraken.ws_orders import SocketOrders
from kraken_bot.simulation.invariants import rendered_avg_price
from kraken_bot.testing import FakeKraken, account_config
from kraken_sim import Exchange, WallClock, load_scenario, serve
from kraken_sim.ws import WsFaults, serve_ws

POLLING = {"QueryOrders", "OpenOrders", "ClosedOrders"}


def plan(plan_id: str, at: datetime, *targets: tuple[str, str]) -> ExecutionPlan:
    return ExecutionPlan(
        plan_id=plan_id,
        created_at=at,
        actions=tuple(
            RiskAdjustedAction(
                pair=pair,
                strategy_id="s",
                action_type=ActionType.INCREASE,
                current_base_size=Decimal(0),
                target_base_size=Decimal(target),
            )
            for pair, target in targets
        ),
    )


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def rest_calls(kraken: FakeKraken, names: set[str]) -> int:
    return sum(1 for entry in kraken.exchange.journal if entry.endpoint in names)


def settle(kraken: FakeKraken, seconds: float) -> None:
    """Let virtual time pass on the exchange only: no service supervises meanwhile."""
    for _ in range(int(seconds)):
        kraken.clock.sleep(1.0)
        kraken.exchange.settle()


def statuses(service, result) -> set[OrderStatus]:
    return {service.get_order(o.local_id).status for o in result.orders}


def stream_of(service: ExecutionService) -> ServiceStream:
    assert service.stream is not None
    return service.stream


def streaming(service, resyncs: int = 1) -> None:
    """The stream is subscribed and its first resync (a REST reconciliation) is done."""
    assert service.stream is not None
    assert stream_of(service).stream.wait_subscribed(10)
    assert wait_for(lambda: stream_of(service).consumer.counts.resyncs >= resyncs)
    assert stream_of(service).consumer.wait_idle()


def polling_start(service: ExecutionService) -> HealthEvent:
    """Initialize ``service``; it must poll, and say why in its first event."""
    events = service.events()
    service.initialize()
    assert service.stream is None
    event = events.get(timeout=1)
    assert isinstance(event, HealthEvent)
    assert event.kind is HealthKind.STREAM_UNAVAILABLE
    return event


def all_final(service, result) -> bool:
    return statuses(service, result) <= {OrderStatus.FILLED, OrderStatus.CANCELED}


def agrees_with_exchange(kraken, service, result) -> None:
    exchange = {o.txid: o for o in kraken.exchange.orders(kraken.key)}
    for order in result.orders:
        local = service.get_order(order.local_id)
        theirs = exchange[local.kraken_order_id]
        assert local.cumulative_base_filled == theirs.vol_exec, local.local_id
        assert local.fee == theirs.fee, local.local_id


def test_fills_reach_the_ledger_and_subscribers_over_the_socket_without_polling(tmp_path):
    with FakeKraken(tmp_path, websocket=True) as kraken:
        service = kraken.service(max_slippage_bps=Decimal(0), reconcile_every_seconds=None)
        streaming(service)
        events = service.events()
        result = service.execute_plan(plan("p1", kraken.clock.now(), ("XBTUSD", "0.5")))
        assert result.success
        polled = rest_calls(kraken, POLLING)
        settle(kraken, 900)
        (order,) = result.orders
        assert wait_for(lambda: service.get_order(order.local_id).status is OrderStatus.FILLED)
        assert rest_calls(kraken, POLLING) == polled  # learned from the socket alone
        filled = service.get_order(order.local_id)
        on_exchange = {o.txid: o for o in kraken.exchange.orders(kraken.key)}[
            str(filled.kraken_order_id)
        ]
        assert filled.cumulative_base_filled == on_exchange.vol_exec
        assert filled.fee == on_exchange.fee
        assert filled.cost == on_exchange.cost
        kinds = []
        while (event := events.get(timeout=1)) is not None:
            if isinstance(event, OrderUpdate):
                kinds.append(event.kind)
            if OrderUpdateKind.FILLED in kinds:
                break
        assert OrderUpdateKind.FILLED in kinds
        assert stream_of(service).consumer.counts.folded >= 1
        assert kraken.violations(service) == []


PAIRS = (("XBTUSD", "0.5"), ("ETHUSD", "5"), ("SOLUSD", "50"))


def test_a_lost_update_shows_as_a_gap_and_rest_reconciliation_repairs_it(tmp_path):
    with FakeKraken(tmp_path, websocket=WsFaults(drop=0.3)) as kraken:
        service = kraken.service(max_slippage_bps=Decimal(0), reconcile_every_seconds=None)
        streaming(service)
        result = service.execute_plan(plan("p1", kraken.clock.now(), *PAIRS))
        settle(kraken, 1800)
        assert wait_for(lambda: all_final(service, result))
        assert kraken.ws is not None
        assert kraken.ws.faults_injected.get("drop", 0) > 0
        assert stream_of(service).stream.stats.gaps > 0
        assert stream_of(service).consumer.counts.resyncs > 1
        agrees_with_exchange(kraken, service, result)
        assert kraken.violations(service) == []


def test_a_fill_reported_only_over_rest_is_found_by_the_backstop(tmp_path):
    """No gap to see: only the scheduled reconciliation (the backstop) can find it."""
    with FakeKraken(tmp_path, websocket=WsFaults(silent_drop=1.0)) as kraken:
        service = kraken.service(max_slippage_bps=Decimal(0), reconcile_every_seconds=30)
        streaming(service)
        result = service.execute_plan(plan("p1", kraken.clock.now(), ("XBTUSD", "0.5")))
        settle(kraken, 900)
        stream_of(service).consumer.wait_idle()
        assert not all_final(service, result)  # the socket never told
        kraken.advance(kraken_backstop(service) + 5)  # the supervisor's backstop pass
        assert all_final(service, result)
        agrees_with_exchange(kraken, service, result)
        assert kraken.violations(service) == []


def kraken_backstop(service: ExecutionService) -> float:
    return service.config.kraken.stream_backstop_seconds


def test_a_connection_cut_in_the_middle_of_a_plan_reconnects_and_reconciles(tmp_path):
    with FakeKraken(tmp_path, websocket=True) as kraken:
        service = kraken.service(max_slippage_bps=Decimal(0), reconcile_every_seconds=None)
        streaming(service)
        health = service.events()
        result = service.execute_plan(plan("p1", kraken.clock.now(), *PAIRS))
        assert kraken.ws is not None
        kraken.ws.disconnect_all()
        settle(kraken, 1800)  # fills happen while the socket is down or reconnecting
        assert wait_for(lambda: stream_of(service).stream.stats.connects >= 2)
        assert wait_for(lambda: all_final(service, result))
        agrees_with_exchange(kraken, service, result)
        assert kraken.violations(service) == []
        kinds = []
        while (event := health.get(timeout=0)) is not None:
            if isinstance(event, HealthEvent):
                kinds.append(event.kind)
        assert HealthKind.STREAM_DOWN in kinds


def test_websocket_without_a_known_url_polls_and_says_so(tmp_path):

    with FakeKraken(tmp_path) as kraken:
        kraken.config = replace(
            kraken.config, kraken=replace(kraken.config.kraken, stream=StreamMode.WEBSOCKET)
        )
        event = polling_start(kraken.service(initialize=False))
        assert "kraken.ws_url" in event.message


def test_paper_mode_never_streams(tmp_path):
    with FakeKraken(tmp_path, websocket=True) as kraken:
        assert kraken.service(mode="paper", validate_only=True).stream is None


def socket_orders(kraken: FakeKraken, **execution: object) -> ExecutionService:

    kraken.config = replace(
        kraken.config,
        kraken=replace(
            kraken.config.kraken,
            order_transport=OrderTransport.WEBSOCKET,
            ws_request_timeout_seconds=0.5,
        ),
    )
    service = kraken.service(initialize=False, **execution)
    service.initialize()
    streaming(service)
    return service


def socket_client(service: ExecutionService) -> SocketOrders:
    """The trading client a socket-orders service sends through."""
    assert service.adapter is not None
    client = service.adapter.client
    assert isinstance(client, SocketOrders)
    return client


def test_orders_go_over_the_socket_and_their_fills_come_back_on_it(tmp_path):
    with FakeKraken(tmp_path, websocket=True) as kraken:
        service = socket_orders(kraken, max_slippage_bps=Decimal(0), reconcile_every_seconds=None)
        result = service.execute_plan(plan("p1", kraken.clock.now(), *PAIRS))
        assert result.success
        assert rest_calls(kraken, {"AddOrder"}) == 0  # every order went over the socket
        settle(kraken, 1800)
        assert wait_for(lambda: all_final(service, result))
        agrees_with_exchange(kraken, service, result)
        assert kraken.violations(service) == []
        assert len(kraken.exchange.orders(kraken.key)) == len(PAIRS)


def test_orders_whose_socket_answers_are_lost_are_looked_up_never_duplicated(tmp_path):
    """Every add_order runs on the exchange but half the answers never come back: the
    service looks each such order up over REST by its client id (as for a lost REST
    answer) and links it; nothing is sent twice."""
    with FakeKraken(tmp_path, websocket=WsFaults(lost_reply=0.5)) as kraken:
        service = socket_orders(kraken, max_slippage_bps=Decimal(0), reconcile_every_seconds=None)
        results = [
            service.execute_plan(plan(f"p{i}", kraken.clock.now(), *PAIRS)) for i in range(4)
        ]
        assert kraken.ws is not None
        assert kraken.ws.faults_injected.get("lost_reply", 0) > 0
        assert service.stats.ambiguous > 0
        settle(kraken, 1800)
        kraken.advance(60)
        ours = kraken.exchange.orders(kraken.key)
        txids = [service.get_order(o.local_id).kraken_order_id for r in results for o in r.orders]
        assert len(ours) == len(set(txids)) == len(txids)  # one exchange order per local one
        assert kraken.violations(service) == []


def test_orders_fall_back_to_rest_while_the_socket_is_down(tmp_path):
    with FakeKraken(tmp_path, websocket=True) as kraken:
        service = socket_orders(kraken, max_slippage_bps=Decimal(0), reconcile_every_seconds=None)
        assert kraken.ws is not None
        kraken.ws.close()  # the socket is gone for good
        assert wait_for(lambda: not stream_of(service).up)
        result = service.execute_plan(plan("p1", kraken.clock.now(), ("XBTUSD", "0.5")))
        assert result.success
        assert rest_calls(kraken, {"AddOrder"}) == 1
        assert kraken.violations(service) == []


def test_cancel_all_goes_over_the_socket(tmp_path):
    with FakeKraken(tmp_path, websocket=True) as kraken:
        service = socket_orders(kraken, max_slippage_bps=Decimal(0))  # buys at the mid rest
        result = service.execute_plan(plan("p1", kraken.clock.now(), *PAIRS))
        assert {o.status for o in result.orders} == {OrderStatus.OPEN}
        service.cancel_all()
        assert rest_calls(kraken, {"CancelAll", "CancelOrder"}) == 0
        assert wait_for(lambda: statuses(service, result) == {OrderStatus.CANCELED})
        assert kraken.violations(service) == []


def test_a_socket_cancel_naming_both_ids_or_neither_is_refused_as_over_rest(tmp_path):
    with FakeKraken(tmp_path, websocket=True) as kraken:
        socket = socket_client(socket_orders(kraken, max_slippage_bps=Decimal(0)))
        sent = len(kraken.exchange.journal)
        both = "exactly one of txid, userref, cl_ord_id"
        with pytest.raises(ValueError, match=both):
            socket.cancel_order(txid="OAAAAA-AAAAA-AAAAAA", cl_ord_id="x")
        with pytest.raises(ValueError, match=both):
            socket.cancel_order()
        assert len(kraken.exchange.journal) == sent


def refusal(call: Callable[[], object]) -> tuple[type[BaseException], tuple[str, ...]]:
    with pytest.raises(KrakenAPIError) as caught:
        call()
    return type(caught.value), caught.value.errors


def test_the_socket_and_rest_refuse_a_bad_order_with_the_same_typed_error(tmp_path):
    """ws_orders' promise: the service's rules do not change with the transport. Each
    refusal is asked of the socket and of REST; both raise the same error class with
    the same Kraken error, and neither places anything."""
    with FakeKraken(tmp_path, websocket=True) as kraken:
        socket = socket_client(socket_orders(kraken, max_slippage_bps=Decimal(0)))
        mid = kraken.exchange.touch("XBTUSD")
        order = AddOrderRequest(
            pair="XBTUSD",
            side="buy",
            ordertype="limit",
            volume="0.5",
            price=str(mid.bid),
            cl_ord_id="bad-1",
        )
        bad = {
            "below the minimum": replace(order, volume="0.00000001"),
            "off the tick": replace(order, price=str(mid.bid + Decimal("0.05"))),
            "more than the funds": replace(order, volume="100000"),
            "a bad client id": replace(order, cl_ord_id="x" * 40),
        }
        sent = socket.sent_over_socket
        for what, request in bad.items():
            over_socket = refusal(partial(socket.add_order, request))
            over_rest = refusal(partial(socket.rest.add_order, request))
            assert over_socket == over_rest, what
        unknown_txid, unknown_client_id = "OAAAAA-AAAAA-AAAAAA", "never-sent"
        assert refusal(partial(socket.cancel_order, txid=unknown_txid)) == refusal(
            partial(socket.rest.cancel_order, txid=unknown_txid)
        )
        assert refusal(partial(socket.cancel_order, cl_ord_id=unknown_client_id)) == refusal(
            partial(socket.rest.cancel_order, cl_ord_id=unknown_client_id)
        )
        assert socket.sent_over_socket > sent  # the socket did carry them
        assert kraken.exchange.orders(kraken.key) == []


def test_an_order_placed_over_the_socket_is_the_order_rest_would_place(tmp_path):
    """The socket carries a request exactly: each variant is placed once over the socket
    and once over REST (identities apart), and the exchange holds the same order."""
    with FakeKraken(tmp_path, websocket=True) as kraken:
        socket = socket_client(socket_orders(kraken, max_slippage_bps=Decimal(0)))
        touch = kraken.exchange.touch("XBTUSD")
        below = str(touch.bid - Decimal(50))
        rest_of = AddOrderRequest(
            pair="XBTUSD", side="buy", ordertype="limit", volume="0.25", price=below
        )
        variants = {
            "limit": rest_of,
            "post-only": replace(rest_of, oflags=("post",)),
            "ioc": replace(rest_of, timeinforce="IOC"),
            "sell above": replace(rest_of, side="sell", price=str(touch.ask + Decimal(50))),
            "market": replace(rest_of, ordertype="market", price=None, volume="0.0123"),
            "userref": replace(rest_of, volume="0.3"),
        }
        placed: dict[str, tuple[str, str]] = {}
        for number, (what, request) in enumerate(variants.items()):
            if what == "userref":
                mine = replace(request, userref=100 + number)
                theirs = replace(request, userref=200 + number)
            else:
                mine = replace(request, cl_ord_id=f"sock-{number}")
                theirs = replace(request, cl_ord_id=f"rest-{number}")
            over_socket = socket.add_order(mine)
            over_rest = socket.rest.add_order(theirs)
            placed[what] = (over_socket.txids[0], over_rest.txids[0])
        assert socket.sent_over_socket >= len(variants)
        kept = {o.txid: o for o in kraken.exchange.orders(kraken.key)}

        def shape(txid: str) -> tuple[object, ...]:
            o = kept[txid]
            return (o.pair, o.side, o.ordertype, o.price, o.vol, o.timeinforce, o.oflags)

        for what, (by_socket, by_rest) in placed.items():
            assert shape(by_socket) == shape(by_rest), what


def test_a_key_without_the_websocket_permission_polls_with_one_warning(tmp_path, caplog):
    with FakeKraken(tmp_path, websocket=True) as kraken:
        kraken.exchange.engine.accounts[kraken.key].ws_allowed = False
        service = kraken.service(initialize=False, reconcile_every_seconds=30)
        assert "Permission denied" in polling_start(service).message
        warnings = [r for r in caplog.records if "WebSocket" in r.getMessage()]
        assert len(warnings) == 1
        result = service.execute_plan(plan("p1", kraken.clock.now(), ("XBTUSD", "0.5")))
        kraken.advance(900)  # polling finds the fill
        assert all_final(service, result)
        assert kraken.violations(service) == []


def test_only_the_long_running_command_streams_when_the_stream_is_auto(tmp_path):
    """`krakked run` streams; a one-shot command (execute, run-once) polls unless the
    configuration asks for the socket explicitly."""

    exchange = Exchange(load_scenario(None), seed=5, clock=WallClock(), faults="none")
    with serve(exchange) as server, serve_ws(exchange) as socket:
        config = account_config(exchange, tmp_path, base_url=server.base_url)
        config = replace(
            config,
            kraken=replace(config.kraken, stream=StreamMode.AUTO, ws_url=socket.url),
        )
        with open_service(config) as one_shot:
            assert one_shot.stream is None
        with open_service(config, long_running=True) as daemon:
            assert daemon.stream is not None
        explicit = replace(config, kraken=replace(config.kraken, stream=StreamMode.WEBSOCKET))
        with open_service(explicit) as asked:
            assert asked.stream is not None


def test_an_amend_made_elsewhere_reaches_the_ledger_over_the_socket(tmp_path):
    """Another program on the account amends our resting order (AmendOrder): the socket's
    ``amended`` report carries the new price and size, and the ledger follows it."""
    with FakeKraken(tmp_path, websocket=True) as kraken:
        service = kraken.service(max_slippage_bps=Decimal(0), reconcile_every_seconds=None)
        streaming(service)
        result = service.execute_plan(plan("p1", kraken.clock.now(), ("XBTUSD", "0.5")))
        (order,) = result.orders
        resting = service.get_order(order.local_id)
        assert resting.status is OrderStatus.OPEN
        polled = rest_calls(kraken, POLLING)
        lower = Decimal("50000.0")
        kraken.exchange.amend(str(resting.kraken_order_id), price=lower, vol="0.4")
        assert wait_for(lambda: service.get_order(order.local_id).requested_price == lower)
        amended = service.get_order(order.local_id)
        assert amended.requested_base_size == Decimal("0.4")
        assert amended.kraken_order_id == resting.kraken_order_id
        assert rest_calls(kraken, POLLING) == polled  # learned from the socket alone
        assert kraken.violations(service) == []


def test_an_average_price_heard_on_the_socket_is_the_one_rest_renders(tmp_path):
    """A market buy of 31 ETH walks two price levels (30 a level), so its average has more
    digits than the pair's price decimals; the socket's report (the ledger's only source here:
    no REST read after the send, no scheduled pass) gives the same average QueryOrders
    renders."""
    with FakeKraken(tmp_path, websocket=True) as kraken:
        service = kraken.service(
            default_order_type="market",
            reconcile_after_execute=False,
            reconcile_every_seconds=None,
        )
        streaming(service)
        result = service.execute_plan(plan("walk", kraken.clock.now(), ("ETHUSD", "31")))
        (order,) = result.orders
        assert wait_for(lambda: service.get_order(order.local_id).status is OrderStatus.FILLED)
        local = service.get_order(order.local_id)
        (truth,) = [
            o for o in kraken.exchange.orders(kraken.key) if o.txid == local.kraken_order_id
        ]
        assert truth.avg_price != truth.avg_price.quantize(Decimal("0.01"))  # more digits
        assert local.avg_fill_price == rendered_avg_price(
            truth, kraken.exchange.venue.meta(truth.pair)
        )


def test_a_burst_of_orders_over_the_socket_waits_for_the_trading_counter(tmp_path):
    """Kraken counts orders on one per-pair counter whatever carries them. Found: orders
    over the socket bypassed the client's rate limiter, so a burst of 90 on one pair of a
    starter account was refused 15 times with ``EOrder:Rate limit exceeded`` and resent."""
    with FakeKraken(tmp_path, websocket=True, tier="starter") as kraken:
        service = socket_orders(kraken, reconcile_every_seconds=None)
        actions = [("XBTUSD", "0.01")] * 90
        burst = ExecutionPlan(
            plan_id="burst",
            created_at=kraken.clock.now(),
            actions=tuple(
                replace(a, strategy_id=f"s{i}")
                for i, a in enumerate(plan("x", kraken.clock.now(), *actions).actions)
            ),
        )
        result = service.execute_plan(burst)
        assert result.success, result.errors
        client = socket_client(service)
        assert client.sent_over_socket == 90  # each order sent once: none refused
        assert rest_calls(kraken, {"AddOrder"}) == 0
        stats = client.rest.limiter.stats
        assert stats.waits > 0
        assert stats.rate_limit_errors == 0
        assert len(kraken.exchange.orders(kraken.key)) == 90


def test_an_order_a_json_number_cannot_carry_exactly_goes_over_rest(tmp_path):
    """Found: an amount with more digits than a double holds (here 8 integer and 8 decimal
    digits) made the socket's order parameters raise ``ValueError`` after the send was
    written ahead, so the plan crashed and the order was never sent. It now goes over REST,
    whose decimal strings are exact, and the next order goes over the socket again."""
    balances = {"ZUSD": Decimal(10) ** 13, "XXBT": Decimal(1000)}
    with FakeKraken(tmp_path, websocket=True, balances=balances) as kraken:
        service = socket_orders(kraken, reconcile_every_seconds=None)
        big = service.execute_plan(plan("big", kraken.clock.now(), ("SOLUSD", "80163571.61658386")))
        assert big.success, big.errors
        (order,) = big.orders
        assert order.raw_request["volume"] == "80163571.61658386"
        assert rest_calls(kraken, {"AddOrder"}) == 1
        small = service.execute_plan(plan("small", kraken.clock.now(), ("XBTUSD", "0.01")))
        assert small.success, small.errors
        assert rest_calls(kraken, {"AddOrder"}) == 1  # the small one went over the socket
        (placed,) = [o for o in kraken.exchange.orders(kraken.key) if o.pair == "SOLUSD"]
        assert str(placed.vol) == "80163571.61658386"
        assert kraken.violations(service) == []


def test_the_websocket_token_never_reaches_logs_errors_or_the_database(
    tmp_path, caplog, monkeypatch
):
    """The token of GetWebSocketsToken lets whoever holds it trade on the account over the
    socket: a credential like the API secret. Through orders over the socket, refusals,
    answers lost, a cut connection (a new token) and a cancel of everything, with every
    logger at DEBUG, no token appears in a log line, an error, or any row of the database
    (the requests recorded before each send included)."""
    issued: list[str] = []
    real = secrets.token_urlsafe

    def watched(nbytes: int) -> str:  # the fake's token source (`kraken_sim.tokens`), watched
        issued.append(real(nbytes))
        return issued[-1]

    monkeypatch.setattr(secrets, "token_urlsafe", watched)
    caplog.set_level("DEBUG")
    errors: list[str] = []
    with FakeKraken(tmp_path, websocket=WsFaults(lost_reply=0.3)) as kraken:
        service = socket_orders(kraken, max_slippage_bps=Decimal(0), reconcile_every_seconds=None)
        socket = socket_client(service)
        result = service.execute_plan(plan("p1", kraken.clock.now(), *PAIRS))
        errors.extend(result.errors)
        bad = AddOrderRequest(
            pair="XBTUSD", side="buy", ordertype="limit", volume="0.00000001", price="1"
        )
        with pytest.raises(KrakenAPIError) as refused:
            socket.add_order(bad)
        errors.extend((str(refused.value), repr(refused.value)))
        assert kraken.ws is not None
        kraken.ws.disconnect_all()
        assert wait_for(lambda: stream_of(service).stream.stats.connects >= 2)
        streaming(service, resyncs=2)
        service.cancel_all()
        db = service.config.database_path
        service.close()
    assert len(issued) >= 2  # one per connection
    rows = sqlite3.connect(db).iterdump()
    stored = "\n".join(rows)
    text = "\n".join((caplog.text, *errors))
    for token in issued:
        assert token not in text
        assert token not in stored
