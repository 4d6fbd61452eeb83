"""The Celery app Misago's tasks use, configured from the Django settings
(`CELERY_*`); with `CELERY_TASK_ALWAYS_EAGER` they run in the request."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "misagotest.settings")

app = Celery("misagotest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
