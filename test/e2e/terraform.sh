#!/usr/bin/env bash
# Terraform's AWS provider against a real Hoist: apply a managed fleet of the example game
# server, two aliases and a queue; a second plan shows no drift; an update applies and shows
# none either; destroy finishes (the provider waits until describe calls stop returning the
# deleted fleet). Needs terraform and the hashicorp/aws provider in a local plugin mirror
# (TF_PLUGIN_MIRROR, default /opt/tf-plugins, laid out as `terraform providers mirror`
# writes it): without them it says so and exits 0.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
mirror=${TF_PLUGIN_MIRROR:-/opt/tf-plugins}
if ! command -v terraform >/dev/null || ! ls -d "$mirror"/registry.terraform.io/hashicorp/aws/*/ >/dev/null 2>&1; then
  echo "terraform: skipped (no terraform, or no hashicorp/aws provider in $mirror)"
  exit 0
fi
provider=$(basename "$(ls -d "$mirror"/registry.terraform.io/hashicorp/aws/*/ | sort -V | tail -1)")

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill -INT "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$repo" && go build -o "$work/hoist" ./cmd/hoist && go build -o "$work/build/gameserver" ./examples/gameserver)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL HOIST_ACCESS_KEY_ID HOIST_SECRET_ACCESS_KEY
"$work/hoist" server --addr "127.0.0.1:$port" --data-dir "$work/data" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q 'serving the GameLift API' "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "the server did not start" >&2; exit 1; }
  sleep 0.1
done
eval "$("$work/hoist" keys --data-dir "$work/data")"
export AWS_ENDPOINT_URL=http://127.0.0.1:$port
build=$("$work/hoist" build upload --server "$AWS_ENDPOINT_URL" --name tf-lobby "$work/build" | cut -d' ' -f1)

# The provider from the local mirror only; its checks of the credentials against STS and
# of the account are off, since Hoist answers GameLift alone.
cat >"$work/terraformrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct { exclude = ["registry.terraform.io/hashicorp/aws"] }
}
EOF
export TF_CLI_CONFIG_FILE=$work/terraformrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
mkdir "$work/tf"
cat >"$work/tf/main.tf" <<EOF
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "$provider" }
  }
}
provider "aws" {
  region                      = "us-west-2"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints { gamelift = "$AWS_ENDPOINT_URL" }
}
variable "players" { default = 4 }
resource "aws_gamelift_fleet" "lobby" {
  name              = "tf-lobby"
  build_id          = "$build"
  ec2_instance_type = "c5.large"
  runtime_configuration {
    server_process {
      launch_path           = "/local/game/gameserver"
      parameters            = "-port 0"
      concurrent_executions = 1
    }
  }
  resource_creation_limit_policy {
    new_game_sessions_per_creator = var.players
    policy_period_in_minutes      = 15
  }
}
resource "aws_gamelift_alias" "live" {
  name = "tf-live"
  routing_strategy {
    type     = "SIMPLE"
    fleet_id = aws_gamelift_fleet.lobby.id
  }
}
resource "aws_gamelift_alias" "closed" {
  name = "tf-closed"
  routing_strategy {
    type    = "TERMINAL"
    message = "closed for maintenance"
  }
}
resource "aws_gamelift_game_session_queue" "lobby" {
  name         = "tf-lobby"
  destinations = [aws_gamelift_fleet.lobby.arn]
  timeout_in_seconds = 60
}
EOF
tf() { (cd "$work/tf" && terraform "$@" -no-color) >>"$work/terraform.out" 2>&1 || { cat "$work/terraform.out"; echo "--- server log:"; tail -50 "$work/server.log"; echo "terraform $1 failed" >&2; exit 1; }; }
no_drift() {
  local rc=0
  (cd "$work/tf" && terraform plan -detailed-exitcode -no-color -input=false "$@") >>"$work/terraform.out" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { cat "$work/terraform.out"; echo "terraform plan shows drift (exit $rc) $*" >&2; exit 1; }
}
tf init -input=false
tf apply -auto-approve -input=false
no_drift
tf apply -auto-approve -input=false -var players=6
no_drift -var players=6
start=$(date +%s)
timeout 300 bash -c "cd '$work/tf' && terraform destroy -auto-approve -input=false -no-color -var players=6" >>"$work/terraform.out" 2>&1 ||
  { cat "$work/terraform.out"; echo "--- server log:"; tail -50 "$work/server.log"; echo "terraform destroy did not finish within 5 minutes" >&2; exit 1; }
echo "terraform: apply, no drift, update, no drift, destroy in $(( $(date +%s) - start )) s with hashicorp/aws $provider: ok"
