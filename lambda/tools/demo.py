"""``make demo``: the whole stack on this machine, with no AWS account.

1. builds the deployment zip;
2. starts the local emulator (moto server on a free loopback port);
3. ``terraform init`` and 4. ``terraform apply`` of the root module (through
   examples/emulator);
5. starts the local runner (``lambda_dedup.local``), which reads the stack's wiring from
   the emulator and plays the Lambda service for it;
6. sends every trigger a set of events with duplicates and one malformed event
   (:mod:`scenario`), lets the runner deliver them, and prints one row per trigger: sent,
   unique, effects, duplicates suppressed, dead-lettered -- counted from the emulator;

then tears everything down -- or, with ``--keep``, leaves the emulator and the stack up
and prints how to run the runner and send more events by hand. It exits non-zero if a
row does not balance.

Terraform runs in ``build/demo/`` (a staged copy of the tree), never in the checkout.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import emulator as emulator_tool
import package as package_tool
import scenario
import tfharness

from lambda_dedup.local.functions import write_function_output_to
from lambda_dedup.local.runner import Runner, emulator_clients

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "build" / "demo"
STACK = "examples/emulator"
STEPS = 6
LABEL = "demo"
SQS_REDELIVERY_DELAY_S = 1
"""The queue's visibility timeout is 180 s (six times the function's); a failed message
comes back after 1 s here, so that the malformed one reaches the DLQ in seconds."""


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


def run_scenario(server: emulator_tool.Emulator, outputs: dict[str, Any]) -> list[scenario.Row]:
    """Start the runner, send every trigger its events, print the wiring and the results."""
    clients = emulator_clients(server.endpoint, emulator_tool.REGION)
    stack = scenario.Stack(outputs, clients, emulator_tool.REGION)
    runner = Runner(
        clients,
        server.environment(),
        region=emulator_tool.REGION,
        sqs_redelivery_delay_s=SQS_REDELIVERY_DELAY_S,
    )
    with step(5, "Starting the local runner (python -m lambda_dedup.local)"):
        function_log = (WORK / "functions.log").open("w")
        write_function_output_to(function_log)
        print(f"      function logs: {function_log.name} (and the emulator's CloudWatch Logs)")
        runner.start()
        print("      read from the emulator:")
        for trigger, source, function in runner.wiring():
            print(f"      {trigger:<12} {source}  ->  {function}")
    try:
        with step(6, "Sending events (duplicates and one malformed each) through all 7 triggers"):

            def settle() -> None:
                made = runner.run_until_idle()
                print(f"      delivered: {made} invocations", flush=True)

            sent = scenario.send(stack, runner, LABEL, settle=settle)
        rows = scenario.count(stack, runner, LABEL, sent)
    finally:
        runner.close()
        write_function_output_to(sys.stdout)
        function_log.close()
    print("\nWhere every event ended (counted from the emulator's tables, queues and logs):\n")
    for line in scenario.table(rows).splitlines():
        print(f"  {line}")
    for row in rows:
        for reason in row.reasons:
            print(f"  {row.trigger} rejected: {reason}")
    return rows


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
        outputs = json.loads(tf.run(directory, "output", "-json", "stack").stdout)
        rows = run_scenario(server, outputs)
        if args.keep:
            server.detach()
            log.close()
            print_keep_instructions(server, directory, outputs)
            return 0 if all(row.balanced for row in rows) else 1
        print("\nTearing down: terraform destroy ...", flush=True)
        tf.run(directory, "destroy", "-auto-approve", "-input=false", "-no-color")
    finally:
        if not args.keep:
            server.stop()
            log.close()
            shutil.rmtree(WORK, ignore_errors=True)
    print("Done: the stack was destroyed and the emulator stopped. `make demo KEEP=1` keeps them.")
    return 0 if all(row.balanced for row in rows) else 1


def print_keep_instructions(
    server: emulator_tool.Emulator, directory: Path, outputs: dict[str, Any]
) -> None:
    relative = directory.relative_to(REPO)
    env = (
        f"AWS_ENDPOINT_URL={server.endpoint} AWS_REGION={emulator_tool.REGION}"
        f" AWS_DEFAULT_REGION={emulator_tool.REGION}"
        " AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
    )
    profile = '{"user_id": "u-1", "email": "ada@example.com"}'
    detail = {"instance-id": "i-0123456789abcdef0", "state": "stopped"}
    entries = json.dumps(
        [
            {
                "Source": "aws.ec2",
                "DetailType": "EC2 Instance State-change Notification",
                "Detail": json.dumps(detail),
            }
        ]
    )
    print(f"""
The stack is up on {server.endpoint} (moto server, pid {server.pid}).
The emulator stores events but runs no function: start the runner, which does, in a
terminal of its own (it prints the API's URL; Ctrl-C stops it):

  export {env}
  .venv/bin/python -m lambda_dedup.local --api-port 8080 --sqs-redelivery-delay 1

Then, in another terminal with the same exports, send events (each twice, to see the
duplicate suppressed), and read the function logs in the emulator:

  curl --aws-sigv4 aws:amz:{emulator_tool.REGION}:execute-api --user test:test \\
      -H 'Idempotency-Key: k-1' -H 'Content-Type: application/json' \\
      -d '{profile}' http://127.0.0.1:8080/profiles
  echo '{profile}' > u-1.json
  aws s3 cp u-1.json s3://{outputs["s3_bucket_name"]}/profiles/u-1.json
  aws sqs send-message --queue-url {outputs["sqs_queue_url"]} \\
      --message-body '{{"user_id": "u-2", "email": "bo@example.com", "request_id": "r-1"}}'
  aws kinesis put-record --stream-name {outputs["kinesis_stream_name"]} --partition-key u-1 \\
      --cli-binary-format raw-in-base64-out \\
      --data '{{"event_id": "e-1", "user_id": "u-1", "type": "page_view"}}'
  aws sns publish --topic-arn {outputs["sns_topic_arn"]} --message '{profile}' \\
      --message-attributes 'idempotency_key={{DataType=String,StringValue=w-1}}'
  aws events put-events --entries '{entries}'
  aws dynamodb scan --table-name {outputs["audit_table_name"]}
  aws logs tail /aws/lambda/{outputs["sqs_function_name"]}

Tear it down:

  TF_CLI_CONFIG_FILE=build/terraform.rc terraform -chdir={relative} destroy -auto-approve
  kill {server.pid}
""")


if __name__ == "__main__":
    sys.exit(main())
