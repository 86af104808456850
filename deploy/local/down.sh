#!/usr/bin/env bash
# Stops only what up.sh started (Kafka); PostgreSQL and Redis are shared
# system services that other work on this machine relies on.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

"$HERE/kafka.sh" stop
