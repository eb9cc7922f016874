"""Command line: ``python -m kraken_sim serve [options]`` (also ``krakked sim serve``).

``run_serve`` parses the options, builds the exchange, serves it on loopback, prints the base
URL and the credentials, and runs until Ctrl-C or SIGTERM (exit status 0).

A served exchange keeps its state in memory only: a restart starts from the scenario again
(same seeded credentials, empty books, nonces accepted afresh). Its order and trade ids are
salted with a fresh random ``--id-salt`` at each start (printed as ``ids:``), so a restarted
exchange never reissues a txid a client may still hold from an earlier run; the orders of that
run are unknown to the new one (QueryOrders answers ``Quirks.query_orders_unknown``). Pass
``--id-salt`` to reproduce a session's ids exactly.
"""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from kraken_sim.auth import b64decode_secret
from kraken_sim.clock import Clock, VirtualClock, WallClock
from kraken_sim.exchange import Exchange
from kraken_sim.faults import PROFILES
from kraken_sim.quirks import Quirks, quirk_override, with_overrides
from kraken_sim.scenario import Scenario, ScenarioError, load_scenario
from kraken_sim.server import SimServer
from kraken_sim.ws import WsServer

__all__ = ["build_serve_parser", "main", "run_serve"]

_TIERS = ("starter", "intermediate", "pro", "unlimited")


def build_serve_parser(prog: str = "python -m kraken_sim serve") -> argparse.ArgumentParser:
    """The options of ``serve``."""
    parser = argparse.ArgumentParser(
        prog=prog, description="Serve a fake Kraken spot exchange on loopback."
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    parser.add_argument(
        "--ws-port",
        type=int,
        default=None,
        help="also serve the WebSocket v2 private endpoint on this port (0: any free port)",
    )
    parser.add_argument("--api-key", help="API key of the served account (default: generated)")
    parser.add_argument("--api-secret", help="base64 API secret (default: generated)")
    parser.add_argument("--scenario", type=Path, help="scenario YAML (default: the bundled one)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--tier", choices=_TIERS, help="rate-limit tier (default: the scenario's)")
    parser.add_argument("--faults", help="none | light | heavy | FILE (default: the scenario's)")
    parser.add_argument(
        "--clock",
        choices=("virtual", "wall"),
        default="wall",
        help="engine clock (default wall; a virtual clock only moves with injected delays)",
    )
    parser.add_argument(
        "--id-salt",
        help="salt of the order/trade id generator (default: fresh at each start, so a restart"
        " never reissues a txid; give the printed one to reproduce a session's ids)",
    )
    parser.add_argument(
        "--quirk",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one of the scenario's quirks (kraken_sim.quirks.Quirks), repeatable;"
        " e.g. post_only_crossing=reject, query_orders_unknown=omit, closed_orders_cost=2",
    )
    return parser


def run_serve(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
    prog: str = "python -m kraken_sim serve",
) -> int:
    """Serve until Ctrl-C/SIGTERM and return 0; ``stop`` ends it early (embedding, tests).

    Bad options exit through argparse (status 2); ``prog`` names the command in its messages.
    """
    out = out if out is not None else sys.stdout
    parser = build_serve_parser(prog)
    args = parser.parse_args(argv)
    _check(parser, args)
    try:
        scenario = load_scenario(args.scenario)
    except (OSError, ScenarioError) as exc:
        parser.error(str(exc))
    try:
        quirks = _quirks(scenario, args.quirk)
    except ValueError as exc:
        parser.error(f"--quirk: {exc}")
    clock: Clock = WallClock() if args.clock == "wall" else VirtualClock(start=scenario.start)
    id_salt = args.id_salt if args.id_salt is not None else secrets.token_hex(8)
    exchange = Exchange(
        scenario,
        seed=args.seed,
        clock=clock,
        faults=args.faults,
        tier=args.tier,
        quirks=quirks,
        id_salt=id_salt,
    )
    if args.api_key is not None:
        first = dict(scenario.accounts[0].balances) if scenario.accounts else None
        exchange.add_account(args.api_key, args.api_secret, first, name="cli")
    try:
        server = SimServer(exchange, args.host, args.port)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    socket = _socket(parser, args, exchange, server)
    stop = stop if stop is not None else threading.Event()
    previous = _install_signal_handlers(stop)
    server.start()
    try:
        if socket is not None:
            out.write(f"ws_url: {socket.url}\n")
        _announce(out, server, exchange, args.clock, cli_key=args.api_key)
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        if socket is not None:
            socket.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    out.write("kraken-sim stopped\n")
    out.flush()
    return 0


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if (args.api_key is None) != (args.api_secret is None):
        parser.error("--api-key and --api-secret go together")
    if args.api_secret is not None:
        try:
            b64decode_secret(args.api_secret)
        except ValueError:
            parser.error("--api-secret must be base64")
    if args.faults is not None and args.faults not in PROFILES and not Path(args.faults).is_file():
        parser.error(f"--faults: {args.faults!r} is neither none/light/heavy nor a file")


def _socket(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    exchange: Exchange,
    server: SimServer,
) -> WsServer | None:
    """The WebSocket v2 front, started (``--ws-port``), or None."""
    if args.ws_port is None:
        return None
    socket = WsServer(exchange, args.host, args.ws_port)
    try:
        socket.start()
    except (OSError, RuntimeError) as exc:
        server.server_close()
        parser.error(f"--ws-port: {exc}")
    return socket


def _quirks(scenario: Scenario, overrides: Sequence[str]) -> Quirks:
    return with_overrides(scenario.quirks, dict(quirk_override(text) for text in overrides))


def _announce(
    out: TextIO, server: SimServer, exchange: Exchange, clock: str, *, cli_key: str | None
) -> None:
    accounts = exchange.credentials()
    if cli_key is not None:
        accounts = [a for a in accounts if a[1] == cli_key] + [
            a for a in accounts if a[1] != cli_key
        ]
    summary = (
        f"scenario: {exchange.scenario.name}  seed: {exchange.seed}  tier: {exchange.tier}  "
        f"faults: {exchange.fault_plan.name}  clock: {clock}  ids: {exchange.id_salt}"
    )
    lines = [f"base_url: {server.base_url}", summary]
    for index, (name, key, secret) in enumerate(accounts):
        prefix = "" if index == 0 else f"{name}_"
        lines.append(f"{prefix}api_key: {key}")
        lines.append(f"{prefix}api_secret: {secret}")
    lines.append("Press Ctrl-C to stop.")
    out.write("\n".join(lines) + "\n")
    out.flush()


_Handler = Callable[[int, FrameType | None], Any] | int | None


def _install_signal_handlers(stop: threading.Event) -> dict[int, _Handler]:
    """Make SIGINT/SIGTERM set ``stop``; return the handlers to restore afterwards."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop.set()

    return {signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kraken_sim <command> ...``; the only command is ``serve``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        sys.stdout.write(
            "usage: python -m kraken_sim serve [options]  (serve --help for options)\n"
        )
        return 0 if args else 2
    if args[0] != "serve":
        sys.stderr.write(f"unknown command {args[0]!r}; try: python -m kraken_sim serve --help\n")
        return 2
    return run_serve(args[1:])
