"""Logging for the command line: the layer's log records on stderr, through rich.

Default level WARNING (``--verbose``: INFO, ``--debug``: DEBUG). ``krakked sim``
injects faults on purpose, so the warnings they cause are expected: it counts
them instead of printing them, unless ``--verbose`` asks to see them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from rich.console import ConsoleRenderable
from rich.logging import RichHandler

from kraken_bot.cli.output import err_console, terminal_safe

__all__ = ["configure_logging", "counted_logs", "detach_logging"]

_LOGGERS: Final = ("kraken_bot", "kraken_sim")
_installed: list[logging.Handler] = []
_levels: dict[str, int] = {}


class _SafeRichHandler(RichHandler):
    """Log messages quote the exchange and the database: escaped like every other output."""

    def render_message(self, record: logging.LogRecord, message: str) -> ConsoleRenderable:
        return super().render_message(record, terminal_safe(message, keep_newlines=True))


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
    _installed.clear()
    for name, level in _levels.items():
        logging.getLogger(name).setLevel(level)
    _levels.clear()


def configure_logging(*, verbose: bool, debug: bool) -> None:
    """Send the layer's logs to stderr (once per invocation; replaces an earlier setup)."""
    detach_logging()
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    handler = _SafeRichHandler(
        console=err_console, show_time=False, show_path=debug, markup=True, rich_tracebacks=False
    )
    handler.setLevel(level)
    _installed.append(handler)
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        _levels[name] = logger.level
        if level < logging.WARNING:
            logger.setLevel(level)
        logger.addHandler(handler)


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
