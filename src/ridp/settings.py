"""Django settings for the ridp workspace and the web app: one module, environment-driven.

Everything comes from the environment through :mod:`ridp.config`, which fails
loudly on a bad value (``docs/settings.md`` lists every setting). SQLite under
``RIDP_HOME`` is the embedded default; ``DATABASE_URL=postgresql://...``
switches to PostgreSQL. ``RIDP_SECURE=1`` is production behind HTTPS.

The secret key is ``RIDP_SECRET_KEY`` or, when that is empty, the workspace's own
random key (``RIDP_HOME/secret.key``, written by ``ridp init``). A weak or sample
key is refused here; an empty one leaves the CLI working and stops the web app
(:func:`ridp.web.security.require_secret_key`).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from ridp.config import Config, secret_key_problem
from ridp.errors import SettingError

CONFIG = Config.from_env()
RIDP_HOME = CONFIG.home
BASE_DIR = Path(__file__).resolve().parent

DEBUG = CONFIG.debug


def _secret_key(config: Config) -> str:
    if config.secret_key:
        problem = secret_key_problem(config.secret_key)
        if problem:
            raise SettingError("RIDP_SECRET_KEY", "(hidden)", f"a strong random key: {problem}")
        return config.secret_key
    path = config.home / "secret.key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""  # the CLI needs none; the web app refuses to start without one


SECRET_KEY = _secret_key(CONFIG)
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)

INSTALLED_APPS = [
    "whitenoise.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "ridp.workspace",
    "ridp.web",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ridp.web.middleware.roles_read_once",
    "ridp.web.middleware.security_headers",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "ridp.web.middleware.session_limits",
    "ridp.web.middleware.two_factor_gate",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "ridp.web.middleware.ridp_errors",
]
ROOT_URLCONF = "ridp.web.urls"
WSGI_APPLICATION = "ridp.web.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ridp.web.context.navigation",
            ],
        },
    }
]
AUTH_USER_MODEL = "workspace.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2  # a reset link works for two hours

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]

# Static files are served by WhiteNoise straight from the installed package (found at
# start-up): nothing to collect, so any workspace serves without a build step.
STATIC_URL = "/static/"
STATIC_ROOT = None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Uploads stream to a temporary file under the workspace, never into memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
# (made by `ridp init`; until then the system's temporary folder)
FILE_UPLOAD_TEMP_DIR = str(CONFIG.home / "uploads") if (CONFIG.home / "uploads").is_dir() else None
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
DATA_UPLOAD_MAX_NUMBER_FILES = 10
RIDP_UPLOAD_MAX_BYTES = CONFIG.upload_max_bytes

# Sessions: rotated at login (Django), idle and absolute limits (ridp.web.middleware).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_AGE = CONFIG.session_idle_minutes * 60
SESSION_SAVE_EVERY_REQUEST = False  # the idle stamp is written at most once a minute (middleware)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
RIDP_SESSION_MAX_SECONDS = CONFIG.session_max_hours * 3600
RIDP_LOGIN_ATTEMPTS = CONFIG.login_attempts
RIDP_LOGIN_WINDOW_SECONDS = 15 * 60

# Security headers. CSP is set by ridp.web.middleware (Django 5.2 has none built in).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if CONFIG.secure:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# Mail: a file per message under the workspace by default; SMTP by setting.
DEFAULT_FROM_EMAIL = CONFIG.mail_from
SERVER_EMAIL = CONFIG.mail_from
if CONFIG.smtp_url:
    _smtp = urlparse(CONFIG.smtp_url)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _smtp.hostname or ""
    EMAIL_PORT = _smtp.port or (465 if _smtp.scheme == "smtps" else 587)
    EMAIL_HOST_USER = unquote(_smtp.username or "")
    EMAIL_HOST_PASSWORD = unquote(_smtp.password or "")
    EMAIL_USE_SSL = _smtp.scheme == "smtps"
    EMAIL_USE_TLS = _smtp.scheme == "smtp" and EMAIL_PORT == 587
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(CONFIG.home / "mail")

# Background jobs: the database queue, run by `manage.py db_worker` (started by `ridp serve`).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


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
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


DATABASES = {"default": _database(CONFIG)}

# Logs never carry request bodies, personal values or secrets: Django's request
# logger would print them with a traceback, so errors go out as one line each
# (ridp.web.middleware.ridp_errors) and the rest stays at WARNING.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "null": {"class": "logging.NullHandler"},
        "console": {"class": "logging.StreamHandler", "formatter": "line"},
    },
    "loggers": {
        "django": {"handlers": ["null"], "level": "WARNING", "propagate": False},
        "django.request": {"handlers": ["null"], "level": "ERROR", "propagate": False},
        "ridp": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django_tasks": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
