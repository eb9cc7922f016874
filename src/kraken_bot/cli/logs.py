"""Logging for the command line: the layer's log records on stderr or in a file.

Every line carries a UTC timestamp, the level and the logger. ``--log-format
text`` (the default) writes ``2026-01-01T00:00:00.000Z WARNING kraken_bot.execution:
message``, with what the exchange or the database said escaped for the terminal;
``--log-format json`` writes one JSON object per line (``ts``, ``level``,
``logger``, ``message``, and the order ids the message names as ``order_ids`` and
``txids``, or given as ``extra``), for log shippers. ``--log-file PATH`` appends to
a file instead of stderr.

Default level WARNING (``--verbose``: INFO, ``--debug``: DEBUG; `krakked run`
logs INFO). ``krakked sim`` injects faults on purpose, so the warnings they cause
are expected: it counts them instead of printing them, unless ``--verbose`` asks
to see them. Secrets never reach a log record: they are `Secret` values that
print as ``***``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Final, TextIO

from kraken_bot.cli.output import terminal_safe

__all__ = ["LogFormat", "configure_logging", "counted_logs", "detach_logging", "set_level"]

_LOGGERS: Final = ("kraken_bot", "kraken_sim")
_installed: list[logging.Handler] = []
_levels: dict[str, int] = {}
_LOCAL_ID: Final = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_TXID: Final = re.compile(r"\bO[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{6}\b")
_EXTRA_FIELDS: Final = ("local_id", "txid", "plan_id", "pair", "event")


class LogFormat(StrEnum):
    """How log lines are written."""

    TEXT = "text"
    JSON = "json"


def _utc(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class TextFormatter(logging.Formatter):
    """``<UTC time> <LEVEL> <logger>: <message>``, escaped for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        message = terminal_safe(record.getMessage(), keep_newlines=True)
        line = f"{_utc(record)} {record.levelname} {record.name}: {message}"
        if record.exc_info:
            line += "\n" + terminal_safe(self.formatException(record.exc_info), keep_newlines=True)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the order ids it names as fields."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        data: dict[str, object] = {
            "ts": _utc(record),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        order_ids = sorted(set(_LOCAL_ID.findall(message)))
        txids = sorted(set(_TXID.findall(message)))
        if order_ids:
            data["order_ids"] = order_ids
        if txids:
            data["txids"] = txids
        for name in _EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                data[name] = str(value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time (test capture, redirections)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.setStream(sys.stderr)
        super().emit(record)


class _CountingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.levelname.lower()] += 1


def detach_logging() -> None:
    """Undo `configure_logging` (at the end of each invocation)."""
    for handler in _installed:
        for name in _LOGGERS:
            logging.getLogger(name).removeHandler(handler)
        handler.close()
    _installed.clear()
    for name, level in _levels.items():
        logging.getLogger(name).setLevel(level)
    _levels.clear()


def configure_logging(
    *,
    verbose: bool,
    debug: bool,
    log_format: LogFormat = LogFormat.TEXT,
    log_file: Path | None = None,
) -> None:
    """Send the layer's logs to stderr or ``log_file`` (once per invocation; replaces an
    earlier setup)."""
    detach_logging()
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8")
        if log_file is not None
        else _StderrHandler()
    )
    handler.setFormatter(JsonFormatter() if log_format is LogFormat.JSON else TextFormatter())
    handler.setLevel(level)
    _installed.append(handler)
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        _levels[name] = logger.level
        if level < logging.WARNING:
            logger.setLevel(level)
        logger.addHandler(handler)


def set_level(level: int) -> None:
    """Lower the level of the installed handlers (and loggers) to ``level`` (`krakked run`)."""
    for handler in _installed:
        if handler.level > level:
            handler.setLevel(level)
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        _levels.setdefault(name, logger.level)
        if logger.getEffectiveLevel() > level:
            logger.setLevel(level)


@contextmanager
def counted_logs(*, show: bool) -> Iterator[Counter[str]]:
    """Count warnings and errors; print them only when ``show``."""
    counter = _CountingHandler()
    hidden: list[tuple[logging.Handler, int]] = []
    for handler in _installed:
        hidden.append((handler, handler.level))
        if not show:
            handler.setLevel(logging.CRITICAL + 1)
    for name in _LOGGERS:
        logging.getLogger(name).addHandler(counter)
    try:
        yield counter.counts
    finally:
        for name in _LOGGERS:
            logging.getLogger(name).removeHandler(counter)
        for handler, level in hidden:
            handler.setLevel(level)
