"""``python -m lambda_dedup.local``: deliver events to a stack in a local emulator.

Reads the stack's wiring from the emulator at ``--endpoint`` (default
``AWS_ENDPOINT_URL``), prints it, serves each HTTP API on loopback, and delivers events
from every trigger until interrupted (or, with ``--until-idle``, until nothing is left).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading

from lambda_dedup.local.runner import Runner, emulator_clients, emulator_environment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambda_dedup.local", description=__doc__)
    parser.add_argument(
        "--endpoint",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="the emulator's URL (default: AWS_ENDPOINT_URL)",
    )
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION", "us-east-1"),
        help="the stack's region (default: AWS_REGION, else us-east-1)",
    )
    parser.add_argument("--api-port", type=int, default=0, help="the API's port (0: a free one)")
    parser.add_argument(
        "--sqs-redelivery-delay",
        type=int,
        default=None,
        metavar="S",
        help="seconds before a failed SQS message is visible again (default: the queue's)",
    )
    parser.add_argument(
        "--retry-delay",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds before an asynchronous retry (default 0; Lambda waits 1-2 minutes)",
    )
    parser.add_argument(
        "--until-idle",
        action="store_true",
        help="stop when nothing is left to deliver (a failed SQS message counts until it is"
        " back, so use it with --sqs-redelivery-delay)",
    )
    args = parser.parse_args(argv)
    if not args.endpoint:
        parser.error("--endpoint (or AWS_ENDPOINT_URL) must name the emulator")

    runner = Runner(
        emulator_clients(args.endpoint, args.region),
        emulator_environment(args.endpoint, args.region),
        region=args.region,
        retry_delay_s=args.retry_delay,
        sqs_redelivery_delay_s=args.sqs_redelivery_delay,
        api_port=args.api_port,
    ).start()
    try:
        for trigger, source, function in runner.wiring():
            print(f"{trigger:<12} {source}  ->  {function}", file=sys.stderr)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        if args.until_idle:
            runner.run_until_idle()
        else:
            print("delivering; Ctrl-C stops", file=sys.stderr)
            with contextlib.suppress(KeyboardInterrupt):
                runner.run_forever(stop)
    finally:
        runner.close()
    made = ", ".join(f"{n} {trigger}" for trigger, n in sorted(runner.invocations.items()))
    print(f"invocations: {made or 'none'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
