#!/usr/bin/env bash
# The official Amazon GameLift Servers Game Server Wrapper (Anywhere mode) against a real
# Hoist: it registers its host with the AWS profile it is given (ListCompute,
# RegisterCompute, GetComputeAuthToken), connects over Server SDK 5, launches a game server
# executable when a game session is created and activates it; SIGTERM ends it, and its
# session. The wrapper builds from its public source (it is not on the machine image and is
# not part of this repository), so this runs only when HOIST_GSW_BINARY names a wrapper built
# for Anywhere fleets; otherwise it says so and exits 0. CI does not have one.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
gsw=${HOIST_GSW_BINARY:-}
if [ -z "$gsw" ] || [ ! -x "$gsw" ]; then
  echo "game server wrapper: skipped (set HOIST_GSW_BINARY to a built amazon-gamelift-servers-game-server-wrapper)"
  exit 0
fi

work=$(mktemp -d)
server_pid= wrapper_pid=
cleanup() {
  for p in $wrapper_pid $server_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "--- wrapper log:"; tail -40 "$work/wrapper.log" || true; echo "--- server log:"; tail -40 "$work/server.log"; echo "game server wrapper: $*" >&2; exit 1; }

(cd "$repo" && go build -o "$work/hoist" ./cmd/hoist)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export HOIST_ACCESS_KEY_ID=AKGSWTEST HOIST_SECRET_ACCESS_KEY=gsw-test-secret-key
"$work/hoist" server --addr "127.0.0.1:$port" --data-dir "$work/data" --no-local-agent >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q 'serving the GameLift API' "$work/server.log" && break; sleep 0.1; done

# The wrapper reads an AWS profile; AWS_ENDPOINT_URL points its SDK at Hoist.
cat >"$work/credentials" <<EOF
[hoist]
aws_access_key_id = $HOIST_ACCESS_KEY_ID
aws_secret_access_key = $HOIST_SECRET_ACCESS_KEY
EOF
printf '[profile hoist]\nregion = us-west-2\n' >"$work/config"
export AWS_SHARED_CREDENTIALS_FILE=$work/credentials AWS_CONFIG_FILE=$work/config AWS_PROFILE=hoist
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_DEFAULT_REGION=us-west-2
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

location=$(aws gamelift create-location --location-name custom-gsw --query Location.LocationArn --output text)
fleet=$(aws gamelift create-fleet --name gsw --compute-type ANYWHERE --locations Location=custom-gsw --query FleetAttributes.FleetArn --output text)
fleet_id=${fleet##*/}

# The game: any executable; this one stays up until told to stop.
mkdir -p "$work/gsw/game"
printf '#!/bin/sh\necho "game server on port $2"\nexec sleep 3600\n' >"$work/gsw/game/server"
chmod +x "$work/gsw/game/server"
cp "$gsw" "$work/gsw/wrapper"
cat >"$work/gsw/config.yaml" <<EOF
log-config:
  wrapper-log-level: debug
anywhere:
  provider: aws-profile
  profile: hoist
  location-arn: $location
  fleet-arn: $fleet
  ipv4: 127.0.0.1
ports:
  gamePort: 37016
game-server-details:
  executable-file-path: ./game/server
  game-server-args:
    - arg: "--port"
      val: "{{.GamePort}}"
      pos: 0
EOF
(cd "$work/gsw" && exec ./wrapper) >"$work/wrapper.log" 2>&1 &
wrapper_pid=$!

ready() { [ "$(aws gamelift describe-fleet-utilization --fleet-ids "$fleet_id" --query 'FleetUtilization[0].ActiveServerProcessCount' --output text)" = 1 ]; }
for _ in $(seq 150); do ready && break; sleep 0.2; done
ready || fail "its process never became ready"
[ "$(aws gamelift list-compute --fleet-id "$fleet_id" --query 'length(ComputeList)' --output text)" = 1 ] || fail "no compute registered"

gs=$(aws gamelift create-game-session --fleet-id "$fleet_id" --location custom-gsw --maximum-player-session-count 2 --query GameSession.GameSessionId --output text)
status() { aws gamelift describe-game-sessions --game-session-id "$gs" --query 'GameSessions[0].Status' --output text; }
for _ in $(seq 150); do [ "$(status)" = ACTIVE ] && break; sleep 0.2; done
[ "$(status)" = ACTIVE ] || fail "the game session is $(status), not ACTIVE"
grep -q 'game server on port' "$work/wrapper.log" || pgrep -f "$work/gsw/game/server" >/dev/null || fail "the game executable was not launched"

kill -TERM "$wrapper_pid"
wait "$wrapper_pid" 2>/dev/null || true
wrapper_pid=
for _ in $(seq 150); do [ "$(status)" = TERMINATED ] && break; sleep 0.2; done
[ "$(status)" = TERMINATED ] || fail "after SIGTERM the game session is $(status), not TERMINATED"
echo "game server wrapper: registered, ready, session ACTIVE, SIGTERM ended it: ok"
