"""End-to-end check of Hoist's AWS JSON 1.1 wire with an unmodified boto3 client.

Run by test/e2e/run.sh against a live `hoist server`; HOIST_ENDPOINT and the AWS_* variables
say where it is and how to sign.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import botocore.session

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = os.environ["HOIST_ENDPOINT"]
protocol = sys.argv[1] if len(sys.argv) > 1 else "default"
session = boto3.Session()
if protocol == "json":
    # boto3 1.43 speaks RPC v2 CBOR to GameLift; earlier releases (and other AWS clients)
    # speak AWS JSON 1.1. Load the same model with JSON 1.1 as its only protocol.
    bc = botocore.session.get_session()
    model = bc.get_component("data_loader").load_service_model("gamelift", "service-2")
    model["metadata"]["protocol"] = "json"
    model["metadata"]["protocols"] = ["json"]
    tmp = tempfile.mkdtemp()
    os.makedirs(os.path.join(tmp, "gamelift", model["metadata"]["apiVersion"]))
    with open(os.path.join(tmp, "gamelift", model["metadata"]["apiVersion"], "service-2.json"), "w") as f:
        json.dump(model, f)
    bc.get_component("data_loader").search_paths.insert(0, tmp)
    session = boto3.Session(botocore_session=bc)
gl = session.client("gamelift", endpoint_url=endpoint, region_name="us-west-2")
# The same client without boto3's own parameter checks, to reach the server's.
unchecked = session.client("gamelift", endpoint_url=endpoint, region_name="us-west-2",
                           config=Config(parameter_validation=False))
failures = []
print("boto3", boto3.__version__, "speaks", gl.meta.service_model.protocol)



def game_port():
    """A free port a game server may report in ProcessReady (1-60000; Linux picks up to 60999)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port <= 60000:
            return port

def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def error_code(fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


suffix = str(int(time.time() * 1000))[-8:]
location = "custom-e2e-" + suffix

loc = gl.create_location(LocationName=location, Tags=[{"Key": "team", "Value": "e2e"}])["Location"]
check(loc["LocationName"] == location, "create_location returns the location")
check(loc["LocationArn"].endswith(":location/" + location), "location ARN")

fleet = gl.create_fleet(Name="e2e", ComputeType="ANYWHERE", Locations=[{"Location": location}],
                        Tags=[{"Key": "team", "Value": "e2e"}])["FleetAttributes"]
check(fleet["Status"] == "ACTIVE", "Anywhere fleet is ACTIVE at once")
check(fleet["FleetArn"].startswith("arn:aws:gamelift:us-west-2:"), "fleet ARN")
check(hasattr(fleet["CreationTime"], "year"), "CreationTime parses as a datetime")
fleet_id = fleet["FleetId"]

described = gl.describe_fleet_attributes(FleetIds=[fleet["FleetArn"]])["FleetAttributes"]
check(len(described) == 1 and described[0]["FleetId"] == fleet_id, "describe_fleet_attributes by ARN")

alias = gl.create_alias(Name="e2e", RoutingStrategy={"Type": "SIMPLE", "FleetId": fleet_id},
                        Tags=[{"Key": "team", "Value": "e2e"}])["Alias"]
check(gl.describe_alias(AliasId=alias["AliasId"])["Alias"]["Name"] == "e2e", "describe_alias")
check(gl.resolve_alias(AliasId=alias["AliasArn"])["FleetId"] == fleet_id, "resolve_alias by ARN")
terminal = gl.create_alias(Name="closed", RoutingStrategy={"Type": "TERMINAL", "Message": "closed"})["Alias"]
check(error_code(gl.resolve_alias, AliasId=terminal["AliasId"]) == "TerminalRoutingStrategyException",
      "terminal alias refuses to resolve")

# Tags: given at creation, then changed by ARN; only ListTagsForResource returns them.
build = gl.create_build(Name="e2e", Tags=[{"Key": "team", "Value": "e2e"}])["Build"]
for kind, arn in [("location", loc["LocationArn"]), ("fleet", fleet["FleetArn"]), ("alias", alias["AliasArn"]),
                  ("build", build["BuildArn"])]:
    check(gl.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "e2e"}],
          kind + " created with its tags")
    gl.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "net"}, {"Key": "stage", "Value": ""}])
    check(gl.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "net"}, {"Key": "stage", "Value": ""}],
          "tag_resource on the " + kind + " replaces a value and adds a tag")
    gl.untag_resource(ResourceARN=arn, TagKeys=["team", "not-there"])
    check(gl.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "stage", "Value": ""}],
          "untag_resource on the " + kind)
check(gl.list_tags_for_resource(ResourceARN=terminal["AliasArn"]).get("Tags") == [],
      "an untagged resource lists Tags: []")
check(error_code(gl.tag_resource, ResourceARN=build["BuildArn"],
                 Tags=[{"Key": "k%d" % i, "Value": ""} for i in range(50)]) == "TaggingFailedException",
      "more than 50 tags -> TaggingFailedException")
check(error_code(gl.tag_resource, ResourceARN=build["BuildArn"], Tags=[{"Key": "aws:x", "Value": ""}])
      == "TaggingFailedException", "aws: keys -> TaggingFailedException")
check(error_code(gl.list_tags_for_resource, ResourceARN=fleet_id) == "InvalidRequestException",
      "a fleet ID is not an ARN -> InvalidRequestException")
check(error_code(gl.list_tags_for_resource, ResourceARN=fleet["FleetArn"].replace("us-west-2", "eu-west-1"))
      == "NotFoundException", "another Region's ARN -> NotFoundException")
gl.delete_build(BuildId=build["BuildId"])
check(error_code(gl.list_tags_for_resource, ResourceARN=build["BuildArn"]) == "NotFoundException",
      "a deleted build's tags -> NotFoundException")

compute = gl.register_compute(FleetId=fleet_id, ComputeName="e2e-host", IpAddress="127.0.0.1",
                              Location=location)["Compute"]
check(compute["GameLiftServiceSdkEndpoint"].startswith("ws://"), "register_compute returns the SDK endpoint")
check(gl.describe_compute(FleetId=fleet_id, ComputeName="e2e-host")["Compute"]["ComputeStatus"] == "ACTIVE",
      "describe_compute")
token = gl.get_compute_auth_token(FleetId=fleet_id, ComputeName="e2e-host")
check(len(token["AuthToken"]) > 0 and token["ExpirationTimestamp"].year >= 2024, "get_compute_auth_token")

check(error_code(gl.describe_fleet_port_settings, FleetId="fleet-does-not-exist") == "NotFoundException",
      "unknown fleet -> NotFoundException")
check(gl.describe_fleet_attributes(FleetIds=["fleet-does-not-exist", fleet_id])["FleetAttributes"][0]["FleetId"] == fleet_id
      and len(gl.describe_fleet_attributes(FleetIds=["fleet-does-not-exist"])["FleetAttributes"]) == 0,
      "describe_fleet_attributes leaves an unknown fleet out, as GameLift does")
check(error_code(unchecked.create_location, LocationName="custom-") == "InvalidRequestException",
      "too short a location name -> InvalidRequestException")

bad = session.client("gamelift", endpoint_url=endpoint, region_name="us-west-2",
                   aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong")
check(error_code(bad.list_fleets) == "InvalidSignatureException", "wrong secret -> InvalidSignatureException")
unknown = session.client("gamelift", endpoint_url=endpoint, region_name="us-west-2",
                       aws_access_key_id="AKNOBODY", aws_secret_access_key="x")
check(error_code(unknown.list_fleets) == "UnrecognizedClientException", "unknown key -> UnrecognizedClientException")

pages = gl.get_paginator("list_fleets").paginate(PaginationConfig={"PageSize": 1})
check(fleet_id in [f for p in pages for f in p["FleetIds"]], "list_fleets paginates")

# A game session on a real game server process (examples/gameserver, Hoist's Go SDK),
# started with only the SDK's environment variables, as an operator does on Anywhere.
server_bin = os.environ.get("HOIST_GAMESERVER")
if server_bin:
    tok = gl.get_compute_auth_token(FleetId=fleet_id, ComputeName="e2e-host")["AuthToken"]
    port = game_port()
    env = {"PATH": os.environ["PATH"], "GAMELIFT_SDK_WEBSOCKET_URL": compute["GameLiftServiceSdkEndpoint"],
           "GAMELIFT_SDK_PROCESS_ID": "e2e-proc-" + protocol, "GAMELIFT_SDK_HOST_ID": "e2e-host",
           "GAMELIFT_SDK_FLEET_ID": fleet_id, "GAMELIFT_SDK_AUTH_TOKEN": tok}
    proc = subprocess.Popen([server_bin, "-port", str(port)], env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 15
        while time.time() < deadline:
            u = gl.describe_fleet_utilization(FleetIds=[fleet_id])["FleetUtilization"][0]
            if u["ActiveServerProcessCount"] == 1:
                break
            time.sleep(0.05)
        check(u["ActiveServerProcessCount"] == 1, "the game server process is ready and counted")

        started = time.time()
        gs = gl.create_game_session(FleetId=fleet_id, Location=location, MaximumPlayerSessionCount=2,
                                    Name="e2e", IdempotencyToken="e2e-" + protocol + "-" + suffix,
                                    GameProperties=[{"Key": "map", "Value": "harbor"}])["GameSession"]
        check(gs["Status"] == "ACTIVATING", "create_game_session returns ACTIVATING")
        sid = gs["GameSessionId"]
        while time.time() - started < 10:
            gs = gl.describe_game_sessions(GameSessionId=sid)["GameSessions"][0]
            if gs["Status"] == "ACTIVE":
                break
            time.sleep(0.002)
        elapsed_ms = (time.time() - started) * 1000
        check(gs["Status"] == "ACTIVE", f"describe_game_sessions shows ACTIVE ({elapsed_ms:.1f} ms after the create call)")
        check(gs.get("IpAddress") == "127.0.0.1" and gs.get("Port") == port, "the ACTIVE session carries the process's IP and port")

        ps = gl.create_player_session(GameSessionId=sid, PlayerId="e2e-player")["PlayerSession"]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            f = conn.makefile("rw")
            f.write("JOIN " + ps["PlayerSessionId"] + "\n")
            f.flush()
            check(f.readline().startswith("OK"), "the player joins the game server with its player session ID")
            active = gl.describe_player_sessions(PlayerSessionId=ps["PlayerSessionId"])["PlayerSessions"][0]
            check(active["Status"] == "ACTIVE", "the accepted player session is ACTIVE")
            f.write("QUIT\n")
            f.flush()
            f.readline()
        proc.wait(timeout=15)
        gs = gl.describe_game_sessions(GameSessionId=sid)["GameSessions"][0]
        check(gs["Status"] == "TERMINATED", "the last player leaving ends the game: TERMINATED")
    finally:
        proc.kill()

    # A queue places the next session on a second process, with a player session for alice.
    port = game_port()
    env["GAMELIFT_SDK_PROCESS_ID"] = "e2e-queued-" + protocol
    env["GAMELIFT_SDK_AUTH_TOKEN"] = gl.get_compute_auth_token(FleetId=fleet_id, ComputeName="e2e-host")["AuthToken"]
    proc = subprocess.Popen([server_bin, "-port", str(port)], env=env, stderr=subprocess.DEVNULL)
    try:
        queue = gl.create_game_session_queue(Name="e2e-" + protocol + "-" + suffix, TimeoutInSeconds=30,
                                             Destinations=[{"DestinationArn": fleet["FleetArn"]}],
                                             PlayerLatencyPolicies=[{"MaximumIndividualPlayerLatencyMilliseconds": 100}])["GameSessionQueue"]
        check(queue["GameSessionQueueArn"].endswith(":gamesessionqueue/" + queue["Name"]), "create_game_session_queue")
        pl = gl.start_game_session_placement(PlacementId="e2e-pl-" + protocol + "-" + suffix, GameSessionQueueName=queue["Name"],
                                             MaximumPlayerSessionCount=4, DesiredPlayerSessions=[{"PlayerId": "alice"}],
                                             PlayerLatencies=[{"PlayerId": "alice", "RegionIdentifier": location, "LatencyInMilliseconds": 30}])["GameSessionPlacement"]
        check(pl["Status"] == "PENDING", "start_game_session_placement returns PENDING")
        deadline = time.time() + 15
        while time.time() < deadline:
            pl = gl.describe_game_session_placement(PlacementId=pl["PlacementId"])["GameSessionPlacement"]
            if pl["Status"] != "PENDING":
                break
            time.sleep(0.02)
        check(pl["Status"] == "FULFILLED" and pl.get("Port") == port and pl.get("GameSessionRegion") == location,
              f"the placement is FULFILLED on the waiting process (it is {pl['Status']}, port {pl.get('Port')} of {port}, region {pl.get('GameSessionRegion')})")
        placed = pl.get("PlacedPlayerSessions", [])
        check(len(placed) == 1 and placed[0]["PlayerId"] == "alice", "the placement made alice's player session")
        if placed:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                f = conn.makefile("rw")
                f.write("JOIN " + placed[0]["PlayerSessionId"] + "\n")
                f.flush()
                check(f.readline().startswith("OK"), "alice joins the placed game session")
        gl.delete_game_session_queue(Name=queue["Name"])
    finally:
        proc.kill()

# FlexMatch through boto3: a STANDALONE 2v2 rule set, four players, one match.
rule_set = json.dumps({
    "name": "duel", "ruleLanguageVersion": "1.0",
    "playerAttributes": [{"name": "skill", "type": "number", "default": 10}],
    "teams": [{"name": "red", "minPlayers": 2, "maxPlayers": 2}, {"name": "blue", "minPlayers": 2, "maxPlayers": 2}],
    "rules": [{"name": "Fair", "type": "distance", "measurements": ["avg(teams[*].players.attributes[skill])"],
               "referenceValue": "avg(flatten(teams[*].players.attributes[skill]))", "maxDistance": 10}],
})
check(gl.validate_matchmaking_rule_set(RuleSetBody=rule_set)["Valid"], "validate_matchmaking_rule_set")
check(error_code(gl.validate_matchmaking_rule_set, RuleSetBody='{"name": "x"}') == "InvalidRequestException",
      "an invalid rule set -> InvalidRequestException")
rs_name = "duel-" + protocol + "-" + suffix
gl.create_matchmaking_rule_set(Name=rs_name, RuleSetBody=rule_set)
cfg_name = "standalone-" + protocol + "-" + suffix
gl.create_matchmaking_configuration(Name=cfg_name, RuleSetName=rs_name, RequestTimeoutSeconds=60,
                                    AcceptanceRequired=False, FlexMatchMode="STANDALONE")
tickets = [gl.start_matchmaking(ConfigurationName=cfg_name, Players=[{"PlayerId": f"fm-{i}", "PlayerAttributes": {"skill": {"N": 20 + i}}}])
           ["MatchmakingTicket"]["TicketId"] for i in range(4)]
deadline = time.time() + 15
while time.time() < deadline:
    listed = gl.describe_matchmaking(TicketIds=tickets)["TicketList"]
    if all(t["Status"] == "COMPLETED" for t in listed):
        break
    time.sleep(0.05)
check(all(t["Status"] == "COMPLETED" for t in listed) and len({p["Team"] for t in listed for p in t["Players"]}) == 2,
      "four FlexMatch tickets complete in one 2v2 match")

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print(f"boto3 end-to-end ({gl.meta.service_model.protocol}): all checks passed")
