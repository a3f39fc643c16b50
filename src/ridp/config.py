"""ridp's settings, read from the environment: one place, loud on bad values.

Every setting ridp reads is declared in :data:`SETTINGS` with its default and
meaning; ``docs/settings.md`` lists them and a test checks that the two agree.
The Django settings module (:mod:`ridp.settings`) builds on this one, so the
analytical core can read its settings without importing Django.

Examples
--------
>>> from ridp.config import Config
>>> Config.from_env({"RIDP_HOME": "/tmp/city"}).home.as_posix()
'/tmp/city'
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ridp.errors import SettingError

__all__ = ["SETTINGS", "Config", "parse_bytes"]

#: name -> (default, meaning). The single list of environment settings.
SETTINGS: dict[str, tuple[str, str]] = {
    "RIDP_HOME": ("./ridp-data", "Folder of the workspace: the SQLite store, datasets and engine files."),
    "DATABASE_URL": (
        "",
        "postgresql://user@host:port/db switches the workspace store to PostgreSQL; empty means SQLite under RIDP_HOME.",
    ),
    "RIDP_USER": ("", "Username the CLI acts as; empty means the first programme admin."),
    "RIDP_ENGINE_URL": (
        "",
        "Default analytics engine: empty = DuckDB file under RIDP_HOME, postgresql://..., or spark://local.",
    ),
    "RIDP_ENGINE_MEMORY": ("2GB", "Memory limit of the embedded DuckDB engine (e.g. 2GB, 512MB)."),
    "RIDP_ENGINE_THREADS": ("0", "Threads of the embedded DuckDB engine; 0 means one per core."),
    "RIDP_PARSE_MEMORY": ("4GB", "Address-space limit of the child process that parses an untrusted file."),
    "RIDP_PARSE_CPU_SECONDS": ("3600", "CPU-time limit of the child process that parses an untrusted file."),
    "RIDP_MAX_COLUMNS": ("2000", "Most columns a dataset file may have."),
    "RIDP_MAX_LINE_BYTES": (
        "2MiB",
        "Longest line a CSV file may have (longer limits make every parse slower and larger).",
    ),
    "RIDP_SECRET_KEY": (
        "",
        "Secret key that signs sessions and links; empty means the workspace's own random key (RIDP_HOME/secret.key). "
        "A short, default or sample key is refused.",
    ),
    "RIDP_DEBUG": ("0", "1 turns on Django debug pages (development only; never with real data)."),
    "RIDP_SECURE": (
        "0",
        "1 when the app is served over HTTPS: secure cookies, HSTS and a redirect to https (production).",
    ),
    "RIDP_ALLOWED_HOSTS": ("localhost,127.0.0.1", "Comma-separated host names the web app answers to."),
    "RIDP_SMTP_URL": (
        "",
        "smtp://user:password@host:port (smtps:// for TLS) sends mail; empty writes each mail to RIDP_HOME/mail.",
    ),
    "RIDP_MAIL_FROM": ("ridp@localhost", "Sender address of invitations and password resets."),
    "RIDP_SESSION_IDLE_MINUTES": ("30", "A web session ends after this many minutes without a request."),
    "RIDP_SESSION_MAX_HOURS": ("12", "A web session ends this many hours after login, however active."),
    "RIDP_LOGIN_ATTEMPTS": (
        "5",
        "Failed logins (or two-factor codes) allowed per person in 15 minutes before login pauses for them.",
    ),
    "RIDP_UPLOAD_MAX_BYTES": ("5GB", "Largest file the web app and API accept in one upload."),
}

_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3}


def parse_bytes(name: str, value: str) -> int:
    """Parse a size such as ``512MB`` or ``2GiB`` into bytes.

    Examples
    --------
    >>> parse_bytes("X", "2GB")
    2000000000
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]I?B|B)?\s*", value, flags=re.IGNORECASE)
    if not m:
        raise SettingError(name, value, "a size such as 512MB or 2GB")
    number, unit = m.groups()
    size = int(float(number) * _UNITS[(unit or "").upper()])
    if size <= 0:
        raise SettingError(name, value, "a size above zero")
    return size


def _positive_int(name: str, value: str, *, allow_zero: bool = False) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingError(name, value, "a whole number") from None
    if number < 0 or (number == 0 and not allow_zero):
        raise SettingError(name, value, "a whole number above zero" if not allow_zero else "zero or more")
    return number


@dataclass(frozen=True)
class Config:
    """The settings in force, parsed and checked."""

    home: Path
    database_url: str
    user: str
    engine_url: str
    engine_memory: int
    engine_threads: int
    parse_memory: int
    parse_cpu_seconds: int
    max_columns: int
    max_line_bytes: int
    secret_key: str
    debug: bool
    secure: bool
    allowed_hosts: tuple[str, ...]
    smtp_url: str
    mail_from: str
    session_idle_minutes: int
    session_max_hours: int
    login_attempts: int
    upload_max_bytes: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Read every setting from ``env`` (default: ``os.environ``)."""
        source = os.environ if env is None else env
        unknown = sorted(k for k in source if k.startswith("RIDP_") and k not in SETTINGS)
        if unknown:
            raise SettingError(unknown[0], source[unknown[0]], "a known setting: " + ", ".join(sorted(SETTINGS)))

        def get(name: str) -> str:
            return source.get(name, "") or SETTINGS[name][0]

        flags = {}
        for flag in ("RIDP_DEBUG", "RIDP_SECURE"):
            if get(flag) not in {"0", "1"}:
                raise SettingError(flag, get(flag), "0 or 1")
            flags[flag] = get(flag) == "1"
        smtp_url = source.get("RIDP_SMTP_URL", "")
        if smtp_url and not re.match(r"^smtps?://[^/\s]+$", smtp_url):
            raise SettingError("RIDP_SMTP_URL", "(hidden)", "smtp://user:password@host:port or smtps://...")
        hosts = tuple(h.strip() for h in get("RIDP_ALLOWED_HOSTS").split(",") if h.strip())
        if not hosts:
            raise SettingError("RIDP_ALLOWED_HOSTS", get("RIDP_ALLOWED_HOSTS"), "one or more host names")
        database_url = source.get("DATABASE_URL", "")
        if database_url and not re.match(r"^(postgres|postgresql)://", database_url):
            raise SettingError("DATABASE_URL", database_url, "a postgresql:// URL, or empty for SQLite")
        return cls(
            home=Path(get("RIDP_HOME")).expanduser().absolute(),
            database_url=database_url,
            user=source.get("RIDP_USER", ""),
            engine_url=source.get("RIDP_ENGINE_URL", ""),
            engine_memory=parse_bytes("RIDP_ENGINE_MEMORY", get("RIDP_ENGINE_MEMORY")),
            engine_threads=_positive_int("RIDP_ENGINE_THREADS", get("RIDP_ENGINE_THREADS"), allow_zero=True),
            parse_memory=parse_bytes("RIDP_PARSE_MEMORY", get("RIDP_PARSE_MEMORY")),
            parse_cpu_seconds=_positive_int("RIDP_PARSE_CPU_SECONDS", get("RIDP_PARSE_CPU_SECONDS")),
            max_columns=_positive_int("RIDP_MAX_COLUMNS", get("RIDP_MAX_COLUMNS")),
            max_line_bytes=parse_bytes("RIDP_MAX_LINE_BYTES", get("RIDP_MAX_LINE_BYTES")),
            secret_key=source.get("RIDP_SECRET_KEY", ""),
            debug=flags["RIDP_DEBUG"],
            secure=flags["RIDP_SECURE"],
            allowed_hosts=hosts,
            smtp_url=smtp_url,
            mail_from=get("RIDP_MAIL_FROM"),
            session_idle_minutes=_positive_int("RIDP_SESSION_IDLE_MINUTES", get("RIDP_SESSION_IDLE_MINUTES")),
            session_max_hours=_positive_int("RIDP_SESSION_MAX_HOURS", get("RIDP_SESSION_MAX_HOURS")),
            login_attempts=_positive_int("RIDP_LOGIN_ATTEMPTS", get("RIDP_LOGIN_ATTEMPTS")),
            upload_max_bytes=parse_bytes("RIDP_UPLOAD_MAX_BYTES", get("RIDP_UPLOAD_MAX_BYTES")),
        )


#: Keys that appear in documentation, samples and old defaults: never accepted for serving.
_KNOWN_KEYS = {"changeme", "secret", "secret-key", "your-secret-key", "ridp-cli-only-not-for-serving", "xxx"}
MIN_SECRET_KEY_LENGTH = 50


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` cannot sign sessions and links, or ``None`` when it can.

    Examples
    --------
    >>> secret_key_problem("")
    'the secret key is empty'
    >>> secret_key_problem("django-insecure-" + "x" * 60)
    'the secret key is a default one (django-insecure-...)'
    """
    if not key:
        return "the secret key is empty"
    if key.lower() in _KNOWN_KEYS or key.startswith("django-insecure-"):
        return (
            "the secret key is a default one (django-insecure-...)"
            if key.startswith("django-insecure")
            else ("the secret key is a well-known sample value")
        )
    if len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < 5:
        return f"the secret key is too weak: use {MIN_SECRET_KEY_LENGTH} or more random characters"
    return None
