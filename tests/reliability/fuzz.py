"""Hypothesis strategies for hostile input: numbers, JSON, pair names, plans, configs, replies.

Everything here is data. The focused tests at the end of
`test_reliability_bad_input` pin the triggers the fuzzing found (integers of
more than 4300 digits, nesting deeper than Python's recursion limit, alias
bombs, values that contain themselves, lone surrogates); the strategies
produce the ordinary hostile cases around them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import yaml
from hypothesis import strategies as st

ODD_TEXT: Final = (
    "",
    " ",
    "\x00",
    "\u200b",
    "\ufeffXBTUSD",
    "\uff38\uff22\uff34\uff35\uff33\uff24",  # full-width XBTUSD
    "XBT\u0000USD",
    "🚀/USD",
    "Ξ",
    "٣",
    "\uff11",  # full-width 1
    "e\u0301",
    "\ud7ff",
    "a" * 300,
    "'; DROP TABLE execution_orders; --",
    "../../etc/passwd",
    "%00",
    "${jndi:ldap://x}",
    "<script>",
)
"""Strings that have broken parsers somewhere."""

BAD_NUMBERS: Final[tuple[object, ...]] = (
    float("nan"),
    float("inf"),
    float("-inf"),
    -1,
    -0.000001,
    -0.0,
    10**30,
    2**63,
    -(2**63),
    1e308,
    5e-324,
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1e999",
    "1e-999",
    "0x10",
    "1_000",
    " 1 ",
    "\u0661",  # Arabic-Indic 1
    "\uff11",  # full-width 1
    "",
    True,
    False,
    None,
    [],
    {},
    [1],
    {"value": 1},
)
"""Numbers (and things that are not) that a size, a price or a count must survive."""

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(ODD_TEXT),
    st.sampled_from([n for n in BAD_NUMBERS if not isinstance(n, list | dict)]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
pair_names = st.one_of(
    st.sampled_from(
        ("XBTUSD", "ETH/USD", "xbt-usd", "BTCUSD", "XXBTZUSD", "SOL/USD", "ETHXBT", "DOGEEUR")
    ),
    st.sampled_from(ODD_TEXT),
    st.text(max_size=24),
)


@st.composite
def mutated(draw: st.DrawFn, sample: Any, depth: int = 0) -> Any:
    """``sample`` with some members dropped, replaced by junk, or added."""
    if isinstance(sample, Mapping):
        out: dict[str, Any] = {}
        for key, value in sample.items():
            choice = draw(st.sampled_from(("keep", "keep", "keep", "mutate", "drop", "junk")))
            if choice == "drop":
                continue
            if choice == "junk":
                out[key] = draw(st.one_of(json_values, st.sampled_from(BAD_NUMBERS)))
            elif choice == "mutate" and depth < 6:
                out[key] = draw(mutated(value, depth + 1))
            else:
                out[key] = value
        if draw(st.integers(0, 9)) == 0:
            out[draw(st.text(max_size=10))] = draw(json_values)
        return out
    if isinstance(sample, list):
        items = [draw(mutated(item, depth + 1)) if depth < 6 else item for item in sample]
        return draw(st.sampled_from((items, items, items[:1], [], items * 2)))
    return draw(st.one_of(st.just(sample), json_scalars, st.sampled_from(BAD_NUMBERS)))


# ---------------------------------------------------------------- plans

VALID_ACTION: Final = {
    "pair": "XBTUSD",
    "strategy_id": "trend",
    "action_type": "increase",
    "current_base_size": "0",
    "target_base_size": "0.01",
    "blocked": False,
    "block_reasons": [],
    "userref": 12,
}
VALID_PLAN: Final = {
    "plan_id": "fuzz",
    "created_at": "2026-01-01T00:00:00Z",
    "actions": [VALID_ACTION],
}


@st.composite
def plan_docs(draw: st.DrawFn) -> object:
    """A decoded plan file: mostly near-valid (one thing wrong, or several), sometimes junk."""
    kind = draw(st.sampled_from(("near", "near", "near", "odd_pairs", "junk")))
    if kind == "junk":
        return draw(json_values)
    actions = []
    for _ in range(draw(st.integers(0, 4))):
        action = dict(VALID_ACTION)
        action["pair"] = draw(pair_names)
        action["target_base_size"] = draw(st.sampled_from(("0.01", "0.02", "1", "0")))
        actions.append(draw(mutated(action)) if kind == "near" else action)
    doc: Any = {**VALID_PLAN, "plan_id": f"fuzz-{draw(st.integers(0, 10**9))}", "actions": actions}
    return draw(mutated(doc)) if kind == "near" and draw(st.booleans()) else doc


def to_file_text(doc: object, form: str) -> str:
    """``doc`` as a plan or config file: YAML, or JSON (NaN allowed, as Python writes it).

    JSON escapes everything outside ASCII, as ``json.dumps`` does by default (an emoji
    becomes an escaped surrogate pair, which the plan loader must read back whole).
    """
    if form == "json":
        return json.dumps(doc, default=str)
    return yaml.safe_dump(doc, allow_unicode=True)


# ---------------------------------------------------------------- configs

VALID_CONFIG: Final = {
    "execution": {
        "mode": "paper",
        "validate_only": True,
        "max_retries": 3,
        "retry_backoff_seconds": 2.0,
        "max_slippage_bps": 50,
        "dead_man_switch_seconds": 600,
        "max_pair_notional_usd": 1000,
        "order_deadline_seconds": 15,
        "time_in_force": "GTC",
    },
    "kraken": {"base_url": "http://127.0.0.1:1", "tier": "starter", "read_timeout_seconds": 15},
    "storage": {"path": "fuzz.db"},
    "strategies": {"trend": {"userref": 7}},
    "region": "US_CA",
}
YAML_SNIPPETS: Final = (
    "",
    "~",
    "- a\n- b",
    "execution: [",
    "execution:\n  mode: !!python/object/apply:os.system ['true']",
    "execution: &a [a, b]\nstorage: {path: *a}",
    "execution:\n\tmode: live",
    "kraken: {api_key: x, api_secret: y}",
    "\x00\x01\x02",
    "execution:\n  mode: live\n  allow_live_trading: yes\n  validate_only: no",
    "? [a, b]\n: c",
    "execution: {max_retries: .nan}",
    "execution: {max_retries: 1e400}",
    "storage: {path: 12}",
    "%YAML 9.9\n---\na: b",
)


@st.composite
def config_texts(draw: st.DrawFn) -> str:
    """A config file's text: a mutated valid config, a YAML oddity, or random text."""
    kind = draw(st.sampled_from(("near", "near", "near", "snippet", "text")))
    if kind == "snippet":
        return draw(st.sampled_from(YAML_SNIPPETS))
    if kind == "text":
        return draw(st.text(max_size=200))
    return to_file_text(draw(mutated(VALID_CONFIG)), "yaml")


# ---------------------------------------------------------------- exchange replies

STATUSES: Final = (200, 200, 200, 200, 400, 403, 404, 429, 500, 502, 503, 504, 520)


def envelope_bytes(result: object) -> bytes:
    return json.dumps({"error": [], "result": result}).encode()


@st.composite
def reply_bodies(draw: st.DrawFn, sample: object) -> bytes:
    """A reply body for an endpoint whose good result looks like ``sample``."""
    kind = draw(st.sampled_from(("result", "result", "result", "errors", "json", "bytes")))
    if kind == "result":
        return envelope_bytes(draw(mutated(sample)))
    if kind == "errors":
        errors = draw(
            st.one_of(
                st.lists(
                    st.sampled_from(
                        (
                            "EOrder:Insufficient funds",
                            "EService:Busy",
                            "EAPI:Invalid nonce",
                            "EGeneral:Internal error",
                            "EAPI:Rate limit exceeded",
                            "EOrder:Unknown order",
                            "EOrder:Duplicate order",
                            "WGeneral:Warning",
                            "Ebogus",
                            "",
                        )
                    )
                    | st.text(max_size=20),
                    max_size=3,
                ),
                json_values,
            )
        )
        return json.dumps({"error": errors, "result": draw(json_values)}).encode()
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    return draw(
        st.one_of(
            st.binary(max_size=64),
            st.sampled_from(
                (
                    b"",
                    b"<html><body>502 Bad Gateway</body></html>",
                    b'{"error": [], "result": ',
                    b'{"error": [], "result": NaN}',
                    b'{"error": [], "result": {"count": Infinity}}',
                    b"\xff\xfe\x00",
                    b"null",
                )
            ),
        )
    )
