#!/usr/bin/env bash
# Stops the kube-apiserver and etcd test/kube/start.sh started in DIR and removes DIR; with
# --keep, only stops them (start.sh DIR starts them again, with etcd's data).
set -euo pipefail

keep=
if [ "${1:-}" = --keep ]; then
  keep=1
  shift
fi
dir=${1:?usage: test/kube/stop.sh [--keep] DIR}
for p in kube-apiserver etcd; do  # the API server first, so it does not lose etcd under it
  [ -f "$dir/$p.pid" ] || continue
  pid=$(cat "$dir/$p.pid")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do  # 10 s, then no more asking
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/$p.pid"
done
[ -n "$keep" ] || rm -rf "$dir"
