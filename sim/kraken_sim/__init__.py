"""A deterministic fake Kraken spot exchange: one engine, an HTTP front and a ``requests`` front.

>>> from datetime import UTC, datetime
>>> clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
>>> exchange = Exchange(load_scenario(None), seed=7, clock=clock, faults="none")
>>> status, headers, body = exchange.handle("GET", "/0/public/Time", {}, b"")
>>> status, body
(200, b'{"error":[],"result":{"unixtime":1767225600,"rfc1123":"Thu, 01 Jan 26 00:00:00 +0000"}}')
"""

from kraken_sim.clock import Clock, VirtualClock, WallClock
from kraken_sim.exchange import Exchange, JournalEntry, NoResponse
from kraken_sim.faults import FaultPlan, FaultRule, ScheduledFault, load_faults
from kraken_sim.market import Touch
from kraken_sim.orders import Order, Trade
from kraken_sim.quirks import Quirks
from kraken_sim.scenario import Scenario, ScenarioError, load_scenario
from kraken_sim.server import SimServer, serve
from kraken_sim.transport import SimTransport

__all__ = [
    "Clock",
    "Exchange",
    "FaultPlan",
    "FaultRule",
    "JournalEntry",
    "NoResponse",
    "Order",
    "Quirks",
    "Scenario",
    "ScenarioError",
    "ScheduledFault",
    "SimServer",
    "SimTransport",
    "Touch",
    "Trade",
    "VirtualClock",
    "WallClock",
    "load_faults",
    "load_scenario",
    "serve",
]
