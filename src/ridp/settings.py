"""Django settings for the ridp workspace (and, later, the web app).

Everything comes from the environment through :mod:`ridp.config`, which fails
loudly on a bad value. SQLite under ``RIDP_HOME`` is the embedded default;
``DATABASE_URL=postgresql://...`` switches to PostgreSQL.
"""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from ridp.config import Config
from ridp.errors import SettingError

CONFIG = Config.from_env()
RIDP_HOME = CONFIG.home

DEBUG = CONFIG.debug
# The CLI never serves HTTP; the web app (ridp.web) refuses to start without a
# real key. This stand-in only signs nothing the CLI hands out.
SECRET_KEY = CONFIG.secret_key or "ridp-cli-only-not-for-serving"
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "ridp.workspace",
]
AUTH_USER_MODEL = "workspace.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"


def _database(config: Config) -> dict[str, object]:
    if not config.database_url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(config.home / "workspace.sqlite3"),
            # IMMEDIATE transactions take the write lock at BEGIN, so two
            # ingests never deadlock upgrading a read lock.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
            },
        }
    url = urlparse(config.database_url)
    if not url.path.strip("/"):
        raise SettingError(
            "DATABASE_URL", config.database_url, "a URL naming a database, e.g. postgresql://user@host:5432/ridp"
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": url.path.lstrip("/"),
        "USER": unquote(url.username or ""),
        "PASSWORD": unquote(url.password or ""),
        "HOST": url.hostname or "",
        "PORT": str(url.port or ""),
    }


DATABASES = {"default": _database(CONFIG)}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {"django": {"handlers": ["null"], "level": "WARNING"}},
}
