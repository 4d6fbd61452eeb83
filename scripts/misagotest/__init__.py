"""Django project running Misago 0.39 for sdbc's load-test test."""

from .celery import app as celery_app

__all__ = ["celery_app"]
