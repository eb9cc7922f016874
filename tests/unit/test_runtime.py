"""The always-on process's pieces: the plan inbox rules, the health verdict, the alert body,
the log formats. Pure rules are tested as values; the inbox on a real directory."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.builders import an_order

from kraken_bot.cli.logs import JsonFormatter, TextFormatter
from kraken_bot.execution.core.events import HealthEvent, HealthKind, OrderUpdate, OrderUpdateKind
from kraken_bot.execution.core.models import OrderStatus
from kraken_bot.runtime.alerts import alert_body
from kraken_bot.runtime.daemon import PlanInbox, write_json_atomically
from kraken_bot.runtime.health import verdict
from kraken_bot.runtime.inbox import Seen, Unreadable, arrival_order, is_plan_name, ready
from kraken_sim.clock import VirtualClock

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

# ---------------------------------------------------------------------- inbox rules

names = st.sampled_from(["a.yaml", "b.yml", "c.json", ".d.yaml", "e.yaml.tmp", "f.txt"])
seens = st.builds(Seen, names, st.integers(0, 3), st.integers(0, 3))


@given(current=st.lists(seens, unique_by=lambda s: s.name), previous=st.lists(seens))
def test_a_file_is_ready_only_when_seen_unchanged_twice(current, previous):
    found = ready(current=current, previous=previous)
    for seen in found:
        assert is_plan_name(seen.name)
        assert seen in previous
    assert found == arrival_order(found)


def test_a_batch_dropped_at_once_runs_in_name_order():
    batch = [Seen("b.yaml", 1, 5), Seen("a.yaml", 1, 5), Seen("c.yaml", 1, 4)]
    assert [s.name for s in arrival_order(batch)] == ["c.yaml", "a.yaml", "b.yaml"]


def test_the_inbox_retries_a_young_unparsable_file_and_fails_it_once_settled(tmp_path):
    clock = VirtualClock(NOW)
    inbox = PlanInbox(tmp_path / "plans", settle_seconds=5, clock=clock)
    inbox.prepare()
    path = inbox.directory / "p.yaml"
    path.write_text("plan_id: [")
    assert inbox.look() == []  # seen once: not yet ready
    (seen,) = inbox.look()
    assert inbox.unreadable(seen) is Unreadable.RETRY
    clock.advance(4)
    assert inbox.unreadable(seen) is Unreadable.RETRY
    path.write_text("plan_id: [x")  # written to again: the wait starts over
    os.utime(path, ns=(seen.mtime_ns + 10**9, seen.mtime_ns + 10**9))
    inbox.look()
    (changed,) = inbox.look()
    assert inbox.unreadable(changed) is Unreadable.RETRY
    clock.advance(4)
    assert inbox.unreadable(changed) is Unreadable.RETRY
    clock.advance(2)
    assert inbox.unreadable(changed) is Unreadable.FAIL
    moved = inbox.move_failed("p.yaml", "broken")
    assert moved.parent.name == "failed"
    assert (moved.parent / "p.yaml.error.txt").read_text() == "broken\n"
    assert not path.exists()


def test_the_same_name_dropped_twice_keeps_both_in_failed(tmp_path):
    inbox = PlanInbox(tmp_path, clock=VirtualClock(NOW))
    inbox.prepare()
    for _ in range(2):
        (tmp_path / "p.json").write_text("{}")
        inbox.move_failed("p.json", "no")
    assert len(list(inbox.failed.glob("p*.json"))) == 2


def test_the_inbox_refuses_a_path_that_is_a_file(tmp_path):
    (tmp_path / "plans").write_text("")
    with pytest.raises(Exception, match="cannot use it"):
        PlanInbox(tmp_path / "plans", clock=VirtualClock(NOW)).prepare()


def test_json_is_written_whole_or_not_at_all(tmp_path):
    target = tmp_path / "beat.json"
    write_json_atomically(target, {"a": 1})
    write_json_atomically(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["beat.json"]


# ---------------------------------------------------------------------- health


def beat(**fields: object) -> dict[str, object]:
    record: dict[str, object] = {
        "pid": 7,
        "updated_at": (NOW - timedelta(seconds=2)).isoformat(),
        "heartbeat_seconds": 5,
        "dead_man": {"enabled": True, "armed_until": (NOW + timedelta(seconds=40)).isoformat()},
    }
    record.update(fields)
    return record


def test_a_fresh_heartbeat_of_a_live_process_with_an_armed_switch_is_healthy():
    judged = verdict(beat(), now=NOW, pid_alive=True)
    assert (judged.healthy, judged.reasons) == (True, ())


@pytest.mark.parametrize(
    ("record", "alive", "why"),
    [
        (None, True, "no run process"),
        (beat(), False, "is not running"),
        (beat(stopped=True, stopped_at="x"), True, "stopped at x"),
        (beat(updated_at=(NOW - timedelta(seconds=16)).isoformat()), True, "16 s old"),
        (beat(updated_at="yesterday"), True, "no readable time"),
        (beat(dead_man={"enabled": True, "armed_until": None}), True, "not armed"),
        (
            beat(dead_man={"enabled": True, "armed_until": NOW.isoformat()}),
            True,
            "lapsed",
        ),
    ],
)
def test_what_makes_the_process_unhealthy(record, alive, why):
    judged = verdict(record, now=NOW, pid_alive=alive)
    assert not judged.healthy
    assert any(why in reason for reason in judged.reasons), judged.reasons


def test_a_switched_off_dead_man_switch_does_not_make_it_unhealthy():
    judged = verdict(beat(dead_man={"enabled": False}), now=NOW, pid_alive=True)
    assert judged.healthy


# ---------------------------------------------------------------------- alerts


def test_an_alert_for_a_fill_names_the_order_and_carries_no_secret():
    order = an_order(
        status=OrderStatus.FILLED,
        cumulative_base_filled=Decimal("0.01"),
        kraken_order_id="OABCDE-FGHIJ-KLMNOP",
    )
    event = OrderUpdate(
        kind=OrderUpdateKind.FILLED, order=order, at=NOW, fill_delta=Decimal("0.01"), seq=3
    )
    body = alert_body(event, source="krakked run pid 1")
    assert body["kind"] == "filled"
    assert body["seq"] == 3
    assert body["fill_delta"] == "0.01"
    assert body["order"]["kraken_order_id"] == "OABCDE-FGHIJ-KLMNOP"  # type: ignore[index]
    assert "filled 0.01" in str(body["text"])
    json.dumps(body)  # plain JSON


def test_an_alert_for_a_health_event():
    event = HealthEvent(kind=HealthKind.RECONCILE_FAILED, at=NOW, message="EAPI:Invalid key")
    body = alert_body(event, source="s")
    assert (body["type"], body["kind"], body["text"]) == (
        "health",
        "reconcile_failed",
        "EAPI:Invalid key",
    )


# ---------------------------------------------------------------------- log lines


def record(message: str, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("kraken_bot.execution", logging.WARNING, "f.py", 1, message, (), None)
    made.created = NOW.timestamp()
    made.__dict__.update(extra)
    return made


def test_a_json_log_line_carries_time_level_logger_and_the_ids_it_names():
    local_id = "6b6bc3cc-cd33-4bc1-8358-4f85dc222ba0"
    line = JsonFormatter().format(
        record(f"order {local_id} (O3C0ZB-XOID8-XVWO64) gave up", plan_id="p1")
    )
    data = json.loads(line)
    assert data["ts"] == "2026-01-01T12:00:00.000Z"
    assert (data["level"], data["logger"]) == ("WARNING", "kraken_bot.execution")
    assert data["order_ids"] == [local_id]
    assert data["txids"] == ["O3C0ZB-XOID8-XVWO64"]
    assert data["plan_id"] == "p1"


def test_a_text_log_line_is_escaped_for_the_terminal():
    line = TextFormatter().format(record("exchange said \x1b[31mred"))
    assert line.startswith("2026-01-01T12:00:00.000Z WARNING kraken_bot.execution: ")
    assert "\x1b" not in line
