# gunicorn for Misago, as the original deployment ran it: five workers on
# port 80; connections, log format and level from the environment.
import os

bind = "0.0.0.0:80"
workers = 5
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
accesslog = "-"
errorlog = "-"
access_log_format = os.environ.get(
    "GUNICORN_ACCESS_LOG_FORMAT",
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
)
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
