"""Fault injection: named profiles, the fault-file format, and the per-request decision.

A :class:`FaultPlan` holds a *schedule* (a fault on the N-th call to an endpoint) and *rules*
(a seeded probability per endpoint). For every request the exchange asks the
:class:`FaultInjector` once; scheduled faults win, then the rules are tried in file order,
each drawing from the injector's own ``random.Random``. At most one fault hits a request.

Kinds, and what the exchange does (phase ``before`` = the request is not executed; ``after`` =
it is executed and only the answer is spoiled):

=========================  =======  ==========================================================
kind                       phase    effect
=========================  =======  ==========================================================
lost_response              after    executed, then no answer (in-process: ReadTimeout after the
                                    client's read timeout; HTTP: connection closed)
http_5xx                   either   HTTP 502/503/504/520 with an HTML body (``statuses``)
internal_error             either   ``EGeneral:Internal error``
service_unavailable        before   ``EService:Unavailable``
busy                       before   ``EService:Busy``
timeout                    before   no answer (in-process: ConnectTimeout; HTTP: closed)
delay                      after    the answer comes ``seconds`` later (virtual time); a
                                    client timeout shorter than that sees a lost response
invalid_nonce              before   ``EAPI:Invalid nonce``
rate_limit                 before   ``EAPI:Rate limit exceeded``
throttled                  before   ``EService: Throttled: <unix ts>``, ``seconds`` from now
                                    (rounded up; ``Quirks.throttled_prefix`` sets the text
                                    before the time)
absent_from_open_orders    after    AddOrder only: the new order is missing from OpenOrders,
                                    ClosedOrders and QueryOrders for ``seconds``
refused                    before   Kraken refuses the request with ``error`` (default
                                    ``EOrder:Invalid order``): a refusal the fake's own rules
                                    would not give, such as an order Kraken will not amend
=========================  =======  ==========================================================

Fault file (YAML)::

    name: my-faults
    rules:                          # tried in order, one random draw each
      - kind: lost_response
        endpoints: [AddOrder]       # names, "*" (all), "private" or "public"
        probability: 0.05
      - kind: http_5xx
        endpoints: ["*"]
        probability: 0.01
        phase: either               # before | after | either (chosen by the seeded RNG)
        statuses: [502, 520]
    schedule:                       # exact faults; win over rules
      - kind: lost_response
        endpoint: AddOrder          # a name, or "*" to count every request
        call: 3                     # the 3rd AddOrder (1-based); a list is allowed
      - kind: delay
        endpoint: OpenOrders
        call: [1, 2]
        seconds: 4

>>> busy_second = {"kind": "busy", "endpoint": "AddOrder", "call": 2}
>>> plan = FaultPlan.from_mapping({"schedule": [busy_second]})
>>> injector = FaultInjector(plan, seed=1)
>>> injector.decide("AddOrder", private=True), injector.decide("AddOrder", private=True).kind
(None, 'busy')
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, get_args

import yaml

from kraken_sim._fixtures import fixture_path

__all__ = [
    "PROFILES",
    "Fault",
    "FaultInjector",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "ScheduledFault",
    "load_faults",
]

FaultKind = Literal[
    "lost_response",
    "http_5xx",
    "internal_error",
    "service_unavailable",
    "busy",
    "timeout",
    "delay",
    "invalid_nonce",
    "rate_limit",
    "throttled",
    "absent_from_open_orders",
    "refused",
]
PhaseChoice = Literal["before", "after", "either"]
Phase = Literal["before", "after"]

PROFILES: Final = ("none", "light", "heavy")
_KINDS: Final[tuple[str, ...]] = get_args(FaultKind)
_FIXED_PHASE: Final[dict[str, Phase]] = {
    "lost_response": "after",
    "service_unavailable": "before",
    "busy": "before",
    "timeout": "before",
    "delay": "after",
    "invalid_nonce": "before",
    "rate_limit": "before",
    "throttled": "before",
    "absent_from_open_orders": "after",
    "refused": "before",
}
_DEFAULT_STATUSES: Final = (502, 503, 504, 520)
_DEFAULT_REFUSAL: Final = "EOrder:Invalid order"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Effect:
    kind: FaultKind
    phase: PhaseChoice = "either"
    statuses: tuple[int, ...] = _DEFAULT_STATUSES
    seconds: float = 3.0
    error: str = _DEFAULT_REFUSAL

    def __post_init__(self) -> None:
        assert self.kind in _KINDS, self.kind
        assert self.statuses, "statuses must not be empty"


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRule(_Effect):
    """A fault injected with ``probability`` on each call to one of ``endpoints``."""

    endpoints: tuple[str, ...] = ("*",)
    probability: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledFault(_Effect):
    """A fault injected on the listed (1-based) calls to ``endpoint`` ("*" = any request)."""

    endpoint: str = "*"
    calls: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """The fault chosen for one request."""

    kind: FaultKind
    phase: Phase
    status: int = 0
    seconds: float = 0.0
    error: str = ""
    """The Kraken error a ``refused`` fault answers."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultPlan:
    """A named set of fault rules and scheduled faults."""

    name: str = "custom"
    rules: tuple[FaultRule, ...] = ()
    schedule: tuple[ScheduledFault, ...] = ()

    @classmethod
    def none(cls) -> FaultPlan:
        """The plan that injects nothing."""
        return cls(name="none")

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, name: str = "custom") -> FaultPlan:
        """Parse the fault-file format (see the module docstring)."""
        _check_keys(raw, {"name", "rules", "schedule"}, "fault plan")
        rules = tuple(_rule(item) for item in _items(raw.get("rules"), "rules"))
        schedule = tuple(_scheduled(item) for item in _items(raw.get("schedule"), "schedule"))
        return cls(name=str(raw.get("name", name)), rules=rules, schedule=schedule)


FaultSource = FaultPlan | Path | str | Mapping[str, Any]


def load_faults(source: FaultSource) -> FaultPlan:
    """A plan from a profile name (``none``/``light``/``heavy``), a YAML file, a mapping in the
    fault-file format, or a plan."""
    if isinstance(source, FaultPlan):
        return source
    if isinstance(source, Mapping):
        return FaultPlan.from_mapping(source)
    if isinstance(source, str) and source in PROFILES:
        path = fixture_path("faults", f"{source}.yaml")
        default_name = source
    else:
        path = Path(source)
        default_name = path.stem
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, Mapping):
        raise TypeError(f"{path}: a fault file must be a mapping")
    return FaultPlan.from_mapping(raw, name=default_name)


class FaultInjector:
    """Decides, request by request, which fault (if any) to inject. Deterministic per seed."""

    __slots__ = ("_calls", "_plan", "_rng", "_total")

    def __init__(self, plan: FaultPlan, *, seed: int) -> None:
        self._plan = plan
        self._rng = random.Random(f"kraken-sim:faults:{seed}")
        self._calls: dict[str, int] = {}
        self._total = 0

    @property
    def plan(self) -> FaultPlan:
        """The plan in force."""
        return self._plan

    def decide(self, endpoint: str, *, private: bool) -> Fault | None:
        """Count this call and return the fault to inject into it, if any."""
        self._total += 1
        count = self._calls[endpoint] = self._calls.get(endpoint, 0) + 1
        for item in self._plan.schedule:
            number = self._total if item.endpoint == "*" else count
            if (item.endpoint in {"*", endpoint}) and number in item.calls:
                return self._materialise(item, endpoint)
        for rule in self._plan.rules:
            if not _matches(rule.endpoints, endpoint, private=private):
                continue
            if self._rng.random() < rule.probability:
                return self._materialise(rule, endpoint)
        return None

    def _materialise(self, effect: _Effect, endpoint: str) -> Fault | None:
        if effect.kind == "absent_from_open_orders" and endpoint != "AddOrder":
            return None
        phase: Phase
        if effect.kind in _FIXED_PHASE:
            phase = _FIXED_PHASE[effect.kind]
        elif effect.phase == "either":
            phase = "before" if self._rng.random() < 0.5 else "after"
        else:
            phase = effect.phase
        status = self._rng.choice(effect.statuses) if effect.kind == "http_5xx" else 0
        error = effect.error if effect.kind == "refused" else ""
        return Fault(
            kind=effect.kind, phase=phase, status=status, seconds=effect.seconds, error=error
        )


def _matches(patterns: Sequence[str], endpoint: str, *, private: bool) -> bool:
    for pattern in patterns:
        if pattern in {"*", endpoint}:
            return True
        if pattern == ("private" if private else "public"):
            return True
    return False


def _items(raw: object, what: str) -> list[Mapping[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, Mapping) for item in raw):
        raise ValueError(f"fault plan: {what} must be a list of mappings")
    return raw


def _check_keys(raw: Mapping[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ValueError(f"{what}: unknown keys {', '.join(unknown)}")


def _effect_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    kind = raw.get("kind")
    if kind not in _KINDS:
        raise ValueError(f"fault kind must be one of {', '.join(_KINDS)}, not {kind!r}")
    phase = raw.get("phase", "either")
    if phase not in get_args(PhaseChoice):
        raise ValueError(f"fault phase must be before, after or either, not {phase!r}")
    statuses = raw.get("statuses", raw.get("status", _DEFAULT_STATUSES))
    statuses = (statuses,) if isinstance(statuses, int) else tuple(int(s) for s in statuses)
    if not statuses or any(not 500 <= s <= 599 for s in statuses):
        raise ValueError("fault statuses must be HTTP 5xx codes")
    return {
        "kind": kind,
        "phase": phase,
        "statuses": statuses,
        "seconds": float(raw.get("seconds", 3.0)),
        "error": _refusal(raw.get("error", _DEFAULT_REFUSAL)),
    }


def _refusal(raw: object) -> str:
    text = str(raw)
    if not text.startswith("E") or ":" not in text:
        raise ValueError(f"a refused fault's error must look like EOrder:Reason, not {raw!r}")
    return text


_EFFECT_KEYS: Final = {"kind", "phase", "status", "statuses", "seconds", "error"}


def _rule(raw: Mapping[str, Any]) -> FaultRule:
    _check_keys(raw, _EFFECT_KEYS | {"endpoints", "endpoint", "probability"}, "fault rule")
    endpoints = raw.get("endpoints", raw.get("endpoint", "*"))
    endpoints = (endpoints,) if isinstance(endpoints, str) else tuple(str(e) for e in endpoints)
    probability = float(raw.get("probability", 0.0))
    if not 0.0 <= probability <= 1.0:
        raise ValueError("fault probability must be within [0, 1]")
    return FaultRule(endpoints=endpoints, probability=probability, **_effect_fields(raw))


def _scheduled(raw: Mapping[str, Any]) -> ScheduledFault:
    _check_keys(raw, _EFFECT_KEYS | {"endpoint", "call", "calls"}, "scheduled fault")
    calls = raw.get("calls", raw.get("call"))
    if calls is None:
        raise ValueError("scheduled fault needs call: N (1-based) or calls: [N, ...]")
    calls = (int(calls),) if isinstance(calls, int) else tuple(int(c) for c in calls)
    return ScheduledFault(
        endpoint=str(raw.get("endpoint", "*")), calls=calls, **_effect_fields(raw)
    )
