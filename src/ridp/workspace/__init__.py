"""The workspace: ridp's one store (Django ORM), and the functions that read and write it.

Call :func:`boot` once before using the store from plain Python (the CLI and
the web app do it for you)::

    import ridp.workspace
    ridp.workspace.boot()
    from ridp.workspace import datasets
    datasets.list_datasets(city="springfield")
"""

from __future__ import annotations

import os

__all__ = ["boot"]

_booted = False


def boot() -> None:
    """Configure Django with :mod:`ridp.settings` (unless another settings module is set)."""
    global _booted
    if _booted:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ridp.settings")
    import django

    django.setup()
    _booted = True
