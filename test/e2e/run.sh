#!/usr/bin/env bash
# Starts a real `hoist server` on a free loopback port with a fresh data dir, then drives it
# with boto3 (smoke.py) and the AWS CLI. Needs python3 with boto3, and the aws command.
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; [ -n "${HOIST_E2E_KEEP:-}" ] && cp "$work/out.log" "$HOIST_E2E_KEEP"; rm -rf "$work"' EXIT
go build -o "$work/hoist" ./cmd/hoist
go build -o "$work/gameserver" ./examples/gameserver
export HOIST_GAMESERVER=$work/gameserver

export HOIST_ACCESS_KEY_ID=AKE2ETEST HOIST_SECRET_ACCESS_KEY=e2e-secret
"$work/hoist" server --addr 127.0.0.1:0 --data-dir "$work/data" >"$work/out.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  endpoint=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out.log" | head -1 || true)
  [ -n "$endpoint" ] && break
  sleep 0.1
done
[ -n "$endpoint" ] || { cat "$work/out.log"; echo "hoist server did not start" >&2; exit 1; }

export HOIST_ENDPOINT=$endpoint AWS_ACCESS_KEY_ID=$HOIST_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$HOIST_SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=us-west-2 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
smoke() { python3 test/e2e/smoke.py "$@" || { echo "--- server log:"; grep -v 'msg="api request"' "$work/out.log" | tail -80; exit 1; }; }
smoke          # RPC v2 CBOR, as boto3 1.43 chooses
smoke json     # AWS JSON 1.1

# The AWS CLI, as README tells a person to use it.
aws gamelift create-location --endpoint-url "$endpoint" --location-name custom-cli-1 >/dev/null
aws gamelift list-locations --endpoint-url "$endpoint" --filters CUSTOM --query 'Locations[].LocationName' --output text | grep -q custom-cli-1
echo "AWS CLI end-to-end: ok"

# A scoped key, made with hoist keys, through the AWS CLI: allowed and refused.
pair=$("$work/hoist" keys create --endpoint "$endpoint" --name e2e-backend --allow 'CreateGameSession,Describe*' --output json)
scoped_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["AccessKeyId"])' <<<"$pair")
scoped_secret=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["SecretAccessKey"])' <<<"$pair")
AWS_ACCESS_KEY_ID=$scoped_id AWS_SECRET_ACCESS_KEY=$scoped_secret \
  aws gamelift describe-fleet-attributes --endpoint-url "$endpoint" >/dev/null
if denied=$(AWS_ACCESS_KEY_ID=$scoped_id AWS_SECRET_ACCESS_KEY=$scoped_secret \
  aws gamelift delete-location --endpoint-url "$endpoint" --location-name custom-cli-1 2>&1); then
  echo "a scoped key deleted a location" >&2; exit 1
fi
grep -q 'AccessDeniedException.*not authorized to perform: gamelift:DeleteLocation' <<<"$denied" || { echo "$denied" >&2; exit 1; }
echo "scoped key through the AWS CLI: ok"
