#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for Hoist's tests and prints its URL:
#
#   export HOIST_TEST_POSTGRES=$(test/pg/start.sh /tmp/hoist-pg)
#   go test ./internal/store/postgres/ ./internal/server/
#   test/pg/stop.sh /tmp/hoist-pg
#
# DIR (made if absent; a new temporary directory when not given) holds the cluster's files
# and its log; a cluster already in DIR is started again on its port. The cluster listens on
# 127.0.0.1 only, on a free port, with trust authentication, and its superuser is hoist.
# As root, it runs as an unprivileged user (see lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=${1:-}
if [ -z "$dir" ]; then
  dir=$(mktemp -d)
  echo "cluster in $dir; stop it with test/pg/stop.sh $dir" >&2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bin=$(pg_bindir)
owner=$(pg_owner)
chown "$owner" "$dir" 2>/dev/null || true

if [ ! -f "$dir/data/PG_VERSION" ]; then
  as_owner "$owner" "$bin/initdb" -D "$dir/data" -U hoist --auth=trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
CONF
fi

port=$(sed -n "s/^port = \([0-9]*\)$/\1/p" "$dir/data/postgresql.conf" | tail -n 1)
if [ -n "$port" ] && as_owner "$owner" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  echo "postgres://hoist@127.0.0.1:$port/postgres?sslmode=disable"  # already running
  exit 0
fi

# A port that nothing answers on now; if another program takes it first, try another.
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  port=$(sed -n "s/^port = \([0-9]*\)$/\1/p" "$dir/data/postgresql.conf" | tail -n 1)
  if [ -z "$port" ] || [ "$attempt" -gt 1 ]; then
    port=$((20000 + RANDOM % 30000))
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((20000 + RANDOM % 30000)); done
    echo "port = $port" >>"$dir/data/postgresql.conf"
  fi
  if as_owner "$owner" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null; then
    echo "postgres://hoist@127.0.0.1:$port/postgres?sslmode=disable"
    exit 0
  fi
done
echo "PostgreSQL did not start; its log:" >&2
tail -n 20 "$dir/postgres.log" >&2
exit 1
