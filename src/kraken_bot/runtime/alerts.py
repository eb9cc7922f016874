"""Shell: webhook alerts for the events an operator must hear about.

`WebhookAlerts` subscribes to the service's events and POSTs one plain JSON
object per alert to ``alerts.webhook_url``: fills, rejections, orders given up
or unknown to Kraken, dead-man refresh failures, a failed reconciliation, the
process stopping (``alerts.events`` chooses). It runs in the subscription's own
thread: a slow or failing webhook never delays execution. Each POST has a
timeout (``alerts.timeout_seconds``) and is tried ``alerts.retries`` more times
with a doubling backoff; what still fails is logged and counted, then dropped.

The body (``alert_body``) carries the event's kind, time, sequence number and a
one-line text; for an order, its ids, pair, side, sizes, price and status. No
secret is ever in it: the order record holds none.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Final

import requests

from kraken_bot.config import AlertsConfig
from kraken_bot.execution.core.events import HealthEvent, OrderUpdate, ServiceEvent

__all__ = ["WebhookAlerts", "alert_body"]

log = logging.getLogger("kraken_bot.runtime.alerts")

_BACKOFF: Final = 0.5


def alert_body(event: ServiceEvent, *, source: str) -> dict[str, object]:
    """The JSON object POSTed for ``event``."""
    if isinstance(event, HealthEvent):
        return {
            "source": source,
            "type": "health",
            "kind": event.kind.value,
            "seq": event.seq,
            "at": event.at.isoformat(),
            "text": event.message,
            "details": dict(event.details),
        }
    order = event.order
    text = (
        f"{event.kind.value}: {order.side.value} {order.requested_base_size} {order.pair}"
        f" (filled {order.cumulative_base_filled})"
    )
    if order.last_error:
        text += f": {order.last_error}"
    return {
        "source": source,
        "type": "order",
        "kind": event.kind.value,
        "seq": event.seq,
        "at": event.at.isoformat(),
        "text": text,
        "fill_delta": str(event.fill_delta),
        "order": {
            "local_id": order.local_id,
            "plan_id": order.plan_id,
            "strategy_id": order.strategy_id,
            "kraken_order_id": order.kraken_order_id,
            "pair": order.pair,
            "side": order.side.value,
            "order_type": order.order_type.value,
            "requested_base_size": str(order.requested_base_size),
            "requested_price": (
                str(order.requested_price) if order.requested_price is not None else None
            ),
            "cumulative_base_filled": str(order.cumulative_base_filled),
            "avg_fill_price": (
                str(order.avg_fill_price) if order.avg_fill_price is not None else None
            ),
            "status": order.status.value,
            "last_error": order.last_error,
        },
    }


class WebhookAlerts:
    """Sends the chosen events to a webhook (see the module docstring)."""

    def __init__(
        self,
        config: AlertsConfig,
        *,
        source: str,
        post: Callable[..., requests.Response] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if config.webhook_url is None:
            raise ValueError("WebhookAlerts needs alerts.webhook_url")
        self._url = config.webhook_url
        self._config = config
        self._source = source
        self._session = requests.Session()
        self._post = post or self._session.post
        self._sleep = sleep
        self.sent = 0
        self.failed = 0

    def wants(self, event: ServiceEvent) -> bool:
        """True for the kinds ``alerts.events`` lists."""
        return event.kind.value in self._config.events

    def __call__(self, event: ServiceEvent) -> None:
        """Handle one event (the subscription thread calls this)."""
        if not self.wants(event):
            return
        body = json.dumps(alert_body(event, source=self._source))
        problem = "not sent"
        for attempt in range(self._config.retries + 1):
            try:
                answer = self._post(
                    self._url,
                    data=body,
                    headers={"Content-Type": "application/json"},
                    timeout=self._config.timeout_seconds,
                )
                if answer.status_code < 300:
                    self.sent += 1
                    return
                problem = f"HTTP {answer.status_code}"
            except requests.RequestException as error:
                problem = type(error).__name__
            if attempt < self._config.retries:
                self._sleep(_BACKOFF * 2**attempt)
        self.failed += 1
        log.warning(
            "alert %s (event %d) not delivered to the webhook after %d attempt(s): %s",
            event.kind.value,
            event.seq,
            self._config.retries + 1,
            problem,
        )

    def close(self) -> None:
        """Release the HTTP session."""
        self._session.close()


def is_order_update(event: ServiceEvent) -> bool:
    """True for order events (for callers filtering a stream)."""
    return isinstance(event, OrderUpdate)
