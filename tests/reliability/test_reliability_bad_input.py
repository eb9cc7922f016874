"""Bad input: fuzzed plans, configs, pair names and exchange replies end in a clear outcome.

Every case must end in a clear error (`PlanValidationError`, `ConfigFileError`,
a typed `KrakenAPIError`, a ``Failure`` value, a documented exit code) or a
rejected / error order, never in an unhandled exception; and an invalid plan
sends no AddOrder. Replies are fuzzed through the real client with a tiny
``requests`` adapter that answers with the fuzzed body, through the ``parse_*``
functions, and through a whole `ExecutionService`.

The tests at the end pin down what the fuzzing found (each began as a strict
xfail; the fixes are named in their docstrings).
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import json
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

import pytest
import requests
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyrsistent import pmap
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from returns.pipeline import is_successful
from returns.result import Result
from tests.harness import SIM_URL, RecordingTransport, action, live_config, plan, sim_stack
from tests.reliability.figures import Figures
from tests.reliability.fuzz import (
    STATUSES,
    VALID_ACTION,
    config_texts,
    envelope_bytes,
    json_values,
    mutated,
    pair_names,
    plan_docs,
    reply_bodies,
    to_file_text,
)
from typer.testing import CliRunner

from kraken_bot.cli import app
from kraken_bot.cli.exit_codes import ExitCode
from kraken_bot.cli.wiring import load_plan
from kraken_bot.config import StrategyConfig, parse_app_config
from kraken_bot.config_file import ConfigFileError, load_config
from kraken_bot.execution.core.models import OrderStatus
from kraken_bot.execution.exceptions import (
    CancelFailedError,
    KrakenAPIError,
    PlanValidationError,
)
from kraken_bot.execution.shell.oms import ExecutionService
from kraken_bot.kraken import types as kraken_types
from kraken_bot.kraken.client import KrakenRESTClient
from kraken_bot.kraken.orders import AddOrderRequest
from kraken_bot.kraken.pairs import PAIR_EXAMPLE, PairUniverse, parse_asset_pairs
from kraken_bot.kraken.prices import parse_ticker
from kraken_bot.simulation.invariants import ALL_ORDERS, overfill_violations, transition_violations
from kraken_bot.strategy.plan import (
    ExecutionPlan,
    parse_plan,
)
from kraken_sim import Exchange, SimTransport, WallClock, load_scenario, serve

NOW: Final = datetime(2026, 1, 1, tzinfo=UTC)
SECRET: Final = (
    "kQH5HW/8p1uGOVjbgWA7FunAxtDpzgKu5UqK/sQt6Zq9ae2S3vfmIr5Wo9Vw8rAeVrxgbnAQqj1bEexDyM5WjQ=="
)

CHAOS_FACTOR: Final = 10
"""How many times more examples the chaos campaign tries than the default suite."""


def sized(count: int) -> settings:
    """``count`` examples, under the loaded profile (derandomized in ``ci``)."""
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


# ---------------------------------------------------------------- plans


def fuzz_plan_documents(figures: Figures, count: int) -> None:
    @given(doc=plan_docs())
    @sized(count)
    def parsed(doc: object) -> None:
        figures.add("bad_inputs")
        result = parse_plan(doc, now=NOW)
        if is_successful(result):
            for item in result.unwrap().actions:
                assert Decimal(0) <= item.current_base_size <= Decimal("1e15")
                assert Decimal(0) <= item.target_base_size <= Decimal("1e15")
        else:
            assert "problem" in str(result.failure())

    parsed()


bad_sizes = st.sampled_from(
    (
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        Decimal(-1),
        Decimal("-0.00000001"),
        Decimal("1e16"),
        Decimal("1e999999"),
    )
)


@st.composite
def plans_with_a_forbidden_value(draw: st.DrawFn) -> Callable[[], ExecutionPlan]:
    """Builds a plan in code (not parsed) with at least one value the contract forbids.

    A builder, not the plan: building it is where the refusal now happens.
    """
    good = action("XBTUSD", "0", "0.01")
    flaw = draw(st.sampled_from(("current", "target", "pair", "userref", "plan_id")))
    changes: dict[str, Any] = {}
    plan_id = f"bad-{draw(st.integers(0, 10**9))}"
    if flaw == "current":
        changes["current_base_size"] = draw(bad_sizes)
    elif flaw == "target":
        changes["target_base_size"] = draw(bad_sizes)
    elif flaw == "pair":
        changes["pair"] = draw(st.sampled_from(("", " ", "\t", "\n")))
    elif flaw == "userref":
        changes["userref"] = draw(st.sampled_from((2**31, -(2**31) - 1, 2**64)))
    else:
        plan_id = draw(st.sampled_from(("", "   ", "\n")))
    before, after = draw(st.integers(0, 2)), draw(st.integers(0, 2))

    def build() -> ExecutionPlan:
        actions = [good] * before + [replace(good, **changes)] + [good] * after
        return ExecutionPlan(plan_id=plan_id, created_at=NOW, actions=tuple(actions))

    return build


def fuzz_forbidden_values(figures: Figures, count: int, tmp: Path) -> None:
    stack = sim_stack(tmp)
    service = stack.service()

    @given(build=plans_with_a_forbidden_value())
    @sized(count)
    def refused(build: Callable[[], ExecutionPlan]) -> None:
        figures.add("bad_inputs")
        with pytest.raises(PlanValidationError) as raised:
            service.execute_plan(build())
        assert str(raised.value).strip()
        assert raised.value.problems

    refused()
    assert stack.private_calls("AddOrder") == []
    assert service.store.recent_orders(ALL_ORDERS) == []
    stack.close()


def fuzz_pair_names_in_plans(figures: Figures, count: int, tmp: Path) -> None:
    stack = sim_stack(tmp)
    service = stack.service()
    numbers = itertools.count()

    @given(names=st.lists(pair_names, min_size=1, max_size=4))
    @sized(count)
    def planned(names: list[str]) -> None:
        figures.add("bad_inputs", len(names))

        def build() -> ExecutionPlan:
            actions = [action(name, "0", "0.01", strategy=f"s{i}") for i, name in enumerate(names)]
            return plan(f"pairs-{next(numbers)}", *actions)

        if any(not name.strip() for name in names):
            with pytest.raises(PlanValidationError):
                service.execute_plan(build())
            return
        the_plan = build()
        for order in service.execute_plan(the_plan).orders:
            if order.kraken_order_id is None:
                assert order.status in {OrderStatus.ERROR, OrderStatus.REJECTED}, order
                assert order.last_error

    planned()
    sent = {body.get("pair") for body in stack.sent("AddOrder")}
    assert sent <= {"XXBTZUSD", "XETHZUSD", "SOLUSD", "XETHXXBT"}, sent
    stack.close()


# ---------------------------------------------------------------- plan files through krakked


@dataclass
class Served:
    exchange: Exchange
    key: str
    secret: str
    url: str
    home: Path

    def add_orders(self) -> int:
        return sum(1 for e in self.exchange.journal if e.endpoint == "AddOrder")


@contextmanager
def served_exchange() -> Iterator[Served]:
    with tempfile.TemporaryDirectory(prefix="krakked-fuzz-") as home:
        exchange = Exchange(load_scenario(None), seed=3, clock=WallClock(), faults="none")
        key, secret = exchange.create_account(
            {"ZUSD": Decimal(10**7), "XXBT": Decimal(100), "XETH": Decimal(1000)}
        )
        with serve(exchange) as server:
            yield Served(exchange, key, secret, server.base_url, Path(home))


LIVE_CONFIG: Final = """\
execution:
  mode: live
  allow_live_trading: true
  validate_only: false
  dead_man_switch_seconds: 0
  time_in_force: IOC
kraken: {tier: unlimited}
"""


def invoke(served: Served, *args: str) -> Any:
    env = {
        "KRAKEN_API_URL": served.url,
        "KRAKEN_API_KEY": served.key,
        "KRAKEN_API_SECRET": served.secret,
    }
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=True)


def fuzz_plan_files_through_krakked(figures: Figures, count: int) -> None:
    with served_exchange() as served:
        config = served.home / "live.yaml"
        config.write_text(LIVE_CONFIG)
        files = itertools.count()

        @given(doc=plan_docs(), form=st.sampled_from(("yaml", "json", "raw")))
        @sized(count)
        def executed(doc: object, form: str) -> None:
            figures.add("bad_inputs")
            number = next(files)
            path = served.home / f"plan-{number}.txt"
            db = served.home / f"fuzz-{number}.db"  # a fresh database: no plan id is replayed
            path.write_text(to_file_text(doc, form) if form != "raw" else str(doc), "utf-8")
            before = served.add_orders()
            result = invoke(
                served, "execute", "--plan", str(path), "--config", str(config), "--db", str(db)
            )
            assert result.exit_code in {ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE}, ascii(
                (result.exit_code, result.output[-2000:])
            )
            assert "Traceback" not in result.output
            if result.exit_code == ExitCode.USAGE:
                assert "plan" in result.output
                assert served.add_orders() == before  # an invalid plan sends nothing

        executed()


# ---------------------------------------------------------------- configs


def fuzz_config_files(figures: Figures, count: int, tmp: Path) -> None:
    path = tmp / "config.yaml"

    @given(text=config_texts())
    @sized(count)
    def loaded(text: str) -> None:
        figures.add("bad_inputs")
        path.write_text(text, encoding="utf-8")
        try:
            config = load_config(path, env={})
        except ConfigFileError as error:
            config, message = None, str(error)
        else:
            message = ""
        if config is None:
            assert message.strip()
        else:
            assert config.execution.problems() == ()
            assert config.kraken.api_key is None  # never read from the file by default

    loaded()


def fuzz_config_documents(figures: Figures, count: int) -> None:
    @given(raw=json_values)
    @sized(count)
    def parsed(raw: object) -> None:
        figures.add("bad_inputs")
        result = parse_app_config(raw, env={})
        if not is_successful(result):
            assert str(result.failure()).strip()

    parsed()


# ---------------------------------------------------------------- pair names


def fuzz_pair_resolution(figures: Figures, count: int) -> None:
    universe = PairUniverse.of([PAIR_EXAMPLE])

    @given(name=pair_names)
    @sized(count)
    def resolved(name: str) -> None:
        figures.add("bad_inputs")
        found = universe.resolve(name)
        if is_successful(found):
            assert found.unwrap().altname == "XBTUSD"

    resolved()


def fuzz_pair_names_at_the_exchange(figures: Figures, count: int, tmp: Path) -> None:
    stack = sim_stack(tmp)
    client = KrakenRESTClient(
        base_url=SIM_URL,
        tier="unlimited",
        transport=SimTransport(stack.exchange),
        clock=stack.clock,
    )

    @given(name=pair_names)
    @sized(count)
    def quoted(name: str) -> None:
        figures.add("bad_inputs")
        try:
            quotes = client.ticker([name])
        except KrakenAPIError as error:
            quotes = {}
            failure = str(error)
        else:
            failure = "none"
        assert failure.strip()
        assert all(q.bid <= q.ask for q in quotes.values())

    quoted()
    client.close()


# ---------------------------------------------------------------- exchange replies


class CapturingTransport(SimTransport):
    """The in-process fake, keeping the decoded ``result`` of each method's last good reply."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__(exchange)
        self.results: dict[str, object] = {}

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().send(request, *args, **kwargs)
        method = str(request.path_url).split("?")[0].rsplit("/", 1)[-1]
        payload = json.loads(response.content)
        if not payload.get("error"):
            self.results[method] = payload["result"]
        return response


@functools.cache
def samples() -> Mapping[str, object]:
    """Good results of every endpoint the client reads, captured from the fake exchange."""
    with tempfile.TemporaryDirectory(prefix="krakked-samples-") as home:
        stack = sim_stack(Path(home))
        transport = CapturingTransport(stack.exchange)
        with KrakenRESTClient(
            base_url=SIM_URL,
            api_key=stack.key,
            api_secret=stack.secret,
            tier="unlimited",
            transport=transport,
            clock=stack.clock,
        ) as client:
            client.server_time()
            client.system_status()
            client.asset_pairs(["XBTUSD"])
            client.ticker(["XBTUSD"])
            client.balance()
            request = AddOrderRequest(
                pair="XXBTZUSD", side="buy", ordertype="limit", volume="0.01", price="50000"
            )
            txid = client.add_order(request).txids[0]
            client.open_orders()
            client.query_orders([txid])
            client.cancel_order(txid=txid)
            client.closed_orders()
            client.cancel_all()
            client.cancel_all_orders_after(60)
    return dict(transport.results)


TXID: Final = "OABCDE-FGHIJ-KLMNOP"
CALLS: Final[Mapping[str, Callable[[KrakenRESTClient], object]]] = {
    "Time": lambda c: c.server_time(),
    "SystemStatus": lambda c: c.system_status(),
    "AssetPairs": lambda c: c.asset_pairs(["XBTUSD"]),
    "Ticker": lambda c: c.ticker(["XBTUSD"]),
    "Balance": lambda c: c.balance(),
    "AddOrder": lambda c: c.add_order(
        AddOrderRequest(pair="XXBTZUSD", side="buy", ordertype="limit", volume="1", price="1")
    ),
    "OpenOrders": lambda c: c.open_orders(),
    "ClosedOrders": lambda c: c.closed_orders(),
    "QueryOrders": lambda c: c.query_orders([TXID]),
    "CancelOrder": lambda c: c.cancel_order(txid=TXID),
    "CancelAll": lambda c: c.cancel_all(),
    "CancelAllOrdersAfter": lambda c: c.cancel_all_orders_after(60),
}
LAST_PAGE: Final = envelope_bytes({"closed": {}, "count": 0})


def answer(request: Any, status: int, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.raw = io.BytesIO(body)
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
    response.url = request.url
    response.request = request
    return response


class Answers(BaseAdapter):
    """A ``requests`` adapter answering the first call with given bytes, later ones with an
    empty last ClosedOrders page (`SamePageForever` is a server that never stops paging)."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__()
        self.status = status
        self.body = body
        self.calls = 0

    def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
        self.calls += 1
        if self.calls > 1:
            return answer(request, 200, LAST_PAGE)
        return answer(request, self.status, self.body)

    def close(self) -> None:
        """Nothing to release."""


def client_answering(adapter: BaseAdapter) -> KrakenRESTClient:
    return KrakenRESTClient(
        base_url="http://kraken-fuzz.invalid",
        api_key="fuzz-key",
        api_secret=SECRET,
        tier="unlimited",
        transport=adapter,
    )


@st.composite
def replies(draw: st.DrawFn) -> tuple[str, int, bytes]:
    method = draw(st.sampled_from(sorted(CALLS)))
    return method, draw(st.sampled_from(STATUSES)), draw(reply_bodies(samples()[method]))


def fuzz_replies_through_the_client(figures: Figures, count: int) -> None:
    @given(reply=replies())
    @sized(count)
    def answered(reply: tuple[str, int, bytes]) -> None:
        method, status, body = reply
        figures.add("bad_inputs")
        with client_answering(Answers(status, body)) as client:
            try:
                value = CALLS[method](client)
            except KrakenAPIError as error:
                value, message = None, str(error)
            else:
                message = ""
                assert status == 200
                assert value is not None
            assert value is not None or message.strip()

    answered()


PARSERS: Final[Mapping[str, Callable[[object], Result[Any, Any]]]] = {
    "Time": kraken_types.parse_server_time,
    "SystemStatus": kraken_types.parse_system_status,
    "AssetPairs": parse_asset_pairs,
    "Ticker": lambda r: parse_ticker(r, read_at=NOW),
    "Balance": kraken_types.parse_balance,
    "AddOrder": kraken_types.parse_add_order,
    "OpenOrders": kraken_types.parse_open_orders,
    "ClosedOrders": kraken_types.parse_closed_orders,
    "QueryOrders": lambda r: kraken_types.parse_order_map("QueryOrders", r),
    "CancelOrder": lambda r: kraken_types.parse_cancel("CancelOrder", r),
    "CancelAll": lambda r: kraken_types.parse_cancel("CancelAll", r),
    "CancelAllOrdersAfter": kraken_types.parse_dead_man_switch,
}


@st.composite
def decoded_results(draw: st.DrawFn) -> tuple[str, object]:
    method = draw(st.sampled_from(sorted(PARSERS)))
    return method, draw(st.one_of(mutated(samples()[method]), json_values))


def fuzz_parsers(figures: Figures, count: int) -> None:
    @given(case=decoded_results())
    @sized(count)
    def parsed(case: tuple[str, object]) -> None:
        method, result = case
        figures.add("bad_inputs")
        outcome = PARSERS[method](result)
        assert isinstance(outcome, Result)
        if not is_successful(outcome):
            assert str(outcome.failure()).strip()

    parsed()


TRADING: Final = frozenset(
    {"AddOrder", "OpenOrders", "ClosedOrders", "QueryOrders", "CancelOrder", "CancelAll"}
)


class FuzzedTrading(RecordingTransport):
    """Public data from the fake exchange; every trading reply drawn by hypothesis."""

    def __init__(self, exchange: Exchange, draw: Callable[[str], tuple[int, bytes]]) -> None:
        super().__init__(exchange)
        self.draw = draw

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        method = str(request.path_url).split("?")[0].rsplit("/", 1)[-1]
        if method not in TRADING:
            return super().send(request, *args, **kwargs)
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        if method == "ClosedOrders" and dict(parse_qsl(body)).get("ofs", "0") != "0":
            return answer(request, 200, LAST_PAGE)
        status, payload = self.draw(method)
        return answer(request, status, payload)


def fuzz_service_on_fuzzed_trading_replies(figures: Figures, count: int, tmp: Path) -> None:
    runs = itertools.count()

    @given(data=st.data())
    @sized(count)
    def survived(data: st.DataObject) -> None:
        home = tmp / f"run-{next(runs)}"
        home.mkdir()
        stack = sim_stack(home, execution=live_config(max_retries=1, max_concurrent_orders=1))

        def draw(method: str) -> tuple[int, bytes]:
            figures.add("bad_inputs")
            status = data.draw(st.sampled_from(STATUSES), label=f"{method} status")
            return status, data.draw(reply_bodies(samples()[method]), label=f"{method} body")

        service = ExecutionService.from_config(
            stack.config,
            transport=FuzzedTrading(stack.exchange, draw),
            clock=stack.clock,
            background_scheduler=False,
        )
        service.initialize()
        the_plan = plan(
            f"fuzzed-{home.name}",
            action("XBTUSD", "0", "0.01"),
            action("ETHUSD", "1", "0.5", strategy="other"),
            action("SOLUSD", "0", "3", strategy="tagged", userref=9),
        )
        assert service.execute_plan(the_plan).plan_id == the_plan.plan_id
        service.refresh_from_exchange()
        with contextlib.suppress(CancelFailedError, KrakenAPIError):
            service.cancel_all()
        local = service.store.recent_orders(ALL_ORDERS)
        assert overfill_violations(local) == []
        for order in local:
            trail = service.store.events_for(order.local_id)
            assert transition_violations(order.local_id, trail) == []
        service.close()

    survived()


# ---------------------------------------------------------------- the default suite and chaos

CI_SIZES: Final = {
    "plan_documents": 300,
    "forbidden_values": 100,
    "pair_names_in_plans": 80,
    "plan_files": 50,
    "config_files": 200,
    "config_documents": 200,
    "pair_resolution": 200,
    "pair_names_at_the_exchange": 100,
    "replies": 500,
    "parsers": 600,
    "service": 30,
}


def run_all(figures: Figures, tmp: Path, factor: int) -> None:
    """Every fuzz check, ``factor`` times its default size; all run even if one fails."""
    size = {name: count * factor for name, count in CI_SIZES.items()}
    for home in ("forbidden", "pairs", "ticker", "service", "config"):
        (tmp / home).mkdir()
    checks: list[tuple[str, Callable[[], None]]] = [
        ("plan documents", lambda: fuzz_plan_documents(figures, size["plan_documents"])),
        (
            "forbidden values",
            lambda: fuzz_forbidden_values(figures, size["forbidden_values"], tmp / "forbidden"),
        ),
        (
            "pair names in plans",
            lambda: fuzz_pair_names_in_plans(figures, size["pair_names_in_plans"], tmp / "pairs"),
        ),
        ("plan files", lambda: fuzz_plan_files_through_krakked(figures, size["plan_files"])),
        ("config files", lambda: fuzz_config_files(figures, size["config_files"], tmp / "config")),
        ("config documents", lambda: fuzz_config_documents(figures, size["config_documents"])),
        ("pair resolution", lambda: fuzz_pair_resolution(figures, size["pair_resolution"])),
        (
            "pair names at the exchange",
            lambda: fuzz_pair_names_at_the_exchange(
                figures, size["pair_names_at_the_exchange"], tmp / "ticker"
            ),
        ),
        ("replies", lambda: fuzz_replies_through_the_client(figures, size["replies"])),
        ("parsers", lambda: fuzz_parsers(figures, size["parsers"])),
        (
            "service",
            lambda: fuzz_service_on_fuzzed_trading_replies(
                figures, size["service"], tmp / "service"
            ),
        ),
    ]
    failed: list[str] = []
    for name, check in checks:
        try:
            check()
        except Exception as error:  # every check runs; the campaign fails at the end
            figures.add("invariant_violations")
            figures.note(f"bad input, {name}: {type(error).__name__}: {str(error)[:300]}")
            failed.append(f"{name}: {type(error).__name__}: {error}")
    assert not failed, "\n\n".join(failed)


def assert_cases_ran(figures: Figures) -> None:
    """The campaign really tried inputs, and none of them broke an invariant."""
    assert figures.counts["bad_inputs"] > 0
    assert figures.counts["invariant_violations"] == 0


def test_fuzzed_plan_documents_parse_or_list_their_problems(figures):
    fuzz_plan_documents(figures, CI_SIZES["plan_documents"])
    assert_cases_ran(figures)


def test_a_plan_with_a_forbidden_value_is_refused_before_anything_is_sent(tmp_path, figures):
    fuzz_forbidden_values(figures, CI_SIZES["forbidden_values"], tmp_path)
    assert_cases_ran(figures)


def test_unknown_or_odd_pair_names_become_error_orders_and_are_never_sent(tmp_path, figures):
    fuzz_pair_names_in_plans(figures, CI_SIZES["pair_names_in_plans"], tmp_path)
    assert_cases_ran(figures)


def test_fuzzed_plan_files_given_to_krakked_execute_end_in_a_documented_exit_code(figures):
    fuzz_plan_files_through_krakked(figures, CI_SIZES["plan_files"])
    assert_cases_ran(figures)


def test_fuzzed_config_files_load_or_fail_with_a_config_file_error(tmp_path, figures):
    fuzz_config_files(figures, CI_SIZES["config_files"], tmp_path)
    assert_cases_ran(figures)


def test_any_decoded_config_document_parses_to_a_result(figures):
    fuzz_config_documents(figures, CI_SIZES["config_documents"])
    assert_cases_ran(figures)


def test_any_pair_name_resolves_or_is_unknown(figures):
    fuzz_pair_resolution(figures, CI_SIZES["pair_resolution"])
    assert_cases_ran(figures)


def test_any_pair_name_sent_to_the_exchange_is_a_quote_or_a_typed_error(tmp_path, figures):
    fuzz_pair_names_at_the_exchange(figures, CI_SIZES["pair_names_at_the_exchange"], tmp_path)
    assert_cases_ran(figures)


def test_a_fuzzed_reply_through_the_real_client_is_a_value_or_a_typed_error(figures):
    fuzz_replies_through_the_client(figures, CI_SIZES["replies"])
    assert_cases_ran(figures)


def test_every_parser_returns_a_result_for_any_decoded_json(figures):
    fuzz_parsers(figures, CI_SIZES["parsers"])
    assert_cases_ran(figures)


def test_the_service_survives_fuzzed_trading_replies(tmp_path, figures):
    fuzz_service_on_fuzzed_trading_replies(figures, CI_SIZES["service"], tmp_path)
    assert_cases_ran(figures)


@pytest.mark.slow
def test_chaos_campaign_of_bad_inputs(tmp_path, figures):
    run_all(figures, tmp_path, CHAOS_FACTOR)
    assert_cases_ran(figures)


# ---------------------------------------------------------------- what the fuzzing found


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_config_with_a_huge_integer_is_a_config_error(tmp_path):
    """Found: yaml.safe_load raises ValueError for an integer of more than 4300 digits
    (Python's int limit), which config_file._read_yaml let through (fixed: load_yaml_text)."""
    path = tmp_path / "config.yaml"
    path.write_text("execution:\n  max_retries: " + "9" * 5000 + "\n")
    with pytest.raises(ConfigFileError):
        load_config(path, env={})


def test_a_deeply_nested_config_is_a_config_error(tmp_path):
    """Found: absurd nesting makes yaml.safe_load raise RecursionError (fixed: load_yaml_text)."""
    path = tmp_path / "config.yaml"
    path.write_text("execution: " + _nested(5000) + "\n")
    with pytest.raises(ConfigFileError):
        load_config(path, env={})


@pytest.mark.parametrize(
    "text",
    [
        "plan_id: p\nactions:\n  - {target_base_size: " + "9" * 5000 + "}\n",
        "plan_id: p\nactions: " + _nested(5000) + "\n",
    ],
    ids=["huge-integer", "deep-nesting"],
)
def test_a_plan_file_the_yaml_parser_chokes_on_is_a_usage_error(tmp_path, text):
    """Found: cli.wiring.load_plan caught only yaml.YAMLError, so these ended in exit 70."""
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    result = CliRunner().invoke(
        app, ["execute", "--plan", str(path), "--db", str(tmp_path / "x.db")]
    )
    assert result.exit_code == ExitCode.USAGE, result.output


def test_a_deeply_nested_reply_is_a_typed_error():
    """Found: KrakenRESTClient._decode caught only ValueError from json.loads; a reply nested
    deeper than the recursion limit (about 2 kB) escaped as RecursionError, through the
    service's retry loops and out of execute_plan."""
    client = client_answering(Answers(200, _nested(5000).encode()))
    with pytest.raises(KrakenAPIError):
        client.server_time()


class SamePageForever(BaseAdapter):
    """A broken server: ClosedOrders always answers the same page and a count it never reaches."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        queried = samples()["QueryOrders"]
        assert isinstance(queried, dict)
        page = {"closed": {TXID: next(iter(queried.values()))}}
        self.body = envelope_bytes({**page, "count": 10**6})

    def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
        self.calls += 1
        if self.calls > 200:
            raise requests.exceptions.ConnectionError("the test stopped an endless pagination")
        return answer(request, 200, self.body)

    def close(self) -> None:
        """Nothing to release."""


def test_closed_orders_stops_when_pages_bring_nothing_new():
    """Found: KrakenRESTClient.closed_orders paged while offset < count even when a page brought
    nothing new, so a server repeating one page kept it looping forever."""
    adapter = SamePageForever()
    client = client_answering(adapter)
    with contextlib.suppress(KrakenAPIError):
        client.closed_orders()
    assert adapter.calls <= 3


ALIASES: Final = "\n".join(
    [
        'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 6)),
    ]
)


def _plan(raw: object) -> Result[Any, Any]:
    return parse_plan(raw, now=NOW)


def _config(raw: object) -> Result[Any, Any]:
    return parse_app_config(raw, env={})


@pytest.mark.parametrize(
    ("document", "parse"),
    [
        pytest.param(ALIASES + "\nplan_id: *a5\nactions: []", _plan, id="plan-id"),
        pytest.param(ALIASES + "\nplan_id: p\ncreated_at: *a5\nactions: *a5", _plan, id="plan"),
        pytest.param(
            ALIASES + "\nplan_id: p\nactions: [{pair: XBTUSD, strategy_id: s, action_type: *a5,"
            " current_base_size: 0, target_base_size: 1}]",
            _plan,
            id="plan-action-type",
        ),
        pytest.param(ALIASES + "\nstorage: {path: *a5}", _config, id="config-text"),
        pytest.param(ALIASES + "\nexecution: {mode: *a5}", _config, id="config-enum"),
    ],
)
def test_a_small_file_full_of_aliases_is_refused_in_bounded_memory(document, parse):
    """Found: the `_show` helpers of strategy.plan and config built the whole repr() of a value
    before cutting it to 60 characters, and enum fields were parsed with cls(str(value)); a few
    hundred bytes of YAML aliases expand to 10**n items, so memory and time grew tenfold per
    alias level (nine levels: minutes, gigabytes). Fixed: kraken_bot._show."""
    assert len(document) < 1000
    raw = yaml.safe_load(document)
    tracemalloc.start()
    try:
        result = parse(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not is_successful(result)
    assert peak < 1_000_000, f"{peak} bytes to refuse a {len(document)}-byte document"


LONE_SURROGATE: Final = "\ud800"


@pytest.mark.parametrize("field", ["plan_id", "pair", "strategy_id", "block_reasons"])
def test_text_that_is_not_valid_unicode_is_refused_before_anything_is_sent(tmp_path, field):
    stack = sim_stack(tmp_path)
    service = stack.service()
    fine = action("XBTUSD", "0", "0.01")
    odd = action("ETHUSD", "0", "1", strategy="other")
    plan_id = "surrogate"
    changes: dict[str, Any] = {}
    if field == "plan_id":
        plan_id += LONE_SURROGATE
    elif field == "pair":
        changes["pair"] = "ETH" + LONE_SURROGATE
    elif field == "strategy_id":
        changes["strategy_id"] = "other" + LONE_SURROGATE
    else:
        changes.update(blocked=True, block_reasons=("risk" + LONE_SURROGATE,))
    with pytest.raises(PlanValidationError):  # building the plan refuses it
        service.execute_plan(plan(plan_id, fine, replace(odd, **changes)))
    assert stack.private_calls("AddOrder") == []
    stack.close()


def test_a_json_plan_file_with_an_escaped_emoji_keeps_the_emoji(tmp_path):
    path = tmp_path / "plan.json"
    doc = {"plan_id": "emoji", "actions": [{**VALID_ACTION, "strategy_id": "\U0001f680-trend"}]}
    path.write_text(json.dumps(doc))  # ensure_ascii: "\ud83d\ude80-trend"
    strategy = load_plan(path).actions[0].strategy_id or ""
    assert ascii(strategy) == ascii("\U0001f680-trend")  # ASCII: xdist cannot ship surrogates


def test_a_reply_with_text_that_is_not_valid_unicode_never_crashes_reconciliation(tmp_path):
    stack = sim_stack(tmp_path, strategies=pmap({"tagged": StrategyConfig(userref=9)}))
    info = {
        "status": "open",
        "vol": "1",
        "vol_exec": "0",
        "userref": 9,
        "opentm": 1767225600,
        "descr": {"pair": "XBT", "type": "buy", "ordertype": "limit", "price": "1"},
    }
    body = envelope_bytes({"open": {"OSURRO-GATE1-AAAAAA": info}}).replace(
        b'"XBT"', b'"\\ud800XBT"'
    )

    def replies(method: str) -> tuple[int, bytes]:
        return 200, body if method == "OpenOrders" else LAST_PAGE

    service = ExecutionService.from_config(
        stack.config,
        transport=FuzzedTrading(stack.exchange, replies),
        clock=stack.clock,
        background_scheduler=False,
    )
    service.initialize()
    report = service.refresh_from_exchange()  # raised UnicodeEncodeError before the fix
    assert report.adopted == 0 or report.errors
    service.close()


@pytest.mark.parametrize(
    ("document", "parse"),
    [
        pytest.param("execution: &a {mode: *a}", _config, id="config-mapping"),
        pytest.param("a: &c [*c]\nexecution: {max_retries: *c}", _config, id="config-list"),
        pytest.param("plan_id: x\nactions: &a [*a]", _plan, id="plan-actions"),
        pytest.param("plan_id: &p [*p]\nactions: []", _plan, id="plan-id"),
    ],
)
def test_a_value_that_contains_itself_is_refused_with_a_clear_error(document, parse):
    result = parse(yaml.safe_load(document))
    assert not is_successful(result)
    assert str(result.failure()).strip()
