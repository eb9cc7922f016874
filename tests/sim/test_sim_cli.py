"""``python -m kraken_sim serve``: options, the announcement, and a clean stop."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest
import requests

from kraken_sim.cli import main, run_serve

SECRET = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="


def parse(text):
    return dict(
        line.split(": ", 1)
        for line in text.splitlines()
        if ": " in line and not line.startswith("scenario")
    )


def start(argv):
    out = io.StringIO()
    stop = threading.Event()
    result: dict[str, int] = {}
    thread = threading.Thread(
        target=lambda: result.setdefault("code", run_serve(argv, out=out, stop=stop))
    )
    thread.start()
    deadline = time.monotonic() + 10
    while "base_url" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    return out, stop, thread, result


@pytest.mark.http
def test_serve_prints_its_url_and_generated_credentials_and_stops_cleanly():
    out, stop, thread, result = start(
        ["--port", "0", "--seed", "3", "--faults", "none", "--clock", "virtual"]
    )
    try:
        announced = parse(out.getvalue())
        assert announced["base_url"].startswith("http://127.0.0.1:")
        assert len(announced["api_key"]) == 56
        assert len(announced["api_secret"]) == 88
        reply = requests.get(announced["base_url"] + "/0/public/Time", timeout=5).json()
        assert reply["result"]["unixtime"] == 1767225600
    finally:
        stop.set()
        thread.join(10)
    assert result["code"] == 0
    assert "tier: starter" in out.getvalue()
    assert "clock: virtual" in out.getvalue()


@pytest.mark.http
def test_serve_uses_the_given_credentials_and_options():
    out, stop, thread, result = start(
        ["--api-key", "cli-key", "--api-secret", SECRET, "--tier", "pro", "--faults", "heavy"]
    )
    try:
        announced = parse(out.getvalue())
        assert (announced["api_key"], announced["api_secret"]) == ("cli-key", SECRET)
        assert "tier: pro" in out.getvalue()
        assert "faults: heavy" in out.getvalue()
        assert "clock: wall" in out.getvalue()
    finally:
        stop.set()
        thread.join(10)
    assert result["code"] == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["--api-key", "only-a-key"],
        ["--api-key", "k", "--api-secret", "not base64!"],
        ["--tier", "gold"],
        ["--faults", "/no/such/file.yaml"],
        ["--scenario", "/no/such/scenario.yaml"],
        ["--clock", "sundial"],
        ["--host", "0.0.0.0"],
        ["--quirk", "no_such_quirk=1"],
        ["--quirk", "post_only_crossing=maybe"],
        ["--quirk", "closed_orders_cost=3"],
        ["--quirk", "without-a-value"],
    ],
)
def test_bad_options_exit_with_status_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        run_serve(argv)
    assert exc.value.code == 2
    assert capsys.readouterr().err


def place_and_stop(argv, api_sign):
    """Serve with ``argv`` (one fresh process-like start), place one order; return its txid and
    the announced ids salt."""
    out, stop, thread, result = start(["--port", "0", "--faults", "none", *argv])
    try:
        announced = parse(out.getvalue())
        nonce = "1"
        body = urllib.parse.urlencode(
            {
                "nonce": nonce,
                "pair": "XBTUSD",
                "type": "buy",
                "ordertype": "limit",
                "price": "50000",
                "volume": "0.01",
            }
        ).encode()
        headers = {
            "API-Key": announced["api_key"],
            "API-Sign": api_sign("/0/private/AddOrder", nonce, body, announced["api_secret"]),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        reply = requests.post(
            announced["base_url"] + "/0/private/AddOrder", data=body, headers=headers, timeout=5
        ).json()
    finally:
        stop.set()
        thread.join(10)
    assert result["code"] == 0
    salt = out.getvalue().split("ids: ", 1)[1].split()[0]
    return reply["result"]["txid"][0], salt, announced["api_key"]


@pytest.mark.http
def test_a_restarted_server_never_reissues_a_txid_but_a_given_salt_reproduces_them(signer):
    first, first_salt, first_key = place_and_stop([], signer)
    second, second_salt, second_key = place_and_stop([], signer)
    assert first_key == second_key  # the seeded credentials survive a restart
    assert first_salt != second_salt
    assert first != second
    replayed, replayed_salt, _ = place_and_stop(["--id-salt", first_salt], signer)
    assert (replayed, replayed_salt) == (first, first_salt)


@pytest.mark.http
def test_quirks_can_be_switched_on_the_command_line(signer):
    out, stop, thread, result = start(
        ["--faults", "none", "--quirk", "query_orders_unknown=omit", "--quirk", "allow_fok=false"]
    )
    try:
        announced = parse(out.getvalue())
        replies = []
        for nonce, (method, params) in enumerate(
            [
                ("QueryOrders", {"txid": "OAAAAA-BBBBB-CCCCCC"}),
                (
                    "AddOrder",
                    {
                        "pair": "XBTUSD",
                        "type": "buy",
                        "ordertype": "limit",
                        "price": "50000",
                        "volume": "0.01",
                        "timeinforce": "FOK",
                    },
                ),
            ],
            start=1,
        ):
            body = urllib.parse.urlencode({"nonce": nonce, **params}).encode()
            path = f"/0/private/{method}"
            headers = {
                "API-Key": announced["api_key"],
                "API-Sign": signer(path, str(nonce), body, announced["api_secret"]),
                "Content-Type": "application/x-www-form-urlencoded",
            }
            replies.append(
                requests.post(
                    announced["base_url"] + path, data=body, headers=headers, timeout=5
                ).json()
            )
    finally:
        stop.set()
        thread.join(10)
    assert result["code"] == 0
    assert replies == [
        {"error": [], "result": {}},
        {"error": ["EGeneral:Invalid arguments:timeinforce"]},
    ]


def test_main_knows_only_serve(capsys):
    assert main(["launch"]) == 2
    assert main([]) == 2
    assert main(["--help"]) == 0
    assert "serve" in capsys.readouterr().out


@pytest.mark.subprocess
@pytest.mark.http
def test_the_module_serves_until_sigterm_and_exits_zero():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        [sys.executable, "-m", "kraken_sim", "serve", "--faults", "none"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip().removeprefix("base_url: ")
        assert (
            requests.get(base_url + "/0/public/SystemStatus", timeout=5).json()["result"]["status"]
            == "online"
        )
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "kraken-sim stopped" in out
