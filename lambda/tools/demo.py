"""``make demo``: the whole stack on this machine, with no AWS account.

1. builds the deployment zip;
2. starts the local emulator (moto server on a free loopback port);
3. runs ``terraform apply`` of the root module (through examples/emulator);
4. shows what was created, read back from the emulator's own APIs (tables, functions and
   the event source mappings of the SQS, Kinesis and DynamoDB Streams triggers);
5. tears everything down -- or, with ``--keep``, leaves the emulator and the stack up and
   prints how to reach them.

Terraform runs in ``build/demo/`` (a staged copy of the tree), never in the checkout.
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import emulator as emulator_tool
import package as package_tool
import tfharness

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "build" / "demo"
STACK = "examples/emulator"
STEPS = 5


@contextmanager
def step(number: int, title: str) -> Iterator[None]:
    print(f"[{number}/{STEPS}] {title} ...", flush=True)
    started = time.monotonic()
    yield
    print(f"      done in {time.monotonic() - started:.1f} s", flush=True)


def apply_with_progress(tf: tfharness.Terraform, directory: Path) -> None:
    """``terraform apply``, printing one line per resource as Terraform finishes it."""
    command = [
        tf.binary,
        f"-chdir={directory}",
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]
    process = subprocess.Popen(
        command, env=tf.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    transcript = []
    for line in process.stdout:
        transcript.append(line)
        if (
            "Creation complete" in line
            or "Still creating" in line
            or line.startswith("Apply complete")
        ):
            print(f"      {line.strip()}", flush=True)
    if process.wait() != 0:
        raise tfharness.TerraformError("terraform apply failed:\n" + "".join(transcript[-60:]))


def show_created(
    tf: tfharness.Terraform, directory: Path, server: emulator_tool.Emulator
) -> dict[str, Any]:
    state = json.loads(tf.run(directory, "show", "-json").stdout)
    outputs: dict[str, Any] = state["values"]["outputs"]["stack"]["value"]
    rows = []

    def walk(module: dict[str, Any]) -> None:
        for resource in module.get("resources", []):
            if resource["mode"] == "managed":
                values = resource["values"]
                name = values.get("name") or values.get("function_name") or values.get("id")
                rows.append((resource["type"], str(name)))
        for child in module.get("child_modules", []):
            walk(child)

    walk(state["values"]["root_module"])
    width = max(len(kind) for kind, _ in rows)
    print(f"\n      {'resource type':<{width}}  name")
    for kind, name in sorted(rows):
        print(f"      {kind:<{width}}  {name}")

    dynamodb = boto3.client("dynamodb", **server.client_options())
    lam = boto3.client("lambda", **server.client_options())
    table = dynamodb.describe_table(TableName=outputs["idempotency_table_name"])["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    function = lam.get_function_configuration(FunctionName=outputs["inbox_function_name"])
    key = table["KeySchema"][0]["AttributeName"]
    tracing = function["TracingConfig"]["Mode"]
    print("\n      read back from the emulator:")
    print(
        f"      table    {table['TableName']}: key {key},"
        f" TTL {ttl['TimeToLiveStatus']} on {ttl.get('AttributeName')}"
    )
    print(
        f"      function {function['FunctionName']}: {function['Runtime']},"
        f" handler {function['Handler']}, tracing {tracing}"
    )
    for trigger in ("sqs", "kinesis", "dynamodb_stream"):
        consumer = outputs.get(f"{trigger}_function_name")
        if consumer is None:
            continue
        mappings = lam.list_event_source_mappings(FunctionName=consumer)["EventSourceMappings"]
        for mapping in mappings:
            destination = mapping.get("DestinationConfig", {}).get("OnFailure", {})
            failures = destination.get("Destination") or outputs.get("sqs_dead_letter_queue_arn")
            print(
                f"      trigger  {mapping['EventSourceArn'].split(':', 5)[-1]} -> {consumer}:"
                f" batch {mapping['BatchSize']}, {', '.join(mapping['FunctionResponseTypes'])},"
                f" failures to {str(failures).split(':')[-1]}"
            )
    show_push_triggers(outputs, server)
    return outputs


def show_push_triggers(outputs: dict[str, Any], server: emulator_tool.Emulator) -> None:
    """The API's routes, and each asynchronous source's wiring and failure path."""
    client = functools.partial(boto3.client, **server.client_options())
    if outputs.get("api_gateway_api_id"):
        routes = client("apigatewayv2").get_routes(ApiId=outputs["api_gateway_api_id"])["Items"]
        print(
            f"      trigger  API {outputs['api_gateway_api_id']}"
            f" ({', '.join(sorted(r['RouteKey'] for r in routes))})"
            f" -> {outputs['api_gateway_function_name']}: {routes[0]['AuthorizationType']}"
        )
    sources = {
        "s3": outputs.get("s3_bucket_name"),
        "sns": str(outputs.get("sns_topic_arn")).split(":")[-1],
        "eventbridge": f"rule/{outputs.get('eventbridge_rule_name')}",
    }
    for trigger, source in sources.items():
        function = outputs.get(f"{trigger}_function_name")
        if function is None:
            continue
        config = client("lambda").get_function_event_invoke_config(FunctionName=function)
        failures = config["DestinationConfig"]["OnFailure"]["Destination"].split(":")[-1]
        print(
            f"      trigger  {source} -> {function}: async, {config['MaximumRetryAttempts']}"
            f" retries, failures to {failures}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--keep", action="store_true", help="leave the emulator and stack up")
    args = parser.parse_args(argv)

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    tree = tfharness.stage(WORK / "tree")
    directory = tree / STACK

    with step(1, "Building the deployment package (make package)"):
        zip_path = package_tool.build()
        size_mb = zip_path.stat().st_size / 1e6
        code_hash = package_tool.source_code_hash(zip_path)
        print(f"      {zip_path.relative_to(REPO)}: {size_mb:.1f} MB, source_code_hash {code_hash}")

    log = (WORK / "emulator.log").open("w")
    server = emulator_tool.Emulator(log, detached=args.keep)
    with step(2, "Starting the local emulator (moto server)"):
        server.start()
        print(f"      {server.endpoint}")
    try:
        cli_config = tfharness.write_cli_config(REPO / "build" / "terraform.rc")
        tf = tfharness.Terraform(cli_config)
        # The endpoint is written down for the destroy, too (in --keep mode, by hand).
        (directory / "terraform.tfvars").write_text(f'endpoint_url = "{server.endpoint}"\n')
        with step(3, f"terraform init ({STACK}, provider from the local mirror if any)"):
            tf.init(directory)
        with step(4, "terraform apply of the root module"):
            apply_with_progress(tf, directory)
        with step(5, "What was created"):
            outputs = show_created(tf, directory, server)
        if args.keep:
            server.detach()
            log.close()
            print_keep_instructions(server, directory, outputs)
            return 0
        print("\nTearing down: terraform destroy ...", flush=True)
        tf.run(directory, "destroy", "-auto-approve", "-input=false", "-no-color")
    finally:
        if not args.keep:
            server.stop()
            log.close()
            shutil.rmtree(WORK, ignore_errors=True)
    print("Done: the stack was destroyed and the emulator stopped. `make demo KEEP=1` keeps them.")
    return 0


def print_keep_instructions(
    server: emulator_tool.Emulator, directory: Path, outputs: dict[str, Any]
) -> None:
    relative = directory.relative_to(REPO)
    env = (
        f"AWS_ENDPOINT_URL={server.endpoint} AWS_REGION={emulator_tool.REGION}"
        " AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
    )
    print(f"""
The stack is up on {server.endpoint} (moto server, pid {server.pid}).

  # look at the stack
  {env} aws dynamodb describe-table --table-name {outputs["idempotency_table_name"]}
  {env} aws lambda get-function --function-name {outputs["inbox_function_name"]}
  {env} aws lambda list-event-source-mappings
  {env} aws dynamodb scan --table-name {outputs["idempotency_table_name"]}

  # put events on the sources (moto stores them; it does not run the functions)
  {env} aws sqs send-message --queue-url {outputs["sqs_queue_url"]} \\
      --message-body '{{"user_id": "u-1", "email": "ada@example.com", "request_id": "r-1"}}'
  {env} aws kinesis put-record --stream-name {outputs["kinesis_stream_name"]} --partition-key u-1 \\
      --cli-binary-format raw-in-base64-out \\
      --data '{{"event_id": "e-1", "user_id": "u-1", "type": "page_view"}}'

  # tear it down
  TF_CLI_CONFIG_FILE=build/terraform.rc terraform -chdir={relative} destroy -auto-approve
  kill {server.pid}
""")


if __name__ == "__main__":
    sys.exit(main())
