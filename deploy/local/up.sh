#!/usr/bin/env bash
# Brings up everything Spillway needs locally: PostgreSQL and Redis are system
# services we only verify; Kafka we run ourselves. Safe to run repeatedly.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

"$HERE/check-deps.sh"
"$HERE/databases.sh"
"$HERE/kafka.sh" start
"$HERE/kafka.sh" wait
