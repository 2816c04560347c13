#!/usr/bin/env bash
# Runs README's "Walkthrough" as written: its shell blocks, in order, in a fresh clone of this
# repository with the default (relative) directories. The block that starts the server runs
# in the background, as in its own terminal; the others run in one shell, as in a second.
# Needs the aws command and nc, and port 9080 free.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
server_pid=
cleanup() {
  # Ctrl-C in the server's terminal: SIGINT to its whole process group.
  if [ -n "$server_pid" ]; then kill -INT -- "-$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

git clone -q "$repo" "$work/hoist"
cd "$work/hoist"

# The walkthrough's ```sh blocks, one file each.
awk -v dir="$work" '
  /^## / { inside = ($0 == "## Walkthrough: a build on a managed fleet") }
  inside && /^```sh$/ { n++; file = sprintf("%s/block-%02d.sh", dir, n); copying = 1; next }
  copying && /^```$/ { copying = 0; close(file); next }
  copying { print > file }
' README.md
blocks=("$work"/block-*.sh)
[ ${#blocks[@]} -ge 4 ] || { echo "README's walkthrough has ${#blocks[@]} shell blocks" >&2; exit 1; }
grep -q '^go build ./cmd/hoist$' "${blocks[0]}" && grep -q '^./hoist server$' "${blocks[1]}" ||
  { echo "the walkthrough no longer opens with building and starting the server" >&2; exit 1; }

export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL HOIST_ACCESS_KEY_ID HOIST_SECRET_ACCESS_KEY

bash -euo pipefail "${blocks[0]}"
setsid bash -euo pipefail "${blocks[1]}" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q 'serving the GameLift API' "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "the server did not start" >&2; exit 1; }
  sleep 0.1
done

cat "${blocks[@]:2}" >"$work/terminal-2.sh"
if ! timeout 300 bash -euo pipefail "$work/terminal-2.sh" >"$work/terminal-2.out" 2>&1; then
  cat "$work/terminal-2.out"; echo "--- server log:"; cat "$work/server.log"
  echo "README's walkthrough failed" >&2; exit 1
fi
grep -q '^OK arn:aws:gamelift:us-west-2::gamesession/' "$work/terminal-2.out" ||
  { cat "$work/terminal-2.out"; echo "the game server did not accept the player" >&2; exit 1; }
# Ctrl-C in the server's terminal, as the walkthrough ends; nothing it did, nor stopping,
# is worth a warning.
kill -INT -- "-$server_pid"
wait "$server_pid" || true
server_pid=
grep -q 'shutting down' "$work/server.log" || { cat "$work/server.log"; echo "the server did not shut down on Ctrl-C" >&2; exit 1; }
grep -q 'level=ERROR\|level=WARN' "$work/server.log" &&
  { cat "$work/server.log"; echo "the server logged warnings or errors during the walkthrough or on Ctrl-C" >&2; exit 1; }
echo "README walkthrough: ok"
