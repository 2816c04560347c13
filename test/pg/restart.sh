#!/usr/bin/env bash
# Restarts the cluster test/pg/start.sh started in DIR (fast shutdown: open connections are
# cut), on the same port.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=${1:?usage: test/pg/restart.sh DIR}
owner=$(stat -c %U "$dir/data")
as_owner "$owner" "$(pg_bindir)/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -m fast -w -t 60 restart >/dev/null
