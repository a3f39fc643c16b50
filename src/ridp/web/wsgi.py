"""WSGI entry point of the web app (gunicorn ``ridp.web.wsgi:application``)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ridp.settings")

from django.core.wsgi import get_wsgi_application

from ridp.web.security import require_secret_key

application = get_wsgi_application()
require_secret_key()
