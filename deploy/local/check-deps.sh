#!/usr/bin/env bash
# Fails fast, with the fix spelled out, when PostgreSQL or Redis is not up:
# otherwise tests die much later with connection errors that hide the cause.
# Env: PGPORT (5432), PGUSER (postgres), REDIS_PORT (6379).
set -euo pipefail

HOST=127.0.0.1
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
REDIS_PORT="${REDIS_PORT:-6379}"
failed=0

pg_start_cmd() {
  # Name the installed cluster version so the hint can be pasted as is.
  local ver
  ver="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)"
  echo "pg_ctlcluster --skip-systemctl-redirect ${ver:-\$(ls /etc/postgresql)} main start"
}

check_postgres() {
  local err
  if command -v pg_isready >/dev/null; then
    if ! timeout 5 pg_isready -q -h "$HOST" -p "$PGPORT" -t 3; then
      echo "MISSING: PostgreSQL is not accepting connections on $HOST:$PGPORT" >&2
      echo "  start it with: $(pg_start_cmd)" >&2
      return 1
    fi
  elif ! timeout 3 bash -c "exec 3<>/dev/tcp/$HOST/$PGPORT" 2>/dev/null; then
    echo "MISSING: nothing listens on $HOST:$PGPORT (PostgreSQL)" >&2
    echo "  start it with: $(pg_start_cmd)" >&2
    return 1
  fi
  # pg_isready does not log in; a real query also catches auth/role problems,
  # which need a different fix than starting the server.
  if command -v psql >/dev/null; then
    if ! err="$(PGCONNECT_TIMEOUT=3 timeout 5 psql -h "$HOST" -p "$PGPORT" -U "$PGUSER" -d postgres -XtAqc 'select 1' 2>&1)"; then
      echo "BROKEN: PostgreSQL answers on $HOST:$PGPORT but 'select 1' as $PGUSER failed:" >&2
      echo "  $err" >&2
      return 1
    fi
  fi
  echo "ok: PostgreSQL on $HOST:$PGPORT"
}

redis_ping() {
  if command -v redis-cli >/dev/null; then
    [[ "$(timeout 3 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]
  else
    # No client installed: speak RESP by hand.
    timeout 3 bash -c '
      exec 3<>"/dev/tcp/$0/$1" || exit 1
      printf "PING\r\n" >&3
      IFS= read -r line <&3
      [[ "$line" == "+PONG"* ]]' "$HOST" "$REDIS_PORT" 2>/dev/null
  fi
}

check_redis() {
  if ! redis_ping; then
    echo "MISSING: Redis does not answer PING on $HOST:$REDIS_PORT" >&2
    echo "  start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port $REDIS_PORT --save \"\" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log" >&2
    return 1
  fi
  echo "ok: Redis on $HOST:$REDIS_PORT"
}

# Check both before failing so one run names everything that is missing.
check_postgres || failed=1
check_redis || failed=1
exit "$failed"
