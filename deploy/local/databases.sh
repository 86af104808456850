#!/usr/bin/env bash
# One PostgreSQL database per service that owns state, so each service's migrations, outbox and
# tables stay its own. Idempotent: existing databases are left alone.
set -euo pipefail
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER

for db in spillway_shard_metadata spillway_conversation_state spillway_gateway spillway_analytics; do
  if ! psql -d postgres -tAc "select 1 from pg_database where datname = '$db'" | grep -q 1; then
    psql -d postgres -qc "create database $db" && echo "created database $db"
  fi
done
