#!/usr/bin/env bash
# Stops the cluster test/pg/start.sh started in DIR and removes DIR; with --keep, only stops
# it (start.sh DIR starts it again).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

keep=
if [ "${1:-}" = --keep ]; then
  keep=1
  shift
fi
dir=${1:?usage: test/pg/stop.sh [--keep] DIR}
if [ -f "$dir/data/PG_VERSION" ]; then
  owner=$(stat -c %U "$dir/data")
  as_owner "$owner" "$(pg_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
fi
[ -n "$keep" ] || rm -rf "$dir"
