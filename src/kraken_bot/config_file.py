"""Load the application configuration from a YAML file and the environment (shell).

The pure parser (`kraken_bot.config.parse_app_config`) does the validation;
this module only reads bytes: the YAML file, the process environment, and the
optional credentials file. Every failure becomes one `ConfigFileError` whose
message names the file and every problem, never a traceback (a file asking for
live mode without the opt-ins raises `LiveTradingRefusedError`, as code does).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import yaml
from returns.pipeline import is_successful

from kraken_bot._errors import ConfigValidationError, LiveTradingRefusedError
from kraken_bot.config import AppConfig, parse_app_config
from kraken_bot.secret import Secret

DEFAULT_CONFIG_NAME = "config.yaml"


class ConfigFileError(ConfigValidationError):
    """The configuration could not be loaded; the message says what and where.

    Raised by `load_config` when the file is missing, unreadable or not YAML, when
    its content is invalid (``problems`` lists each, with its key path), and when
    the credentials file is unreadable or malformed. A file that asks for live mode
    without all three opt-ins raises `LiveTradingRefusedError` instead, the same
    error as ``ExecutionConfig(mode="live")`` in code; both derive from
    `ConfigValidationError`.
    """


def _read_yaml(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigFileError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"{path}: cannot read config file ({exc})") from None
    return load_yaml_text(text, what=str(path), error=ConfigFileError)


def load_yaml_text(text: str, *, what: str, error: type[Exception]) -> object:
    """Parse YAML (or JSON) safely; every parser failure becomes ``error`` naming ``what``.

    Besides `yaml.YAMLError`, PyYAML lets through ValueError (an integer of
    more than 4300 digits) and RecursionError (absurd nesting): both are
    reported as the document's fault, not as a crash.
    """
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise error(f"{what}: not valid YAML{where}: {problem}") from None
    except ValueError as exc:
        raise error(f"{what}: a value cannot be read ({exc})") from None
    except RecursionError:
        raise error(f"{what}: nested too deeply to be a configuration or plan") from None


def _read_credentials(path: Path) -> tuple[str, str]:
    """A credentials file holds the API key on its first line and the secret on its second."""
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except OSError as exc:
        raise ConfigFileError(
            f"kraken.credentials_file: cannot read {path} ({exc.strerror})"
        ) from None
    lines = [line for line in lines if line and not line.startswith("#")]
    if len(lines) != 2:
        raise ConfigFileError(
            f"kraken.credentials_file: {path} must hold two lines, the API key then the secret"
        )
    return lines[0], lines[1]


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> AppConfig:
    """Load configuration.

    Args:
        path: the YAML file; None reads ``config.yaml`` in the working directory
            when it exists and otherwise uses the defaults.
        env: environment variables; None reads the process environment.

    Raises:
        LiveTradingRefusedError: the file asks for live mode without all three opt-ins
            (``problems`` lists that and anything else wrong).
        ConfigFileError: the file is missing/unreadable/not YAML, or invalid; a bad
            credentials file.
    """
    environ = dict(os.environ) if env is None else dict(env)
    if path is None:
        default = Path(DEFAULT_CONFIG_NAME)
        raw = _read_yaml(default) if default.exists() else None
        source = str(default) if default.exists() else "default config"
    else:
        raw = _read_yaml(path)
        source = str(path)
    parsed = parse_app_config(raw, env=environ, source=source)
    if not is_successful(parsed):
        error = parsed.failure()
        kind = LiveTradingRefusedError if error.refuses_live else ConfigFileError
        raise kind(str(error), problems=error.problems, source=source)
    config = parsed.unwrap()
    creds = config.kraken.credentials_file
    if creds and not config.kraken.has_credentials:
        key, secret = _read_credentials(Path(creds).expanduser())
        config = replace(
            config, kraken=replace(config.kraken, api_key=Secret(key), api_secret=Secret(secret))
        )
    return config
