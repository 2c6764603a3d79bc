#!/bin/sh
# scripts/image-smoke.sh IMAGE: runs a built kscand-sim image and checks what a user checks.
# One line per check; on the first failure one line saying why, and exit 1 (2: bad usage).
# Needs a Docker engine (DOCKER picks the client, default `docker`), so it is not part of
# `npm test`. The probes run inside the container (`docker exec`), so it needs no published
# port and works on an engine without a bridge network. It removes what it creates.
set -u
IMAGE=${1:?usage: scripts/image-smoke.sh IMAGE}
DOCKER=${DOCKER:-docker}
NAME=kscand-sim-smoke-$$
TOKEN=smoke-$$-token
TUNABLE=/sys/kernel/mm/kscand/scan_sleep_ms
BOUND_S=60 # how long the daemon may take to be ready, and its health to turn healthy

ok() { echo "ok   $1"; }
fail() {
  echo "FAIL $1" >&2
  exit 1
}
cleanup() {
  for c in "$NAME" "$NAME-uid"; do $DOCKER rm -f "$c" >/dev/null 2>&1; done
  for v in "$NAME" "$NAME-uid"; do $DOCKER volume rm "$v" >/dev/null 2>&1; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# http CONTAINER METHOD PATH [BODY]: "<status> <body>" of a request from inside the container
# (the image listens on 0.0.0.0:$PORT).
http() {
  $DOCKER exec -e M="$2" -e P="$3" -e B="${4:-}" "$1" node -e '
    const url = `http://127.0.0.1:${process.env.PORT}${process.env.P}`
    const init = { method: process.env.M, headers: { authorization: `Bearer ${process.env.KSCAND_SIM_TOKEN}` } }
    if (process.env.M === "PUT") init.body = process.env.B
    fetch(url, init).then(async (r) => console.log(r.status, (await r.text()).trim()), (e) => console.log(0, e.cause?.code ?? e.message))
  ' 2>&1
}

# ready CONTAINER: waits (bounded) for /readyz to answer 200.
ready() {
  i=0
  while [ "$i" -lt $((BOUND_S * 2)) ]; do
    [ "$(http "$1" GET /readyz | cut -d' ' -f1)" = 200 ] && return 0
    [ "$($DOCKER inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ] || break
    sleep 0.5
    i=$((i + 1))
  done
  return 1
}
# not_ready CONTAINER: why it is not ready, with its last log line.
not_ready() {
  if [ "$($DOCKER inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; then
    why="not ready within ${BOUND_S}s"
  else
    why="exited with code $($DOCKER inspect -f '{{.State.ExitCode}}' "$1" 2>/dev/null)"
  fi
  echo "$why: $($DOCKER logs --tail 1 "$1" 2>&1 | cut -c1-200)"
}
now_ms() { date +%s%3N; }

$DOCKER volume create "$NAME" >/dev/null || fail "cannot create a volume (is the engine up? DOCKER_HOST?)"
$DOCKER run -d --name "$NAME" -e KSCAND_SIM_TOKEN="$TOKEN" -v "$NAME:/var/lib/kscand-sim" "$IMAGE" \
  >/dev/null || fail "docker run $IMAGE failed"
ready "$NAME" || fail "/readyz did not answer 200: $(not_ready "$NAME")"
for p in /healthz /readyz; do
  r=$(http "$NAME" GET "$p")
  [ "${r%% *}" = 200 ] || fail "GET $p answered: $r"
done
ok "/healthz and /readyz answer 200"

uid=$($DOCKER exec "$NAME" id -u)
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "runs as uid '$uid'"
ok "runs as non-root (uid $uid, user $($DOCKER exec "$NAME" id -un))"

pid1=$($DOCKER exec "$NAME" cat /proc/1/comm)
[ "$pid1" = tini ] || fail "PID 1 is '$pid1', not tini"
ok "tini is PID 1"

i=0
health=
while [ "$i" -lt "$BOUND_S" ]; do
  health=$($DOCKER inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$NAME")
  [ "$health" = healthy ] && break
  [ -z "$health" ] && fail "the image declares no HEALTHCHECK"
  sleep 1
  i=$((i + 1))
done
[ "$health" = healthy ] || fail "health is '$health' after ${BOUND_S}s"
ok "health turns healthy (after ~${i}s)"

before=$(http "$NAME" GET "$TUNABLE")
want=$([ "${before#* }" = 250 ] && echo 300 || echo 250)
r=$(http "$NAME" PUT "$TUNABLE" "$want")
[ "${r%% *}" = 200 ] || fail "PUT $TUNABLE $want answered: $r"
$DOCKER restart "$NAME" >/dev/null || fail "docker restart failed"
ready "$NAME" || fail "after docker restart: $(not_ready "$NAME")"
after=$(http "$NAME" GET "$TUNABLE")
[ "$after" = "200 $want" ] || fail "after docker restart $TUNABLE is '$after', written '$want'"
ok "a written tunable survives docker restart ($TUNABLE ${before#* } -> $want)"

t0=$(now_ms)
$DOCKER stop "$NAME" >/dev/null || fail "docker stop failed"
took=$(($(now_ms) - t0))
code=$($DOCKER inspect -f '{{.State.ExitCode}}' "$NAME")
[ "$code" = 0 ] || fail "docker stop: exit code $code: $($DOCKER logs --tail 1 "$NAME" 2>&1 | cut -c1-200)"
[ "$took" -lt 10000 ] || fail "docker stop took ${took} ms"
ok "docker stop takes ${took} ms, exit code 0"

$DOCKER volume create "$NAME-uid" >/dev/null || fail "cannot create a volume"
$DOCKER run -d --name "$NAME-uid" --user 12345:0 -e KSCAND_SIM_TOKEN="$TOKEN" \
  -v "$NAME-uid:/var/lib/kscand-sim" "$IMAGE" >/dev/null || fail "docker run --user 12345:0 failed"
ready "$NAME-uid" || fail "--user 12345:0: $(not_ready "$NAME-uid")"
r=$(http "$NAME-uid" PUT "$TUNABLE" 250)
[ "${r%% *}" = 200 ] || fail "--user 12345:0: PUT $TUNABLE answered: $r"
$DOCKER restart "$NAME-uid" >/dev/null || fail "--user 12345:0: docker restart failed"
ready "$NAME-uid" || fail "--user 12345:0: after docker restart: $(not_ready "$NAME-uid")"
owner=$($DOCKER exec "$NAME-uid" stat -c %u:%g /var/lib/kscand-sim/state.json 2>&1)
after=$(http "$NAME-uid" GET "$TUNABLE")
[ "$after" = "200 250" ] || fail "--user 12345:0: after restart $TUNABLE is '$after' (state file $owner)"
ok "runs as --user 12345:0 and writes its state (state.json $owner, kept across restart)"
