"""Running one plan, the decisions around the planner: resume, prices, send groups, result."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from returns.result import Failure, Success
from tests.builders import NOW, a_plan, an_action, an_intent, an_order, an_order_in, universe

from kraken_bot.execution.core import lifecycle
from kraken_bot.execution.core.models import (
    ActionSkip,
    ExecutionMode,
    OrderStatus,
    Side,
    SkipReason,
)
from kraken_bot.execution.core.plan_runs import (
    Conflict,
    PlanRecords,
    Refuse,
    Replay,
    Run,
    admission,
    identical_in_flight,
    ids_needed,
    never_sent,
    plan_records,
    plan_result,
    price_pairs,
    refused_result,
    replay_conflict,
    resume_point,
    send_groups,
    twin_blocked,
    unsent_to_give_up,
    userref_twins,
)

# ---------------------------------------------------------------- resume


def test_an_order_without_a_send_attempt_and_without_a_live_sender_was_never_sent():
    assert never_sent(an_order())
    assert never_sent(an_order_in(OrderStatus.ERROR))


def test_an_order_a_live_sender_holds_may_still_be_sent():
    assert not never_sent(an_order(), frozenset({"L1"}))


def test_an_order_sent_or_finished_otherwise_was_not_never_sent():
    assert not never_sent(an_order(attempts=1))
    assert not never_sent(an_order_in(OrderStatus.REJECTED))
    assert not never_sent(an_order_in(OrderStatus.OPEN))


def test_a_resumed_plan_keeps_orders_that_may_have_left_and_replans_the_rest():
    left = an_order_in(OrderStatus.OPEN, local_id="A", action_index=0)
    unsent = an_order(local_id="B", action_index=1)
    claimed = an_order(local_id="C", action_index=2)
    no_index = an_order_in(OrderStatus.FILLED, local_id="D", action_index=None)
    earlier, done = resume_point([left, unsent, claimed, no_index], frozenset({"C"}))
    assert earlier == [left, claimed, no_index]
    assert done == frozenset({0, 2})


def test_a_resumed_plans_pending_orders_that_never_left_are_given_up_before_it_is_planned():
    unsent = an_order(local_id="B", action_index=1)
    events = unsent_to_give_up(
        [
            an_order_in(OrderStatus.OPEN, local_id="A"),  # left
            unsent,
            an_order(local_id="C"),  # its sender is alive
            an_order(local_id="D", attempts=1),  # an AddOrder left
            an_order_in(OrderStatus.ERROR, local_id="E"),  # finished already
        ],
        frozenset({"C"}),
        now=NOW,
    )
    assert [local_id for local_id, _ in events] == ["B"]
    (_, event) = events[0]
    assert event.never_sent
    assert event.at == NOW
    # Given up, it is planned again (not done), and no longer pending (not working).
    given_up = lifecycle.apply(unsent, event).unwrap()
    assert given_up.status is OrderStatus.ERROR
    assert resume_point([given_up], frozenset()) == ([], frozenset())


# ---------------------------------------------------------------- prices


def test_prices_are_read_for_each_listed_pair_and_the_usd_pair_of_a_foreign_quote():
    plan = a_plan(
        an_action(pair="ETHXBT"),
        an_action(pair="XXBTZUSD"),
        an_action(pair="NOSUCHPAIR"),
        an_action(pair="SOLUSD"),
    )
    assert price_pairs(plan, universe()) == ["ETHXBT", "SOLUSD", "XBTUSD"]


def test_a_plan_of_unlisted_pairs_needs_no_prices():
    assert price_pairs(a_plan(an_action(pair="NOSUCHPAIR")), universe()) == []


def test_a_foreign_quote_without_a_usd_pair_needs_only_its_own_price():
    from tests.builders import a_pair, universe_of  # noqa: PLC0415 - this test only

    alone = universe_of(a_pair("ETHXBT"))
    assert price_pairs(a_plan(an_action(pair="ETHXBT")), alone) == ["ETHXBT"]


# ---------------------------------------------------------------- send groups and twins


def test_userref_orders_of_one_pair_are_grouped_and_others_go_alone():
    a = an_order(local_id="A", userref=7)
    b = an_order(local_id="B")
    c = an_order(local_id="C", userref=7)
    d = an_order(local_id="D", userref=7, pair="ETHUSD")
    e = an_order(local_id="E")
    groups = send_groups([a, b, c, d, e])
    assert [[o.local_id for o in g] for g in groups] == [["A", "C"], ["B"], ["D"], ["E"]]


def test_twins_are_indexed_by_pair_and_userref():
    tracked = [
        an_order(local_id="A", userref=7),
        an_order(local_id="B"),
        an_order(local_id="C", userref=7),
        an_order(local_id="D", userref=8),
    ]
    assert userref_twins(tracked) == {("XBTUSD", 7): ["A", "C"], ("XBTUSD", 8): ["D"]}


def in_flight_twin(**overrides):
    fields = {
        "local_id": "T",
        "userref": 7,
        "status": OrderStatus.SUBMITTED,
        "attempts": 1,
    }
    fields.update(overrides)
    return an_order(**fields)


def test_an_unacknowledged_identical_userref_order_blocks_the_send():
    order = an_order(userref=7)
    twin = in_flight_twin()
    assert identical_in_flight(order, [twin]) is twin


def test_an_order_without_a_userref_is_never_blocked():
    assert identical_in_flight(an_order(), [in_flight_twin(userref=None)]) is None


def test_orders_kraken_can_tell_apart_or_already_answered_do_not_block():
    order = an_order(userref=7)
    harmless = [
        an_order(userref=7),  # itself
        in_flight_twin(attempts=0),  # never sent
        in_flight_twin(kraken_order_id="OA"),  # acknowledged: Kraken named it
        in_flight_twin(status=OrderStatus.CANCELED),  # finished
        in_flight_twin(side=Side.SELL),
        in_flight_twin(requested_base_size=Decimal("0.2")),
        in_flight_twin(requested_price=Decimal(1)),
    ]
    assert identical_in_flight(order, harmless) is None


def test_a_blocked_order_is_given_up_as_never_sent_naming_its_twin():
    event = twin_blocked(in_flight_twin(), now=NOW)
    assert event.never_sent
    assert "identical order T" in event.message
    assert event.at == NOW


# ---------------------------------------------------------------- result


def test_the_result_lists_orders_in_action_order_with_an_error_per_failed_order():
    later = NOW + timedelta(seconds=1)
    failed = an_order_in(
        OrderStatus.REJECTED, local_id="B", action_index=1, last_error="EOrder:Insufficient funds"
    )
    unindexed = an_order_in(OrderStatus.FILLED, local_id="C", action_index=None)
    second_of_first = an_order_in(OrderStatus.OPEN, local_id="A2", action_index=0, created_at=later)
    first = an_order_in(OrderStatus.OPEN, local_id="A1", action_index=0)
    result = plan_result(
        "plan-1",
        started=NOW,
        completed=later,
        orders=[failed, second_of_first, first, unindexed],
        skipped=(),
        plan_errors=["market data unavailable"],
        mode=ExecutionMode.PAPER,
    )
    assert [o.local_id for o in result.orders] == ["C", "A1", "A2", "B"]
    assert result.errors == (
        "market data unavailable",
        "XBTUSD buy 0.1: rejected: EOrder:Insufficient funds",
    )
    assert not result.success
    assert (result.started_at, result.completed_at, result.mode) == (
        NOW,
        later,
        ExecutionMode.PAPER,
    )


def test_a_plan_without_errors_succeeds():
    result = plan_result(
        "plan-1",
        started=NOW,
        completed=NOW,
        orders=[an_order_in(OrderStatus.FILLED)],
        skipped=(),
        plan_errors=[],
        mode=ExecutionMode.DRY_RUN,
    )
    assert result.success
    assert result.errors == ()


def test_a_refused_plan_has_no_orders_and_its_reason_as_its_error():
    result = refused_result("plan-1", now=NOW, reason="not synced", mode=ExecutionMode.LIVE)
    assert not result.success
    assert result.orders == ()
    assert result.errors == ("not synced",)
    assert result.started_at == result.completed_at == NOW


def test_a_plan_replays_only_in_the_mode_that_executed_it():
    previous = refused_result("plan-1", now=NOW, reason="x", mode=ExecutionMode.PAPER)
    assert replay_conflict(previous, mode=ExecutionMode.PAPER, database="db") is None
    conflict = replay_conflict(previous, mode=ExecutionMode.LIVE, database="paper.sqlite")
    assert conflict is not None
    assert "'plan-1' was executed in paper mode in paper.sqlite" in conflict
    assert "a live result cannot reuse it" in conflict


# ---------------------------------------------------------------- write-ahead records


def _skip(index: int, reason: SkipReason) -> ActionSkip:
    return ActionSkip(
        action_index=index, pair="XBTUSD", strategy_id="s", reason=reason, message=reason.value
    )


def test_each_decision_becomes_its_record_in_action_order_under_the_ids_drawn_for_it():
    decisions = [
        Success(an_intent(action_index=0)),  # done in the run cut short: nothing new
        Success(an_intent(action_index=1)),
        Failure(_skip(2, SkipReason.PAIR_NOT_ONLINE)),  # a guardrail: an error order
        Failure(_skip(3, SkipReason.NO_OP)),  # benign: nothing written
        Success(an_intent(action_index=4)),
    ]
    done = frozenset({0})
    assert ids_needed(decisions, done) == 3
    records = plan_records(
        "plan-1", decisions, done=done, ids=["L1", "L2", "L3"], now=NOW, owner="svc-1"
    )
    assert [(o.local_id, o.status, o.claimed_by) for o in records.pending] == [
        ("L1", OrderStatus.PENDING, "svc-1"),
        ("L3", OrderStatus.PENDING, "svc-1"),
    ]
    ((guard, why),) = records.guarded
    assert (guard.local_id, guard.status, why) == ("L2", OrderStatus.ERROR, "pair_not_online")
    assert [(index, skip.reason) for index, skip in records.skipped] == [(3, SkipReason.NO_OP)]


def test_a_plan_with_every_action_done_writes_nothing_and_needs_no_id():
    decisions = [Success(an_intent(action_index=0))]
    assert ids_needed(decisions, frozenset({0})) == 0
    records = plan_records("plan-1", decisions, done=frozenset({0}), ids=[], now=NOW, owner=None)
    assert records == PlanRecords(pending=(), guarded=(), skipped=())


# ---------------------------------------------------------------- admission


def test_a_plan_never_run_runs_once_the_exchange_state_is_known_and_is_refused_before():
    assert admission(None, state_known=True, mode=ExecutionMode.LIVE, database="x.db") == Run()
    refused = admission(None, state_known=False, mode=ExecutionMode.LIVE, database="x.db")
    assert isinstance(refused, Refuse)
    assert "nothing can be bought twice" in refused.reason


def test_a_plan_run_before_replays_in_its_own_mode_and_conflicts_in_another():
    paper = refused_result("p1", now=NOW, reason="", mode=ExecutionMode.PAPER)
    # the stored result answers whatever the exchange state: nothing is sent again
    for known in (True, False):
        replay = admission(paper, state_known=known, mode=ExecutionMode.PAPER, database="x.db")
        assert replay == Replay(paper)
    conflict = admission(paper, state_known=True, mode=ExecutionMode.LIVE, database="x.db")
    assert isinstance(conflict, Conflict)
    assert "executed in paper mode in x.db" in conflict.message
