"""End-to-end check of Hoist's AWS JSON 1.1 wire with an unmodified boto3 client.

Run by test/e2e/run.sh against a live `hoist server`; HOIST_ENDPOINT and the AWS_* variables
say where it is and how to sign.
"""
import json
import os
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

loc = gl.create_location(LocationName=location)["Location"]
check(loc["LocationName"] == location, "create_location returns the location")
check(loc["LocationArn"].endswith(":location/" + location), "location ARN")

fleet = gl.create_fleet(Name="e2e", ComputeType="ANYWHERE", Locations=[{"Location": location}])["FleetAttributes"]
check(fleet["Status"] == "ACTIVE", "Anywhere fleet is ACTIVE at once")
check(fleet["FleetArn"].startswith("arn:aws:gamelift:us-west-2:"), "fleet ARN")
check(hasattr(fleet["CreationTime"], "year"), "CreationTime parses as a datetime")
fleet_id = fleet["FleetId"]

described = gl.describe_fleet_attributes(FleetIds=[fleet["FleetArn"]])["FleetAttributes"]
check(len(described) == 1 and described[0]["FleetId"] == fleet_id, "describe_fleet_attributes by ARN")

alias = gl.create_alias(Name="e2e", RoutingStrategy={"Type": "SIMPLE", "FleetId": fleet_id})["Alias"]
check(gl.describe_alias(AliasId=alias["AliasId"])["Alias"]["Name"] == "e2e", "describe_alias")
check(gl.resolve_alias(AliasId=alias["AliasArn"])["FleetId"] == fleet_id, "resolve_alias by ARN")
terminal = gl.create_alias(Name="closed", RoutingStrategy={"Type": "TERMINAL", "Message": "closed"})["Alias"]
check(error_code(gl.resolve_alias, AliasId=terminal["AliasId"]) == "TerminalRoutingStrategyException",
      "terminal alias refuses to resolve")

compute = gl.register_compute(FleetId=fleet_id, ComputeName="e2e-host", IpAddress="127.0.0.1",
                              Location=location)["Compute"]
check(compute["GameLiftServiceSdkEndpoint"].startswith("ws://"), "register_compute returns the SDK endpoint")
check(gl.describe_compute(FleetId=fleet_id, ComputeName="e2e-host")["Compute"]["ComputeStatus"] == "ACTIVE",
      "describe_compute")
token = gl.get_compute_auth_token(FleetId=fleet_id, ComputeName="e2e-host")
check(len(token["AuthToken"]) > 0 and token["ExpirationTimestamp"].year >= 2024, "get_compute_auth_token")

check(error_code(gl.describe_fleet_attributes, FleetIds=["fleet-does-not-exist"]) == "NotFoundException",
      "unknown fleet -> NotFoundException")
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

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print(f"boto3 end-to-end ({gl.meta.service_model.protocol}): all checks passed")
