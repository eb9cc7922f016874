"""Fault injection: scheduled and seeded faults, their phases, and the journal of the truth."""

from __future__ import annotations

import itertools
import math
import urllib.parse
from datetime import timedelta

import pytest
import requests

from kraken_sim import FaultPlan, FaultRule, Quirks, ScheduledFault, SimTransport, load_faults

API = "https://api.kraken.com"
LIMIT = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "50000", "volume": "0.01"}


@pytest.fixture
def session(exchange):
    with requests.Session() as session:
        session.mount(API, SimTransport(exchange))
        yield session


@pytest.fixture
def post(session, kraken, signer):
    nonces = itertools.count(1)

    def post(method, timeout=10.0, **params):
        nonce = str(next(nonces))
        body = urllib.parse.urlencode({"nonce": nonce, **params})
        path = f"/0/private/{method}"
        headers = {
            "API-Key": kraken.key,
            "API-Sign": signer(path, nonce, body.encode(), kraken.secret),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return session.post(API + path, data=body, headers=headers, timeout=timeout)

    return post


def schedule(kind, endpoint="AddOrder", call=1, **extra):
    return FaultPlan(
        schedule=(ScheduledFault(kind=kind, endpoint=endpoint, calls=(call,), **extra),)
    )


def test_a_lost_response_takes_effect_then_times_out_after_the_read_timeout(exchange, kraken, post):
    exchange.set_faults(schedule("lost_response"))
    before = exchange.clock.now()
    with pytest.raises(requests.exceptions.ReadTimeout):
        post("AddOrder", timeout=(3.0, 7.5), **LIMIT)
    assert exchange.clock.now() - before == timedelta(seconds=7.5)
    (order,) = exchange.orders(kraken.key)
    assert order.status == "open"
    entry = exchange.journal[-1]
    assert (entry.endpoint, entry.fault, entry.fault_phase) == (
        "AddOrder",
        "lost_response",
        "after",
    )
    assert (entry.executed, entry.took_effect, entry.delivered, entry.txids) == (
        True,
        True,
        False,
        (order.txid,),
    )
    assert list(post("OpenOrders").json()["result"]["open"]) == [order.txid]


def test_a_retry_with_the_same_cl_ord_id_after_a_lost_response_is_a_duplicate(
    exchange, kraken, post
):
    exchange.set_faults(schedule("lost_response"))
    with pytest.raises(requests.exceptions.ReadTimeout):
        post("AddOrder", cl_ord_id="intent-1", **LIMIT)
    assert post("AddOrder", cl_ord_id="intent-1", **LIMIT).json() == {
        "error": ["EOrder:Duplicate order"]
    }
    assert len(exchange.orders(kraken.key)) == 1


def test_a_5xx_before_execution_changes_nothing(exchange, kraken, post):
    exchange.set_faults(schedule("http_5xx", phase="before", statuses=(502,)))
    response = post("AddOrder", **LIMIT)
    assert response.status_code == 502
    assert b"502 Bad Gateway" in response.content
    assert exchange.orders(kraken.key) == []
    entry = exchange.journal[-1]
    assert (entry.fault, entry.fault_phase, entry.executed, entry.status) == (
        "http_5xx",
        "before",
        False,
        502,
    )


def test_a_5xx_after_execution_hides_a_placed_order(exchange, kraken, post):
    exchange.set_faults(schedule("http_5xx", phase="after", statuses=(520,)))
    response = post("AddOrder", **LIMIT)
    assert (response.status_code, response.text) == (520, "error code: 520")
    with pytest.raises(requests.exceptions.HTTPError):
        response.raise_for_status()
    assert len(exchange.orders(kraken.key)) == 1
    assert exchange.journal[-1].took_effect


def test_a_timeout_is_a_connect_timeout_and_nothing_happens(exchange, kraken, post):
    exchange.set_faults(schedule("timeout"))
    before = exchange.clock.now()
    with pytest.raises(requests.exceptions.ConnectTimeout):
        post("AddOrder", timeout=(2.0, 9.0), **LIMIT)
    assert exchange.clock.now() - before == timedelta(seconds=2)
    assert exchange.orders(kraken.key) == []
    assert not exchange.journal[-1].executed


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("service_unavailable", "EService:Unavailable"),
        ("busy", "EService:Busy"),
        ("invalid_nonce", "EAPI:Invalid nonce"),
        ("rate_limit", "EAPI:Rate limit exceeded"),
    ],
)
def test_refusals_answer_kraken_errors_and_are_not_executed(exchange, kraken, post, kind, error):
    exchange.set_faults(schedule(kind))
    assert post("AddOrder", **LIMIT).json() == {"error": [error]}
    assert exchange.orders(kraken.key) == []
    assert post("AddOrder", **LIMIT).json()["error"] == []


def test_a_throttle_names_when_to_come_back_in_the_documented_spelling(exchange, kraken, post):
    exchange.set_faults(schedule("throttled", endpoint="OpenOrders", seconds=30))
    now = exchange.clock.now().timestamp()
    assert post("OpenOrders").json() == {"error": [f"EService: Throttled: {int(now) + 30}"]}
    assert not exchange.journal[-1].executed
    assert exchange.fault_counts() == {"throttled": 1}
    assert post("OpenOrders").json() == {"error": [], "result": {"open": {}}}


def test_the_throttle_spelling_is_configurable(make_exchange, flat, client_for):
    fake = make_exchange(flat(quirks=Quirks(throttled_prefix="EService:Throttled")))
    client = client_for(fake)
    fake.set_faults(schedule("throttled", endpoint="Balance", seconds=2.5))
    until = math.ceil(fake.clock.now().timestamp() + 2.5)
    assert client.errors("Balance") == [f"EService:Throttled: {until}"]


def test_a_throttle_fault_is_read_from_a_fault_file():
    plan = load_faults(
        {"rules": [{"kind": "throttled", "endpoints": ["private"], "probability": 1}]}
    )
    assert [rule.kind for rule in plan.rules] == ["throttled"]


def test_an_internal_error_after_execution_is_ambiguous(exchange, kraken, post):
    exchange.set_faults(schedule("internal_error", phase="after"))
    assert post("AddOrder", **LIMIT).json() == {"error": ["EGeneral:Internal error"]}
    assert len(exchange.orders(kraken.key)) == 1


def test_a_delay_moves_the_clock_before_the_answer(exchange, post):
    exchange.set_faults(schedule("delay", endpoint="Balance", seconds=4))
    before = exchange.clock.now()
    assert post("Balance").json()["error"] == []
    assert exchange.clock.now() - before == timedelta(seconds=4)


def test_a_delay_longer_than_the_read_timeout_is_a_lost_response(exchange, kraken, post):
    exchange.set_faults(schedule("delay", seconds=30))
    with pytest.raises(requests.exceptions.ReadTimeout):
        post("AddOrder", timeout=5, **LIMIT)
    assert len(exchange.orders(kraken.key)) == 1


def test_the_schedule_counts_calls_per_endpoint(exchange, kraken, post):
    exchange.set_faults(schedule("busy", call=3))
    post("Balance")
    results = [post("AddOrder", **LIMIT).json()["error"] for _ in range(4)]
    assert results == [[], [], ["EService:Busy"], []]


def test_a_star_schedule_counts_every_request(exchange, session, post):
    exchange.set_faults(schedule("busy", endpoint="*", call=2))
    session.get(API + "/0/public/Time")
    assert post("Balance").json() == {"error": ["EService:Busy"]}


def test_public_endpoints_can_fail_too(exchange, session):
    exchange.set_faults(schedule("http_5xx", endpoint="Ticker", statuses=(504,)))
    assert session.get(API + "/0/public/Ticker").status_code == 504


def test_fault_counts_and_the_journal_record_every_injection(exchange, post):
    plan = FaultPlan(
        schedule=(
            ScheduledFault(kind="busy", endpoint="Balance", calls=(1, 2)),
            ScheduledFault(kind="lost_response", endpoint="Balance", calls=(3,)),
        )
    )
    exchange.set_faults(plan)
    post("Balance")
    post("Balance")
    with pytest.raises(requests.exceptions.ReadTimeout):
        post("Balance")
    post("Balance")
    assert exchange.fault_counts() == {"busy": 2, "lost_response": 1}
    assert [e.fault for e in exchange.journal] == ["busy", "busy", "lost_response", None]


def test_probability_rules_are_seeded(make_exchange, client_for):
    plan = FaultPlan(rules=(FaultRule(kind="busy", endpoints=("Balance",), probability=0.3),))

    def pattern(seed):
        client = client_for(make_exchange(faults=plan, seed=seed))
        return [client.private("Balance")["error"] for _ in range(40)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)
    assert 3 < sum(1 for errors in pattern(1) if errors) < 25


def count_ambiguous_add_orders(exchange, kraken, signer):
    transport = SimTransport(exchange)
    ambiguous = 0
    with requests.Session() as session:
        session.mount(API, transport)
        for i in range(30):
            nonce = str(i + 1)
            body = urllib.parse.urlencode({"nonce": nonce, **LIMIT, "volume": "0.001"})
            path = "/0/private/AddOrder"
            headers = {
                "API-Key": kraken.key,
                "API-Sign": signer(path, nonce, body.encode(), kraken.secret),
            }
            try:
                response = session.post(API + path, data=body, headers=headers, timeout=5)
            except requests.exceptions.Timeout:
                ambiguous += 1
                continue
            if response.status_code != 200 or response.json()["error"]:
                ambiguous += 1
    return ambiguous


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_the_light_profile_spoils_a_few_of_thirty_orders(make_exchange, client_for, signer, seed):
    exchange = make_exchange(faults="light", seed=seed)
    spoiled = count_ambiguous_add_orders(exchange, client_for(exchange), signer)
    assert 1 <= spoiled <= 12


def test_the_heavy_profile_spoils_many_more(make_exchange, client_for, signer):
    light = heavy = 0
    for seed in range(5):
        exchange = make_exchange(faults="light", seed=seed)
        light += count_ambiguous_add_orders(exchange, client_for(exchange), signer)
        exchange = make_exchange(faults="heavy", seed=seed)
        heavy += count_ambiguous_add_orders(exchange, client_for(exchange), signer)
    assert heavy > 2 * light


def test_the_profiles_load_by_name():
    assert load_faults("none") == FaultPlan(name="none")
    assert load_faults("light").name == "light"
    assert {rule.kind for rule in load_faults("heavy").rules} >= {
        "lost_response",
        "http_5xx",
        "timeout",
    }


def test_a_fault_file_is_loaded_from_yaml(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "rules:\n"
        "  - {kind: http_5xx, endpoints: [AddOrder, CancelOrder], probability: 0.5, statuses: [502]}\n"
        "schedule:\n"
        "  - {kind: delay, endpoint: OpenOrders, call: [1, 2], seconds: 4}\n"
    )
    plan = load_faults(path)
    assert plan.name == "mine"
    assert plan.rules == (
        FaultRule(
            kind="http_5xx", endpoints=("AddOrder", "CancelOrder"), probability=0.5, statuses=(502,)
        ),
    )
    assert plan.schedule == (
        ScheduledFault(kind="delay", endpoint="OpenOrders", calls=(1, 2), seconds=4.0),
    )


@pytest.mark.parametrize(
    "text",
    [
        "rules: [{kind: meteor, probability: 0.1}]",
        "rules: [{kind: busy, probability: 2}]",
        "rules: [{kind: busy, probability: 0.1, phase: sometimes}]",
        "rules: [{kind: http_5xx, probability: 0.1, statuses: [404]}]",
        "schedule: [{kind: busy}]",
        "surprise: 1",
        "rules: 5",
    ],
)
def test_bad_fault_files_are_refused(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"."):
        load_faults(path)


def test_the_visibility_fault_only_counts_when_an_order_was_created(exchange, kraken):
    exchange.set_faults(schedule("absent_from_open_orders", seconds=5))
    assert kraken.errors("AddOrder", **{**LIMIT, "volume": "0.000000001"}) == [
        "EGeneral:Invalid arguments:volume"
    ]
    assert exchange.fault_counts() == {}
