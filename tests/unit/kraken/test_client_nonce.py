"""Nonces: strictly increasing across threads, processes, clock steps and restarts (kraken-api.md, section 1)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime

import pytest

from kraken_bot.kraken.nonce import NonceSource, NonceStateError

START = datetime(2026, 1, 1, tzinfo=UTC)
START_MS = int(START.timestamp() * 1000)


def test_first_nonce_is_the_clock_in_milliseconds(clock):
    assert NonceSource(clock=clock).next() == START_MS


@pytest.mark.parametrize(
    ("unit", "scale"), [("s", 1), ("ms", 1_000), ("us", 1_000_000), ("ns", 1_000_000_000)]
)
def test_units_scale_the_clock(clock, unit, scale):
    assert NonceSource(clock=clock, unit=unit).next() == int(START.timestamp()) * scale


def test_unknown_unit_is_refused(clock):
    with pytest.raises(ValueError, match="nonce unit"):
        NonceSource(clock=clock, unit="minutes")


def test_nonces_follow_the_clock_and_never_repeat_when_it_stands_still(clock):
    source = NonceSource(clock=clock)
    first, second = source.next(), source.next()
    assert second == first + 1
    clock.advance(10)
    assert source.next() == START_MS + 10_000


def test_nonces_keep_rising_when_the_wall_clock_steps_backwards(clock):
    source = NonceSource(clock=clock)
    before = [source.next() for _ in range(3)]
    clock.step_wall(-3600)
    after = [source.next() for _ in range(3)]
    sequence = before + after
    assert all(b > a for a, b in itertools.pairwise(sequence))


def test_eight_threads_times_500_get_unique_strictly_increasing_nonces(clock):
    source = NonceSource(clock=clock)
    barrier = threading.Barrier(8)
    taken: list[list[int]] = [[] for _ in range(8)]

    def work(index: int) -> None:
        barrier.wait()
        for step in range(500):
            taken[index].append(source.next())
            if step % 50 == 0:
                clock.advance(0.0005)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [n for chunk in taken for n in chunk]
    assert len(set(everything)) == 4000
    for chunk in taken:
        assert all(b > a for a, b in itertools.pairwise(chunk))
    assert source.last == max(everything)


def test_a_restarted_process_starts_above_every_nonce_of_the_previous_one(clock, tmp_path):
    state = tmp_path / "kraken.nonce"
    first = NonceSource(clock=clock, state_file=state)
    used = [first.next() for _ in range(1000)]  # 1000 calls within one ms: last + 1 each
    # The process dies; the machine's clock is then set back an hour.
    clock.step_wall(-3600)
    second = NonceSource(clock=clock, state_file=state)
    assert second.next() > max(used)


def test_every_nonce_is_written_to_the_shared_file_before_it_is_used(clock, tmp_path):
    state = tmp_path / "kraken.nonce"
    source = NonceSource(clock=clock, state_file=state)
    for _ in range(50):
        nonce = source.next()
        clock.advance(0.3)
        assert json.loads(state.read_text())["high_water"] == nonce
    assert source.writes == 50


def test_a_second_process_on_the_key_never_makes_the_first_one_go_backwards(clock, tmp_path):
    """Two processes share the key's file: a newcomer whose clock is 10 s ahead moves the
    shared order forward, and the first process follows it instead of being refused."""
    state = tmp_path / "kraken.nonce"
    running = NonceSource(clock=clock, state_file=state)
    ahead = type(clock)(START)
    ahead.advance(10)
    newcomer = NonceSource(clock=ahead, state_file=state)
    taken = [running.next(), newcomer.next(), running.next(), newcomer.next(), running.next()]
    assert all(b > a for a, b in itertools.pairwise(taken))


def test_a_reservation_holds_the_key_until_the_request_is_sent(clock, tmp_path):
    state = tmp_path / "kraken.nonce"
    first = NonceSource(clock=clock, state_file=state)
    second = NonceSource(clock=clock, state_file=state)  # another process's source
    got: list[int] = []
    waiting = threading.Event()

    def other() -> None:
        waiting.set()
        got.append(second.next())

    with first.reserve() as mine:
        thread = threading.Thread(target=other)
        thread.start()
        waiting.wait(5)
        thread.join(0.3)
        assert thread.is_alive(), "the second source took a nonce while the first was sending"
    thread.join(5)
    assert got == [mine + 1]


def test_two_real_processes_on_one_key_get_unique_increasing_nonces(tmp_path):
    state = tmp_path / "kraken.nonce"
    script = textwrap.dedent(
        f"""
        import sys
        from kraken_bot.clock import SystemClock
        from kraken_bot.kraken.nonce import NonceSource
        source = NonceSource(clock=SystemClock(), state_file=__import__("pathlib").Path({str(state)!r}))
        print(" ".join(str(source.next()) for _ in range(300)))
        """
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60)[0] for run in runs]
    sequences = [[int(n) for n in out.split()] for out in outputs]
    assert all(len(seq) == 300 for seq in sequences)
    assert all(all(b > a for a, b in itertools.pairwise(seq)) for seq in sequences)
    assert len(set(sequences[0]) | set(sequences[1])) == 600


def test_the_state_file_is_replaced_atomically_leaving_no_temporary_files(clock, tmp_path):
    state = tmp_path / "nested" / "kraken.nonce"
    source = NonceSource(clock=clock, state_file=state)
    for _ in range(5):
        source.next()
        clock.advance(120)
    assert sorted(p.name for p in state.parent.iterdir()) == ["kraken.nonce"]
    assert json.loads(state.read_text())["unit"] == "ms"


def test_a_state_file_of_another_unit_is_refused(clock, tmp_path):
    state = tmp_path / "kraken.nonce"
    NonceSource(clock=clock, state_file=state, unit="ns").next()
    with pytest.raises(NonceStateError, match="unit"):
        NonceSource(clock=clock, state_file=state, unit="ms")


@pytest.mark.parametrize(
    "content", ["not json", '{"unit": "ms"}', '{"unit": "ms", "high_water": -5}', "[]"]
)
def test_a_damaged_state_file_is_refused_with_a_clear_message(clock, tmp_path, content):
    state = tmp_path / "kraken.nonce"
    state.write_text(content)
    with pytest.raises(NonceStateError, match="nonce state"):
        NonceSource(clock=clock, state_file=state)


def test_an_unusable_state_path_raises_before_any_nonce_is_handed_out(clock, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(NonceStateError, match="nonce state"):
        NonceSource(clock=clock, state_file=blocker / "kraken.nonce").next()
