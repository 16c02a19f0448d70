# One image for every process of the Procfile; the command names the process:
#   web (granian WSGI on $PORT), ws (uvicorn ASGI on $WS_PORT), worker (jobs and schedule),
#   release (migrations; also `migrate`). Anything else runs as given (`python manage.py ...`).
# DATABASE_URL, REDIS_URL and SECRET_KEY come from the environment; the image never starts the
# embedded PostgreSQL/Redis of `make run` (musicapp/dev/ is not copied, requirements-dev.txt not
# installed). deploy/README.md ("Container image") has the commands and what was measured.
#
#   docker build -t musicapp .
#   docker run --env-file deploy/compose.env -p 8000:8000 musicapp web

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: the pinned runtime set in a venv ---------------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
# No compiler is needed: every pinned package has a wheel for CPython 3.11 on Linux except
# djangorestframework-camel-case, pure Python, built from its sdist. requirements.txt pins the
# whole set (`make lock`); pip adds only what a marker asks of this interpreter (redis needs
# async-timeout before Python 3.11.3, e.g. Debian's 3.11.2), and `pip check` proves it complete.
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt \
 && /opt/venv/bin/pip check \
 && /opt/venv/bin/pip uninstall --yes --quiet pip setuptools

# --- runtime: the venv (without pip), the code, the collected static files -----------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=musicapp.settings \
    PORT=8000 \
    WS_PORT=8001 \
    LISTEN_HOST=0.0.0.0 \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media
# /data/media: the local media store (a volume). /data/static: where compose.yaml's `release`
# copies the collected static files for nginx to serve (a volume shared with nginx).
RUN groupadd --gid 10001 app \
 && useradd --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
 && mkdir -p /data/media /data/static \
 && chown app:app /data/media /data/static
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY . /app
# collectstatic only reads the settings: these values are placeholders for that one command
# (nothing connects to them) and are not kept in the image's environment. The code is compiled
# here because the app user may not write /app (owned by root).
RUN DATABASE_URL=postgres://collectstatic@127.0.0.1:1/none \
    REDIS_URL=redis://127.0.0.1:1/0 \
    SECRET_KEY=collectstatic-only-not-a-secret \
    python manage.py collectstatic --noinput -v 0 \
 && python -m compileall -q -j 0 /app \
 && chmod 0755 /app/deploy/docker/entrypoint.sh /app/deploy/docker/healthcheck.py

USER app:app
EXPOSE 8000 8001
STOPSIGNAL SIGTERM
# web and ws: GET /health on their own port (200 when the database and Redis answer); the
# worker serves no HTTP and counts as healthy while it runs.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/deploy/docker/healthcheck.py"]
ENTRYPOINT ["/app/deploy/docker/entrypoint.sh"]
CMD ["web"]
