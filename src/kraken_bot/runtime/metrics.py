"""Shell: Prometheus metrics of a running service (the ``krakked[metrics]`` extra).

`serve_metrics` starts an HTTP server on ``run.metrics_host:run.metrics_port``
with its own registry:

=====================================  =========  ===========================================
metric                                 type       what
=====================================  =========  ===========================================
krakked_orders{status}                 gauge      orders in the database by status (at scrape)
krakked_order_events_total{kind}       counter    order events published (accepted, filled...)
krakked_fills_total{pair,side}         counter    base volume filled
krakked_fill_notional_total{pair}      counter    quote volume filled (fill x average price)
krakked_kraken_call_seconds{endpoint}  histogram  latency of answered private calls (AddOrder..)
krakked_kraken_errors_total{endpoint,  counter    Kraken errors by class (nonce, rate_limit,
  error_class}                                    transient, ...)
krakked_rate_limit_waits_total         counter    times a call waited for the REST/trading budget
krakked_rate_limit_wait_seconds_total  counter    seconds waited for the budget
krakked_dead_man_seconds_to_expiry     gauge      seconds until the dead-man switch would fire
krakked_reconcile_lag_seconds          gauge      seconds since the last scheduled reconciliation
krakked_health_events_total{kind}      counter    health events (refresh failed, expired...)
=====================================  =========  ===========================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from kraken_bot.config import AppConfig
from kraken_bot.execution.core.events import HealthEvent, OrderUpdate, ServiceEvent
from kraken_bot.execution.exceptions import ConfigValidationError
from kraken_bot.execution.shell.oms import ExecutionService

__all__ = ["serve_metrics"]

_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def serve_metrics(service: ExecutionService, config: AppConfig) -> Callable[[], None]:
    """Serve the metrics; returns the function that stops the server."""
    try:
        import prometheus_client as prom  # noqa: PLC0415 - an optional extra
        from prometheus_client.core import GaugeMetricFamily  # noqa: PLC0415
        from prometheus_client.registry import Collector  # noqa: PLC0415
    except ImportError:
        raise ConfigValidationError(
            "run.metrics_port needs the metrics extra: pip install 'krakked[metrics]'"
        ) from None
    registry = prom.CollectorRegistry()
    events = prom.Counter(
        "krakked_order_events", "Order events published", ["kind"], registry=registry
    )
    fills = prom.Counter("krakked_fills", "Base volume filled", ["pair", "side"], registry=registry)
    notional = prom.Counter(
        "krakked_fill_notional", "Quote volume filled", ["pair"], registry=registry
    )
    health = prom.Counter("krakked_health_events", "Health events", ["kind"], registry=registry)
    latency = prom.Histogram(
        "krakked_kraken_call_seconds",
        "Latency of answered private Kraken calls",
        ["endpoint"],
        buckets=_BUCKETS,
        registry=registry,
    )
    errors = prom.Counter(
        "krakked_kraken_errors",
        "Kraken errors by class",
        ["endpoint", "error_class"],
        registry=registry,
    )

    def on_event(event: ServiceEvent) -> None:
        if isinstance(event, HealthEvent):
            health.labels(event.kind.value).inc()
        else:
            _count_order_event(event, events=events, fills=fills, notional=notional)

    def on_call(endpoint: str, seconds: float, error: str | None) -> None:
        if error is None:
            latency.labels(endpoint).observe(seconds)
        else:
            errors.labels(endpoint, error).inc()

    class _Live(Collector):
        """Read at scrape time: the database, the limiter, the switch, the supervisor."""

        def collect(self) -> Iterator[GaugeMetricFamily]:
            yield from _live_families(service, GaugeMetricFamily)

    registry.register(_Live())
    subscription = service.subscribe(on_event, name="metrics")
    client = service.adapter.client if service.adapter is not None else None
    observers = getattr(client, "call_observers", None)
    if observers is not None:
        observers.append(on_call)
    server, thread = prom.start_http_server(
        config.run.metrics_port or 0, addr=config.run.metrics_host, registry=registry
    )

    def stop() -> None:
        subscription.close()
        if observers is not None and on_call in observers:
            observers.remove(on_call)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop


def _count_order_event(event: OrderUpdate, *, events: Any, fills: Any, notional: Any) -> None:
    events.labels(event.kind.value).inc()
    if event.fill_delta > 0:
        order = event.order
        fills.labels(order.pair, order.side.value).inc(float(event.fill_delta))
        price = order.avg_fill_price or order.requested_price or Decimal(0)
        notional.labels(order.pair).inc(float(event.fill_delta * price))


def _live_families(service: ExecutionService, family: Any) -> Iterator[Any]:
    """The gauges read at scrape time (``family``: prometheus' GaugeMetricFamily)."""
    orders = family("krakked_orders", "Orders by status", labels=["status"])
    try:
        counts = service.store.status_counts()
    except Exception:
        counts = {}  # a scrape never fails the process; the logs say what the store said
    for status, count in sorted(counts.items()):
        orders.add_metric([status], count)
    yield orders
    client = service.adapter.client if service.adapter is not None else None
    limiter = getattr(client, "limiter", None)
    if limiter is not None:
        stats = limiter.stats
        yield family(
            "krakked_rate_limit_waits_total", "Calls that waited for budget", value=stats.waits
        )
        yield family(
            "krakked_rate_limit_wait_seconds_total",
            "Seconds waited for budget",
            value=stats.wait_seconds,
        )
    yield from _timer_families(service, family)


def _timer_families(service: ExecutionService, family: Any) -> Iterator[Any]:
    dead_man = service.dead_man_switch
    if dead_man is not None and dead_man.armed_until is not None:
        yield family(
            "krakked_dead_man_seconds_to_expiry",
            "Seconds until the dead-man switch fires",
            value=(dead_man.armed_until - datetime.now(UTC)).total_seconds(),
        )
    supervisor = service.supervisor
    if supervisor is not None and supervisor.last_reconcile_at is not None:
        yield family(
            "krakked_reconcile_lag_seconds",
            "Seconds since the last scheduled reconciliation",
            value=(service.clock.now() - supervisor.last_reconcile_at).total_seconds(),
        )
