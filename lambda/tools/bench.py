"""``make bench``: the cost of deduplication, ours against Powertools'.

**Per event.**
 The same N events go, in one process, against the same table on one moto server,
through:

* effect mode, single write -- ``Deduplicator.put_once``;
* effect mode, transaction -- ``Deduplicator.transact_once`` (marker + a counter ``ADD``);
* claim mode -- ``Deduplicator.run_once``;
* Powertools' idempotency utility -- ``idempotent_function`` with
  ``DynamoDBPersistenceLayer`` (payload validation on, as ours always is): the baseline.

For the first delivery and for a redelivery of every event it prints DynamoDB requests per
event, write requests per event and CPU microseconds per event (this process only: the
emulator runs in its own process), each also as a ratio against Powertools. CPU is the
median of ``--rounds`` rounds; each round draws fresh events, and every variant handles
those same events in turn.

**Per batch.** Batches of 10 SQS messages (profile upserts, as ``lambda_dedup.handlers.sqs``
handles them) go through a delaying proxy on loopback (:mod:`latency_proxy`), which adds
``--latency-ms`` to every DynamoDB request, as a network round trip would:

* ours -- the SQS handler itself: ``KeyedBatchProcessor``, one ``TransactWriteItems`` per
  message (marker + profile), the messages of a batch at once; and the same handler with
  one thread (``BATCH_MAX_WORKERS=1``), to show what the concurrency alone is worth;
* Powertools' ``BatchProcessor`` with ``idempotent_function`` on the record handler, which
  writes the profile with ``PutItem``: the baseline.

It prints the wall time per batch, as a ratio against Powertools and in round trips.

The targets are checked at the end; the exit status is 1 if one is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import emulator as emulator_tool
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from latency_proxy import LatencyProxy

from lambda_dedup import Deduplicator, DynamoDBStore, effects
from lambda_dedup.store.dynamodb import DEFAULT_BOTO_CONFIG

TABLE = "bench-idempotency"
COUNTERS = "bench-counters"
PROFILES = "bench-profiles"
BATCH_SIZE = 10
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
BASELINE = "powertools"
PHASES = ("first delivery", "redelivery")

Handle = Callable[[dict[str, Any]], Any]


@dataclass
class Measure:
    """What one variant cost in one phase of one round."""

    events: int
    calls: Counter[str] = field(default_factory=Counter)
    cpu_ns: int = 0

    @property
    def requests(self) -> float:
        return sum(self.calls.values()) / self.events

    @property
    def writes(self) -> float:
        return sum(n for op, n in self.calls.items() if op in WRITES) / self.events

    @property
    def cpu_us(self) -> float:
        return self.cpu_ns / self.events / 1000


class Variant:
    """One deduplication implementation with its own client, so requests are its own."""

    def __init__(
        self, name: str, server: emulator_tool.Emulator, build: Callable[[Any], Handle]
    ) -> None:
        self.name = name
        self.client = _client(server)
        self.calls: Counter[str] = Counter()
        _count_requests(self.client, self.calls)
        self.handle = build(self.client)

    def run(self, events: list[dict[str, Any]]) -> Measure:
        self.calls.clear()
        started = time.process_time_ns()
        for event in events:
            self.handle(event)
        return Measure(len(events), Counter(self.calls), time.process_time_ns() - started)


def _count_requests(client: Any, calls: Counter[str]) -> None:
    """Count every DynamoDB API call ``client`` makes, by operation, into ``calls``."""
    client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.update([model.name])
    )


def _client(server: emulator_tool.Emulator) -> Any:
    return boto3.client("dynamodb", config=DEFAULT_BOTO_CONFIG, **server.client_options())


def _ours(mode: str) -> Callable[[Any], Handle]:
    def build(client: Any) -> Handle:
        dedup = Deduplicator(DynamoDBStore(TABLE, client=client), f"bench-{mode}")
        if mode == "put":
            return lambda e: dedup.put_once(
                e["id"], {"amount": e["amount"]}, payload=e, result=e["id"]
            )
        if mode == "transact":
            return lambda e: dedup.transact_once(
                e["id"],
                [effects.increment(COUNTERS, {"pk": e["user"]}, "n")],
                payload=e,
                result=e["id"],
            )
        return lambda e: dedup.run_once(e["id"], lambda claim: {"id": e["id"]}, payload=e)

    return build


class _LambdaContext:
    """Enough of a Lambda context for Powertools: its logger, and the in-progress expiry
    (a lease) of its idempotency utility."""

    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 256
    aws_request_id = "bench"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _powertools(client: Any) -> Handle:
    persistence = DynamoDBPersistenceLayer(TABLE, boto3_client=client, expiry_attr="expires_at")
    config = IdempotencyConfig(event_key_jmespath="id", payload_validation_jmespath="@")
    config.register_lambda_context(_LambdaContext())  # type: ignore[arg-type]

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        return {"id": event["id"]}

    idempotent = idempotent_function(
        handle, data_keyword_argument="event", persistence_store=persistence, config=config
    )
    return lambda e: idempotent(event=e)


def _events(count: int) -> list[dict[str, Any]]:
    return [
        {"id": str(uuid.uuid4()), "user": f"u{i % 10}", "amount": i, "note": "x" * 64}
        for i in range(count)
    ]


def _create_tables(server: emulator_tool.Emulator) -> None:
    client = _client(server)
    for name, key in ((TABLE, "id"), (COUNTERS, "pk"), (PROFILES, "user_id")):
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    client.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )


def _clear_tables(server: emulator_tool.Emulator) -> None:
    """Empty both tables between rounds (unmeasured).

    moto deep-copies every table a transaction touches, so a growing table would make the
    emulator, not the code under test, the slow part of a long run.
    """
    client = _client(server)
    for name, key in ((TABLE, "id"), (COUNTERS, "pk"), (PROFILES, "user_id")):
        for page in client.get_paginator("scan").paginate(TableName=name, ProjectionExpression=key):
            items = page["Items"]
            for start in range(0, len(items), 25):
                requests = [
                    {"DeleteRequest": {"Key": {key: item[key]}}}
                    for item in items[start : start + 25]
                ]
                client.batch_write_item(RequestItems={name: requests})


def run(
    server: emulator_tool.Emulator, events: int, rounds: int
) -> dict[tuple[str, str], list[Measure]]:
    variants = [
        Variant(BASELINE, server, _powertools),
        Variant("effect (put)", server, _ours("put")),
        Variant("effect (transact)", server, _ours("transact")),
        Variant("claim", server, _ours("claim")),
    ]
    for variant in variants:  # warm up clients and connection pools, unmeasured
        warm = _events(20)
        variant.run(warm)
        variant.run(warm)
    results: dict[tuple[str, str], list[Measure]] = {}
    for _ in range(rounds):
        _clear_tables(server)
        batch = _events(events)  # the same events for every variant (namespaces differ)
        for variant in variants:
            for phase in PHASES:
                results.setdefault((variant.name, phase), []).append(variant.run(batch))
    return results


def report(results: dict[tuple[str, str], list[Measure]], events: int, rounds: int) -> bool:
    """Print the per-event table; return whether its targets are met."""

    def summary(key: tuple[str, str]) -> tuple[float, float, float]:
        measures = results[key]
        return (
            measures[0].requests,
            measures[0].writes,
            statistics.median(m.cpu_us for m in measures),
        )

    print(f"\nDeduplication cost per event: {events} events x {rounds} rounds, one process,")
    print("moto server on 127.0.0.1; ratios are against Powertools (x PT, lower is better).\n")
    header = f"{'phase':<15} {'variant':<18} {'requests':>8} {'writes':>7} {'CPU us':>8}"
    print(f"{header}   {'req xPT':>7} {'wr xPT':>7} {'CPU xPT':>7}")
    variants = list(dict.fromkeys(name for name, _ in results))
    for phase in PHASES:
        base = summary((BASELINE, phase))
        for name in variants:
            row = summary((name, phase))
            ratios = [value / reference for value, reference in zip(row, base, strict=True)]
            print(
                f"{phase:<15} {name:<18} {row[0]:>8.2f} {row[1]:>7.2f} {row[2]:>8.0f}"
                f"   {ratios[0]:>7.2f} {ratios[1]:>7.2f} {ratios[2]:>7.2f}"
            )
        print()

    effect_modes = ("effect (put)", "effect (transact)")
    ours = [name for name in variants if name != BASELINE]
    targets = [
        (
            "effect mode: at most 1 write per new event",
            max(summary((name, "first delivery"))[1] for name in effect_modes),
        ),
        (
            "effect mode: 1 request per new event",
            max(summary((name, "first delivery"))[0] for name in effect_modes),
        ),
        (
            "every mode: a duplicate costs 1 request, no read",
            max(summary((name, "redelivery"))[0] for name in ours),
        ),
    ]
    ok = True
    for label, value in targets:
        passed = value <= 1.0
        ok &= passed
        print(f"target  {label:<50} {value:.2f} <= 1.00  {'PASS' if passed else 'FAIL'}")
    return ok


# -- per batch ---------------------------------------------------------------------------

BATCH_BASELINE = "powertools"
ONE_THREAD = "ours, 1 thread"
CONCURRENT = f"ours, {BATCH_SIZE} threads"

Invoke = Callable[[dict[str, Any]], Any]


def _sqs_batch(number: int) -> dict[str, Any]:
    """Ten profile upserts as the SQS event source mapping delivers them."""
    records = []
    for index in range(BATCH_SIZE):
        user = f"u-{number}-{index}"
        body = {"user_id": user, "email": f"{user}@example.com", "request_id": f"r-{user}"}
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "bench",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _ours_batch(options: dict[str, Any], workers: int, calls: Counter[str]) -> Invoke:
    """The package's SQS handler, as deployed: its settings and client from the environment."""
    from lambda_dedup.handlers import _runtime, sqs

    environment = {
        **emulator_tool.client_environment(options["endpoint_url"]),
        "DEDUP_TABLE_NAME": TABLE,
        "PROFILES_TABLE_NAME": PROFILES,
        "BATCH_MAX_WORKERS": str(workers),
    }
    _runtime.logger.setLevel("WARNING")  # its per-batch summary line would flood the report
    with _environment(environment):
        _runtime.reset()  # a new client, for this endpoint
        _count_requests(_runtime.store().client, calls)

    def invoke(event: dict[str, Any]) -> Any:
        with _environment(environment):
            return sqs.handler(event, _LambdaContext())

    return invoke


def _powertools_batch(options: dict[str, Any], calls: Counter[str]) -> Invoke:
    """Powertools' documented batch + idempotency integration, with the same effect."""
    client = boto3.client("dynamodb", config=DEFAULT_BOTO_CONFIG, **options)
    _count_requests(client, calls)
    processor = BatchProcessor(event_type=EventType.SQS)
    persistence = DynamoDBPersistenceLayer(TABLE, boto3_client=client, expiry_attr="expires_at")
    config = IdempotencyConfig(
        event_key_jmespath="powertools_json(body).[user_id, request_id]",
        payload_validation_jmespath="powertools_json(body)",
    )

    def upsert(record: SQSRecord) -> dict[str, Any]:
        profile = json.loads(record.body)
        profile.pop("request_id")
        client.put_item(TableName=PROFILES, Item=effects.serialize(profile))
        return {"user_id": profile["user_id"]}

    record_handler = idempotent_function(
        upsert, data_keyword_argument="record", persistence_store=persistence, config=config
    )

    def invoke(event: dict[str, Any]) -> Any:
        context = _LambdaContext()
        config.register_lambda_context(context)  # type: ignore[arg-type]
        return process_partial_response(
            event=event,
            record_handler=record_handler,
            processor=processor,
            context=context,  # type: ignore[arg-type]
        )

    return invoke


@dataclass
class BatchMeasure:
    """Wall times and requests of one variant in one phase, at one added latency."""

    wall_ms: list[float] = field(default_factory=list)
    requests: int = 0

    def add(self, name: str, invoke: Invoke, event: dict[str, Any], calls: Counter[str]) -> None:
        """Handle one batch (a copy of ``event``) and record its wall time and requests."""
        calls.clear()
        # Powertools prints its metrics to stdout; keep the report readable.
        with contextlib.redirect_stdout(io.StringIO()):
            started = time.perf_counter()
            response = invoke(json.loads(json.dumps(event)))
            self.wall_ms.append((time.perf_counter() - started) * 1000)
        if response["batchItemFailures"]:
            raise RuntimeError(f"{name}: a record failed: {response}")
        self.requests += sum(calls.values())

    @property
    def median_ms(self) -> float:
        return statistics.median(self.wall_ms)

    @property
    def requests_per_batch(self) -> float:
        return self.requests / len(self.wall_ms)


BatchResults = dict[tuple[str, str, float], BatchMeasure]
"""By (variant, phase, added latency in seconds)."""


def run_batches(server: emulator_tool.Emulator, batches: int, latency_s: float) -> BatchResults:
    """Every variant handles the same batches, each one twice (first delivery, redelivery),
    without and with the added latency in turn, so that slow drift affects both alike."""
    events = [_sqs_batch(number) for number in range(batches)]
    results: BatchResults = {}
    with LatencyProxy(server.endpoint, 0.0) as proxy:
        options = {**server.client_options(), "endpoint_url": proxy.endpoint}
        variants: list[tuple[str, Callable[[Counter[str]], Invoke]]] = [
            (BATCH_BASELINE, lambda calls: _powertools_batch(options, calls)),
            (ONE_THREAD, lambda calls: _ours_batch(options, 1, calls)),
            (CONCURRENT, lambda calls: _ours_batch(options, BATCH_SIZE, calls)),
        ]
        for name, build in variants:
            calls: Counter[str] = Counter()
            invoke = build(calls)
            for event in events:
                for delay in (0.0, latency_s):
                    proxy.delay_s = delay
                    # Empty tables for every batch (unmeasured): moto copies a table for
                    # each transaction, and that cost must not grow with the run.
                    _clear_tables(server)
                    for phase in PHASES:
                        measure = results.setdefault((name, phase, delay), BatchMeasure())
                        measure.add(name, invoke, event, calls)
    return results


def report_batches(results: BatchResults, batches: int, latency_ms: float) -> bool:
    """Print the per-batch table; return whether its targets are met.

    "Latency round trips" is how much of the added latency a batch paid: its wall time
    with the latency minus its wall time without, over the latency. Sequential requests
    pay it once each; concurrent ones overlap it. (The emulator's own time, the same in
    both runs, cancels out.)
    """
    latency_s = latency_ms / 1000

    def row(name: str, phase: str) -> tuple[float, float, float, float]:
        bare, delayed = results[(name, phase, 0.0)], results[(name, phase, latency_s)]
        paid = (delayed.median_ms - bare.median_ms) / latency_ms
        return delayed.requests_per_batch, bare.median_ms, delayed.median_ms, paid

    print(f"\nWall time per batch of {BATCH_SIZE} SQS messages (profile upserts), {batches}")
    print(f"batches, without and with +{latency_ms:g} ms per DynamoDB request (a delaying proxy")
    print("on loopback); medians; x PT is the ratio against Powertools with the latency.\n")
    header = f"{'phase':<15} {'variant':<16} {'requests':>8} {'ms +0':>7} {'ms +lat':>8}"
    print(f"{header} {'latency round trips':>20} {'x PT':>6}")
    for phase in PHASES:
        base = row(BATCH_BASELINE, phase)[2]
        for name in (BATCH_BASELINE, ONE_THREAD, CONCURRENT):
            requests, bare, delayed, paid = row(name, phase)
            print(
                f"{phase:<15} {name:<16} {requests:>8.1f} {bare:>7.1f} {delayed:>8.1f}"
                f" {paid:>20.1f} {delayed / base:>6.2f}"
            )
        print()
    first = {name: row(name, "first delivery") for name in (BATCH_BASELINE, CONCURRENT)}
    targets = [
        (
            # About one round trip, not one per message (10): 3 leaves room for noise.
            f"batch: {CONCURRENT}, latency round trips per batch",
            first[CONCURRENT][3],
            3.0,
        ),
        (
            f"batch: {CONCURRENT} vs Powertools, wall time",
            first[CONCURRENT][2] / first[BATCH_BASELINE][2],
            0.5,
        ),
    ]
    ok = True
    for label, value, limit in targets:
        passed = value <= limit
        ok &= passed
        print(f"target  {label:<50} {value:.2f} <= {limit:.2f}  {'PASS' if passed else 'FAIL'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=200, help="events per round (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; CPU is their median")
    parser.add_argument("--batches", type=int, default=20, help="batches of 10 (default 20)")
    parser.add_argument(
        "--latency-ms", type=float, default=5.0, help="added per DynamoDB request (default 5)"
    )
    parser.add_argument("--only", choices=("events", "batches"), help="run one part only")
    args = parser.parse_args(argv)
    ok = True
    with emulator_tool.Emulator() as server:
        _create_tables(server)
        if args.only != "batches":
            results = run(server, args.events, args.rounds)
            ok &= report(results, args.events, args.rounds)
        if args.only != "events":
            batch_results = run_batches(server, args.batches, args.latency_ms / 1000)
            ok &= report_batches(batch_results, args.batches, args.latency_ms)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
