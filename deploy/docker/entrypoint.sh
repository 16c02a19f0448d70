#!/bin/sh
# The image's entry point: the first argument names one of the Procfile's processes, run with
# the Procfile's flags (extra arguments are passed on). `exec` makes the server PID 1, so
# `docker stop`'s SIGTERM reaches it and it drains within its own grace (20 s; give the
# container 30 s: compose.yaml's stop_grace_period, `docker stop -t 30`).
set -eu

# The settings refuse to start without these; say so before Django's traceback would. The
# embedded PostgreSQL/Redis of `make run` are never started here (musicapp/dev/ is not in the
# image, nor are its packages).
need_services() {
    : "${DATABASE_URL:?DATABASE_URL must be set (postgres://...)}"
    : "${REDIS_URL:?REDIS_URL must be set (redis://...)}"
}

process="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$process" in
    web)
        need_services
        exec granian --interface wsgi --host "$LISTEN_HOST" --port "$PORT" \
            --workers "${WEB_CONCURRENCY:-2}" --blocking-threads "${WEB_THREADS:-8}" \
            --respawn-failed-workers --workers-kill-timeout 20 "$@" musicapp.wsgi:application
        ;;
    ws)
        need_services
        exec uvicorn musicapp.asgi:application --host "$LISTEN_HOST" --port "$WS_PORT" \
            --workers "${WS_CONCURRENCY:-1}" --lifespan off --timeout-graceful-shutdown 20 \
            --no-proxy-headers --ws-max-size 1048576 --ws-per-message-deflate false "$@"
        ;;
    worker)
        need_services
        exec python manage.py worker "$@"
        ;;
    release | migrate)
        need_services
        exec python manage.py migrate --noinput "$@"
        ;;
    *)
        exec "$process" "$@"
        ;;
esac
