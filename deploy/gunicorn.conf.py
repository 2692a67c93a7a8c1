"""gunicorn settings for Relay's web process (`gunicorn -c deploy/gunicorn.conf.py config.wsgi`).

Every value can be overridden from the environment (GUNICORN_*), as the systemd unit and
`make prod-check` do.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A request that takes longer is killed: no web request does slow work (SPEC §8).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Recycle workers now and then, so a leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# The reverse proxy on this machine; only it may set X-Forwarded-* for gunicorn.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
# The access log with OAuth `code`/`state` and tokens removed from request lines.
logger_class = "config.log.ScrubbedGunicornLogger"
access_log_format = (
    '{"time": "%(t)s", "remote": "%(h)s", "request": "%(r)s", "status": %(s)s, '
    '"bytes": "%(b)s", "duration_ms": %(M)s, "agent": "%(a)s"}'
)
